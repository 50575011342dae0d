"""How faithfully a projection keeps each point's neighbours: the quality score of Compare methods.

kNN preservation at ``k`` (Venna & Kaski's neighbourhood preservation, also called k-NN recall)
of a projection ``Y`` (M, c) of embeddings ``X`` (M, d)::

    Q_k = (1 / (M k)) sum_i |N_k^X(i) ∩ N_k^Y(i)|

``N_k^X(i)``: the ``k`` nearest other points of ``i`` in the embeddings by cosine similarity
(Euclidean on L2-normalised rows, ``||u - v||^2 = 2 - 2 cos``: the geometry every projection
sees); ``N_k^Y(i)``: its ``k`` nearest other points in the projection (Euclidean). 1 = every
neighbourhood kept; a layout unrelated to the embeddings scores about ``k / (M - 1)``.

Neighbours come from scikit-learn's ``NearestNeighbors`` (brute force over row chunks for the
embeddings in chunks of at most 64 MB, never an M x M matrix; a k-d tree for the 2D/3D coordinates). Points
at exactly equal distance (e.g. the same text in two languages) are ordered arbitrarily.
"""

from __future__ import annotations

import numpy as np

from semanscope.reduce.projection import l2_normalize_rows
from semanscope.reduce.settings import check_int

WORKING_MEMORY_MB = 64
"""Most memory for one chunk of brute-force distances (scikit-learn's ``working_memory``)."""


def nearest_others(X: np.ndarray, k: int, algorithm: str = "auto") -> np.ndarray:
    """(M, k) row ids of the ``k`` nearest other rows of each row of ``X`` (Euclidean), nearest
    first; brute force works in row chunks of at most :data:`WORKING_MEMORY_MB` MB."""
    import sklearn
    from sklearn.neighbors import NearestNeighbors

    with sklearn.config_context(working_memory=WORKING_MEMORY_MB):
        return NearestNeighbors(n_neighbors=k, algorithm=algorithm).fit(X).kneighbors(return_distance=False)


def shared_counts(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``|set(a[i]) ∩ set(b[i])|`` per row of two (M, k) arrays whose rows hold distinct ids:
    sorted together, every shared id is one pair of equal neighbours."""
    both = np.sort(np.concatenate([a, b], axis=1), axis=1)
    return (both[:, 1:] == both[:, :-1]).sum(axis=1)


def cosine_neighbours(X: np.ndarray, k: int) -> np.ndarray:
    """(M, k) ``N_k^X``: the ``k`` nearest other rows of each row of ``X`` by cosine similarity."""
    return nearest_others(l2_normalize_rows(np.asarray(X, dtype=np.float64)), k, algorithm="brute")


def kept_share(neighbours: np.ndarray, Y: np.ndarray) -> float:
    """``Q_k`` of projection ``Y`` (M, c) given the embeddings' neighbours ``neighbours`` (M, k) from
    :func:`cosine_neighbours` (computed once for several projections of the same embeddings)."""
    m, k = neighbours.shape
    Y = np.asarray(Y, dtype=np.float64)
    if Y.ndim != 2 or Y.shape[0] != m:
        raise ValueError(f"embeddings and projection need one row per point; got {m} rows and shape {Y.shape}")
    if not np.isfinite(Y).all():
        raise ValueError("the projection contains NaN or infinite values")
    return float(shared_counts(neighbours, nearest_others(Y, k)).sum() / (m * k))


def knn_preservation(X: np.ndarray, Y: np.ndarray, k: int = 10) -> float:
    """``Q_k`` of projection ``Y`` (M, c) of embeddings ``X`` (M, d) (module docstring); ``1 <= k < M``."""
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise ValueError(f"embeddings must be a 2-D array; got shape {X.shape}")
    if not np.isfinite(X).all():
        raise ValueError("embeddings contain NaN or infinite values")
    m = X.shape[0]
    k = check_int("knn_preservation", "k", k, 1, m - 1, f" (fewer than the {m} points)")
    return kept_share(cosine_neighbours(X, k), Y)
