"""Test-only Streamlit launcher: ``python tests/held_models.py HOLD run app.py [streamlit options]``.

Runs ``streamlit`` in this process after wrapping
:func:`semanscope.models.registry.load_model`: every model it loads waits, before it encodes,
for as long as the file ``HOLD`` exists, calling ``progress(0, n)`` every :data:`POLL_S` seconds
meanwhile. In the app that progress call is a Streamlit call, where a pending page switch stops
the script run -- so a browser test can keep a computation running for exactly as long as it
needs (it creates ``HOLD``, waits until the page shows the computation, acts, removes ``HOLD``)
instead of hoping to win a race. The wrapped model computes the same vectors with the same
fingerprint. A wait longer than :data:`LIMIT_S` raises ``TimeoutError``.

What happened is appended to ``HOLD.events``, one line per held encode call: ``held N``
(N texts) when the wait starts, then ``released N`` or ``interrupted N`` (something, e.g.
Streamlit's stop of the script run, raised out of the wait).

Nothing in ``semanscope`` knows about this: the hold exists only in a server started through
this file (by ``tests/streamlit_server.py``), so no user can trigger it.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from semanscope.models.base import Embedder, Progress

POLL_S = 0.05
LIMIT_S = 600.0


class HeldEmbedder(Embedder):
    """``inner`` whose encoding first waits while the file ``hold`` exists (same vectors and fingerprint)."""

    def __init__(self, inner: Embedder, hold: Path) -> None:
        self.inner, self.hold = inner, hold
        self.name, self.family, self.dim = inner.name, inner.family, inner.dim
        self.language_aware, self.max_tokens = inner.language_aware, inner.max_tokens

    @property
    def fingerprint(self) -> str:
        return self.inner.fingerprint

    def truncated(self, texts: Sequence[str]) -> np.ndarray:
        return self.inner.truncated(texts)

    def __getattr__(self, attribute: str) -> Any:  # anything else the app asks a model
        return getattr(self.inner, attribute)

    def _encode(self, texts: Sequence[str], lang: str | None, batch_size: int, progress: Progress | None) -> np.ndarray:
        if self.hold.exists():
            self._wait(len(texts), progress)
        return self.inner.encode(texts, batch_size=batch_size, progress=progress, lang=lang)

    def _note(self, event: str, n: int) -> None:
        with self.hold.with_suffix(".events").open("a") as events:
            events.write(f"{event} {n}\n")

    def _wait(self, n: int, progress: Progress | None) -> None:
        self._note("held", n)
        deadline = time.monotonic() + LIMIT_S
        try:
            while self.hold.exists():
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{self.hold} still exists after {LIMIT_S:.0f} s")
                if progress is not None:
                    progress(0, n)
                time.sleep(POLL_S)
        except BaseException:
            self._note("interrupted", n)
            raise
        self._note("released", n)


def install(hold: Path) -> None:
    """Make :func:`semanscope.models.registry.load_model` return held models (before the app imports it)."""
    from semanscope.models import registry

    load_model = registry.load_model

    def load_held(key: str, cache_dir: str | Path | None = None) -> Embedder:
        return HeldEmbedder(load_model(key, cache_dir), hold)

    registry.load_model = load_held


if __name__ == "__main__":
    install(Path(sys.argv[1]))
    from streamlit.web.cli import main

    sys.argv = ["streamlit", *sys.argv[2:]]
    sys.exit(main(prog_name="streamlit"))
