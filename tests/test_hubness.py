"""CSLS and ratio-margin retrieval against a dense float64 implementation on small N."""

from __future__ import annotations

import numpy as np
import pytest
from dense_reference import dense_counts, unit

from semanscope.metrics import hubness
from semanscope.metrics.hubness import top_cosines
from semanscope.metrics.retrieval import expected_hit, expected_reciprocal_rank, retrieval_metrics
from semanscope.metrics.tiles import tie_tolerance


def dense_scores(A, B, k_csls, k_margin):
    """Full CSLS and margin matrices by definition: neighbourhood means from sorted rows / columns;
    the margin is None unless every denominator is positive."""
    S = A @ B.T
    rows, cols = -np.sort(-S, axis=1), -np.sort(-S, axis=0)
    a_c, b_c = rows[:, :k_csls].mean(axis=1), cols[:k_csls].mean(axis=0)
    a_m, b_m = rows[:, :k_margin].mean(axis=1), cols[:k_margin].mean(axis=0)
    csls = 2 * S - a_c[:, None] - b_c[None, :]
    den = a_m[:, None] / 2 + b_m[None, :] / 2
    return S, csls, S / den if (den > 0).all() else None


def dense_reference(Q, k_csls=10, k_margin=4):
    """Per score: P@1, MRR (expected over ties) and tie counts (L, L), dense float64."""
    L, n, d = Q.shape
    kc, km = min(k_csls, n - 1), min(k_margin, n - 1)
    out = {name: [np.full((L, L), np.nan), np.full((L, L), np.nan), np.zeros((L, L), int)] for name in SCORE_NAMES}
    for s in range(L):
        for t in range(s + 1, L):
            for name, F in zip(SCORE_NAMES, dense_scores(Q[s], Q[t], kc, km), strict=True):
                if F is None:
                    continue
                for a, b, M in ((s, t, F), (t, s, F.T)):
                    above, tied = dense_counts(M, tie_tolerance(d))
                    p1, mrr, n_tied = out[name]
                    p1[a, b] = expected_hit(above, tied).mean()
                    mrr[a, b] = expected_reciprocal_rank(above, tied).mean()
                    n_tied[a, b] = (tied > 0).sum()
    return out


SCORE_NAMES = ("cosine", "csls", "margin")


def translations(seed, N, L, d, noise):
    rng = np.random.default_rng(seed)
    base = rng.standard_normal((N, d))
    Q = np.stack([unit(base + noise * rng.standard_normal((N, d))) for _ in range(L)])
    return Q


def as_rows(Q):
    L, N, d = Q.shape
    return Q.reshape(L * N, d), np.tile(np.arange(N), L), np.repeat(np.arange(L), N)


@pytest.mark.parametrize(
    ("N", "L", "d", "noise", "seed"), [(40, 2, 8, 1.0, 0), (60, 3, 24, 1.3, 1), (5, 2, 4, 1.0, 2), (7, 2, 3, 0.3, 3)]
)
def test_csls_and_margin_match_dense(N, L, d, noise, seed):
    Q = translations(seed, N, L, d, noise)
    Q[1, 3] = Q[1, 4]  # a repeated candidate: ties in every score
    ref = dense_reference(Q)
    res = retrieval_metrics(*as_rows(Q), hubness=True, block=7, n_boot=0)
    for name, (p1, mrr, n_tied) in ref.items():
        suffix = "" if name == "cosine" else f"_{name}"
        np.testing.assert_allclose(getattr(res, f"p_at_1{suffix}"), p1, atol=1e-12, err_msg=name)
        np.testing.assert_allclose(getattr(res, f"mrr{suffix}"), mrr, atol=1e-12, err_msg=name)
        np.testing.assert_array_equal(getattr(res, f"n_tied{suffix}"), n_tied, err_msg=name)
    assert res.n_tied_csls.sum() > 0
    assert (res.k_csls, res.k_margin) == (min(10, N - 1), min(4, N - 1))
    assert res.mean_p_at_1_csls == pytest.approx(np.nanmean(ref["csls"][0]))


def test_bootstrap_covers_every_score():
    Q = translations(3, 50, 3, 12, 1.2)
    res = retrieval_metrics(*as_rows(Q), hubness=True, n_boot=200, seed=5)
    plain = retrieval_metrics(*as_rows(Q), n_boot=200, seed=5)
    assert (res.p_at_1_ci_low, res.mrr_ci_high) == pytest.approx((plain.p_at_1_ci_low, plain.mrr_ci_high))  # same draws
    for score in ("csls", "margin"):
        for metric in ("p_at_1", "mrr"):
            low, high = getattr(res, f"{metric}_{score}_ci_low"), getattr(res, f"{metric}_{score}_ci_high")
            assert low < getattr(res, f"mean_{metric}_{score}") < high
    assert np.isnan(plain.p_at_1_margin).all() and plain.k_margin == 0


def test_csls_and_margin_discount_hubs():
    # language 0 leans towards a direction m, and so do 5 candidates of language 1: those hubs are
    # the cosine nearest neighbours of most queries; CSLS and the margin discount them
    rng = np.random.default_rng(6)
    base, m = rng.standard_normal((200, 32)), rng.standard_normal(32)
    A, B = unit(base + rng.standard_normal((200, 32)) + m), unit(base + rng.standard_normal((200, 32)))
    B[:5] = unit(B[:5] + m)
    res = retrieval_metrics(*as_rows(np.stack([A, B])), hubness=True, n_boot=0)
    assert res.p_at_1[0, 1] < 0.2 < 0.35 < res.p_at_1_margin[0, 1] < res.p_at_1_csls[0, 1]


def test_margin_undefined_when_neighbourhoods_are_negative():
    # two languages on opposite points of a line: every cosine is -1, so the margin's denominators are < 0
    X = np.vstack([np.ones((4, 1)), -np.ones((4, 1))])
    res = retrieval_metrics(X, np.tile(np.arange(4), 2), np.repeat([0, 1], 4), hubness=True, n_boot=10)
    assert np.isnan(res.mean_p_at_1_margin) and np.isnan(res.p_at_1_margin_ci_low)
    assert any("ratio margin undefined" in m for m in res.messages)
    assert res.mean_p_at_1 == pytest.approx(0.25) and res.mean_p_at_1_csls == pytest.approx(0.25)  # all tie


@pytest.mark.parametrize("k", [1, 4, 10, 59])
def test_top_cosines_match_sorting(k, monkeypatch):
    monkeypatch.setattr(hubness, "SAMPLE", 16)  # loose starting thresholds
    monkeypatch.setattr(hubness, "POOL_LIMIT", 64)  # frequent pruning of the column pools
    Q = translations(7, 60, 2, 10, 1.0)
    A, B = Q
    B[10:20] = B[10]  # a block of coinciding candidates
    top_a, top_b = top_cosines(A, B, k, block=9, tile_entries=200, workers=2)
    S = A @ B.T
    np.testing.assert_allclose(top_a, -np.sort(-S, axis=1)[:, :k], rtol=0, atol=1e-15)
    np.testing.assert_allclose(top_b, -np.sort(-S, axis=0)[:k].T, rtol=0, atol=1e-15)


def test_top_cosines_of_crowded_queries(monkeypatch):
    # more than DENSE_KEY candidates tie near the k-th largest: those queries are recomputed in float64
    monkeypatch.setattr(hubness, "DENSE_KEY", 8)
    A, B = translations(8, 80, 2, 6, 0.5)
    B[:40] = B[0]
    top_a, top_b = top_cosines(A, B, 4, block=16)
    S = A @ B.T
    np.testing.assert_allclose(top_a, -np.sort(-S, axis=1)[:, :4], rtol=0, atol=1e-15)
    np.testing.assert_allclose(top_b, -np.sort(-S, axis=0)[:4].T, rtol=0, atol=1e-15)


def test_bad_k():
    A, B = translations(9, 5, 2, 3, 0.5)
    with pytest.raises(ValueError, match="k must be"):
        top_cosines(A, B, 6)
    with pytest.raises(ValueError, match="k must be"):
        retrieval_metrics(*as_rows(translations(9, 5, 2, 3, 0.5)), hubness=True, k_csls=0)
