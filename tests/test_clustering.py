"""Clusters vs concepts (semanscope.metrics.clustering): purity, inverse purity and ARI against
brute-force pair counting and scikit-learn; k-means in cosine geometry."""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pytest

from semanscope.metrics.clustering import (
    adjusted_rand_index,
    cluster_concepts,
    contingency,
    default_k,
    kmeans_labels,
    purity,
)


def brute_purity(clusters, classes) -> float:
    clusters, classes = np.asarray(clusters), np.asarray(classes)
    total = 0
    for k in set(clusters.tolist()):
        members = classes[clusters == k].tolist()
        total += max(members.count(c) for c in set(members))
    return total / len(clusters)


def brute_ari(u, v) -> float:
    """Pair counting: a = together in both, b = together in u only, c = in v only, d = apart in both."""
    a = b = c = d = 0
    for i, j in combinations(range(len(u)), 2):
        su, sv = u[i] == u[j], v[i] == v[j]
        a += su and sv
        b += su and not sv
        c += sv and not su
        d += not su and not sv
    denominator = (a + b) * (b + d) + (a + c) * (c + d)
    return 1.0 if denominator == 0 else 2 * (a * d - b * c) / denominator


LABELINGS = [
    ([0, 0, 1, 1, 2, 2], [0, 0, 1, 1, 2, 2]),
    ([0, 0, 1, 1, 2, 2], [5, 5, 3, 3, 9, 9]),  # same partition, other names
    ([0, 0, 0, 1, 1, 1], [0, 1, 2, 0, 1, 2]),
    (["a", "a", "b", "b", "b", "c", "c"], [1, 2, 2, 2, 3, 3, 1]),
    ([0] * 6, list(range(6))),
    ([0] * 5, [0] * 5),
    (list(range(5)), list(range(5))),
]


@pytest.mark.parametrize("u, v", LABELINGS)
def test_scores_match_brute_force_and_scikit_learn(u, v):
    from sklearn.metrics import adjusted_rand_score

    assert purity(u, v) == pytest.approx(brute_purity(u, v))
    assert purity(v, u) == pytest.approx(brute_purity(v, u))
    assert adjusted_rand_index(u, v) == pytest.approx(brute_ari(u, v), abs=1e-12)
    assert adjusted_rand_index(u, v) == pytest.approx(adjusted_rand_score(v, u), abs=1e-12)


def test_scores_on_random_labelings_match_brute_force():
    from sklearn.metrics import adjusted_rand_score

    rng = np.random.default_rng(0)
    for _ in range(20):
        n = int(rng.integers(2, 60))
        u, v = rng.integers(0, rng.integers(1, 8), n), rng.integers(0, rng.integers(1, 12), n)
        assert purity(u, v) == pytest.approx(brute_purity(u, v))
        assert adjusted_rand_index(u, v) == pytest.approx(brute_ari(u.tolist(), v.tolist()), abs=1e-12)
        assert adjusted_rand_index(u, v) == pytest.approx(adjusted_rand_score(v, u), abs=1e-12)


def test_contingency_cells_count_pairs_of_labels():
    rows, cols, counts = contingency(["x", "x", "y", "y", "y"], [1, 2, 2, 2, 1])
    assert sorted(zip(rows.tolist(), cols.tolist(), counts.tolist(), strict=True)) == [
        (0, 0, 1),
        (0, 1, 1),
        (1, 0, 1),
        (1, 1, 2),
    ]
    with pytest.raises(ValueError, match="5 and 4 points"):
        contingency([0] * 5, [0] * 4)


def concepts_on_the_sphere(n_concepts=12, n_langs=5, d=16, scale=1.0, seed=0):
    """Translations = concept direction + small noise, each row rescaled by a random length."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(n_concepts, d))
    X = np.repeat(centres, n_langs, axis=0) + 0.05 * rng.normal(size=(n_concepts * n_langs, d))
    return X * scale * rng.uniform(0.1, 10.0, size=(len(X), 1)), np.repeat(np.arange(n_concepts), n_langs)


def test_kmeans_on_unit_vectors_finds_the_concepts_whatever_the_row_lengths():
    X, concept = concepts_on_the_sphere()
    result = cluster_concepts(X, concept, k=12, seed=0, n_init=4)
    assert result.purity == 1.0 and result.inverse_purity == 1.0 and result.ari == pytest.approx(1.0)
    assert result.summary() == (
        "k-means, k = 12, on the embeddings (cosine): purity 1.000, inverse purity 1.000, ARI 1.000"
    )
    raw = cluster_concepts(X, concept, k=12, seed=0, n_init=4, cosine=False)  # row lengths dominate
    assert raw.ari < 0.5


def test_kmeans_labels_are_deterministic_and_numbered_by_first_appearance():
    X, _ = concepts_on_the_sphere()
    a = kmeans_labels(X, 5, seed=3)
    np.testing.assert_array_equal(a, kmeans_labels(X, 5, seed=3))
    _, first = np.unique(a, return_index=True)
    assert a[np.sort(first)].tolist() == list(range(5))


@pytest.mark.parametrize(
    "k, match", [(0, "between 1 and the 60 points"), (61, "between 1 and the 60 points"), (2.5, "integer")]
)
def test_kmeans_rejects_bad_k(k, match):
    X, _ = concepts_on_the_sphere()
    with pytest.raises(ValueError, match=match):
        kmeans_labels(X, k)


def test_cluster_concepts_checks_the_labels():
    X, concept = concepts_on_the_sphere()
    with pytest.raises(ValueError, match="one id per point"):
        cluster_concepts(X, concept[:-1], k=3)
    bad = X.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        cluster_concepts(bad, concept, k=3)


@pytest.mark.parametrize(
    ("concepts", "points", "cap", "k"), [(12, 72, 24, 12), (300, 1800, 24, 24), (5, 3, 24, 3), (0, 0, 24, 1)]
)
def test_default_k_is_one_cluster_per_concept_capped(concepts, points, cap, k):
    assert default_k(concepts, points, cap) == k
