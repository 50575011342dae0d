"""Semantic Affinity: brute-force (scipy pdist / cdist + loops) and hand-computed references."""

from __future__ import annotations

import csv
import zlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial.distance import cdist, pdist

from semanscope.data.queryset import QuerySet
from semanscope.metrics import affinity
from semanscope.metrics.affinity import (
    METRICS,
    bootstrap_means,
    concept_pair_spreads,
    group_moments,
    mean_pairwise_distance,
    merge_moments,
    semantic_affinity,
)

XQUAD = Path(__file__).resolve().parents[2] / "shared" / "data" / "xquad" / "questions.csv"
CLOSE = dict(rtol=1e-9, atol=1e-12)


# ------------------------------------------------------------------ references
def reference(X, concept, lang, text_ids=None, metric="cosine"):
    """The definitions, evaluated the slow way: pdist per language, cdist per concept and pair."""
    X = np.asarray(X, dtype=np.float64)
    N, L = concept.max() + 1, lang.max() + 1
    text_ids = np.arange(len(X)) if text_ids is None else text_ids
    h_lang = []
    for l in range(L):
        first: dict[int, int] = {}
        for k in np.flatnonzero(lang == l):
            first.setdefault(int(text_ids[k]), k)
        Y = X[sorted(first.values())]
        h_lang.append(pdist(Y, "cosine").mean() if metric == "cosine" else np.sqrt(pdist(Y, "sqeuclidean").mean()))
    h_lang = np.array(h_lang)
    h = h_lang.mean()
    cross = np.zeros((N, L, L))
    for i in range(N):
        for l in range(L):
            for m in range(l + 1, L):
                A, B = X[(concept == i) & (lang == l)], X[(concept == i) & (lang == m)]
                cross[i, l, m] = cross[i, m, l] = cdist(A, B, "cosine" if metric == "cosine" else "sqeuclidean").mean()
    iu = np.triu_indices(L, 1)
    pairs = cross[:, iu[0], iu[1]]
    v = pairs.mean(axis=1) if metric == "cosine" else np.sqrt(pairs.mean(axis=1))
    pair_v = pairs if metric == "cosine" else np.sqrt(pairs)
    h_pair = (h_lang[:, None] + h_lang[None, :]) / 2
    pair_sa = np.full((L, L), np.nan)
    for p, (l, m) in enumerate(zip(*iu, strict=True)):
        pair_sa[l, m] = pair_sa[m, l] = 1 / (1 + pair_v[:, p].mean() / h_pair[l, m])
    sr = v.mean() / h
    # Semanscope's propagated SEM: relative errors of V (over concepts) and H (over languages)
    sem_v, sem_h = np.std(v, ddof=1) / np.sqrt(N), np.std(h_lang, ddof=1) / np.sqrt(L)
    sem_sr = sr * np.sqrt((sem_v / v.mean()) ** 2 + (sem_h / h) ** 2)
    return dict(
        h_per_language=h_lang,
        h=h,
        v=v,
        sa_per_concept=1 / (1 + v / h),
        sa=1 / (1 + sr),
        sr=sr,
        sem_sr=sem_sr,
        sem=sem_sr / (1 + sr) ** 2,
        pair_sa=pair_sa,
        pair_h=h_pair,
    )


def random_case(seed, N, L, d, max_alt=3, dup_rate=0.25, integer=False):
    """Items with 1..max_alt alternatives per cell and texts repeated across concepts of a language."""
    rng = np.random.default_rng(seed)
    vectors, concept, lang, tids = [], [], [], []
    by_lang: dict[int, list[int]] = {l: [] for l in range(L)}
    for i in range(N):
        for l in range(L):
            cell: list[int] = []
            for _ in range(rng.integers(1, max_alt + 1)):
                pool = [t for t in by_lang[l] if t not in cell]
                if pool and rng.random() < dup_rate:
                    tid = int(rng.choice(pool))
                else:
                    tid = len(vectors)
                    vec = rng.integers(-3, 4, d) if integer else rng.standard_normal(d) * rng.uniform(0.5, 2)
                    vectors.append(vec.astype(np.float64))
                    by_lang[l].append(tid)
                cell.append(tid)
                concept.append(i)
                lang.append(l)
                tids.append(tid)
    tids = np.array(tids)
    return np.array(vectors)[tids], np.array(concept), np.array(lang), tids


def assert_matches(res, ref):
    for key, value in ref.items():
        np.testing.assert_allclose(getattr(res, key), value, **CLOSE, err_msg=key)


# ------------------------------------------------------------------ brute force
@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
@pytest.mark.parametrize("N,L,d,seed", [(3, 2, 2, 0), (7, 3, 5, 1), (25, 4, 16, 2), (40, 6, 3, 3), (12, 2, 1, 4)])
def test_matches_brute_force_with_alternatives_and_duplicates(metric, N, L, d, seed):
    X, concept, lang, tids = random_case(seed, N, L, d)
    res = semantic_affinity(X, concept, lang, text_ids=tids, metric=metric, n_boot=0)
    assert res.status in ("ok", "collapsed")
    assert_matches(res, reference(X, concept, lang, tids, metric))


@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
def test_small_blocks_shuffled_float32_rows(metric, monkeypatch):
    X, concept, lang, tids = random_case(5, 30, 3, 8)
    X = X.astype(np.float32)
    perm = np.random.default_rng(0).permutation(len(X))
    monkeypatch.setattr(affinity, "BLOCK_ROWS", 7)  # many concept blocks -> language moments merged
    res = semantic_affinity(X[perm], concept[perm], lang[perm], text_ids=tids[perm], metric=metric, n_boot=0)
    assert_matches(res, reference(X, concept, lang, tids, metric))


def test_without_text_ids_every_row_counts():
    X, concept, lang, tids = random_case(6, 10, 3, 4)
    res = semantic_affinity(X, concept, lang, n_boot=0)
    assert_matches(res, reference(X, concept, lang, None))


@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
def test_concept_pair_spreads_are_the_per_concept_pair_breakdown(metric):
    X, concept, lang, tids = random_case(11, 9, 4, 5)
    spreads, ids = concept_pair_spreads(X, concept, lang, metric=metric, concept_ids=[f"c{i}" for i in range(9)])
    iu = np.triu_indices(4, 1)
    for i in range(9):
        for p, (l, m) in enumerate(zip(*iu, strict=True)):
            A, B = X[(concept == i) & (lang == l)], X[(concept == i) & (lang == m)]
            ref = cdist(A, B, "cosine").mean() if metric == "cosine" else np.sqrt(cdist(A, B, "sqeuclidean").mean())
            assert spreads[i, p] == pytest.approx(ref, rel=1e-9)
    assert ids == tuple(f"c{i}" for i in range(9))
    res = semantic_affinity(X, concept, lang, metric=metric, n_boot=0)
    np.testing.assert_allclose(spreads.mean(axis=0), res.pair_v[iu], **CLOSE)
    X[concept < 7] = 0  # only 2 usable concepts left
    spreads, ids = concept_pair_spreads(X, concept, lang, metric=metric)
    assert spreads.shape == (2, 6) and np.isnan(spreads).all() and ids == ("7", "8")


def test_mean_pairwise_distance_matches_pdist():
    X = np.random.default_rng(1).standard_normal((50, 7)) * 3
    assert mean_pairwise_distance(X) == pytest.approx(pdist(X, "cosine").mean(), rel=1e-12)
    assert mean_pairwise_distance(X, "euclidean") == pytest.approx(np.sqrt(pdist(X, "sqeuclidean").mean()), rel=1e-12)
    U = X / np.linalg.norm(X, axis=1, keepdims=True)  # the closed form of the docstring
    n, s = len(U), U.sum(axis=0)
    assert mean_pairwise_distance(X) == pytest.approx(1 - (s @ s - n) / (n * (n - 1)), rel=1e-12)


def test_group_moments_and_merge():
    rng = np.random.default_rng(2)
    Y, g = rng.standard_normal((40, 3)), rng.integers(0, 4, 40)
    whole = group_moments(Y, g, 5)
    merged = merge_moments(group_moments(Y[:13], g[:13], 5), group_moments(Y[13:], g[13:], 5))
    for k in range(5):
        rows = Y[g == k]
        mean = rows.mean(axis=0) if len(rows) else np.zeros(3)
        for m in (whole, merged):
            assert m.count[k] == len(rows)
            np.testing.assert_allclose(m.mean[k], mean, **CLOSE)
            np.testing.assert_allclose(m.sse[k], ((rows - mean) ** 2).sum(), **CLOSE)


# ------------------------------------------------------------------ hand-computed
def on_circle(angles_deg):
    a = np.radians(angles_deg)
    return np.column_stack([np.cos(a), np.sin(a)])


def circle_case(rotations):
    """Language j holds concepts at 0, 90, 180 degrees rotated by rotations[j]."""
    X = np.vstack([on_circle(np.array([0, 90, 180]) + r) for r in rotations])
    return X, np.tile(np.arange(3), len(rotations)), np.repeat(np.arange(len(rotations)), 3)


def test_hand_two_languages_cosine():
    # distances within a language: 1 - cos 90 = 1, 1 - cos 180 = 2, 1 -> H = 4/3; v_i = 1 - cos 60 = 1/2
    res = semantic_affinity(*circle_case([0, 60]), n_boot=0)
    assert res.h == pytest.approx(4 / 3)
    np.testing.assert_allclose(res.v, [0.5, 0.5, 0.5])
    assert res.sr == pytest.approx(3 / 8)
    assert res.sa == pytest.approx(8 / 11)
    assert res.sem == pytest.approx(0.0, abs=1e-15)
    assert res.pair_sa[0, 1] == pytest.approx(8 / 11) and np.isnan(res.pair_sa[0, 0])


def test_hand_two_languages_euclidean():
    # squared distances 2 - 2 cos: (2, 4, 2) -> H = sqrt(8/3); v_i^2 = 2 - 2 cos 60 = 1
    res = semantic_affinity(*circle_case([0, 60]), metric="euclidean", n_boot=0)
    assert res.h == pytest.approx(np.sqrt(8 / 3))
    np.testing.assert_allclose(res.v, 1.0)
    assert res.sa == pytest.approx(1 / (1 + np.sqrt(3 / 8)))


def test_hand_three_language_pair_matrix():
    res = semantic_affinity(*circle_case([0, 60, 90]), n_boot=0, languages=["a", "b", "c"])
    v_ab, v_ac, v_bc = 0.5, 1.0, 1 - np.cos(np.radians(30))
    expected = {(0, 1): v_ab, (0, 2): v_ac, (1, 2): v_bc}
    for (l, m), v in expected.items():
        assert res.pair_sa[l, m] == pytest.approx(1 / (1 + v / (4 / 3)))
        assert res.pair_sa[m, l] == res.pair_sa[l, m]
        assert res.pair_v[l, m] == pytest.approx(v)
    assert res.sa == pytest.approx(1 / (1 + (v_ab + v_ac + v_bc) / 3 / (4 / 3)))
    assert res.languages == ("a", "b", "c")


def test_hand_duplicate_text_counts_once_for_h():
    # language 0: concepts 0 and 1 share one text at 0 deg, concept 2 at 90 deg; language 1 at 0, 90, 180
    X = np.vstack([on_circle([0, 0, 90]), on_circle([0, 90, 180])])
    concept, lang = np.array([0, 1, 2, 0, 1, 2]), np.array([0, 0, 0, 1, 1, 1])
    dedup = semantic_affinity(X, concept, lang, text_ids=np.array([7, 7, 8, 9, 10, 11]), n_boot=0)
    plain = semantic_affinity(X, concept, lang, n_boot=0)
    assert dedup.h_per_language[0] == pytest.approx(1.0)  # unique {0, 90}: one pair, distance 1
    assert plain.h_per_language[0] == pytest.approx(2 / 3)  # pairs (0,0), (0,90), (0,90): 0, 1, 1
    assert dedup.h_per_language[1] == pytest.approx(4 / 3)
    # v: concept 0 at 0/0 -> 0; concept 1 at 0/90 -> 1; concept 2 at 90/180 -> 1
    np.testing.assert_allclose(dedup.v, [0, 1, 1], atol=1e-15)
    assert dedup.sa == pytest.approx(1 / (1 + (2 / 3) / ((1 + 4 / 3) / 2)))


def test_hand_alternatives_cross_product():
    # concept 0 in language 1 has two alternatives at 0 and 90 deg vs one text at 0 deg:
    # cross distances 0 and 1 -> v_0 = 1/2
    X = np.vstack([on_circle([0, 90, 180]), on_circle([0, 90, 90, 180])])
    concept, lang = np.array([0, 1, 2, 0, 0, 1, 2]), np.array([0, 0, 0, 1, 1, 1, 1])
    res = semantic_affinity(X, concept, lang, text_ids=np.array([0, 1, 2, 3, 4, 4, 5]), n_boot=0)
    np.testing.assert_allclose(res.v, [0.5, 0, 0], atol=1e-15)
    assert res.h_per_language[1] == pytest.approx(4 / 3)  # the repeated 90-deg text counts once


# ------------------------------------------------------------------ uncertainty
def test_bootstrap_means_equals_index_resampling():
    values = np.random.default_rng(3).standard_normal((20, 3))
    idx = np.random.default_rng(11).integers(0, 20, size=(50, 20))
    np.testing.assert_allclose(bootstrap_means(values, 50, seed=11), values[idx].mean(axis=1), **CLOSE)


def test_bootstrap_chunking_keeps_draws(monkeypatch):
    values = np.random.default_rng(4).standard_normal((20, 2))
    whole = bootstrap_means(values, 30, seed=5)
    monkeypatch.setattr(affinity, "BOOT_ENTRIES", 45)  # 2 resamples per chunk
    np.testing.assert_allclose(bootstrap_means(values, 30, seed=5), whole, **CLOSE)


def test_bootstrap_ci_is_seeded_and_brackets_estimate():
    X, concept, lang, tids = random_case(7, 30, 3, 6)
    a = semantic_affinity(X, concept, lang, text_ids=tids, n_boot=300, seed=1)
    b = semantic_affinity(X, concept, lang, text_ids=tids, n_boot=300, seed=1)
    c = semantic_affinity(X, concept, lang, text_ids=tids, n_boot=300, seed=2)
    assert (a.ci_low, a.ci_high) == (b.ci_low, b.ci_high)
    np.testing.assert_array_equal(a.pair_ci_low, b.pair_ci_low)
    assert (a.ci_low, a.ci_high) != (c.ci_low, c.ci_high)
    assert a.ci_low < a.sa < a.ci_high
    off = ~np.eye(3, dtype=bool)
    assert np.all(a.pair_ci_low[off] <= a.pair_sa[off]) and np.all(a.pair_sa[off] <= a.pair_ci_high[off])
    # reproduce the joint CI from the documented recipe: resample v over concepts, H fixed
    boot = bootstrap_means(np.column_stack([a.v, a.v]), 300, seed=1)[:, 0]
    lo, hi = np.percentile(1 / (1 + boot / a.h), [2.5, 97.5])
    assert (a.ci_low, a.ci_high) == pytest.approx((lo, hi), rel=1e-12)


def test_no_bootstrap_gives_nan_ci_and_equal_v_gives_point_ci():
    res = semantic_affinity(*circle_case([0, 60]), n_boot=0)
    assert np.isnan(res.ci_low) and np.isnan(res.ci_high)
    res = semantic_affinity(*circle_case([0, 60]), n_boot=50)
    assert res.ci_low == pytest.approx(8 / 11) and res.ci_high == pytest.approx(8 / 11)


# ------------------------------------------------------------------ per concept
def test_worst_concepts_and_table():
    X, concept, lang, tids = random_case(8, 15, 3, 4, max_alt=1, dup_rate=0)
    res = semantic_affinity(X, concept, lang, n_boot=0, worst_k=4, concept_ids=[f"q{i}" for i in range(15)])
    order = np.argsort(res.sa_per_concept)
    np.testing.assert_array_equal(res.worst, order[:4])
    table = res.concept_table()
    assert list(table["concept"][:4]) == [f"q{i}" for i in order[:4]]
    np.testing.assert_allclose(table["sa"], np.sort(res.sa_per_concept))
    np.testing.assert_allclose(1 / (1 + table["v"] / res.h), table["sa"])


# ------------------------------------------------------------------ validation
@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(lang=np.zeros(6, dtype=int)), "at least 2 languages"),
        (dict(concept=np.array([0, 1, 0, 1, 0, 1])), "at least 3 concepts"),
        (dict(concept=np.array([0, 1, 2, 0, 1, 3])), r"2 of 4 concepts have no text"),
        (dict(concept=np.array([0, 1, 2, 0, 1])), "one entry per row"),
        (dict(lang=np.zeros(6)), "must hold integers"),
        (dict(X=np.zeros(6)), "2-D array"),
        (dict(metric="manhattan"), "unknown metric"),
        (dict(n_boot=-1), "n_boot"),
        (dict(ci=1.5), "ci must be"),
        (dict(languages=["en"]), "out of range"),
    ],
)
def test_bad_input_raises_clear_error(kwargs, match):
    X, concept, lang = circle_case([0, 60])
    args = dict(X=X, concept=concept, lang=lang) | kwargs
    with pytest.raises(ValueError, match=match):
        semantic_affinity(args.pop("X"), args.pop("concept"), args.pop("lang"), **args)


def test_incomplete_concept_message_names_it():
    X, concept, lang = circle_case([0, 60])
    with pytest.raises(ValueError, match=r"concept 'c' lacks \['de'\]"):
        semantic_affinity(X[:5], concept[:5], lang[:5], languages=["en", "de"], concept_ids=["a", "b", "c"])


# ------------------------------------------------------------------ degeneracy
def test_zero_and_nonfinite_rows_are_dropped():
    X, concept, lang, tids = random_case(9, 10, 3, 4, max_alt=2, dup_rate=0)
    # an extra alternative that is all-zero, and one that is NaN: the concepts stay complete
    Xb = np.vstack([X, np.zeros((1, 4)), np.full((1, 4), np.nan)])
    cb, lb = np.append(concept, [0, 1]), np.append(lang, [0, 2])
    res = semantic_affinity(Xb, cb, lb, n_boot=0)
    assert res.status == "warning" and res.n_dropped_rows == 2 and "dropped 2 of" in res.messages[0]
    assert_matches(res, reference(X, concept, lang))


def test_concepts_emptied_by_dropping_are_excluded():
    X, concept, lang, _ = random_case(10, 6, 2, 3, max_alt=1, dup_rate=0)
    X[(concept == 4) & (lang == 1)] = 0
    res = semantic_affinity(X, concept, lang, n_boot=0)
    assert res.status == "warning" and res.dropped_concepts == ("4",) and res.n_concepts == 5
    rows = concept != 4
    ref = reference(X[rows], np.unique(concept[rows], return_inverse=True)[1], lang[rows])
    assert_matches(res, ref)


def test_too_few_usable_concepts_is_invalid_not_an_exception():
    X, concept, lang = circle_case([0, 60])
    X[concept == 0] = np.inf
    res = semantic_affinity(X, concept, lang)
    assert res.status == "invalid" and np.isnan(res.sa) and "at least 3" in res.messages[-1]


def test_collapsed_language_is_flagged():
    rng = np.random.default_rng(12)
    N = 20
    X = np.vstack([rng.standard_normal((N, 8)), 10 + 0.01 * rng.standard_normal((N, 8))])
    res = semantic_affinity(X, np.tile(np.arange(N), 2), np.repeat([0, 1], N), languages=["en", "xx"], n_boot=0)
    assert res.status == "collapsed" and "xx" in res.messages[-1] and "en" not in res.messages[-1]
    assert 0 < res.sa <= 1 and res.mean_similarity[1] > 0.99


def test_everything_identical_gives_sa_one():
    X = np.ones((6, 3))
    res = semantic_affinity(X, np.tile(np.arange(3), 2), np.repeat([0, 1], 3), n_boot=20)
    assert res.status == "collapsed" and res.sa == 1.0 and res.h == 0 and res.ci_low == 1.0
    np.testing.assert_array_equal(res.sa_per_concept, 1.0)


def test_zero_h_with_differing_translations_is_invalid():
    X = np.vstack([np.tile([1.0, 0.0], (3, 1)), np.tile([0.0, 1.0], (3, 1))])
    res = semantic_affinity(X, np.tile(np.arange(3), 2), np.repeat([0, 1], 3), metric="euclidean")
    assert res.status == "invalid" and res.h == 0 and np.isnan(res.sa)
    np.testing.assert_allclose(res.v, np.sqrt(2))


def test_one_dimensional_embeddings():
    X = np.array([[1.0], [-2.0], [3.0], [2.0], [-1.0], [-4.0]])
    concept, lang = np.tile(np.arange(3), 2), np.repeat([0, 1], 3)
    for metric in ("cosine", "euclidean"):
        res = semantic_affinity(X, concept, lang, metric=metric, n_boot=0)
        assert_matches(res, reference(X, concept, lang, metric=metric))


# ------------------------------------------------------------------ properties
@st.composite
def cases(draw):
    N, L, d = draw(st.integers(3, 7)), draw(st.integers(2, 4)), draw(st.integers(1, 4))
    return random_case(draw(st.integers(0, 2**31)), N, L, d, max_alt=2, integer=True)


@settings(max_examples=40, deadline=None)
@given(cases(), st.sampled_from(["cosine", "euclidean"]))
def test_property_sa_in_unit_interval(case, metric):
    res = semantic_affinity(*case[:3], text_ids=case[3], metric=metric, n_boot=0)
    if res.status != "invalid":
        assert 0 < res.sa <= 1
        assert np.all((res.sa_per_concept > 0) & (res.sa_per_concept <= 1))


@settings(max_examples=40, deadline=None)
@given(cases(), st.sampled_from(["cosine", "euclidean"]), st.randoms(use_true_random=False))
def test_property_row_order_invariant(case, metric, rnd):
    X, concept, lang, tids = case
    perm = np.array(rnd.sample(range(len(X)), len(X)))
    a = semantic_affinity(X, concept, lang, text_ids=tids, metric=metric, n_boot=0)
    b = semantic_affinity(X[perm], concept[perm], lang[perm], text_ids=tids[perm], metric=metric, n_boot=0)
    assert a.status == b.status
    np.testing.assert_allclose([a.sa, a.h], [b.sa, b.h], **CLOSE)
    np.testing.assert_allclose(a.pair_sa, b.pair_sa, **CLOSE)


@settings(max_examples=40, deadline=None)
@given(cases(), st.sampled_from(["cosine", "euclidean"]), st.sampled_from([1e-150, 1e-3, 7.0, 1e150]))
def test_property_scale_invariant(case, metric, factor):
    X, concept, lang, tids = case
    a = semantic_affinity(X, concept, lang, text_ids=tids, metric=metric, n_boot=0)
    b = semantic_affinity(X * factor, concept, lang, text_ids=tids, metric=metric, n_boot=0)
    assert a.status == b.status
    np.testing.assert_allclose(a.sa, b.sa, **CLOSE)
    np.testing.assert_allclose(a.sa_per_concept, b.sa_per_concept, **CLOSE)


@settings(max_examples=40, deadline=None)
@given(st.integers(3, 8), st.integers(2, 5), st.integers(1, 6), st.integers(0, 2**31), st.sampled_from(METRICS))
def test_property_identical_translations_give_one(N, L, d, seed, metric):
    base = np.random.default_rng(seed).standard_normal((N, d))
    res = semantic_affinity(np.tile(base, (L, 1)), np.tile(np.arange(N), L), np.repeat(np.arange(L), N), metric=metric)
    assert res.status != "invalid"
    assert res.sa == 1.0 and res.ci_low == 1.0
    np.testing.assert_array_equal(res.v, 0.0)


# ------------------------------------------------------------------ real data
def trigram_vectors(texts, d=64):
    """Deterministic character-trigram hashing embedding (a stand-in model for real text)."""
    out = np.zeros((len(texts), d))
    for k, t in enumerate(texts):
        t = f"  {t.lower()} "
        for j in range(len(t) - 2):
            out[k, zlib.crc32(t[j : j + 3].encode()) % d] += 1.0
    return out


@pytest.mark.skipif(not XQUAD.exists(), reason="shared XQuAD questions not available")
def test_xquad_items_with_real_duplicate_texts():
    with XQUAD.open(encoding="utf-8", newline="") as f:
        records = list(csv.DictReader(f))
    langs = ["en", "de", "es"]
    qs = QuerySet.from_rows("xquad", langs, ((r["id"], [r[code] for code in langs], None) for r in records))
    items = qs.items()
    _, text_ids = np.unique(items.texts, return_inverse=True)
    assert len(np.unique(text_ids)) < len(items.texts)  # the data repeats some questions
    X = trigram_vectors(items.texts)
    res = semantic_affinity(X, items.concept, items.lang, text_ids=text_ids, languages=qs.languages, n_boot=100)
    assert_matches(res, reference(X, items.concept, items.lang, text_ids))
    assert res.status == "ok" and res.ci_low < res.sa < res.ci_high
