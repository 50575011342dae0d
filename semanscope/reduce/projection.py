"""2D/3D projections of embeddings: one entry point, :func:`project`, for every method.

Methods (settings, defaults and validation in :mod:`semanscope.reduce.settings`): PHATE; PCA;
t-SNE, UMAP, PaCMAP and TriMap (neighbour embeddings, :mod:`semanscope.reduce.neighbors`);
Isomap, metric MDS, kernel PCA, spectral embedding and LLE (distance, kernel and graph
methods, :mod:`semanscope.reduce.manifold`). UMAP, PaCMAP and TriMap only when their packages
are importable (:func:`~semanscope.reduce.settings.available_methods`).

Every method sees cosine geometry: rows are L2-normalised first (``x / ||x||``, zero rows kept
at zero), so Euclidean distances between inputs are ``sqrt(2 - 2 cos)``, a monotone function
of cosine distance. Output is always float64 ``(M, n_components)``, deterministic for a fixed
``seed`` (and a fixed ``native_threads``: a different BLAS thread count may change the last
bits of a sum).

* ``pca`` - exact PCA (:func:`~semanscope.reduce.manifold.pca`).
* ``phate`` - the ``phate`` package, seeded; reports progress after its graph is built.
"""

from __future__ import annotations

import contextlib
import importlib
import sys
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from semanscope.reduce import manifold, neighbors
from semanscope.reduce.manifold import pca
from semanscope.reduce.settings import ProjectionProgress, check_input, check_int, resolve_settings

# module providing each method (imported before the thread pools are capped: phate alone takes
# seconds to import, and a library's native pools must be loaded for the cap to reach them)
BACKENDS: dict[str, str] = {
    "phate": "phate",
    "tsne": "sklearn.manifold",
    "umap": "umap",
    "pacmap": "pacmap",
    "trimap": "trimap",
    "isomap": "sklearn.neighbors",
    "spectral": "sklearn.manifold",
    "lle": "sklearn.manifold",
}


# ---------------------------------------------------------------------- maths
def l2_normalize_rows(X: np.ndarray) -> np.ndarray:
    """``X[i] / ||X[i]||`` per row; all-zero rows stay zero."""
    norms = np.linalg.norm(X, axis=1, keepdims=True)
    return X / np.where(norms > 0, norms, 1.0)


def _phate(X: np.ndarray, n_components: int, seed: int, s: dict[str, Any], progress: ProjectionProgress) -> np.ndarray:
    import phate

    op = phate.PHATE(
        n_components=n_components,
        knn=s["knn"],
        decay=s["decay"],
        t=s["t"],
        n_landmark=s["n_landmark"],
        random_landmarking=s["random_landmarking"] and s["n_landmark"] is not None,
        n_pca=s["n_pca"],
        gamma=s["gamma"],
        mds_solver=s["mds_solver"],
        n_jobs=s["n_jobs"],
        random_state=seed,
        verbose=0,
    )
    op.fit(X)
    progress("phate: graph built, running diffusion + MDS", 0.4)
    return op.transform()


def _pca(X: np.ndarray, n_components: int, seed: int, s: dict[str, Any], progress: ProjectionProgress) -> np.ndarray:
    return pca(X, n_components)


Runner = Callable[[np.ndarray, int, int, dict[str, Any], ProjectionProgress], np.ndarray]
RUNNERS: dict[str, Runner] = {
    "phate": _phate,
    "pca": _pca,
    "tsne": neighbors.tsne,
    "umap": neighbors.umap,
    "pacmap": neighbors.pacmap,
    "trimap": neighbors.trimap,
    "isomap": manifold.isomap,
    "mds": manifold.mds,
    "kpca": manifold.kernel_pca,
    "spectral": manifold.spectral,
    "lle": manifold.lle,
}


@contextlib.contextmanager
def capped_threads(n: int | None) -> Iterator[None]:
    """Cap the BLAS/OpenMP pools (threadpoolctl) and, when numba is loaded, numba's pool at ``n``
    threads for the block; ``None`` leaves them alone. Numba's setting is restored after."""
    if n is None:
        yield
        return
    with threadpool_limits(n):
        numba = sys.modules.get("numba")
        if numba is None:
            yield
            return
        before = numba.get_num_threads()
        numba.set_num_threads(min(n, numba.config.NUMBA_NUM_THREADS))
        try:
            yield
        finally:
            numba.set_num_threads(before)


def project(
    X: np.ndarray,
    method: str = "phate",
    n_components: int = 3,
    seed: int = 0,
    progress: ProjectionProgress | None = None,
    native_threads: int | None = 1,
    **settings: Any,
) -> np.ndarray:
    """Project the rows of ``X`` (M, d) to float64 (M, n_components) with ``method``.

    Rows are L2-normalised first (cosine geometry). ``settings`` override
    :data:`~semanscope.reduce.settings.DEFAULTS` and are validated by
    :func:`~semanscope.reduce.settings.resolve_settings`. ``progress(message, fraction)`` is
    called with 0.0 at the start and 1.0 at the end (PHATE, Isomap, MDS, kernel PCA also report
    in between).

    ``native_threads`` caps the BLAS/OpenMP thread pools and numba's pool during the run
    (None = library default, one thread per visible core). The default 1 is deliberate: on a
    busy or CPU-quota-limited machine the pools' spin-waiting threads made PHATE (1k points)
    5x, t-SNE (48 points) ~90x and PaCMAP (1k points) ~20x slower; parallelism comes from the
    ``n_jobs`` settings instead. TriMap always runs on one thread (see
    :func:`~semanscope.reduce.neighbors.trimap`).
    """
    X = check_input(X, n_components, seed)
    s = resolve_settings(method, X.shape[0], settings)
    if native_threads is not None:
        check_int("project", "native_threads", native_threads, 1)
    report = progress or (lambda message, fraction: None)
    report(f"{method}: projecting {X.shape[0]} points to {n_components}D", 0.0)
    Xn = l2_normalize_rows(X)
    if method in BACKENDS:
        importlib.import_module(BACKENDS[method])  # load its native libraries before capping their pools
    with capped_threads(native_threads):
        Y = RUNNERS[method](Xn, n_components, seed, s, report)
    Y = np.ascontiguousarray(Y, dtype=np.float64)
    report(f"{method}: done", 1.0)
    return Y
