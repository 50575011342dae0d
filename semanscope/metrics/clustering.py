"""K-means clusters of the points, and how well they recover the concepts (purity, ARI).

A good multilingual model puts the translations of a concept together, so clustering the
points without labels should find the concepts: with ``k`` = number of concepts, each cluster
would be one concept's translations.

* :func:`kmeans_labels` - scikit-learn k-means (k-means++ start, seeded). With ``cosine=True``
  (the default, for embeddings) rows are L2-normalised first: for unit vectors
  ``||u - v||^2 = 2 - 2 cos(u, v)``, so points are grouped by cosine similarity, the geometry
  of every other score. Pass ``cosine=False`` to cluster 2D/3D projection coordinates as drawn
  (Euclidean). Clustering the embeddings is the measurement; clustering a projection shows
  what the picture suggests, and inherits the projection's distortions.
* Scores of clusters ``K`` (``K_k``) against concepts ``C`` (``C_c``), over ``M`` points, from
  the contingency counts ``n_kc = |K_k ∩ C_c|`` (only the non-zero cells, O(M) memory):

  - purity ``= (1/M) sum_k max_c n_kc``: the share of points whose cluster's majority concept
    is their own (1 = every cluster holds one concept; rises with ``k``, 1 at ``k = M``);
  - inverse purity ``= (1/M) sum_c max_k n_kc``: the share of points in their concept's main
    cluster (1 = no concept is split; 1 at ``k = 1``). Read both together;
  - adjusted Rand index (Hubert & Arabie 1985), chance-corrected pair agreement:
    ``ARI = (I - E) / ((A + B) / 2 - E)`` with ``I = sum_kc C(n_kc, 2)``,
    ``A = sum_k C(a_k, 2)``, ``B = sum_c C(b_c, 2)`` (``a``, ``b`` the cluster and concept
    sizes) and ``E = A B / C(M, 2)``; 1 for identical partitions, ~0 for chance, can be
    negative; 1 when both partitions are the same trivial one (denominator 0).
* :func:`default_k` - one cluster per concept, capped (the app's default k).
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from threadpoolctl import threadpool_limits

from semanscope.metrics.affinity import unit_rows


@dataclass(frozen=True)
class ClusterResult:
    """``labels`` (M,) cluster of each point (0..k-1, numbered in order of first appearance) and
    the scores against the concepts (see the module docstring)."""

    labels: np.ndarray
    k: int
    cosine: bool
    purity: float
    inverse_purity: float
    ari: float

    def summary(self) -> str:
        """One line, e.g. ``"k-means, k = 12, on the embeddings (cosine): purity 0.833, inverse purity
        0.900, ARI 0.712"``."""
        space = "the embeddings (cosine)" if self.cosine else "the projected coordinates"
        return (
            f"k-means, k = {self.k}, on {space}: purity {self.purity:.3f}, "
            f"inverse purity {self.inverse_purity:.3f}, ARI {self.ari:.3f}"
        )


MAX_DEFAULT_K = 24
"""Most clusters :func:`default_k` proposes (beyond ~24 the colours of a plot repeat)."""


def default_k(n_concepts: int, n_points: int, cap: int = MAX_DEFAULT_K) -> int:
    """``min(n_concepts, cap, n_points)``, at least 1: one cluster per concept when that is few enough."""
    return max(1, min(n_concepts, cap, n_points))


def _codes(labels: Sequence | np.ndarray, name: str) -> np.ndarray:
    values = np.asarray(labels)
    if values.ndim != 1:
        raise ValueError(f"{name} must be one label per point; got shape {values.shape}")
    return np.unique(values, return_inverse=True)[1].ravel()


def contingency(a: Sequence | np.ndarray, b: Sequence | np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Non-zero cells of the contingency table of two labelings of the same M points:
    ``(rows, cols, counts)``, ``counts[t] = |{i : a_i = rows[t], b_i = cols[t]}|`` with labels
    replaced by codes ``0..n-1`` in sorted order."""
    ca, cb = _codes(a, "clusters"), _codes(b, "classes")
    if ca.shape != cb.shape:
        raise ValueError(f"the two labelings have {ca.size} and {cb.size} points")
    if ca.size == 0:
        raise ValueError("no points to compare")
    width = int(cb.max()) + 1
    cells, counts = np.unique(ca.astype(np.int64) * width + cb, return_counts=True)
    return cells // width, cells % width, counts


def purity(clusters: Sequence | np.ndarray, classes: Sequence | np.ndarray) -> float:
    """``(1/M) sum_k max_c |K_k ∩ C_c|``; ``purity(classes, clusters)`` is the inverse purity."""
    rows, _, counts = contingency(clusters, classes)
    best = np.zeros(int(rows.max()) + 1, dtype=np.int64)
    np.maximum.at(best, rows, counts)
    return float(best.sum() / counts.sum())


def _pairs(n: np.ndarray) -> float:
    return float((n * (n - 1) // 2).sum())


def adjusted_rand_index(clusters: Sequence | np.ndarray, classes: Sequence | np.ndarray) -> float:
    """Hubert-Arabie adjusted Rand index ``(I - E) / ((A + B) / 2 - E)`` (module docstring)."""
    rows, cols, counts = contingency(clusters, classes)
    m = int(counts.sum())
    index = _pairs(counts)
    a = _pairs(np.bincount(rows, weights=counts).astype(np.int64))
    b = _pairs(np.bincount(cols, weights=counts).astype(np.int64))
    expected = a * b / (m * (m - 1) / 2) if m > 1 else 0.0
    top = (a + b) / 2
    if top == expected:
        return 1.0
    return float((index - expected) / (top - expected))


def kmeans_labels(
    X: np.ndarray, k: int, seed: int = 0, *, cosine: bool = True, n_init: int = 1, native_threads: int | None = 1
) -> np.ndarray:
    """K-means cluster (0..k-1, numbered by first appearance) of each row of ``X`` (M, d).

    ``cosine`` L2-normalises the rows first (module docstring). ``n_init`` k-means++ starts,
    the lowest inertia wins; seeded, so deterministic for a fixed ``native_threads``, which
    caps the BLAS/OpenMP pools as in :func:`semanscope.reduce.project`.
    """
    from sklearn.cluster import KMeans

    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[0] == 0:
        raise ValueError(f"points must be a non-empty 2-D array; got shape {X.shape}")
    if not np.isfinite(X).all():
        raise ValueError("points contain NaN or infinite values")
    m = X.shape[0]
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= m:
        raise ValueError(f"k (number of clusters) must be an integer between 1 and the {m} points; got {k!r}")
    if isinstance(n_init, bool) or not isinstance(n_init, (int, np.integer)) or n_init < 1:
        raise ValueError(f"n_init must be an integer >= 1; got {n_init!r}")
    points = unit_rows(X) if cosine else X
    with threadpool_limits(native_threads) if native_threads is not None else contextlib.nullcontext():
        raw = KMeans(n_clusters=int(k), n_init=int(n_init), random_state=seed).fit_predict(points)
    _, first = np.unique(raw, return_index=True)
    renumber = np.empty(int(raw.max()) + 1, dtype=np.int64)
    renumber[raw[np.sort(first)]] = np.arange(first.size)
    return renumber[raw]


def cluster_concepts(
    X: np.ndarray,
    concept: Sequence | np.ndarray,
    k: int,
    seed: int = 0,
    *,
    cosine: bool = True,
    n_init: int = 1,
    native_threads: int | None = 1,
) -> ClusterResult:
    """K-means on the rows of ``X`` (embeddings by default, or projected coordinates with
    ``cosine=False``), scored against ``concept`` (one concept id per row, e.g.
    ``QuerySet.items().concept``): purity, inverse purity and ARI."""
    concept = np.asarray(concept)
    if concept.shape != (np.asarray(X).shape[0],):
        raise ValueError(f"concept needs one id per point ({np.asarray(X).shape[0]}); got shape {concept.shape}")
    labels = kmeans_labels(X, k, seed, cosine=cosine, n_init=n_init, native_threads=native_threads)
    return ClusterResult(
        labels=labels,
        k=int(k),
        cosine=cosine,
        purity=purity(labels, concept),
        inverse_purity=purity(concept, labels),
        ari=adjusted_rand_index(labels, concept),
    )
