"""Neighbour-embedding projections: t-SNE, UMAP, PaCMAP, TriMap.

Each runner takes L2-normalised rows ``X`` (M, d), ``n_components``, ``seed``, the resolved
settings ``s`` (:mod:`semanscope.reduce.settings`) and a progress callback, and returns
(M, n_components). Euclidean distance on unit rows is ``sqrt(2 - 2 cos)``, so every method
ranks neighbours by cosine similarity.

* ``tsne`` - scikit-learn's Barnes-Hut t-SNE, PCA initialisation.
* ``umap`` - ``umap-learn``.
* ``pacmap`` - PaCMAP (Wang et al., JMLR 2021): neighbour, mid-near and further pairs; its
  nearest neighbours come from a faiss HNSW index built on one thread when seeded, its
  optimiser is numba code whose result does not depend on numba's thread count (measured:
  bit-identical at 1 and 2 threads), so ``native_threads`` only changes the speed.
* ``trimap`` - TriMap (Amid & Warmuth 2019), the package's PyTorch implementation
  (``TorchTRIMAP``) on the CPU with exact blocked k-nearest neighbours. It always runs on
  one torch thread: its float32 sums depend on the thread count and the optimisation
  amplifies the difference (max |diff| 0.5 between 1 and 2 threads at 1k points), so a
  fixed count keeps the output deterministic.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from typing import Any

import numpy as np

from semanscope.reduce.settings import ProjectionProgress


def tsne(X: np.ndarray, n_components: int, seed: int, s: dict[str, Any], progress: ProjectionProgress) -> np.ndarray:
    from sklearn.manifold import TSNE

    return TSNE(
        n_components=n_components,
        perplexity=s["perplexity"],
        max_iter=s["max_iter"],
        early_exaggeration=s["early_exaggeration"],
        n_jobs=s["n_jobs"],
        init="pca",
        random_state=seed,
    ).fit_transform(X)


def umap(X: np.ndarray, n_components: int, seed: int, s: dict[str, Any], progress: ProjectionProgress) -> np.ndarray:
    import umap

    return umap.UMAP(
        n_components=n_components, n_neighbors=s["n_neighbors"], min_dist=s["min_dist"], random_state=seed
    ).fit_transform(X)


@contextlib.contextmanager
def _quiet(logger_name: str) -> Iterator[None]:
    """Raise a library logger to ERROR for the block."""
    logger = logging.getLogger(logger_name)
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def pacmap(X: np.ndarray, n_components: int, seed: int, s: dict[str, Any], progress: ProjectionProgress) -> np.ndarray:
    import pacmap

    with _quiet("pacmap.pacmap"):  # it logs a warning at construction and on every 3D fit
        reducer = pacmap.PaCMAP(
            n_components=n_components,
            n_neighbors=s["n_neighbors"],
            MN_ratio=s["MN_ratio"],
            FP_ratio=s["FP_ratio"],
            num_iters=(100, 100, s["num_iters"]),
            random_state=seed,
            verbose=False,
        )
        return reducer.fit_transform(X.astype(np.float32), init="pca")


@contextlib.contextmanager
def _torch_threads(n: int) -> Iterator[None]:
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def trimap(X: np.ndarray, n_components: int, seed: int, s: dict[str, Any], progress: ProjectionProgress) -> np.ndarray:
    import trimap

    reducer = trimap.TorchTRIMAP(
        n_dims=n_components,
        n_inliers=s["n_inliers"],
        n_outliers=s["n_outliers"],
        n_random=s["n_random"],
        n_iters=s["n_iters"],
        device="cpu",
        knn_backend="torch",
        random_state=seed,
    )
    with _torch_threads(1):
        return reducer.fit_transform(X.astype(np.float32)).numpy()
