"""Sharded sufficient statistics (no Ray) == the single-process metrics, to 1e-9."""

from __future__ import annotations

import numpy as np
import pytest
from fake_embedder import FakeEmbedder

from semanscope.data.queryset import QuerySet
from semanscope.embeddings import embed_queryset, text_ids
from semanscope.engine.ranks import stripe_count_tensor
from semanscope.engine.results import affinity_result
from semanscope.engine.stats import (
    LanguageStats,
    concept_stats,
    first_text_rows,
    language_stats,
    sharded_spreads,
    unique_text_rows,
)
from semanscope.metrics.affinity import prepare_inputs, semantic_affinity
from semanscope.metrics.retrieval import cell_unit_means, count_tensors, retrieval_metrics, retrieval_result

CLOSE = dict(rtol=1e-9, atol=1e-12)
SA_FIELDS = ("sa", "sr", "h", "sem", "sem_sr", "ci_low", "ci_high")
SA_ARRAYS = ("h_per_language", "mean_similarity", "v", "sa_per_concept", "worst", "pair_sa", "pair_ci_low")
SA_ARRAYS += ("pair_ci_high", "pair_v", "pair_h")


def repeated_queryset(n: int = 120, seed: int = 0) -> QuerySet:
    """n concepts x 3 languages: ``a|b`` alternatives, texts repeated across concepts (and one
    text shared by two languages), so H's de-duplication and the cell means both matter."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        en = f"q{i}" if i % 7 else f"q{i}|again {i % 5}"
        de = f"f{rng.integers(0, n // 2)}"  # ~half of the German texts repeat
        fr = f"r{i}|shared {i % 3}" if i % 4 == 0 else "q1" if i == 5 else f"r{i}"
        rows.append((f"c{i}", [en, de, fr], None))
    return QuerySet.from_rows("rep", ["en", "de", "fr"], rows)


def assert_sa_equal(got, want):
    for name in SA_FIELDS:
        np.testing.assert_allclose(getattr(got, name), getattr(want, name), **CLOSE, err_msg=name)
    for name in SA_ARRAYS:
        np.testing.assert_allclose(getattr(got, name), getattr(want, name), **CLOSE, err_msg=name)
    for name in ("status", "messages", "languages", "concept_ids", "dropped_concepts", "n_dropped_rows", "metric"):
        assert getattr(got, name) == getattr(want, name), name


def sharded_sa(qs, X, metric, shard_concepts, n_buckets, **kw):
    items = qs.items()
    spreads = sharded_spreads(
        X,
        items.concept,
        items.lang,
        items.texts,
        qs.n_languages,
        metric=metric,
        shard_concepts=shard_concepts,
        n_buckets=n_buckets,
    )
    kept = [qs.ids[p] for p in spreads.position]
    excluded = [qs.ids[p] for p in spreads.excluded]
    return affinity_result(
        spreads, languages=qs.languages, concept_ids=kept, excluded_ids=excluded, metric=metric, **kw
    )


@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
@pytest.mark.parametrize(("shard_concepts", "n_buckets"), [(1, 1), (7, 3), (50, 5), (1000, 2)])
def test_sharded_affinity_equals_single_process(metric, shard_concepts, n_buckets):
    qs = repeated_queryset()
    items = qs.items()
    X = embed_queryset(qs, FakeEmbedder(dim=12)) * 3.0 + 0.5  # off-centre, not unit length
    want = semantic_affinity(
        X,
        items.concept,
        items.lang,
        text_ids=text_ids(qs),
        metric=metric,
        n_boot=200,
        seed=7,
        languages=qs.languages,
        concept_ids=qs.ids,
    )
    got = sharded_sa(qs, X, metric, shard_concepts, n_buckets, n_boot=200, seed=7)
    assert want.status == "ok"
    assert_sa_equal(got, want)


@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
def test_dropped_rows_and_excluded_concepts_match(metric):
    qs = repeated_queryset(60)
    items = qs.items()
    X = embed_queryset(qs, FakeEmbedder(dim=6))
    X[3] = 0.0  # a concept keeps another text in that language (or is excluded)
    X[10] = np.nan
    X[items.concept == 20] = 0.0  # a whole concept: excluded
    kw = dict(metric=metric, n_boot=50, seed=1)
    want = semantic_affinity(
        X, items.concept, items.lang, text_ids=text_ids(qs), languages=qs.languages, concept_ids=qs.ids, **kw
    )
    assert want.status == "warning" and want.dropped_concepts
    assert_sa_equal(sharded_sa(qs, X, metric, 9, 3, n_boot=50, seed=1), want)


def test_identical_texts_collapse_and_too_few_concepts():
    qs = QuerySet.from_rows("same", ["en", "de"], [(f"c{i}", ["x", "x"], None) for i in range(4)])
    items = qs.items()
    X = np.ones((len(items.texts), 3), dtype=np.float32)
    args = dict(languages=qs.languages, concept_ids=qs.ids, n_boot=20)
    want = semantic_affinity(X, items.concept, items.lang, text_ids=text_ids(qs), **args)
    assert want.status == "collapsed"
    assert_sa_equal(sharded_sa(qs, X, "cosine", 2, 2, n_boot=20), want)
    X[items.concept >= 2] = 0.0  # 2 usable concepts: invalid
    want = semantic_affinity(X, items.concept, items.lang, text_ids=text_ids(qs), **args)
    got = sharded_sa(qs, X, "cosine", 3, 2, n_boot=20)
    assert want.status == got.status == "invalid" and got.messages == want.messages
    assert np.isnan(got.sa) and got.concept_ids == want.concept_ids


def test_first_occurrence_is_the_smallest_position_across_shards():
    """The keeper of a (language, text) is the row of the earliest concept, whichever shard sees it first."""
    X = np.arange(12, dtype=np.float64).reshape(6, 2) + 1
    lang = np.array([0, 1, 0, 1, 0, 1])
    texts = ["a", "b", "a", "c", "z", "b"]
    used = np.ones(6, dtype=bool)
    late = first_text_rows(X[:4], lang[:4], texts[:4], np.array([5, 5, 9, 9]), used[:4])
    early = first_text_rows(X[4:], lang[4:], texts[4:], np.array([2, 2]), used[4:])
    assert list(late.text) == ["a", "b", "c"]  # "a" again at position 9 is not offered
    unique = unique_text_rows([late, early])
    kept = {(int(g), t): tuple(v) for g, t, v in zip(unique.lang, unique.text, unique.vector, strict=True)}
    assert kept == {(0, "a"): (1.0, 2.0), (1, "b"): (11.0, 12.0), (1, "c"): (7.0, 8.0), (0, "z"): (9.0, 10.0)}
    stats = language_stats(unique, 2)
    merged = LanguageStats.empty(2, 2).merge(stats)
    np.testing.assert_array_equal(merged.count, [2, 2])
    np.testing.assert_allclose(merged.moments.mean[0], [5.0, 6.0])
    np.testing.assert_allclose(merged.moments.sse[0], 2 * 32.0)


def test_concept_stats_by_hand():
    """Two languages, one concept: cosine m = |u - w|^2 = 2 (orthogonal), plus within-cell spread."""
    X = np.array([[1.0, 0.0], [0.0, 2.0], [0.0, -3.0]])
    stats, used = concept_stats(X, np.zeros(3, dtype=np.int64), np.array([0, 1, 1]), np.array([4]), 2, "cosine")
    # cell de = {(0,1), (0,-1)}: mean 0, s = 1; cross msd = |(1,0) - 0|^2 + 0 + 1 = 2
    np.testing.assert_allclose(stats.joint, [2.0])
    assert used.all() and stats.peak[0] == 3.0 and stats.n_rows[0] == 3


@pytest.mark.parametrize(("stripe_rows", "block_rows"), [(1, 1), (7, 11), (512, 4096)])
def test_stripe_counts_equal_count_tensors(stripe_rows, block_rows):
    qs = repeated_queryset(80)
    items = qs.items()
    X = embed_queryset(qs, FakeEmbedder(dim=5))
    X[items.concept == 3] = X[items.concept == 4][: int((items.concept == 3).sum())]  # near-duplicate candidates
    prep = prepare_inputs(X, items.concept, items.lang)
    counts = stripe_count_tensor(cell_unit_means(prep), stripe_rows, block_rows)
    want_counts = count_tensors(cell_unit_means(prep))["cosine"]
    np.testing.assert_array_equal(counts.above, want_counts.above)
    np.testing.assert_array_equal(counts.tied, want_counts.tied)
    assert counts.tied.sum() > 0  # the duplicated concept ties
    want = retrieval_metrics(X, items.concept, items.lang, languages=qs.languages, concept_ids=qs.ids, seed=3)
    got = retrieval_result({"cosine": counts}, languages=qs.languages, concept_ids=qs.ids, seed=3)
    for name in ("p_at_1", "mrr", "n", "p_at_1_per_concept", "mrr_per_concept", "n_tied"):
        np.testing.assert_allclose(getattr(got, name), getattr(want, name), **CLOSE, err_msg=name)
    for name in ("mean_p_at_1", "mean_mrr", "p_at_1_ci_low", "p_at_1_ci_high", "mrr_ci_low", "mrr_ci_high"):
        assert getattr(got, name) == pytest.approx(getattr(want, name), rel=1e-12), name
    assert got.status == want.status
