"""kNN preservation of a projection against a brute-force reference, and the Compare methods table."""

from __future__ import annotations

import numpy as np
import pytest

from semanscope.reduce import compare_methods, knn_preservation, method_table
from semanscope.reduce.quality import shared_counts


def brute_force(X: np.ndarray, Y: np.ndarray, k: int) -> float:
    """Full cosine / Euclidean matrices, self excluded, neighbour sets intersected row by row."""
    U = X / np.linalg.norm(X, axis=1, keepdims=True)
    cos = U @ U.T
    dist = np.linalg.norm(Y[:, None, :] - Y[None, :, :], axis=2)
    np.fill_diagonal(cos, -np.inf)
    np.fill_diagonal(dist, np.inf)
    kept = 0
    for i in range(len(X)):
        high = set(np.argsort(-cos[i])[:k].tolist())
        low = set(np.argsort(dist[i])[:k].tolist())
        kept += len(high & low)
    return kept / (len(X) * k)


@pytest.mark.parametrize(("m", "d", "c", "k"), [(40, 16, 2, 5), (97, 8, 3, 10), (30, 5, 2, 29)])
def test_knn_preservation_matches_brute_force(m, d, c, k):
    rng = np.random.default_rng(m)
    X = rng.normal(size=(m, d)) * rng.uniform(0.5, 3.0, size=(m, 1))  # row lengths must not matter
    Y = X[:, :c] + 0.3 * rng.normal(size=(m, c))
    assert knn_preservation(X, Y, k) == pytest.approx(brute_force(X, Y, k), abs=1e-12)


def test_knn_preservation_is_one_for_a_faithful_layout_and_low_for_a_random_one():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    U = X / np.linalg.norm(X, axis=1, keepdims=True)
    assert knn_preservation(X, 5 * U, k=10) == 1.0  # a scaled copy of the unit rows keeps every neighbour
    assert knn_preservation(X, rng.normal(size=(200, 2)), k=10) < 0.2  # chance is 10 / 199


def test_shared_counts_counts_common_ids_per_row():
    a = np.array([[0, 1, 2], [3, 4, 5]])
    b = np.array([[2, 7, 0], [6, 7, 8]])
    np.testing.assert_array_equal(shared_counts(a, b), [2, 0])


@pytest.mark.parametrize(
    ("k", "Y", "match"),
    [(0, None, "k must be an integer between 1 and 9"), (10, None, "k must be"), (3, np.zeros((9, 2)), "one row per")],
)
def test_knn_preservation_rejects_bad_input(k, Y, match):
    X = np.random.default_rng(0).normal(size=(10, 4))
    with pytest.raises(ValueError, match=match):
        knn_preservation(X, X[:, :2] if Y is None else Y, k)


def test_method_table_has_cost_and_quality_and_keeps_failures():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(30, 6))
    runs = compare_methods(X, ["pca", "lle"], settings={"lle": {"n_neighbors": 40}})
    table = method_table(runs, X, k=50)  # k is capped at M - 1
    assert list(table["method"]) == ["pca", "lle"] and list(table["status"]) == ["ok", "failed"]
    assert table.loc[0, "kNN kept"] == pytest.approx(brute_force(X, runs["pca"].coords, 29))
    assert np.isnan(table.loc[1, "kNN kept"]) and "n_neighbors" in table.loc[1, "error"]
    assert (table["seconds"] >= 0).all()
