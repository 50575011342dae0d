"""A real ``streamlit run app.py`` server and Chromium settings for the browser tests
(``test_browser.py``, ``test_robustness_load.py``).

:func:`streamlit_server` starts the app on a free 127.0.0.1 port with its own cache folder and a
concept cap, waits until ``/_stcore/health`` answers (at most :data:`START_TIMEOUT_S`), yields a
:class:`Server` and always stops the process (terminate, then kill). Its output goes to a log
file the tests read. With ``hold`` the server starts through ``tests/held_models.py``: every
model's encoding then waits while that file exists (see there).

:data:`SETTLED` is the one definition of "the script run has finished" for both Playwright APIs:
``page.wait_for_function(SETTLED, arg=settle_arg(), polling=POLL_MS, timeout=...)``.
"""

from __future__ import annotations

import itertools
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HELD_LAUNCHER = Path(__file__).with_name("held_models.py")
CHROMIUM = "/usr/bin/chromium"
BROWSER_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
START_TIMEOUT_S = 60.0
POLL_MS = 200
QUIET_POLLS = 5
# True once the app has reported "notRunning", with no "Running..." status widget, on ``polls``
# polls in a row (a click's rerun starts a moment later, so one quiet poll is not enough); the
# count restarts when ``token`` changes, i.e. with every wait (:func:`settle_arg`).
SETTLED = """({token, polls}) => {
  const idle = document.querySelector('[data-testid="stApp"][data-test-script-state="notRunning"]') !== null;
  const running = [...document.querySelectorAll('[data-testid="stStatusWidget"]')]
    .some((widget) => widget.innerText.includes("Running"));
  const state = window.__semanscopeSettle;
  const before = state && state.token === token ? state.quiet : 0;
  const quiet = idle && !running ? before + 1 : 0;
  window.__semanscopeSettle = {token, quiet};
  return quiet >= polls;
}"""
_tokens = itertools.count()


def settle_arg() -> dict[str, int]:
    """The ``arg`` of one wait on :data:`SETTLED` (a fresh token)."""
    return {"token": next(_tokens), "polls": QUIET_POLLS}


@dataclass(frozen=True)
class Server:
    """A running server: its ``url``, its output ``log`` and the ``hold`` file (None: no hold)."""

    url: str
    log: Path
    hold: Path | None = None

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def events(self) -> list[str]:
        """Lines written by ``tests/held_models.py`` (``held N`` / ``released N`` / ``interrupted N``)."""
        if self.hold is None:
            return []
        path = self.hold.with_suffix(".events")
        return path.read_text().splitlines() if path.exists() else []


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


@contextmanager
def streamlit_server(
    folder: Path, *, max_concepts: int, options: Sequence[str] = (), hold: Path | None = None
) -> Iterator[Server]:
    """Serve ``app.py`` with ``SEMANSCOPE_MAX_CONCEPTS=max_concepts``, the cache in ``folder/cache``,
    the log in ``folder/streamlit.log`` and extra ``streamlit run`` ``options``."""
    port = free_port()
    log = folder / "streamlit.log"
    env = {
        **os.environ,
        "SEMANSCOPE_MAX_CONCEPTS": str(max_concepts),
        "SEMANSCOPE_CACHE": str(folder / "cache"),
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        # this checkout's semanscope also for the held launcher (``-m streamlit`` gets it from the cwd)
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    launcher = ["-m", "streamlit"] if hold is None else [str(HELD_LAUNCHER), str(hold)]
    command = [sys.executable, *launcher, "run", "app.py", "--server.address", "127.0.0.1"]
    command += ["--server.port", str(port), "--server.headless", "true", *options]
    with open(log, "wb") as out:
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    server = Server(f"http://127.0.0.1:{port}", log, hold)
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not _healthy(server.url):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"streamlit did not start: {server.log_text()[-2000:]}")
            time.sleep(0.5)
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)
