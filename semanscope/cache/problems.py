"""What went wrong with a cache, as data for the app and as Python warnings for the CLI.

Each cache keeps a :class:`ProblemLog`. :meth:`ProblemLog.report` records a
:class:`CacheProblem` (numbered, so every app session can show each problem once by
remembering the last number it showed: ``cache.problems(after=last_seen)``) and issues the
matching warning, which the CLI prints to stderr. The library never imports streamlit.
"""

from __future__ import annotations

import threading
import warnings
from collections import deque
from dataclasses import dataclass
from typing import Literal

ProblemKind = Literal["repaired", "unavailable"]
MAX_PROBLEMS = 100  # problems kept per cache; older ones are dropped


class CacheWarning(UserWarning):
    """Base of the cache's warnings."""


class CacheRepairedWarning(CacheWarning):
    """Damaged cache entries were deleted (they are recomputed), or a corrupt cache file was
    moved aside and a fresh one created."""


class CacheUnavailableWarning(CacheWarning):
    """The cache directory cannot be (fully) used; new values are kept in memory only."""


_CATEGORY: dict[ProblemKind, type[CacheWarning]] = {
    "repaired": CacheRepairedWarning,
    "unavailable": CacheUnavailableWarning,
}


@dataclass(frozen=True)
class CacheProblem:
    """One event: ``seq`` counts from 1 per cache; ``kind`` is ``"repaired"`` (damage found and
    healed: show a toast) or ``"unavailable"`` (the disk cannot be written or read: show a
    lasting warning); ``message`` is one sentence for the user."""

    seq: int
    kind: ProblemKind
    message: str


class ProblemLog:
    """Thread-safe, bounded list of :class:`CacheProblem`."""

    def __init__(self) -> None:
        self._items: deque[CacheProblem] = deque(maxlen=MAX_PROBLEMS)
        self._seq = 0
        self._lock = threading.Lock()

    def report(self, kind: ProblemKind, message: str) -> None:
        """Record ``message`` and warn with the category of ``kind``."""
        with self._lock:
            self._seq += 1
            self._items.append(CacheProblem(self._seq, kind, message))
        warnings.warn(message, _CATEGORY[kind], stacklevel=2)

    def since(self, after: int = 0) -> list[CacheProblem]:
        """The problems numbered above ``after``, oldest first."""
        with self._lock:
            return [p for p in self._items if p.seq > after]
