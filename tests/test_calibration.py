"""Chance floor, normalised SA, language-centred SA and anisotropy against brute-force references."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.distance import cdist

from semanscope.metrics.affinity import semantic_affinity
from semanscope.metrics.calibration import (
    anisotropy,
    calibrate,
    chance_floor,
    language_centered,
    normalized_affinity,
    permuted_concepts,
)

CLOSE = dict(rtol=1e-9, atol=1e-12)


def translations(seed: int, N: int = 30, L: int = 3, d: int = 12, noise: float = 0.5, offset: float = 2.0):
    """Concept vectors + per-language offset + noise; rows concept-major like QuerySet.items()."""
    rng = np.random.default_rng(seed)
    base = rng.standard_normal((N, 1, d))
    shift = offset * rng.standard_normal((1, L, d))
    X = (base + shift + noise * rng.standard_normal((N, L, d))).reshape(N * L, d)
    return X, np.repeat(np.arange(N), L), np.tile(np.arange(L), N)


def test_permutations_relabel_whole_cells_within_each_language():
    concept = np.array([0, 0, 1, 1, 1, 2, 2, 2, 0])
    lang = np.array([0, 1, 0, 1, 1, 0, 1, 1, 1])
    (p,) = permuted_concepts(concept, lang, 1, seed=3)
    rng = np.random.default_rng(3)
    table = np.stack([rng.permutation(3) for _ in range(2)])
    np.testing.assert_array_equal(p, table[lang, concept])
    for j in range(2):  # a bijection of concepts within each language
        rows = lang == j
        assert sorted(set(zip(concept[rows], p[rows], strict=True))) == sorted(
            set(zip(concept[rows], table[j][concept[rows]], strict=True))
        )


@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
def test_chance_floor_is_the_mean_sa_of_the_permuted_sets(metric):
    X, concept, lang = translations(0)
    floor, pair_floor = chance_floor(X, concept, lang, metric=metric, n_perm=4, seed=7)
    runs = [semantic_affinity(X, p, lang, metric=metric, n_boot=0) for p in permuted_concepts(concept, lang, 4, 7)]
    assert floor == pytest.approx(np.mean([r.sa for r in runs]), rel=1e-12)
    np.testing.assert_allclose(pair_floor, np.mean([r.pair_sa for r in runs], axis=0), **CLOSE)
    real = semantic_affinity(X, concept, lang, metric=metric, n_boot=0)
    assert real.h == pytest.approx(runs[0].h, rel=1e-12)  # H does not move under the permutation
    assert floor < real.sa


def test_normalized_affinity_maps_floor_to_zero_and_one_to_one():
    np.testing.assert_allclose(normalized_affinity([0.6, 1.0, 0.4], 0.6), [0.0, 1.0, -0.5])
    assert np.isnan(normalized_affinity(0.9, 1.0))


def test_language_centered_subtracts_each_languages_mean_of_unique_texts():
    X, concept, lang = translations(1, N=6)
    tids = np.arange(len(X))
    tids[3] = tids[0]  # concept 1 repeats concept 0's text in language 0: counted once for the mean
    X[3] = X[0]
    got = language_centered(X, lang, tids)
    for j in range(3):
        rows = np.flatnonzero(lang == j)
        unique = [k for k in rows if k != 3]
        np.testing.assert_allclose(got[rows], X[rows] - X[unique].mean(axis=0), **CLOSE)


def test_anisotropy_matches_all_cross_concept_pairs():
    X, concept, lang = translations(2, N=8)
    X[5] = 0.0  # dropped
    U = X / np.maximum(np.linalg.norm(X, axis=1, keepdims=True), 1e-300)
    ok = np.linalg.norm(X, axis=1) > 0
    cos = U[ok] @ U[ok].T
    other = concept[ok][:, None] != concept[ok][None, :]
    overall, per_language = anisotropy(X, concept, lang)
    assert overall == pytest.approx(cos[other].mean(), rel=1e-12)
    for j in range(3):
        same = (lang[ok][:, None] == j) & (lang[ok][None, :] == j)
        assert per_language[j] == pytest.approx(cos[other & same].mean(), rel=1e-12)


def test_calibrate_bundles_floor_normalised_centred_and_anisotropy():
    X, concept, lang = translations(3, offset=4.0)
    sa = semantic_affinity(X, concept, lang, n_boot=200, seed=5)
    cal = calibrate(X, concept, lang, sa, n_perm=3)
    floor, pair_floor = chance_floor(X, concept, lang, n_perm=3, seed=5)
    assert cal.floor == floor and cal.seed == 5
    assert cal.normalized == pytest.approx((sa.sa - floor) / (1 - floor))
    assert cal.normalized_ci_low == pytest.approx((sa.ci_low - floor) / (1 - floor))
    np.testing.assert_allclose(cal.pair_normalized, (sa.pair_sa - pair_floor) / (1 - pair_floor), **CLOSE)
    centred = semantic_affinity(language_centered(X, lang), concept, lang, n_boot=200, seed=5)
    assert cal.centered_sa == pytest.approx(centred.sa, rel=1e-12)
    np.testing.assert_allclose(cal.centered_pair_sa, centred.pair_sa, **CLOSE)
    # a strong language offset pulls SA down; centring removes it
    assert cal.centered_sa > sa.sa
    # brute force: centred vectors' cross-language distances shrink for translations
    Xc = language_centered(X, lang)
    d_raw = cdist(X[lang == 0], X[lang == 1], "cosine").diagonal().mean()
    d_centred = cdist(Xc[lang == 0], Xc[lang == 1], "cosine").diagonal().mean()
    assert d_centred < d_raw
    assert -1 <= cal.anisotropy <= 1 and cal.anisotropy_per_language.shape == (3,)
