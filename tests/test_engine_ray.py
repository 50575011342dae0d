"""The Ray engine on a local Ray (2 CPUs, started once for the module) == the single-process metrics."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

ray = pytest.importorskip("ray")

import fake_embedder  # noqa: E402
from fake_embedder import FakeEmbedder  # noqa: E402
from test_engine_stats import CLOSE, assert_sa_equal, repeated_queryset  # noqa: E402
from test_webfaq import generated_rows  # noqa: E402

from semanscope.cache import EmbeddingCache  # noqa: E402
from semanscope.data.webfaq import load_webfaq, pivot_webfaq  # noqa: E402
from semanscope.embeddings import embed_queryset, text_ids  # noqa: E402
from semanscope.engine import ray_engine  # noqa: E402
from semanscope.engine.shards import read_embedding_shard  # noqa: E402
from semanscope.metrics.affinity import semantic_affinity  # noqa: E402
from semanscope.metrics.retrieval import retrieval_counts, retrieval_metrics  # noqa: E402

ray.cloudpickle.register_pickle_by_value(fake_embedder)  # the actors need not import the tests folder


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    ray.data.DataContext.get_current().enable_progress_bars = False
    yield
    ray.shutdown()


def read_back(files):
    """Embedding shards -> X (M, d) in position (= items) order."""
    return np.concatenate([read_embedding_shard(f).X for f in files])


def test_engine_equals_single_process(local_ray, tmp_path):
    qs = repeated_queryset(150, seed=2)
    items = qs.items()
    emb = FakeEmbedder(dim=10)
    result, summary = ray_engine.run_queryset(
        qs,
        lambda: FakeEmbedder(dim=10),
        tmp_path / "run",
        cache_dir=tmp_path / "cache",
        metrics=("cosine", "euclidean"),
        n_boot=300,
        seed=11,
        n_actors=1,
        concepts_per_batch=40,
        n_buckets=3,
    )
    assert summary.n_concepts == qs.n_concepts and summary.n_rows == len(items.texts)
    assert len(summary.files) == 4 and all(f.parent.name == "embeddings" for f in summary.files)
    X = read_back(summary.files)
    np.testing.assert_array_equal(X, embed_queryset(qs, emb))  # written shards = the local embeddings
    args = dict(languages=qs.languages, concept_ids=qs.ids)
    for metric in ("cosine", "euclidean"):
        want = semantic_affinity(
            X, items.concept, items.lang, text_ids=text_ids(qs), metric=metric, n_boot=300, seed=11, **args
        )
        assert_sa_equal(result.affinity[metric], want)
    counts, _ = retrieval_counts(X, items.concept, items.lang, **args)
    np.testing.assert_array_equal(result.counts.above, counts["cosine"].above)
    np.testing.assert_array_equal(result.counts.tied, counts["cosine"].tied)
    want_r = retrieval_metrics(X, items.concept, items.lang, n_boot=300, seed=11, **args)
    got_r = result.retrieval
    np.testing.assert_allclose(got_r.p_at_1, want_r.p_at_1, **CLOSE)
    np.testing.assert_allclose(got_r.mrr, want_r.mrr, **CLOSE)
    np.testing.assert_array_equal(got_r.n_tied, want_r.n_tied)
    assert (got_r.p_at_1_ci_low, got_r.mrr_ci_high) == pytest.approx((want_r.p_at_1_ci_low, want_r.mrr_ci_high))
    assert got_r.concept_ids == want_r.concept_ids

    # second run: every unique text comes from the cache
    with EmbeddingCache(tmp_path / "cache") as cache:
        assert cache.stats().entries == len(set(items.texts))
    again, summary2 = ray_engine.run_queryset(
        qs,
        lambda: FakeEmbedder(dim=10),
        tmp_path / "run",
        cache_dir=tmp_path / "cache",
        retrieval=False,
        n_boot=0,
        n_actors=1,
        concepts_per_batch=40,
    )
    assert summary.cache_misses == len(set(items.texts))  # a text repeated across batches may hit already
    assert summary2.cache_misses == 0 and summary2.cache_hits == summary.cache_hits + summary.cache_misses
    assert again.affinity["cosine"].sa == pytest.approx(result.affinity["cosine"].sa, rel=1e-12)
    assert again.retrieval is None and again.counts is None


def test_engine_drops_unusable_rows_like_single_process(local_ray, tmp_path):
    qs = repeated_queryset(40)
    items = qs.items()
    zero_texts = {items.texts[3], items.texts[items.concept.tolist().index(7)]}

    class Zeroing(FakeEmbedder):
        def _encode(self, texts, lang, batch_size, progress):
            out = super()._encode(texts, lang, batch_size, progress)
            out[[t in zero_texts for t in texts]] = 0.0
            return out

    result, summary = ray_engine.run_queryset(
        qs, lambda: Zeroing(dim=6), tmp_path / "run", n_boot=50, n_actors=1, concepts_per_batch=16
    )
    X = read_back(summary.files)
    want = semantic_affinity(
        X, items.concept, items.lang, text_ids=text_ids(qs), n_boot=50, languages=qs.languages, concept_ids=qs.ids
    )
    assert want.status == "warning"
    assert_sa_equal(result.affinity["cosine"], want)
    assert result.retrieval.messages == want.messages[: len(result.retrieval.messages)]


def test_embedding_shards_are_whole_concepts(local_ray, tmp_path):
    qs = repeated_queryset(30)
    _, summary = ray_engine.run_queryset(
        qs, lambda: FakeEmbedder(dim=4), tmp_path / "run", n_boot=0, n_actors=1, concepts_per_batch=8, retrieval=False
    )
    seen = []
    for path in summary.files:
        table = pq.read_table(path)
        assert table.column_names == ["position", "id", "lang", "text", "vector"]
        seen.append(sorted(set(table.column("position").to_pylist())))
    flat = [p for part in seen for p in part]
    assert flat == list(range(qs.n_concepts))  # every concept in exactly one shard, shards in order


def test_cli_study_with_the_ray_engine_matches_local(local_ray, tmp_path):
    """``semanscope study --engine ray`` on a shipped static model: same scores as the local engine."""
    from semanscope import cli

    common = ["study", "--data", "words", "--models", "tokenlearn-static", "--langs", "en,de,ja", "--max-concepts"]
    common += ["40", "--n-boot", "200", "--xquad", "none", "--no-figures", "--cache", str(tmp_path / "cache")]
    assert cli.main([*common, "--out", str(tmp_path / "local")]) == cli.EXIT_OK
    assert cli.main([*common, "--out", str(tmp_path / "ray"), "--engine", "ray"]) == cli.EXIT_OK
    assert ray.is_initialized()  # the CLI joined the running Ray and left it running

    def scores(folder):
        data = json.loads((folder / "results.json").read_text(encoding="utf-8"))
        record = data["datasets"]["main"]["models"][0]["record"]
        sa, ret = record["affinity"][0], record["retrieval"]
        return [sa["sa"], sa["ci_low"], sa["ci_high"], sa["h"], *np.ravel(sa["pair_sa"])], [
            ret["mean_p_at_1"],
            ret["mean_mrr"],
            ret["p_at_1_ci_low"],
        ]

    (sa_local, ret_local), (sa_ray, ret_ray) = scores(tmp_path / "local"), scores(tmp_path / "ray")
    np.testing.assert_allclose(np.array(sa_ray, dtype=float), np.array(sa_local, dtype=float), **CLOSE)
    assert ret_ray == pytest.approx(ret_local, rel=1e-12)
    assert list((tmp_path / "ray" / "ray" / "words" / "tokenlearn-static" / "embeddings").glob("shard-*.parquet"))
    assert cli.main([*common, "--out", str(tmp_path / "x"), "--ray-address", "auto"]) == cli.EXIT_USAGE


def test_webfaq_pivot_shards_through_the_engine(local_ray, tmp_path):
    """WebFAQ at scale: out-of-core pivot -> concept shards -> Ray engine, no query set on the driver;
    equals the single-process scores of load_webfaq's query set (same concepts, same order)."""
    rows = generated_rows(600, seed=4)
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "bitext.parquet")
    joined = pivot_webfaq(tmp_path / "bitext.parquet", tmp_path / "pivot", n_buckets=5, concepts_per_file=9)
    result, summary = ray_engine.run_concept_shards(
        joined.files, lambda: FakeEmbedder(dim=8), tmp_path / "run", n_boot=100, seed=2, n_actors=1
    )
    qs = load_webfaq(tmp_path / "bitext.parquet").queryset
    items = qs.items()
    X = embed_queryset(qs, FakeEmbedder(dim=8))
    args = dict(languages=qs.languages, concept_ids=qs.ids, n_boot=100, seed=2)
    assert summary.n_concepts == qs.n_concepts == joined.n_concepts > 30
    assert result.affinity["cosine"].status == "ok"
    assert_sa_equal(
        result.affinity["cosine"], semantic_affinity(X, items.concept, items.lang, text_ids=text_ids(qs), **args)
    )
    counts, _ = retrieval_counts(X, items.concept, items.lang, languages=qs.languages, concept_ids=qs.ids)
    np.testing.assert_array_equal(result.counts.above, counts["cosine"].above)
    np.testing.assert_array_equal(result.counts.tied, counts["cosine"].tied)
