"""Third-party chatter goes to a log file, not to the user's terminal.

Libraries Semanscope drives print progress and advice that needs no action from a user:
PHATE/graphtools ("SGD-MDS may not have converged", to stdout through ``tasklogger``), kaleido's
browser driver ``choreographer`` (a full ``JSONDecodeError`` traceback for a message it then
ignores), and Python warnings raised inside site-packages (graphtools' "Building a kNNGraph ...
is expensive", scikit-learn's numerical warnings). :func:`quiet_third_party` sends all of it to
one file, :data:`LOG_NAME` in the given folder (appended, created on first use). Semanscope's own
warnings (a cache that cannot be written, truncated texts) are raised from ``semanscope/`` and
still reach the terminal.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import TextIO

LOG_NAME = "third-party.log"
# loggers of the libraries whose messages need no action from the user
NOISY_LOGGERS = ("choreographer", "kaleido", "logistro", "graphtools", "phate", "numba", "matplotlib")
# tasklogger loggers write to stdout with their own handler; replaced by the file handler
TASKLOGGERS = ("graphtools", "phate")
_PACKAGE_DIR = str(Path(__file__).resolve().parent)
_handler: logging.Handler | None = None
_own_showwarning = warnings.showwarning


def log_file(folder: str | Path) -> Path:
    """The log file :func:`quiet_third_party` writes in ``folder``."""
    return Path(folder) / LOG_NAME


def _from_semanscope(filename: str) -> bool:
    return str(Path(filename).resolve()).startswith(_PACKAGE_DIR)


def _show_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: TextIO | None = None,
    line: str | None = None,
) -> None:
    """``warnings.showwarning``: Semanscope's own warnings as before, the others into the log."""
    if _handler is None or _from_semanscope(filename):
        _own_showwarning(message, category, filename, lineno, file, line)
        return
    text = warnings.formatwarning(message, category, filename, lineno, line).rstrip()
    logging.getLogger("py.warnings").handle(
        logging.LogRecord("py.warnings", logging.WARNING, filename, lineno, text, None, None)
    )


def quiet_third_party(folder: str | Path) -> Path | None:
    """Route third-party loggers and warnings to ``<folder>/third-party.log``; returns its path.

    Idempotent (a second call keeps the first file). When the folder cannot be created or
    written, nothing is rerouted and None is returned: messages then reach the terminal as usual.
    """
    global _handler
    path = log_file(folder)
    if _handler is None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            handler: logging.Handler = logging.FileHandler(path, encoding="utf-8", delay=True)
            with open(path, "a", encoding="utf-8"):
                pass  # fail now, not on the first message, when the folder is not writable
        except OSError:
            return None
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
        _handler = handler
    _attach(_handler)
    warnings.showwarning = _show_warning
    return path


def _attach(handler: logging.Handler) -> None:
    try:
        import tasklogger

        for name in TASKLOGGERS:
            tasklogger.get_tasklogger(name)  # create it now, so its stdout handler is replaced below
    except ImportError:
        pass
    for name in (*NOISY_LOGGERS, "py.warnings"):
        logger = logging.getLogger(name)
        logger.handlers = [handler]
        logger.propagate = False
