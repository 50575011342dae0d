"""Optional faiss searches: the flat index gives the exact counts, HNSW is labelled approximate."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from semanscope.metrics import faiss_search
from semanscope.metrics.retrieval import retrieval_counts, retrieval_metrics


def translations(seed, N, L, d, noise):
    rng = np.random.default_rng(seed)
    base = rng.standard_normal((N, d))
    X = np.vstack([base + noise * rng.standard_normal((N, d)) for _ in range(L)])
    X[N + 1] = X[N + 2]  # a repeated candidate: ties
    return X, np.tile(np.arange(N), L), np.repeat(np.arange(L), N)


@pytest.mark.parametrize("k_search", [1, 7, 100, 1000])
def test_flat_search_counts_equal_exact(k_search):
    pytest.importorskip("faiss")
    X, concept, lang = translations(0, 150, 3, 12, 1.0)
    exact, _ = retrieval_counts(X, concept, lang)
    flat, ids = retrieval_counts(X, concept, lang, search="faiss-flat", k_search=k_search)
    np.testing.assert_array_equal(flat["cosine"].above, exact["cosine"].above)
    np.testing.assert_array_equal(flat["cosine"].tied, exact["cosine"].tied)
    assert flat["cosine"].tied.sum() > 0 and len(ids) == 150 and flat["cosine"].search == "faiss-flat"
    res = retrieval_metrics(X, concept, lang, search="faiss-flat", k_search=k_search, n_boot=0)
    assert res.search == "faiss-flat" and not res.approximate and np.isnan(res.recall)
    assert res.mean_p_at_1 == retrieval_metrics(X, concept, lang, n_boot=0).mean_p_at_1


def test_hnsw_is_labelled_approximate_with_its_recall():
    pytest.importorskip("faiss")
    X, concept, lang = translations(1, 400, 2, 16, 0.6)
    res = retrieval_metrics(X, concept, lang, search="faiss-hnsw", k_search=20, n_boot=50)
    exact = retrieval_metrics(X, concept, lang, n_boot=50)
    assert res.approximate and res.search == "faiss-hnsw" and 0.9 <= res.recall <= 1.0
    assert any("approximate retrieval" in m for m in res.messages)
    assert res.mean_p_at_1 == pytest.approx(exact.mean_p_at_1, abs=0.02)
    counts, _ = retrieval_counts(X, concept, lang, search="faiss-hnsw", k_search=20)
    # only the returned candidates are counted: never more than the exact counts
    exact_counts, _ = retrieval_counts(X, concept, lang)
    off = ~np.eye(2, dtype=bool)
    assert (counts["cosine"].above[off] <= exact_counts["cosine"].above[off]).all()
    assert counts["cosine"].recall == res.recall


def test_bad_searches():
    X, concept, lang = translations(2, 10, 2, 4, 0.5)
    with pytest.raises(ValueError, match="unknown search"):
        retrieval_metrics(X, concept, lang, search="annoy")
    with pytest.raises(ValueError, match="need search='exact'"):
        retrieval_metrics(X, concept, lang, search="faiss-flat", hubness=True)


def test_missing_faiss_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "faiss", None)
    with pytest.raises(ImportError, match="pip install faiss-cpu"):
        faiss_search.load_faiss()
