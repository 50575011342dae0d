"""Static-vs-contextual gap maths against brute-force loops over explicit resamples."""

from __future__ import annotations

import numpy as np
import pytest

from semanscope.degradation import (
    affinity_gap,
    language_pairs,
    paired_gap,
    script_groups,
    script_pair,
    unordered_pair_means,
)


def _resamples(n: int, n_boot: int, seed: int) -> np.ndarray:
    """The explicit resampled concept indices the paired bootstrap uses: (B, n)."""
    return np.random.default_rng(seed).integers(0, n, size=(n_boot, n))


def _pct(samples: list[float], ci: float) -> tuple[float, float]:
    return tuple(np.percentile(samples, [50 * (1 - ci), 50 * (1 + ci)]))


def test_affinity_gap_matches_brute_force_resamples():
    rng = np.random.default_rng(1)
    n, k, n_boot, seed, ci = 17, 3, 200, 5, 0.9
    v_s = rng.uniform(0.2, 0.8, size=(n, k))
    v_c = rng.uniform(0.05, 0.4, size=(n, k))
    h_s = np.array([0.9, 0.7, 0.8])
    h_c = np.array([0.6, 0.65, 0.5])
    gap = affinity_gap(v_s, h_s, v_c, h_c, ["all", "a-b", "a-c"], n_boot=n_boot, seed=seed, ci=ci)

    def sa(v, h):
        return 1.0 / (1.0 + v.mean() / h)

    idx = _resamples(n, n_boot, seed)
    for col in range(k):
        s_val, c_val = sa(v_s[:, col], h_s[col]), sa(v_c[:, col], h_c[col])
        assert gap.static[col] == pytest.approx(s_val, rel=1e-12)
        assert gap.contextual[col] == pytest.approx(c_val, rel=1e-12)
        assert gap.gap[col] == pytest.approx(c_val - s_val, rel=1e-12)
        assert gap.rel[col] == pytest.approx((c_val - s_val) / c_val, rel=1e-12)
        # same resampled concepts for both models
        boot_gap = [sa(v_c[r, col], h_c[col]) - sa(v_s[r, col], h_s[col]) for r in idx]
        boot_rel = [(sa(v_c[r, col], h_c[col]) - sa(v_s[r, col], h_s[col])) / sa(v_c[r, col], h_c[col]) for r in idx]
        assert (gap.gap_low[col], gap.gap_high[col]) == pytest.approx(_pct(boot_gap, ci), rel=1e-10)
        assert (gap.rel_low[col], gap.rel_high[col]) == pytest.approx(_pct(boot_rel, ci), rel=1e-10)
    assert gap.row("a-b")["gap"] == pytest.approx(gap.gap[1])
    assert [r["label"] for r in gap.records()] == ["all", "a-b", "a-c"]


def test_paired_gap_of_hits_with_groups_matches_brute_force():
    rng = np.random.default_rng(2)
    n, n_boot, seed, ci = 23, 150, 11, 0.95
    hits_s = (rng.random((n, 4)) < 0.4).astype(float)
    hits_c = (rng.random((n, 4)) < 0.8).astype(float)
    groups = {"g1": [0, 2], "g2": [1, 2, 3]}
    gap = paired_gap(hits_s, hits_c, ["p0", "p1", "p2", "p3"], groups=groups, n_boot=n_boot, seed=seed, ci=ci)
    assert gap.labels == ("p0", "p1", "p2", "p3", "g1", "g2")
    idx = _resamples(n, n_boot, seed)
    for label, cols in {"p1": [1], "g1": [0, 2], "g2": [1, 2, 3]}.items():
        k = gap.index(label)
        s_val = np.mean([hits_s[:, c].mean() for c in cols])
        c_val = np.mean([hits_c[:, c].mean() for c in cols])
        assert gap.static[k] == pytest.approx(s_val)
        assert gap.contextual[k] == pytest.approx(c_val)
        boot_gap, boot_rel = [], []
        for r in idx:
            bs = np.mean([hits_s[r, c].mean() for c in cols])
            bc = np.mean([hits_c[r, c].mean() for c in cols])
            boot_gap.append(bc - bs)
            boot_rel.append((bc - bs) / bc)
        assert (gap.gap_low[k], gap.gap_high[k]) == pytest.approx(_pct(boot_gap, ci), abs=1e-12)
        assert (gap.rel_low[k], gap.rel_high[k]) == pytest.approx(_pct(boot_rel, ci), abs=1e-12)


def test_identical_models_have_zero_gap_and_degenerate_interval():
    v = np.random.default_rng(3).uniform(0.1, 0.5, size=(10, 2))
    gap = affinity_gap(v, np.ones(2), v, np.ones(2), ["x", "y"], n_boot=50, seed=0)
    assert np.all(gap.gap == 0) and np.all(gap.gap_low == 0) and np.all(gap.gap_high == 0)


def test_no_bootstrap_gives_nan_intervals_and_bad_shapes_raise():
    x = np.ones((5, 2))
    gap = paired_gap(x * 0.5, x, ["a", "b"], n_boot=0)
    assert np.all(gap.gap == 0.5) and np.all(gap.rel == 0.5) and np.isnan(gap.gap_low).all()
    with pytest.raises(ValueError, match="same shape"):
        paired_gap(np.ones((5, 2)), np.ones((4, 2)), ["a", "b"])
    with pytest.raises(ValueError, match="labels"):
        paired_gap(x, x, ["a"], n_boot=0)


def test_relative_drop_is_nan_when_contextual_value_is_zero():
    gap = paired_gap(np.zeros((4, 1)), np.zeros((4, 1)), ["a"], n_boot=10)
    assert np.isnan(gap.rel[0]) and np.isnan(gap.rel_low[0])


def test_unordered_pair_means_average_both_directions():
    L, n = 3, 4
    s = np.arange(L * L * n, dtype=float).reshape(L, L, n)
    out = unordered_pair_means(s)
    pairs = language_pairs(["a", "b", "c"])
    assert pairs == [("a", "b"), ("a", "c"), ("b", "c")]
    for p, (i, j) in enumerate([(0, 1), (0, 2), (1, 2)]):
        np.testing.assert_allclose(out[:, p], (s[i, j] + s[j, i]) / 2)
    off = ~np.eye(L, dtype=bool)
    assert out.mean() == pytest.approx(s[off].mean())


def test_script_groups_by_script_pair():
    pairs = language_pairs(["en", "de", "ru", "zh"])
    assert script_pair("ru", "en") == "Cyrillic-Latin"
    groups = script_groups(pairs)
    assert groups == {
        "Cyrillic-Han": [5],
        "Cyrillic-Latin": [1, 3],
        "Han-Latin": [2, 4],
        "Latin-Latin": [0],
    }


def test_relative_interval_uses_resamples_where_it_is_defined():
    n, n_boot, seed, ci = 8, 300, 4, 0.9
    hits_c = np.zeros((n, 1))
    hits_c[[0, 2]] = 1.0  # some resamples miss concepts 0 and 2: contextual P@1 = 0 there
    hits_s = np.zeros((n, 1))
    hits_s[[0, 1]] = 1.0
    gap = paired_gap(hits_s, hits_c, ["a"], n_boot=n_boot, seed=seed, ci=ci)
    rels = [
        (hits_c[r, 0].mean() - hits_s[r, 0].mean()) / hits_c[r, 0].mean()
        for r in _resamples(n, n_boot, seed)
        if hits_c[r, 0].mean() > 0
    ]
    assert 0 < len(rels) < n_boot
    assert (gap.rel_low[0], gap.rel_high[0]) == pytest.approx(_pct(rels, ci))
    assert gap.rel[0] == 0.0  # both 2 hits of 8
