"""Relational Affinity study: models x one relation set -> RA records (used by the CLI and the app).

* :func:`run_relational_model` - one loaded model: the unique words of each language embedded
  through the cache (:func:`semanscope.embeddings.embed_by_language`), then
  :func:`semanscope.metrics.relational.relational_affinity`;
* :func:`run_relational` - every model (each loaded once); failures are data, not exceptions:
  a model that cannot be loaded is ``unavailable``, one that raises is ``failed``, with its
  message, and the others still run;
* :func:`pair_rows` - where each relation's two words sit in a run's word vectors (for drawing
  word1 -> word2 arrows on a projection).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from semanscope.cache import EmbeddingCache
from semanscope.data.relations import RelationSet
from semanscope.embeddings import embed_by_language
from semanscope.metrics.relational import ZERO_NORM, relational_affinity
from semanscope.metrics.relational_results import RARecord
from semanscope.models.base import Embedder, ModelUnavailable
from semanscope.progress import Progress
from semanscope.study import ModelSpec, RunStatus, study_versions

# progress(model key, done, total): per-model progress (unique words embedded)
RelationalProgress = Callable[[str, int, int], None]


@dataclass(frozen=True, eq=False)
class RelationalRun:
    """One model on one relation set: ``record`` (None unless ``status == "ok"``), and
    ``vectors[lang]`` float32 (W, d), row k = the embedding of ``relations.words_by_language()[lang][k]``."""

    key: str
    name: str
    family: str
    status: RunStatus
    message: str = ""
    record: RARecord | None = None
    vectors: dict[str, np.ndarray] = field(default_factory=dict)
    runtime: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def to_dict(self) -> dict:
        """JSON-ready: identity, status, message, the full :class:`RARecord` and ``runtime`` (no vectors)."""
        return {
            "key": self.key,
            "name": self.name,
            "family": self.family,
            "status": self.status,
            "message": self.message,
            "record": None if self.record is None else self.record.to_dict(),
            "runtime": dict(self.runtime),
        }


@dataclass(frozen=True, eq=False)
class RelationalStudy:
    """Every model's run on one relation set, with library/model package versions."""

    relations: RelationSet
    runs: tuple[RelationalRun, ...]
    versions: dict[str, str]

    @property
    def ok_runs(self) -> tuple[RelationalRun, ...]:
        return tuple(r for r in self.runs if r.ok)

    def to_dict(self) -> dict:
        rel = self.relations
        return {
            "relations": {
                "name": rel.name,
                "languages": list(rel.languages),
                "categories": list(rel.category_names),
                "n_relations": rel.n_relations,
                "provenance": rel.provenance,
            },
            "runs": [r.to_dict() for r in self.runs],
            "versions": dict(self.versions),
        }


def pair_rows(relations: RelationSet, language: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(relation index, row of word1, row of word2) in ``RelationalRun.vectors[language]``, for the
    relations that have a pair in ``language`` (int64 arrays, relation order)."""
    j = relations.languages.index(language)
    position = {w: k for k, w in enumerate(relations.words_by_language()[language])}
    found = [(i, pair) for i, row in enumerate(relations.pairs) if (pair := row[j]) is not None]
    return (
        np.array([i for i, _ in found], dtype=np.int64),
        np.array([position[p[0]] for _, p in found], dtype=np.int64),
        np.array([position[p[1]] for _, p in found], dtype=np.int64),
    )


def run_relational_model(
    relations: RelationSet,
    embedder: Embedder,
    *,
    spec: ModelSpec | None = None,
    cache: EmbeddingCache | None = None,
    zero_norm: float = ZERO_NORM,
    progress: Progress | None = None,
) -> RelationalRun:
    """Embed the unique words of each language (through ``cache``) and compute RA. Exceptions
    propagate (:func:`run_relational` turns them into ``failed``). ``progress(done, total)``
    counts the words embedded."""
    spec = spec or ModelSpec.of(embedder)
    t0 = time.perf_counter()
    vectors = embed_by_language(relations.words_by_language(), embedder, cache, progress=progress)
    t1 = time.perf_counter()
    n, dim = relations.n_relations, embedder.dim
    first = [np.zeros((n, dim), dtype=np.float32) for _ in relations.languages]
    second = [np.zeros((n, dim), dtype=np.float32) for _ in relations.languages]
    present = np.zeros((len(relations.languages), n), dtype=bool)
    for j, lang in enumerate(relations.languages):
        rows, w1, w2 = pair_rows(relations, lang)
        first[j][rows], second[j][rows], present[j, rows] = vectors[lang][w1], vectors[lang][w2], True
    names = relations.category_names
    index = {c: k for k, c in enumerate(names)}
    result = relational_affinity(
        first,
        second,
        present,
        np.array([index[c] for c in relations.categories], dtype=np.int64),
        languages=relations.languages,
        categories=names,
        relation_ids=relations.ids,
        zero_norm=zero_norm,
    )
    record = RARecord.create(
        model=spec.key, family=spec.family, fingerprint=embedder.fingerprint, dataset=relations.name, result=result
    )
    runtime = {"embed_seconds": t1 - t0, "metrics_seconds": time.perf_counter() - t1}
    return RelationalRun(spec.key, spec.name, spec.family, "ok", "; ".join(result.messages), record, vectors, runtime)


def run_relational(
    relations: RelationSet,
    models: Sequence[str | Embedder | ModelSpec],
    *,
    cache: EmbeddingCache | None = None,
    model_dir: str | None = None,
    zero_norm: float = ZERO_NORM,
    progress: RelationalProgress | None = None,
) -> RelationalStudy:
    """Run every model on ``relations`` (each loaded once; ``model_dir``: where setup-built models
    live). ``progress(key, done, total)`` follows each model's words embedded."""
    specs = [ModelSpec.of(m, model_dir) for m in models]
    keys = [s.key for s in specs]
    if len(set(keys)) != len(keys):
        raise ValueError(f"each model may be listed once, got {keys}")
    runs = []
    for spec in specs:
        report = None if progress is None else (lambda done, total, key=spec.key: progress(key, done, total))
        t0 = time.perf_counter()
        try:
            embedder = spec.load()
        except ModelUnavailable as exc:
            runs.append(RelationalRun(spec.key, spec.name, spec.family, "unavailable", str(exc)))
            continue
        except Exception as exc:  # noqa: BLE001 - a broken model is reported, the others still run
            message = f"loading failed: {type(exc).__name__}: {exc}"
            runs.append(RelationalRun(spec.key, spec.name, spec.family, "failed", message))
            continue
        load_seconds = time.perf_counter() - t0
        try:
            run = run_relational_model(
                relations, embedder, spec=spec, cache=cache, zero_norm=zero_norm, progress=report
            )
            runs.append(replace(run, runtime={"load_seconds": load_seconds, **run.runtime}))
        except Exception as exc:  # noqa: BLE001 - reported per model
            message = f"{type(exc).__name__}: {exc}"
            runtime = {"load_seconds": load_seconds}
            runs.append(RelationalRun(spec.key, spec.name, spec.family, "failed", message, runtime=runtime))
    return RelationalStudy(relations, tuple(runs), study_versions())
