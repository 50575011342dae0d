"""Retrieval P@1 / MRR against a brute-force full-matrix argsort."""

from __future__ import annotations

import csv
import zlib
from pathlib import Path

import numpy as np
import pytest

from semanscope.data.queryset import QuerySet
from semanscope.metrics.retrieval import pair_ranks, retrieval_metrics, retrieval_ranks

XQUAD = Path(__file__).resolve().parents[2] / "shared" / "data" / "xquad" / "questions.csv"


def argsort_ranks(A, B):
    """Rank of B_i among all rows of B for query A_i, by sorting the full similarity matrix."""
    S = A @ B.T
    order = np.argsort(-S, axis=1, kind="stable")
    return np.array([int(np.flatnonzero(order[i] == i)[0]) + 1 for i in range(len(A))])


def definition_ranks(A, B):
    """rank_i = 1 + #{j != i : S_ij > S_ii + 1e-12} on the full similarity matrix (ties optimistic)."""
    S = A @ B.T
    above = S > np.diag(S)[:, None] + 1e-12
    np.fill_diagonal(above, False)
    return 1 + above.sum(axis=1)


def unit(X):
    return X / np.linalg.norm(X, axis=1, keepdims=True)


def reference(X, concept, lang, ranks=argsort_ranks):
    """Cell means of unit vectors, renormalised; P@1 and MRR from full-matrix ranks per ordered pair."""
    N, L = concept.max() + 1, lang.max() + 1
    U = unit(np.asarray(X, dtype=np.float64))
    Q = np.stack([unit(np.stack([U[(concept == i) & (lang == l)].mean(axis=0) for i in range(N)])) for l in range(L)])
    p1, mrr = np.full((L, L), np.nan), np.full((L, L), np.nan)
    for s in range(L):
        for t in range(L):
            if s != t:
                r = ranks(Q[s], Q[t])
                p1[s, t], mrr[s, t] = np.mean(r == 1), np.mean(1 / r)
    return p1, mrr


def noisy_translations(seed, N, L, d, noise, max_alt=1):
    rng = np.random.default_rng(seed)
    base = rng.standard_normal((N, d))
    X, concept, lang = [], [], []
    for l in range(L):
        for i in range(N):
            for _ in range(rng.integers(1, max_alt + 1)):
                X.append(base[i] + noise * rng.standard_normal(d))
                concept.append(i)
                lang.append(l)
    return np.array(X), np.array(concept), np.array(lang)


@pytest.mark.parametrize("block,tile", [(3, 10), (4, 1000), (512, 2**22), (1, 1)])
def test_pair_ranks_match_argsort(block, tile):
    rng = np.random.default_rng(0)
    A = unit(rng.standard_normal((37, 6)))
    B = unit(A + 0.9 * rng.standard_normal((37, 6)))
    ab, ba = pair_ranks(A, B, block=block, tile_entries=tile)
    np.testing.assert_array_equal(ab, argsort_ranks(A, B))
    np.testing.assert_array_equal(ba, argsort_ranks(B, A))


@pytest.mark.parametrize("N,L,d,max_alt,seed", [(30, 2, 5, 1, 1), (45, 3, 8, 3, 2), (20, 4, 3, 2, 3)])
def test_metrics_match_brute_force(N, L, d, max_alt, seed):
    X, concept, lang = noisy_translations(seed, N, L, d, noise=1.0, max_alt=max_alt)
    res = retrieval_metrics(X, concept, lang, block=7, n_boot=0)
    p1, mrr = reference(X, concept, lang)
    np.testing.assert_allclose(res.p_at_1, p1, rtol=0, atol=1e-12)
    np.testing.assert_allclose(res.mrr, mrr, rtol=0, atol=1e-12)
    off = ~np.eye(L, dtype=bool)
    assert np.all(res.n[off] == N) and np.all(np.diag(res.n) == 0) and np.all(np.isnan(np.diag(res.p_at_1)))
    assert res.mean_p_at_1 == pytest.approx(p1[off].mean()) and res.mean_mrr == pytest.approx(mrr[off].mean())
    assert 0 < res.mean_p_at_1 < 1  # the noise level makes the test informative


def test_retrieval_ranks_give_the_metrics():
    X, concept, lang = noisy_translations(10, 40, 3, 6, noise=1.0, max_alt=2)
    ranks, ids = retrieval_ranks(X, concept, lang, block=5, concept_ids=[f"q{i}" for i in range(40)])
    res = retrieval_metrics(X, concept, lang, n_boot=0)
    assert ranks.shape == (3, 3, 40) and ids[0] == "q0"
    assert (ranks[np.arange(3), np.arange(3)] == 0).all()
    for s in range(3):
        for t in range(3):
            if s != t:
                assert res.p_at_1[s, t] == np.mean(ranks[s, t] == 1)
                assert res.mrr[s, t] == pytest.approx(np.mean(1 / ranks[s, t]), rel=1e-12)
    X[concept > 1] = np.nan
    ranks, ids = retrieval_ranks(X, concept, lang)
    assert ranks.shape == (3, 3, 0) and ids == ()


def test_block_size_does_not_change_results():
    X, concept, lang = noisy_translations(4, 60, 3, 6, noise=1.2, max_alt=2)
    a = retrieval_metrics(X, concept, lang, block=1, n_boot=0)
    b = retrieval_metrics(X, concept, lang, block=512, n_boot=0)
    np.testing.assert_array_equal(a.p_at_1, b.p_at_1)
    np.testing.assert_array_equal(a.mrr, b.mrr)


def test_ties_are_optimistic():
    # concepts 0 and 1 share the same vector in both languages; concept 2 is orthogonal
    # query 0 -> candidates 0 and 1 tie at similarity 1 -> rank 1 (not 2); same for query 1
    e1, e2 = [1.0, 0.0], [0.0, 1.0]
    A = np.array([e1, e1, e2])
    ab, ba = pair_ranks(A, A.copy())
    np.testing.assert_array_equal(ab, [1, 1, 1])
    np.testing.assert_array_equal(ba, [1, 1, 1])
    # a strictly better candidate still counts: query 0 = e1, its translation at 60 deg, concept 1 exactly e1
    ang = np.radians(60)
    B = np.array([[np.cos(ang), np.sin(ang)], e1, e2])
    ab, _ = pair_ranks(A, B)
    assert ab[0] == 2 and ab[1] == 1


def test_ties_through_rounding_in_cell_means():
    # identical alternatives summed in different orders must still tie
    rng = np.random.default_rng(5)
    v = rng.standard_normal((3, 4))
    X = np.vstack([v[[0, 1, 2, 0]], v[[0, 1, 2, 0]]])  # concept 0 == concept 3 in both languages
    concept, lang = np.array([0, 1, 2, 3, 0, 1, 2, 3]), np.array([0, 0, 0, 0, 1, 1, 1, 1])
    res = retrieval_metrics(X, concept, lang, n_boot=0)
    np.testing.assert_array_equal(res.p_at_1[~np.eye(2, dtype=bool)], 1.0)


def test_identical_translations_retrieve_perfectly():
    base = np.random.default_rng(6).standard_normal((25, 10))
    res = retrieval_metrics(np.tile(base, (3, 1)), np.tile(np.arange(25), 3), np.repeat(np.arange(3), 25), n_boot=100)
    off = ~np.eye(3, dtype=bool)
    np.testing.assert_array_equal(res.p_at_1[off], 1.0)
    np.testing.assert_array_equal(res.mrr[off], 1.0)
    assert res.p_at_1_ci_low == res.p_at_1_ci_high == 1.0
    np.testing.assert_array_equal(res.p_at_1_per_concept, 1.0)


def test_bootstrap_is_seeded_and_brackets_mean():
    X, concept, lang = noisy_translations(7, 80, 3, 6, noise=1.0)
    a = retrieval_metrics(X, concept, lang, n_boot=200, seed=3)
    b = retrieval_metrics(X, concept, lang, n_boot=200, seed=3)
    assert (a.p_at_1_ci_low, a.p_at_1_ci_high, a.mrr_ci_low) == (b.p_at_1_ci_low, b.p_at_1_ci_high, b.mrr_ci_low)
    assert a.p_at_1_ci_low < a.mean_p_at_1 < a.p_at_1_ci_high
    assert a.mrr_ci_low < a.mean_mrr < a.mrr_ci_high
    assert a.mean_p_at_1 == pytest.approx(a.p_at_1_per_concept.mean())


def test_dropped_rows_and_invalid():
    X, concept, lang = noisy_translations(8, 10, 2, 4, noise=0.5)
    X[0] = 0
    res = retrieval_metrics(X, concept, lang, n_boot=0)
    assert res.status == "warning" and res.dropped_concepts == ("0",) and res.n_concepts == 9
    X[:8] = np.nan
    res = retrieval_metrics(X, concept, lang)
    assert res.status == "invalid" and np.isnan(res.mean_p_at_1)


@pytest.mark.parametrize("kwargs,match", [(dict(block=0), "block"), (dict(n_boot=2.5), "n_boot"), (dict(ci=0), "ci")])
def test_bad_arguments(kwargs, match):
    X, concept, lang = noisy_translations(9, 5, 2, 3, noise=0.5)
    with pytest.raises(ValueError, match=match):
        retrieval_metrics(X, concept, lang, **kwargs)


def test_incomplete_concepts_raise():
    X, concept, lang = noisy_translations(9, 5, 2, 3, noise=0.5)
    with pytest.raises(ValueError, match="1 of 5 concepts"):
        retrieval_metrics(X[1:], concept[1:], lang[1:])


@pytest.mark.skipif(not XQUAD.exists(), reason="shared XQuAD questions not available")
def test_xquad_trigram_retrieval_matches_brute_force():
    with XQUAD.open(encoding="utf-8", newline="") as f:
        records = list(csv.DictReader(f))[:300]
    langs = ["en", "de", "ru"]
    qs = QuerySet.from_rows("xquad", langs, ((r["id"], [r[code] for code in langs], None) for r in records))
    items = qs.items()
    X = np.zeros((len(items.texts), 128))
    for k, t in enumerate(items.texts):
        t = f"  {t.lower()} "
        for j in range(len(t) - 2):
            X[k, zlib.crc32(t[j : j + 3].encode()) % 128] += 1.0
    res = retrieval_metrics(X, items.concept, items.lang, languages=qs.languages, block=64, n_boot=0)
    p1, mrr = reference(X, items.concept, items.lang, ranks=definition_ranks)
    np.testing.assert_allclose(res.p_at_1, p1, atol=1e-12)
    np.testing.assert_allclose(res.mrr, mrr, atol=1e-12)
    # integer trigram counts tie often: optimistic ranks beat an arbitrary tie order
    p1_sorted, _ = reference(X, items.concept, items.lang)
    assert np.all(p1[~np.eye(3, dtype=bool)] >= p1_sorted[~np.eye(3, dtype=bool)]) and np.nansum(p1 - p1_sorted) > 0
    assert res.p_at_1[0, 1] > res.p_at_1[0, 2]  # shared Latin script helps en<->de, not en<->ru
