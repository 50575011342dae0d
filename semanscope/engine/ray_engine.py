"""The Ray engine: embed with an actor pool, then SA and retrieval from per-shard statistics.

The only module that imports ``ray`` (lazily, inside functions). What runs where:

1. **embed** (:func:`embed_shards`, Ray Data): concept shards are read as a Ray Dataset
   (streamed; one row per concept, so every batch holds whole concepts) and mapped by a pool of
   actors; each actor loads the model once and opens the embedding cache once, embeds a batch
   (unique texts only, cache first; :func:`~semanscope.embeddings.embed_queryset`) and writes
   it as one embedding shard ``<run>/embeddings/shard-<first position>.parquet``.
2. **shard statistics** (one Ray task per embedding shard): per-concept cell moments
   (:func:`~semanscope.engine.stats.concept_stats`, per metric) go back to the driver; the
   shard's first occurrences of each (language, text) are written to
   ``<run>/texts/bucket-<b>/``; with retrieval, cell-mean unit vectors to ``<run>/cells/``.
3. **unique texts** (one Ray task per bucket): exact de-duplication by (language, text), keeping
   the earliest concept's row, reduced to per-language sums and moments.
4. **retrieval** (one Ray task per cell shard = a stripe of queries): ranks as per-stripe counts
   against every cell shard (:func:`~semanscope.engine.ranks.stripe_counts`), summed.
5. **driver**: merges (N floats per concept and metric, L x d per language), orders concepts by
   position and builds the same :class:`~semanscope.metrics.affinity.SAResult` /
   :class:`~semanscope.metrics.retrieval.RetrievalResult` as the single-process functions
   (:mod:`~semanscope.engine.results`): identical bootstrap draws, values equal to 1e-9.

The run folder must be visible to every node (a shared file system) when Ray spans several
machines; the embedding cache is per node (each actor opens ``cache_dir`` on its own node).
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from semanscope.cache import EmbeddingCache
from semanscope.data.concept_shards import concept_batch, languages_of, shard_name, write_concept_shards
from semanscope.data.queryset import QuerySet
from semanscope.embeddings import embed_queryset
from semanscope.engine.ranks import stripe_counts
from semanscope.engine.results import affinity_result, input_messages, retrieval_result
from semanscope.engine.shards import (
    cell_table,
    embedding_table,
    read_cells,
    read_embedding_shard,
    read_text_buckets,
    text_bucket_table,
    vector_width,
)
from semanscope.engine.stats import (
    ConceptStats,
    LanguageStats,
    TextRows,
    concat_concept_stats,
    concept_stats,
    first_text_rows,
    language_stats,
    merge_spreads,
    split_text_rows,
    unique_text_rows,
)
from semanscope.metrics.affinity import SAResult, check_metric, segment_sum, unit_rows
from semanscope.metrics.retrieval import TILE_ENTRIES, RetrievalResult
from semanscope.models.base import Embedder

CONCEPTS, EMBEDDINGS, TEXTS, CELLS = "concepts", "embeddings", "texts", "cells"
CONCEPTS_PER_BATCH = 1024  # concepts an actor embeds per call (= per embedding shard)
N_BUCKETS = 16  # de-duplication buckets of (language, text)


# --------------------------------------------------------------------------- cluster
def connect(address: str | None = None, num_cpus: int | None = None) -> bool:
    """Make sure Ray is running; True when this call started or joined it.

    Already initialised (e.g. by a test fixture): nothing to do. ``address`` (``"auto"``,
    ``"ray://host:10001"``, ``"host:6379"``) or else the ``RAY_ADDRESS`` environment variable
    joins an existing cluster; without either a local Ray is started with ``num_cpus`` (default:
    all cores), without the dashboard.
    """
    import ray

    if ray.is_initialized():
        return False
    address = address or os.environ.get("RAY_ADDRESS") or None
    if address:
        ray.init(address=address, log_to_driver=False)
    else:
        ray.init(num_cpus=num_cpus, include_dashboard=False, log_to_driver=False)
    return True


def default_actors(cpus_per_actor: float) -> int:
    """Actors for the embedding pool: the cluster's CPUs less one (kept for Ray Data's read
    tasks; an actor pool holding every CPU starves them), divided by ``cpus_per_actor``; >= 1."""
    import ray

    cpus = float(ray.cluster_resources().get("CPU", 1.0))
    return max(1, int((cpus - 1.0) // cpus_per_actor))


def _fresh(folder: Path) -> Path:
    """Empty ``folder`` (one of the engine's own sub-folders of a run) and return it."""
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    return folder


# --------------------------------------------------------------------------- 1. embed
class _EmbedShards:
    """Ray Data actor: loads the model and opens the cache once, then embeds batches of concepts."""

    def __init__(
        self,
        model: Callable[[], Embedder],
        cache_dir: str | None,
        out_dir: str,
        languages: Sequence[str],
        batch_size: int,
    ):
        self.embedder = model()
        self.cache = EmbeddingCache(cache_dir) if cache_dir is not None else None
        self.out_dir = Path(out_dir)
        self.languages = tuple(languages)
        self.batch_size = batch_size

    def __call__(self, batch: pa.Table) -> dict[str, np.ndarray]:
        position, qs = concept_batch(batch.sort_by("position"), self.languages)
        before = self.cache.stats() if self.cache is not None else None
        X = embed_queryset(qs, self.embedder, self.cache, batch_size=self.batch_size)
        path = self.out_dir / shard_name(int(position[0]))
        pq.write_table(embedding_table(position, qs, X), path)
        hits = misses = 0
        if self.cache is not None and before is not None:
            after = self.cache.stats()
            hits, misses = after.total_hits - before.total_hits, after.total_misses - before.total_misses
        return {
            "path": np.array([str(path)]),
            "concepts": np.array([len(position)]),
            "rows": np.array([len(X)]),
            "cache_hits": np.array([hits]),
            "cache_misses": np.array([misses]),
        }


@dataclass(frozen=True)
class EmbedSummary:
    """What :func:`embed_shards` wrote: embedding shards (sorted), concepts, rows, cache counters."""

    files: tuple[Path, ...]
    n_concepts: int
    n_rows: int
    cache_hits: int
    cache_misses: int


def embed_shards(
    concept_files: Sequence[Path],
    model: Callable[[], Embedder],
    run_dir: Path,
    *,
    cache_dir: Path | None = None,
    n_actors: int | None = None,
    cpus_per_actor: float = 1.0,
    concepts_per_batch: int = CONCEPTS_PER_BATCH,
    batch_size: int = 64,
) -> EmbedSummary:
    """Embed concept shards with a Ray Data actor pool into ``<run_dir>/embeddings/``.

    ``model()`` builds the embedder inside each actor (it must be picklable: a registry loader
    or an Embedder instance). ``cache_dir``: the embedding cache each actor opens (on its node).
    ``n_actors`` default :func:`default_actors`.
    """
    import ray.data

    files = [str(p) for p in concept_files]
    if not files:
        raise ValueError("no concept shards to embed")
    languages = languages_of(pq.read_schema(files[0]), files[0])
    out = _fresh(Path(run_dir) / EMBEDDINGS)
    # Ray 2.60's Parquet reader V2 lists files in threads that race on importing fsspec's HTTP
    # file system, which fails (ImportError) when aiohttp is not installed; V1 lists in one thread.
    ray.data.DataContext.get_current().use_datasource_v2 = False
    actors = n_actors or default_actors(cpus_per_actor)
    ds = ray.data.read_parquet(files).map_batches(
        _EmbedShards,
        fn_constructor_kwargs=dict(
            model=model,
            cache_dir=None if cache_dir is None else str(cache_dir),
            out_dir=str(out),
            languages=languages,
            batch_size=batch_size,
        ),
        batch_size=concepts_per_batch,
        batch_format="pyarrow",
        compute=ray.data.ActorPoolStrategy(size=actors),
        num_cpus=cpus_per_actor,
    )
    rows = ds.take_all()
    return EmbedSummary(
        files=tuple(sorted(Path(r["path"]) for r in rows)),
        n_concepts=sum(int(r["concepts"]) for r in rows),
        n_rows=sum(int(r["rows"]) for r in rows),
        cache_hits=sum(int(r["cache_hits"]) for r in rows),
        cache_misses=sum(int(r["cache_misses"]) for r in rows),
    )


# --------------------------------------------------------------------------- 2.-4. statistics
def cell_means(
    X: np.ndarray, concept: np.ndarray, lang: np.ndarray, kept: np.ndarray, used: np.ndarray, L: int
) -> np.ndarray:
    """(L, n_kept, d) renormalised mean unit vector of each cell of the kept concepts, from the used
    rows (:func:`~semanscope.metrics.retrieval.cell_unit_means` on one shard)."""
    nk = int(kept.sum())
    index = np.cumsum(kept) - 1
    rows = np.flatnonzero(used)
    sums = segment_sum(unit_rows(X[rows]), lang[rows] * nk + index[concept[rows]], L * nk)
    return unit_rows(sums).reshape(L, nk, X.shape[1])


def _shard_statistics(
    path: str, run_dir: str, metrics: Sequence[str], n_buckets: int, cells: bool
) -> tuple[dict[str, ConceptStats], list[str]]:
    """Task: statistics of one embedding shard; writes its text-bucket and cell files."""
    shard = read_embedding_shard(Path(path))
    languages, position, X, concept, lang = shard.languages, shard.position, shard.X, shard.concept, shard.lang
    L = len(languages)
    stats, used = {}, np.zeros(len(X), dtype=bool)
    for metric in metrics:
        stats[metric], used = concept_stats(X, concept, lang, position, L, metric)
    name = shard_name(int(position[0]))
    first = first_text_rows(X, lang, shard.texts, position[concept], used)
    for b, part in enumerate(split_text_rows(first, n_buckets)):
        if len(part.lang):
            folder = Path(run_dir) / TEXTS / f"bucket-{b:04d}"
            folder.mkdir(parents=True, exist_ok=True)
            pq.write_table(text_bucket_table(part.lang, part.text, part.position, part.vector), folder / name)
    kept = stats[metrics[0]].kept
    if cells and kept.any():
        means = cell_means(X, concept, lang, kept, used, L)
        pq.write_table(cell_table(position[kept], means, languages), Path(run_dir) / CELLS / name)
    return stats, shard.ids


def _bucket_statistics(files: Sequence[str], n_languages: int) -> LanguageStats:
    """Task: per-language sums and moments of the unique texts of one bucket."""
    parts = [TextRows(*columns) for columns in read_text_buckets([Path(f) for f in files])]
    return language_stats(unique_text_rows(parts), n_languages)


def _stripe_ranks(
    stripe: str, files: Sequence[str], kept_position: np.ndarray, languages: Sequence[str]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Task: the queries of one cell shard against every cell shard, all ordered pairs.

    Returns global indices (q,), complete counts (L, L, q) for the stripe's queries and the
    stripe's part (L, L, n) of every column's count (``[t, s]`` holds column counts of pair s < t).
    """
    L, n = len(languages), len(kept_position)
    position_q, cells_q = read_cells(Path(stripe), languages)
    index_q = np.searchsorted(kept_position, position_q)
    rows_part = np.zeros((L, L, len(index_q)), dtype=np.int64)
    cols_part = np.zeros((L, L, n), dtype=np.int64)
    step = max(1, TILE_ENTRIES // max(1, len(index_q)))
    for f in files:
        position_b, cells_b = read_cells(Path(f), languages)
        index_b = np.searchsorted(kept_position, position_b)
        for s in range(L):
            for t in range(s + 1, L):
                blocks = (
                    (index_b[k : k + step], cells_b[s, k : k + step], cells_b[t, k : k + step])
                    for k in range(0, len(index_b), step)
                )
                above_st, above_ts = stripe_counts(cells_q[s], cells_q[t], index_q, blocks, n)
                rows_part[s, t] += above_st
                cols_part[t, s] += above_ts
    return index_q, rows_part, cols_part


@dataclass(frozen=True, eq=False)
class EngineResult:
    """SA per metric, retrieval (cosine cell means) and the per-concept values a
    :class:`~semanscope.study.ModelRun` keeps: ``pair_v`` (n, P) cosine pair spreads,
    ``ranks`` (L, L, n). ``runtime``: seconds per stage."""

    affinity: dict[str, SAResult]
    retrieval: RetrievalResult | None
    pair_v: np.ndarray
    ranks: np.ndarray | None
    embedding_files: tuple[Path, ...]
    runtime: dict[str, float] = field(default_factory=dict)


def engine_metrics(
    embedding_files: Sequence[Path],
    run_dir: Path,
    *,
    metrics: Sequence[str] = ("cosine",),
    retrieval: bool = True,
    n_boot: int = 1000,
    ci: float = 0.95,
    seed: int = 0,
    n_buckets: int = N_BUCKETS,
) -> EngineResult:
    """SA (every metric in ``metrics``) and, with ``retrieval``, P@1 / MRR of embedding shards,
    computed by Ray tasks from per-shard statistics (module doc, steps 2-5)."""
    import ray

    if not metrics:
        raise ValueError("metrics must name at least one metric")
    for metric in metrics:
        check_metric(metric)
    if not embedding_files:
        raise ValueError("no embedding shards")
    t0 = time.perf_counter()
    run_dir = Path(run_dir)
    _fresh(run_dir / TEXTS)
    _fresh(run_dir / CELLS)
    files = [str(p) for p in embedding_files]
    languages = languages_of(pq.read_schema(files[0]), files[0])
    L = len(languages)
    shard_task = ray.remote(_shard_statistics)
    parts = ray.get([shard_task.remote(f, str(run_dir), tuple(metrics), n_buckets, retrieval) for f in files])
    ids = np.concatenate([np.array(part_ids, dtype=object) for _, part_ids in parts])
    order = np.argsort(np.concatenate([stats[metrics[0]].position for stats, _ in parts]), kind="stable")
    ids = ids[order]
    t1 = time.perf_counter()

    bucket_task = ray.remote(_bucket_statistics)
    buckets = [sorted(str(p) for p in d.glob("*.parquet")) for d in sorted((run_dir / TEXTS).iterdir())]
    languages_stats = LanguageStats.empty(L, vector_width(pq.read_schema(files[0]), files[0]))
    for part in ray.get([bucket_task.remote(b, L) for b in buckets if b]):
        languages_stats = languages_stats.merge(part)
    t2 = time.perf_counter()

    affinity: dict[str, SAResult] = {}
    spreads_of = {}
    for metric in metrics:
        concepts = concat_concept_stats(stats[metric] for stats, _ in parts)
        spreads = spreads_of[metric] = merge_spreads(concepts, languages_stats, metric)
        affinity[metric] = affinity_result(
            spreads,
            languages=languages,
            concept_ids=list(ids[concepts.kept]),
            excluded_ids=list(ids[~concepts.kept]),
            metric=metric,
            n_boot=n_boot,
            ci=ci,
            seed=seed,
        )
    main = spreads_of[metrics[0]]
    kept_ids = list(affinity[metrics[0]].concept_ids)
    excluded_ids = list(affinity[metrics[0]].dropped_concepts)
    t3 = time.perf_counter()

    ranks = None
    result_retrieval = None
    if retrieval:
        n = len(main.position)
        ranks = np.zeros((L, L, n), dtype=np.int64)
        if n >= 3:
            ranks += 1 - np.eye(L, dtype=np.int64)[:, :, None]
            cell_files = sorted(str(p) for p in (run_dir / CELLS).glob("*.parquet"))
            kept_ref = ray.put(main.position)
            stripe_task = ray.remote(_stripe_ranks)
            pending = [stripe_task.remote(f, cell_files, kept_ref, languages) for f in cell_files]
            while pending:
                done, pending = ray.wait(pending, num_returns=1)
                index_q, rows_part, cols_part = ray.get(done[0])
                ranks[:, :, index_q] += rows_part
                ranks += cols_part
        result_retrieval = retrieval_result(
            ranks,
            languages=languages,
            concept_ids=kept_ids,
            excluded_ids=excluded_ids,
            messages=input_messages(main, excluded_ids),
            n_dropped_rows=main.n_dropped_rows,
            n_boot=n_boot,
            ci=ci,
            seed=seed,
        )
    t4 = time.perf_counter()
    cosine = spreads_of.get("cosine", main)
    return EngineResult(
        affinity,
        result_retrieval,
        cosine.pair_v,
        ranks,
        tuple(Path(f) for f in files),
        {"shard_seconds": t1 - t0, "text_seconds": t2 - t1, "merge_seconds": t3 - t2, "retrieval_seconds": t4 - t3},
    )


def run_concept_shards(
    concept_files: Sequence[Path],
    model: Callable[[], Embedder],
    run_dir: Path,
    *,
    cache_dir: Path | None = None,
    metrics: Sequence[str] = ("cosine",),
    retrieval: bool = True,
    n_boot: int = 1000,
    ci: float = 0.95,
    seed: int = 0,
    n_actors: int | None = None,
    concepts_per_batch: int = CONCEPTS_PER_BATCH,
    n_buckets: int = N_BUCKETS,
) -> tuple[EngineResult, EmbedSummary]:
    """Concept shards (e.g. :func:`semanscope.data.webfaq.pivot_webfaq`'s) through the whole engine:
    :func:`embed_shards`, then :func:`engine_metrics`; nothing is held whole on the driver."""
    t0 = time.perf_counter()
    summary = embed_shards(
        concept_files, model, run_dir, cache_dir=cache_dir, n_actors=n_actors, concepts_per_batch=concepts_per_batch
    )
    t1 = time.perf_counter()
    result = engine_metrics(
        summary.files,
        run_dir,
        metrics=metrics,
        retrieval=retrieval,
        n_boot=n_boot,
        ci=ci,
        seed=seed,
        n_buckets=n_buckets,
    )
    return replace(result, runtime={"embed_seconds": t1 - t0, **result.runtime}), summary


def run_queryset(
    qs: QuerySet,
    model: Callable[[], Embedder],
    run_dir: Path,
    *,
    concepts_per_batch: int = CONCEPTS_PER_BATCH,
    **options: Any,
) -> tuple[EngineResult, EmbedSummary]:
    """A query set through the engine: written as concept shards to ``<run_dir>/concepts/``
    (position = row index), then :func:`run_concept_shards` with ``options``."""
    files = write_concept_shards(qs, _fresh(Path(run_dir) / CONCEPTS), concepts_per_file=concepts_per_batch)
    return run_concept_shards(files, model, run_dir, concepts_per_batch=concepts_per_batch, **options)
