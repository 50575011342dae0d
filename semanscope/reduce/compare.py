"""Several projection methods on the same embeddings, side by side ("Compare methods").

:func:`compare_methods` runs each method in turn through the projection cache and returns one
:class:`MethodRun` per method, in the order asked. A method that fails (a missing package, a
setting out of range, a disconnected neighbour graph, too many points for MDS, ...) becomes a
run with ``error`` set and no coordinates; the other methods still run. :func:`method_table`
sums the runs up: cost (seconds) and quality (kNN preservation, :mod:`semanscope.reduce.quality`).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from semanscope.reduce.cache import ProjectionCache, project_cached
from semanscope.reduce.projection import project
from semanscope.reduce.quality import cosine_neighbours, kept_share
from semanscope.reduce.settings import ProjectionProgress


@dataclass(frozen=True)
class MethodRun:
    """One method's projection (``coords`` (M, n_components)) or its failure (``error``, a
    user-facing sentence); ``seconds`` is the wall time, including a cache lookup."""

    method: str
    settings: dict[str, Any]
    coords: np.ndarray | None
    error: str | None
    seconds: float

    @property
    def ok(self) -> bool:
        return self.error is None


def compare_methods(
    X: np.ndarray,
    methods: Sequence[str],
    n_components: int = 2,
    seed: int = 0,
    *,
    cache: ProjectionCache | None = None,
    settings: Mapping[str, Mapping[str, Any]] | None = None,
    progress: ProjectionProgress | None = None,
    native_threads: int | None = 1,
) -> dict[str, MethodRun]:
    """Project ``X`` (M, d) with each of ``methods`` (duplicates dropped): ``{method: MethodRun}``.

    ``settings`` maps a method to its settings (others run with their defaults; entries for
    methods not asked for are ignored). With ``cache`` every projection goes through
    :func:`~semanscope.reduce.cache.project_cached`, so a method computed before (here or in
    the single-method view, same data, seed and settings) is loaded instead of recomputed.
    ``progress(message, fraction)`` covers the whole comparison: method ``i`` of ``n`` reports
    its own fractions ``f`` as ``(i + f) / n`` with messages prefixed ``"[i+1/n] "``.

    Raises ``ValueError`` only for an empty ``methods``; every per-method problem is returned.
    """
    chosen = list(dict.fromkeys(methods))
    if not chosen:
        raise ValueError("choose at least one projection method to compare")
    per_method = settings or {}
    runs: dict[str, MethodRun] = {}
    for i, method in enumerate(chosen):
        own = dict(per_method.get(method, {}))
        stage = _stage(progress, i, len(chosen))
        start = time.perf_counter()
        try:
            if cache is not None:
                coords = project_cached(
                    X, method, n_components, seed, cache=cache, progress=stage, native_threads=native_threads, **own
                )
            else:
                coords = project(X, method, n_components, seed, progress=stage, native_threads=native_threads, **own)
            runs[method] = MethodRun(method, own, coords, None, time.perf_counter() - start)
        except Exception as exc:  # any library error is this method's result, not the comparison's end
            message = str(exc) if isinstance(exc, ValueError) else f"{type(exc).__name__}: {exc}"
            runs[method] = MethodRun(method, own, None, message, time.perf_counter() - start)
            if stage is not None:
                stage(f"{method}: failed", 1.0)
    return runs


def _stage(progress: ProjectionProgress | None, index: int, count: int) -> ProjectionProgress | None:
    if progress is None:
        return None

    def report(message: str, fraction: float) -> None:
        progress(f"[{index + 1}/{count}] {message}", (index + min(max(fraction, 0.0), 1.0)) / count)

    return report


def method_table(runs: Mapping[str, MethodRun], X: np.ndarray, k: int = 10) -> pd.DataFrame:
    """One row per run of ``X``: ``method``, ``status`` ("ok" / "failed"), ``seconds`` (wall time;
    a projection loaded from the cache costs ~0), ``kNN kept`` (kNN preservation at
    ``min(k, M - 1)`` neighbours, :func:`~semanscope.reduce.quality.knn_preservation`, the
    embeddings' neighbours found once for all runs; NaN for a failed run) and ``error``."""
    drawn = any(run.coords is not None for run in runs.values())
    neighbours = cosine_neighbours(X, min(k, np.asarray(X).shape[0] - 1)) if drawn else None  # once for all runs
    rows = [
        {
            "method": run.method,
            "status": "ok" if run.ok else "failed",
            "seconds": run.seconds,
            "kNN kept": float("nan")
            if neighbours is None or run.coords is None
            else kept_share(neighbours, run.coords),
            "error": run.error or "",
        }
        for run in runs.values()
    ]
    return pd.DataFrame(rows, columns=["method", "status", "seconds", "kNN kept", "error"])
