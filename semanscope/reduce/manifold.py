"""Linear, distance, kernel and graph projections: PCA, Isomap, metric MDS, kernel PCA, spectral, LLE.

Runners take L2-normalised rows ``X`` (M, d) (Euclidean distance ``sqrt(2 - 2 cos)``),
``n_components``, ``seed``, the resolved settings ``s`` and a progress callback, and return
(M, n_components):

* ``pca`` - :func:`pca`, exact.
* ``isomap`` - classical MDS of geodesic distances: ``G`` = k-nearest-neighbour graph with
  Euclidean edge lengths, ``D_G`` = shortest-path lengths in ``G`` (Dijkstra), then
  :func:`kernel_embedding` of ``K = -D_G^2 / 2`` (Tenenbaum et al. 2000; what scikit-learn's
  ``Isomap`` computes, with a seeded eigensolver start).
* ``mds`` - metric MDS: :func:`smacof` on the dissimilarities ``delta_ij = ||x_i - x_j||``
  from the classical-MDS start, which for Euclidean ``delta`` is PCA of the rows.
* ``kpca`` - :func:`kernel_embedding` of ``K_ij = exp(-gamma ||x_i - x_j||^2)`` (rbf) or
  ``K_ij = x_i . x_j`` (cosine; the same scores as PCA).
* ``spectral`` - Laplacian eigenmaps (scikit-learn ``SpectralEmbedding``) on the symmetrised
  k-nearest-neighbour connectivity ``A = (C + C^T) / 2`` (``C_ij = 1`` when ``j`` is among
  the k nearest of ``i``, itself included), exactly scikit-learn's ``nearest_neighbors``
  affinity.
* ``lle`` - locally linear embedding (scikit-learn, seeded ARPACK).

Isomap, spectral embedding and LLE need a connected k-nearest-neighbour graph (otherwise the
pieces are placed arbitrarily relative to each other): a disconnected graph raises
``ValueError`` asking for a larger ``n_neighbors``. Isomap, MDS and kernel PCA hold one M x M
float64 matrix (the number of points is capped in :mod:`semanscope.reduce.settings`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from semanscope.reduce.settings import ProjectionProgress

BLOCK_ROWS = 512  # rows per block in the M x M passes: two (512, M) temporaries at a time


# ---------------------------------------------------------------------- maths
def pca(X: np.ndarray, n_components: int) -> np.ndarray:
    """Exact PCA scores ``Xc V_k`` (``Xc`` = column-centred ``X``, ``Xc = U S V^T``).

    Column ``j`` has variance ``S_j^2 / (M - 1)``, in decreasing order. Signs are fixed so
    the largest-|.| loading of each component is positive (deterministic output).
    """
    Xc = X - X.mean(axis=0)
    _, _, vt = np.linalg.svd(Xc, full_matrices=False)
    v = vt[:n_components]
    signs = np.sign(v[np.arange(n_components), np.abs(v).argmax(axis=1)])
    v = v * np.where(signs == 0, 1.0, signs)[:, None]
    return Xc @ v.T


def kernel_embedding(K: np.ndarray, n_components: int, seed: int) -> np.ndarray:
    """Kernel PCA scores of a symmetric kernel ``K`` (M, M); ``K`` is centred in place.

    ``Kc = J K J`` with ``J = I - 1 1^T / M``, i.e. ``Kc_ij = K_ij - r_i - r_j + t`` (``r`` the
    row means, ``t`` the grand mean); ``Kc v_k = lambda_k v_k`` for the ``n_components``
    largest eigenvalues (ARPACK, start vector drawn from ``seed``); scores
    ``Y[:, k] = sqrt(max(lambda_k, 0)) v_k``, sign chosen so the largest-|.| entry of ``v_k``
    is positive. Classical MDS of distances ``D`` is the case ``K = -D^2 / 2``.
    """
    from scipy.sparse.linalg import eigsh

    r = K.mean(axis=1)
    K -= r[:, None]
    K -= r[None, :]
    K += r.mean()
    v0 = np.random.default_rng(seed).uniform(-1.0, 1.0, K.shape[0])
    values, vectors = eigsh(K, k=n_components, which="LA", v0=v0)
    order = np.argsort(values)[::-1]
    values, vectors = values[order], vectors[:, order]
    signs = np.sign(vectors[np.abs(vectors).argmax(axis=0), np.arange(n_components)])
    return vectors * np.where(signs == 0, 1.0, signs) * np.sqrt(np.maximum(values, 0.0))


def _row_blocks(m: int) -> list[slice]:
    return [slice(i, min(i + BLOCK_ROWS, m)) for i in range(0, m, BLOCK_ROWS)]


def _distances_to(A: np.ndarray, B: np.ndarray, sq_a: np.ndarray, sq_b: np.ndarray) -> np.ndarray:
    """``||a_i - b_j||`` as ``sqrt(max(|a_i|^2 + |b_j|^2 - 2 a_i . b_j, 0))``, shape (len(A), len(B))."""
    d2 = A @ B.T
    d2 *= -2.0
    d2 += sq_a[:, None]
    d2 += sq_b[None, :]
    np.maximum(d2, 0.0, out=d2)
    return np.sqrt(d2, out=d2)


def euclidean_matrix(X: np.ndarray) -> np.ndarray:
    """(M, M) Euclidean distances between the rows of ``X``, zero diagonal, built in row blocks."""
    sq = np.einsum("ij,ij->i", X, X)
    D = np.empty((X.shape[0], X.shape[0]))
    for rows in _row_blocks(X.shape[0]):
        D[rows] = _distances_to(X[rows], X, sq[rows], sq)
    np.fill_diagonal(D, 0.0)
    return D


def smacof(
    delta: np.ndarray,
    init: np.ndarray,
    max_iter: int,
    eps: float,
    progress: ProjectionProgress | None = None,
) -> tuple[np.ndarray, float, int]:
    """Metric MDS by SMACOF from ``init`` (M, p): ``(Y, stress, n_iter)``.

    Minimises the raw stress ``sigma(Y) = sum_{i<j} (d_ij(Y) - delta_ij)^2`` with the Guttman
    transform ``Y+ = B(Y) Y / M``, ``B_ij = -delta_ij / d_ij`` for ``i != j`` (0 when
    ``d_ij = 0``), ``B_ii = -sum_{j != i} B_ij`` (de Leeuw 1977; each step lowers the stress).
    Stops after ``max_iter`` transforms or when a transform lowered the stress by less than
    ``eps * sum_{i<j} d_ij^2``; ``stress`` is ``sigma`` of the returned ``Y``. Only ``delta``
    is (M, M): ``d``, ``B`` and the sums are built in row blocks.
    """
    m = delta.shape[0]
    Y = np.array(init, dtype=np.float64)
    blocks = _row_blocks(m)
    previous = None
    n_iter = 0
    while True:
        sq = np.einsum("ij,ij->i", Y, Y)
        BY = np.empty_like(Y)
        stress = half_sum_sq = 0.0
        for rows in blocks:
            d = _distances_to(Y[rows], Y, sq[rows], sq)
            own = (np.arange(rows.stop - rows.start), np.arange(rows.start, rows.stop))
            d[own] = 0.0
            stress += float(((d - delta[rows]) ** 2).sum()) / 2
            half_sum_sq += float((d**2).sum()) / 2
            ratio = np.divide(delta[rows], d, out=np.zeros_like(d), where=d > 0)
            ratio[own] = 0.0
            BY[rows] = ratio.sum(axis=1)[:, None] * Y[rows] - ratio @ Y
        converged = previous is not None and previous - stress < eps * half_sum_sq
        if converged or n_iter == max_iter:
            return Y, stress, n_iter
        previous = stress
        Y = BY / m
        n_iter += 1
        if progress is not None:
            progress(f"mds: SMACOF iteration {n_iter}, stress {stress:.4g}", 0.1 + 0.9 * n_iter / max_iter)


def _knn_graph(method: str, X: np.ndarray, k: int, mode: str, include_self: bool = False) -> Any:
    """Sparse k-nearest-neighbour graph of the rows; ``ValueError`` when it is not connected."""
    from scipy.sparse.csgraph import connected_components
    from sklearn.neighbors import kneighbors_graph

    G = kneighbors_graph(X, k, mode=mode, include_self=include_self)
    n_parts, labels = connected_components(G, directed=False)
    if n_parts > 1:
        largest = int(np.bincount(labels).max())
        raise ValueError(
            f"{method}: the {k}-nearest-neighbour graph falls into {n_parts} disconnected parts (the largest has "
            f"{largest} of {X.shape[0]} points), so their relative placement is undefined; raise n_neighbors"
        )
    return G


# ---------------------------------------------------------------------- runners
def isomap(X: np.ndarray, n_components: int, seed: int, s: dict[str, Any], progress: ProjectionProgress) -> np.ndarray:
    from scipy.sparse.csgraph import shortest_path

    G = _knn_graph("isomap", X, s["n_neighbors"], "distance")
    progress("isomap: geodesic distances", 0.3)
    K = shortest_path(G, method="D", directed=False)
    K **= 2
    K *= -0.5
    progress("isomap: eigenvectors", 0.7)
    return kernel_embedding(K, n_components, seed)


def mds(X: np.ndarray, n_components: int, seed: int, s: dict[str, Any], progress: ProjectionProgress) -> np.ndarray:
    delta = euclidean_matrix(X)
    progress("mds: dissimilarities ready, running SMACOF", 0.1)
    Y, _, _ = smacof(delta, pca(X, n_components), s["max_iter"], s["eps"], progress)
    return Y


def kernel_pca(
    X: np.ndarray, n_components: int, seed: int, s: dict[str, Any], progress: ProjectionProgress
) -> np.ndarray:
    K = X @ X.T
    if s["kernel"] == "rbf":
        sq = np.diag(K).copy()
        K *= 2.0
        K -= sq[:, None]
        K -= sq[None, :]
        K *= s["gamma"]
        np.exp(K, out=K)
    progress(f"kpca: {s['kernel']} kernel ready, eigenvectors", 0.5)
    return kernel_embedding(K, n_components, seed)


def spectral(
    X: np.ndarray, n_components: int, seed: int, s: dict[str, Any], progress: ProjectionProgress
) -> np.ndarray:
    from sklearn.manifold import SpectralEmbedding

    C = _knn_graph("spectral", X, s["n_neighbors"], "connectivity", include_self=True)
    A = 0.5 * (C + C.T)
    return SpectralEmbedding(
        n_components=n_components, affinity="precomputed", eigen_solver="arpack", random_state=seed
    ).fit_transform(A)


def lle(X: np.ndarray, n_components: int, seed: int, s: dict[str, Any], progress: ProjectionProgress) -> np.ndarray:
    from sklearn.manifold import LocallyLinearEmbedding

    _knn_graph("lle", X, s["n_neighbors"], "connectivity")
    return LocallyLinearEmbedding(
        n_neighbors=s["n_neighbors"],
        n_components=n_components,
        reg=s["reg"],
        method=s["method"],
        random_state=seed,
    ).fit_transform(X)
