"""The Ray engine as a drop-in for :func:`semanscope.study.run_model` (``semanscope study --engine ray``).

Each (data set, model) run goes through :func:`~semanscope.engine.ray_engine.run_queryset` in
``<work_dir>/<data set>/<model>/`` (concept shards, embedding shards, text buckets, cell shards;
rewritten by the next run) and comes back as the same :class:`~semanscope.study.ModelRun`:
SA for each metric and plain-cosine retrieval with the same seed, per-concept pair spreads and
retrieval counts. The embeddings stay in the Parquet shards (``ModelRun.embeddings`` is None), so
the report has no 3D view and no calibration (chance floor, language-centred SA), and retrieval has
no hubness-aware scores: those need every vector in one place.
The model is loaded once more on the driver by the study runner (fingerprint, truncation note);
the actors load their own copies.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from semanscope.cache import EmbeddingCache
from semanscope.data.queryset import QuerySet
from semanscope.embeddings import truncation_note
from semanscope.engine.ray_engine import run_queryset
from semanscope.metrics import StudyRecord
from semanscope.models.base import Embedder
from semanscope.progress import Progress
from semanscope.slug import ascii_slug
from semanscope.study import SA_METRICS, ModelRun, ModelSpec, check_sa_metrics


@dataclass(frozen=True)
class RayRunner:
    """``run_model``-compatible callable running on Ray (started or joined beforehand, e.g. by
    :func:`~semanscope.engine.ray_engine.connect`). ``cache_dir``: the embedding cache the actors
    open; ``n_actors``: embedding actors (default: the cluster's CPUs less one)."""

    work_dir: Path
    cache_dir: Path | None = None
    n_actors: int | None = None

    def __call__(
        self,
        qs: QuerySet,
        embedder: Embedder,
        *,
        spec: ModelSpec | None = None,
        cache: EmbeddingCache | None = None,
        seed: int = 0,
        n_boot: int = 1000,
        ci: float = 0.95,
        progress: Progress | None = None,
        metrics: Sequence[str] = SA_METRICS,
    ) -> ModelRun:
        spec = spec or ModelSpec.of(embedder)
        chosen = check_sa_metrics(metrics)
        cache_dir = self.cache_dir if self.cache_dir is not None else (cache.directory if cache is not None else None)
        result, summary = run_queryset(
            qs,
            spec.load,
            Path(self.work_dir) / ascii_slug(qs.name) / ascii_slug(spec.key),
            cache_dir=cache_dir,
            n_boot=n_boot,
            ci=ci,
            seed=seed,
            n_actors=self.n_actors,
            metrics=chosen,
        )
        affinity = tuple(result.affinity[m] for m in chosen)
        sa, ret = affinity[0], result.retrieval
        assert ret is not None  # run_queryset computes retrieval by default
        notes = [n for n in (truncation_note(qs, embedder), *sa.messages, *ret.messages) if n]
        record = StudyRecord.create(
            model=spec.key,
            family=spec.family,
            fingerprint=embedder.fingerprint,
            dataset=qs.name,
            affinity=affinity,
            retrieval=ret,
        )
        if progress is not None:
            progress(1, 1)
        runtime = {**result.runtime, "cache_hits": summary.cache_hits, "cache_misses": summary.cache_misses}
        return ModelRun(
            spec.key,
            spec.name,
            spec.family,
            spec.english_only,
            "ok",
            "; ".join(dict.fromkeys(notes)),
            embedder.fingerprint,
            record,
            result.pair_v,
            result.counts,
            None,
            runtime,
        )
