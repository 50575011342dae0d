"""A small cache of projections: in-memory LRU plus an optional disk store.

Key = sha1 over (sha1 of X's bytes, X's shape and dtype, method, n_components, seed and the
*resolved* settings sorted by name), so an explicit default and an omitted one share an entry
and any change to the embeddings, method, seed or a setting misses.

On disk a projection is a float64 array in the cache's one value format (header + checksum +
raw little-endian bytes, :mod:`semanscope.cache.codec`) in the SQLite store of
:mod:`semanscope.cache.sqlite_store`; it is never unpickled. A damaged entry is deleted,
reported (:meth:`ProjectionCache.problems`, a :class:`~semanscope.cache.CacheRepairedWarning`)
and recomputed; a folder that cannot be used leaves the cache in memory.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np

from semanscope.cache.codec import pack_array, unpack_array
from semanscope.cache.problems import CacheProblem, ProblemLog
from semanscope.cache.sqlite_store import SQLiteStore
from semanscope.reduce.projection import ProjectionProgress, check_input, project, resolve_settings

_DTYPE = np.dtype("<f8")
_TAG = "projection"


def projection_key(X: np.ndarray, method: str, n_components: int, seed: int, settings: dict[str, Any]) -> str:
    """Hex sha1 identifying one projection run (see module docstring for what it covers)."""
    X = np.ascontiguousarray(X)
    data_hash = hashlib.sha1(X.tobytes()).hexdigest()
    payload = {
        "data": data_hash,
        "shape": list(X.shape),
        "dtype": X.dtype.str,
        "method": method,
        "n_components": int(n_components),
        "seed": int(seed),
        "settings": sorted((k, repr(v)) for k, v in settings.items()),
    }
    return hashlib.sha1(json.dumps(payload, sort_keys=True).encode()).hexdigest()


class ProjectionCache:
    """LRU of up to ``max_items`` projections in memory, backed by ``directory`` when given.

    Disk entries (bounded by ``size_limit`` bytes, least recently stored evicted first) survive
    restarts; a disk hit is promoted into memory. Returned arrays are copies, so callers may
    mutate them. ``hits`` / ``misses`` count lookups. ``get``/``put`` are thread-safe (one lock;
    the projections themselves are computed outside it by :func:`project_cached`).
    """

    def __init__(self, max_items: int = 32, directory: str | Path | None = None, size_limit: int = 2**30) -> None:
        if max_items < 1:
            raise ValueError(f"max_items must be >= 1; got {max_items}")
        self.max_items = max_items
        self._memory: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        self._problems = ProblemLog()
        self._disk = (
            None if directory is None else SQLiteStore(Path(directory), size_limit, self._problems, "projection cache")
        )
        self.hits = 0
        self.misses = 0

    def get(self, key: str) -> np.ndarray | None:
        """The cached projection for ``key`` (a copy) or None."""
        with self._lock:
            value = self._memory.get(key)
            if value is not None:
                self._memory.move_to_end(key)
            elif self._disk is not None:
                value = self._read(key)
                if value is not None:
                    self._remember(key, value)
            if value is None:
                self.misses += 1
                return None
            self.hits += 1
            return value.copy()

    def put(self, key: str, value: np.ndarray) -> None:
        """Store a copy of ``value`` in memory (evicting the least recently used) and on disk."""
        value = np.array(value, dtype=np.float64, copy=True)
        with self._lock:
            self._remember(key, value)
            if self._disk is not None:
                self._disk.put_many([(key, pack_array(key, value, _DTYPE))], _TAG)

    def problems(self, after: int = 0) -> list[CacheProblem]:
        """What went wrong since problem number ``after`` (see :class:`~semanscope.cache.CacheProblem`)."""
        return self._problems.since(after)

    def _read(self, key: str) -> np.ndarray | None:
        """The intact 2-D float64 value of ``key`` on disk; a damaged one is deleted and reported."""
        assert self._disk is not None
        found = self._disk.get_many([key], self._disk.size_limit)
        if key not in found:
            return None
        value = unpack_array(key, found[key], _DTYPE, 2)
        if value is None:
            self._disk.delete_many([key])
            self._problems.report(
                "repaired", f"a damaged projection in the {self._disk.what} was deleted; it is recomputed"
            )
        return value

    def _remember(self, key: str, value: np.ndarray) -> None:
        self._memory[key] = value
        self._memory.move_to_end(key)
        while len(self._memory) > self.max_items:
            self._memory.popitem(last=False)

    def __len__(self) -> int:
        return len(self._memory)

    def close(self) -> None:
        """Close the disk store, if any."""
        if self._disk is not None:
            self._disk.close()


def project_cached(
    X: np.ndarray,
    method: str = "phate",
    n_components: int = 3,
    seed: int = 0,
    *,
    cache: ProjectionCache,
    progress: ProjectionProgress | None = None,
    native_threads: int | None = 1,
    **settings: Any,
) -> np.ndarray:
    """:func:`~semanscope.reduce.projection.project` through ``cache``: computed once per key.

    ``native_threads`` is not part of the key: it changes the speed, not the projection.
    """
    Xv = check_input(X, n_components, seed)
    key = projection_key(np.asarray(X), method, n_components, seed, resolve_settings(method, Xv.shape[0], settings))
    cached = cache.get(key)
    if cached is not None:
        if progress is not None:
            progress(f"{method}: loaded from cache", 1.0)
        return cached
    Y = project(X, method, n_components, seed, progress=progress, native_threads=native_threads, **settings)
    cache.put(key, Y)
    return Y
