"""Retrieval P@1 / MRR with fair ties against dense float64 brute force."""

from __future__ import annotations

import csv
import zlib
from pathlib import Path

import numpy as np
import pytest
from dense_reference import brute_expectations, dense_counts, unit

from semanscope.data.queryset import QuerySet
from semanscope.metrics.retrieval import (
    expected_hit,
    expected_reciprocal_rank,
    retrieval_counts,
    retrieval_metrics,
    retrieval_result,
)

XQUAD = Path(__file__).resolve().parents[2] / "shared" / "data" / "xquad" / "questions.csv"


def cells_of(X, concept, lang):
    """(L, N, d) cell means of unit vectors, renormalised."""
    N, L = concept.max() + 1, lang.max() + 1
    U = unit(np.asarray(X, dtype=np.float64))
    return np.stack(
        [unit(np.stack([U[(concept == i) & (lang == l)].mean(axis=0) for i in range(N)])) for l in range(L)]
    )


def reference(X, concept, lang):
    """P@1 and MRR (expected under random tie-breaking) and tie counts per ordered pair, dense float64."""
    Q = cells_of(X, concept, lang)
    L = len(Q)
    p1, mrr, n_tied = np.full((L, L), np.nan), np.full((L, L), np.nan), np.zeros((L, L), dtype=np.int64)
    for s in range(L):
        for t in range(L):
            if s != t:
                above, tied = dense_counts(Q[s] @ Q[t].T)
                hit, rr = brute_expectations(above, tied)
                p1[s, t], mrr[s, t], n_tied[s, t] = hit.mean(), rr.mean(), (tied > 0).sum()
    return p1, mrr, n_tied


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


@pytest.mark.parametrize(
    ("above", "tied", "hit", "rr"),
    [
        (0, 0, 1.0, 1.0),
        (3, 0, 0.0, 0.25),
        (0, 1, 0.5, 0.75),
        (0, 3, 0.25, (1 + 1 / 2 + 1 / 3 + 1 / 4) / 4),
        (2, 1, 0, 7 / 24),
    ],
)
def test_expected_rank_by_hand(above, tied, hit, rr):
    assert expected_hit(above, tied) == hit
    assert expected_reciprocal_rank(above, tied) == pytest.approx(rr, rel=1e-14)


def test_expected_reciprocal_rank_matches_sums():
    rng = np.random.default_rng(0)
    above, tied = rng.integers(0, 3000, 400), rng.integers(0, 3000, 400)
    above[:50], tied[:100] = 0, 0
    hit, rr = brute_expectations(above, tied)
    np.testing.assert_array_equal(expected_hit(above, tied), hit)
    np.testing.assert_allclose(expected_reciprocal_rank(above, tied), rr, rtol=1e-12, atol=0)


@pytest.mark.parametrize("N,L,d,max_alt,seed", [(30, 2, 5, 1, 1), (45, 3, 8, 3, 2), (20, 4, 3, 2, 3)])
def test_metrics_match_brute_force(N, L, d, max_alt, seed):
    X, concept, lang = noisy_translations(seed, N, L, d, noise=1.0, max_alt=max_alt)
    res = retrieval_metrics(X, concept, lang, block=7, n_boot=0)
    p1, mrr, n_tied = reference(X, concept, lang)
    np.testing.assert_allclose(res.p_at_1, p1, rtol=0, atol=1e-12)
    np.testing.assert_allclose(res.mrr, mrr, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(res.n_tied, n_tied)
    off = ~np.eye(L, dtype=bool)
    assert np.all(res.n[off] == N) and np.all(np.diag(res.n) == 0) and np.all(np.isnan(np.diag(res.p_at_1)))
    assert res.mean_p_at_1 == pytest.approx(p1[off].mean()) and res.mean_mrr == pytest.approx(mrr[off].mean())
    assert 0 < res.mean_p_at_1 < 1  # the noise level makes the test informative
    assert np.isnan(res.mean_p_at_1_csls) and res.k_csls == 0 and res.search == "exact" and not res.approximate


def test_retrieval_counts_give_the_metrics():
    X, concept, lang = noisy_translations(10, 40, 3, 6, noise=1.0, max_alt=2)
    counts, ids = retrieval_counts(X, concept, lang, block=5, concept_ids=[f"q{i}" for i in range(40)])
    res = retrieval_metrics(X, concept, lang, n_boot=0)
    cos = counts["cosine"]
    assert list(counts) == ["cosine"] and cos.above.shape == (3, 3, 40) and ids[0] == "q0"
    assert np.isnan(cos.hit[np.arange(3), np.arange(3)]).all()
    for s in range(3):
        for t in range(3):
            if s != t:
                assert res.p_at_1[s, t] == np.mean(cos.hit[s, t])
                assert res.mrr[s, t] == pytest.approx(np.mean(cos.reciprocal_rank[s, t]), rel=1e-12)
    again = retrieval_result(counts, languages=("0", "1", "2"), concept_ids=ids, n_boot=0)
    np.testing.assert_array_equal(again.p_at_1, res.p_at_1)
    assert again.status == "ok" and again.n_concepts == 40
    X[concept > 1] = np.nan
    counts, ids = retrieval_counts(X, concept, lang)
    assert counts["cosine"].above.shape == (3, 3, 0) and ids == ()
    invalid = retrieval_result(counts, languages=("0", "1", "2"), concept_ids=ids, n_dropped_rows=5)
    assert invalid.status == "invalid" and np.isnan(invalid.mean_p_at_1) and np.isnan(invalid.p_at_1_ci_low)


def test_block_size_and_workers_do_not_change_results():
    X, concept, lang = noisy_translations(4, 60, 3, 6, noise=1.2, max_alt=2)
    a = retrieval_metrics(X, concept, lang, block=1, workers=1, n_boot=0)
    b = retrieval_metrics(X, concept, lang, block=512, n_boot=0)
    c = retrieval_metrics(X, concept, lang, block=7, workers=3, n_boot=0)
    for other in (b, c):
        np.testing.assert_array_equal(a.p_at_1, other.p_at_1)
        np.testing.assert_array_equal(a.mrr, other.mrr)


def test_ties_are_shared():
    # concepts 0 and 1 have the same vector in both languages; concept 2 is orthogonal:
    # queries 0 and 1 each tie with one other candidate -> rank 1 or 2 with equal chance
    e1, e2 = [1.0, 0.0], [0.0, 1.0]
    X = np.array([e1, e1, e2, e1, e1, e2])
    concept, lang = np.tile(np.arange(3), 2), np.repeat([0, 1], 3)
    res = retrieval_metrics(X, concept, lang, n_boot=0)
    assert res.p_at_1[0, 1] == pytest.approx((0.5 + 0.5 + 1) / 3) and res.mrr[0, 1] == pytest.approx((0.75 * 2 + 1) / 3)
    assert res.n_tied[0, 1] == res.n_tied[1, 0] == 2 and res.n_tied_total == 4
    np.testing.assert_allclose(res.p_at_1_per_concept, [0.5, 0.5, 1.0])
    # a strictly better candidate still counts: query 0 = e1, its translation at 60 deg, concept 1 exactly e1
    ang = np.radians(60)
    X = np.array([e1, e1, e2, [np.cos(ang), np.sin(ang)], e1, e2])
    counts, _ = retrieval_counts(X, concept, lang)
    assert counts["cosine"].above[0, 1, 0] == 1 and counts["cosine"].tied[0, 1, 0] == 0
    assert counts["cosine"].above[0, 1, 1] == 0 and counts["cosine"].tied[0, 1, 1] == 0


def test_a_collapsed_model_scores_chance():
    # every text on one point: each query ties with all n - 1 others -> P@1 = 1 / n, MRR = H(n) / n
    n = 50
    res = retrieval_metrics(np.ones((2 * n, 4)), np.tile(np.arange(n), 2), np.repeat([0, 1], n), n_boot=0)
    assert res.mean_p_at_1 == pytest.approx(1 / n) and res.mean_mrr == pytest.approx(
        np.sum(1 / np.arange(1, n + 1)) / n
    )
    assert res.n_tied_total == 2 * n


def test_ties_through_rounding_in_cell_means():
    # identical alternatives summed in different orders must still tie
    rng = np.random.default_rng(5)
    v = rng.standard_normal((3, 4))
    X = np.vstack([v[[0, 1, 2, 0]], v[[0, 1, 2, 0]]])  # concept 0 == concept 3 in both languages
    concept, lang = np.array([0, 1, 2, 3, 0, 1, 2, 3]), np.array([0, 0, 0, 0, 1, 1, 1, 1])
    res = retrieval_metrics(X, concept, lang, n_boot=0)
    np.testing.assert_allclose(res.p_at_1[~np.eye(2, dtype=bool)], 0.75)
    np.testing.assert_array_equal(res.n_tied[~np.eye(2, dtype=bool)], 2)


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
    p1, mrr, n_tied = reference(X, items.concept, items.lang)
    np.testing.assert_allclose(res.p_at_1, p1, atol=1e-12)
    np.testing.assert_allclose(res.mrr, mrr, atol=1e-12)
    np.testing.assert_array_equal(res.n_tied, n_tied)
    assert res.n_tied_total > 0  # integer trigram counts tie often
    assert res.p_at_1[0, 1] > res.p_at_1[0, 2]  # shared Latin script helps en<->de, not en<->ru
