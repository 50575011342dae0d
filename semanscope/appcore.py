"""What the Streamlit app computes, without Streamlit: defaults, selections, uploads, tables, camera.

The pages (``app.py``, ``pages/*.py``) stay thin: they draw widgets through
:mod:`semanscope.ui` and get every choice, subset and table from here. Everything in this
module is plain Python on :class:`~semanscope.data.queryset.QuerySet`,
:class:`~semanscope.models.registry.ModelInfo`, :class:`~semanscope.study.ModelRun` and numpy
arrays, so it is unit-tested without a browser. User mistakes raise :class:`AppError`, whose
message is shown as is.

Row ids: the points of a plot are the rows of ``qs.items()`` of the query set shown, in that
order; plots carry them in ``customdata`` so a lasso selection in the 2D view names the same
points in the 3D view (:func:`selected_rows`, :func:`describe_selection`).
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from semanscope.data.assemble import LoadResult
from semanscope.data.languages import language_name
from semanscope.data.loaders import QuerySetError, load_queryset, safe_upload_name
from semanscope.data.queryset import QuerySet
from semanscope.degradation import Gap, language_pairs, pair_label
from semanscope.models.registry import ModelInfo, default_comparison
from semanscope.plots.palette import language_color
from semanscope.plots.scatter import Colouring, group_colors
from semanscope.report import role_of
from semanscope.study import (
    ALL,
    SCORE_MIN_CONCEPTS,
    SCORE_MIN_LANGUAGES,
    Degradation,
    ModelRun,
    select_queryset,
)

T = TypeVar("T")

DEFAULT_DATASET = "faq"
DEFAULT_LANGUAGES: tuple[str, ...] = ("en", "de", "es", "zh", "ar", "hi")
"""First-render language subset: six languages in four scripts (Latin, Han, Arabic, Devanagari)."""
DEFAULT_N_BOOT = 1000
MAX_CONCEPTS_ENV = "SEMANSCOPE_MAX_CONCEPTS"
"""Environment variable capping the concepts per view (tests and slow machines); unset = all."""

PHATE_APP_SETTINGS: dict[str, object] = {"knn": 5, "t": "auto", "n_landmark": 500}
"""The app's PHATE defaults: 500 random landmarks keep a 6-language FAQ view (1,800 points) at
~4-5 s on 2 busy cores (17.6 s with the library's 2,000 landmarks, i.e. none at this size).
Everything else is :data:`semanscope.reduce.DEFAULTS`."""

# elevation, azimuth (degrees) and eye distance of plotly's default camera (eye 1.25, 1.25, 1.25)
DEFAULT_VIEW = (math.degrees(math.atan2(1.25, math.hypot(1.25, 1.25))), 45.0, math.sqrt(3) * 1.25)
CAMERA_PRESETS: dict[str, tuple[float, float, float]] = {
    "plotly default": DEFAULT_VIEW,
    "front (x-z plane)": (0.0, -90.0, 2.2),
    "side (y-z plane)": (0.0, 0.0, 2.2),
    "top (x-y plane)": (89.9, -90.0, 2.2),
    "low oblique": (15.0, 30.0, 2.2),
}


class AppError(ValueError):
    """A user-facing problem (bad upload, empty selection); the message is shown in the page."""


# --------------------------------------------------------------------------- data
def default_languages(qs: QuerySet, preferred: Sequence[str] = DEFAULT_LANGUAGES, count: int = 6) -> list[str]:
    """The ``preferred`` languages present in ``qs`` (in ``qs`` order); when fewer than 2 are,
    the first ``count`` languages of ``qs``."""
    present = [lang for lang in qs.languages if lang in set(preferred)]
    return present if len(present) >= 2 else list(qs.languages[:count])


def default_max_concepts(environ: Mapping[str, str] = os.environ) -> int | None:
    """Concept cap from :data:`MAX_CONCEPTS_ENV` (a positive integer); None (all) when unset."""
    raw = environ.get(MAX_CONCEPTS_ENV, "").strip()
    if not raw:
        return None
    try:
        value = int(raw)
    except ValueError:
        raise AppError(f"{MAX_CONCEPTS_ENV}={raw!r} is not an integer") from None
    if value < 3:
        raise AppError(f"{MAX_CONCEPTS_ENV} must be at least 3, got {value}")
    return value


def select(
    qs: QuerySet,
    languages: Sequence[str],
    *,
    topics: Sequence[str] | None = None,
    concept_ids: Sequence[str] | None = None,
    max_concepts: int | None = None,
    seed: int = 0,
) -> QuerySet:
    """The view every page shows: ``qs`` restricted to ``concept_ids`` (when given), then to
    ``languages`` and ``topics``, complete concepts only, at most ``max_concepts`` of them drawn
    with ``seed`` (:func:`semanscope.study.select_queryset`). Any view with at least one language
    and one concept is allowed (the pages draw it; :func:`scores_note` says when it is too small
    for scores); :class:`AppError` says what is missing otherwise."""
    if not languages:
        raise AppError("choose at least 1 language")
    base = qs
    if concept_ids is not None:
        base = qs.subset(concept_ids=concept_ids, complete_only=False)
    try:
        return select_queryset(
            base,
            languages=languages,
            topics=topics or None,
            max_concepts=max_concepts,
            seed=seed,
            min_concepts=1,
            min_languages=1,
        )
    except ValueError as exc:
        raise AppError(str(exc)) from None


def scores_note(qs: QuerySet) -> str:
    """Why the view ``qs`` has no scores ("" when it can have them): Semantic Affinity, retrieval
    (P@1, MRR) and their bootstrap CIs need at least :data:`SCORE_MIN_CONCEPTS` concepts in at
    least :data:`SCORE_MIN_LANGUAGES` languages."""
    missing = []
    if qs.n_concepts < SCORE_MIN_CONCEPTS:
        missing.append(f"at least {SCORE_MIN_CONCEPTS} concepts (this view has {qs.n_concepts})")
    if qs.n_languages < SCORE_MIN_LANGUAGES:
        missing.append(f"at least {SCORE_MIN_LANGUAGES} languages (this view has {qs.n_languages})")
    if not missing:
        return ""
    return (
        "No scores for this view: Semantic Affinity, P@1, MRR and their 95% CIs need "
        + " and ".join(missing)
        + ". The points are drawn; add concepts or languages in the sidebar for scores."
    )


def queryset_key(qs: QuerySet) -> str:
    """Hex SHA-1 of a query set's content (name, languages, ids, cells, topics): a cache key
    that changes whenever any text, concept or language of the view changes."""
    payload = [qs.name, list(qs.languages), list(qs.ids), [list(map(list, row)) for row in qs.cells], list(qs.topics)]
    return hashlib.sha1(json.dumps(payload, ensure_ascii=False).encode("utf-8")).hexdigest()


def upload_buffer(name: str, data: bytes) -> io.BytesIO:
    """An uploaded file as an in-memory file whose ``name`` is reduced with ``safe_upload_name``."""
    buffer = io.BytesIO(bytes(data))
    buffer.name = safe_upload_name(name)
    return buffer


def read_upload(load: Callable[[], T], names: str, what: str) -> T:
    """``load()`` of uploaded files; a :class:`QuerySetError` becomes an :class:`AppError` with its
    message, any other failure (a parser error on user bytes) one naming the files (``names``) and
    what they could not be read as (``what``), so the page shows a message, not a stack trace."""
    try:
        return load()
    except QuerySetError as exc:
        raise AppError(str(exc)) from None
    except Exception as exc:  # noqa: BLE001 - any parser failure on user bytes is a bad upload
        raise AppError(f"{names}: could not be read as {what} ({type(exc).__name__}: {exc})") from None


def load_upload(
    files: Sequence[tuple[str, bytes]],
    *,
    format: str | None = None,
    pivot: str = "en",
) -> LoadResult:
    """Load uploaded files (``(file name, bytes)`` pairs) with :func:`semanscope.data.loaders.load_queryset`.

    One file is read in ``format`` (detected when None); several are joined as WebFAQ bitexts
    or XQuAD files on ``pivot``. File names are reduced with ``safe_upload_name``. Every
    failure (bad format, encoding, columns, or a parser error) becomes an :class:`AppError`
    naming the file (:func:`read_upload`).
    """
    if not files:
        raise AppError("no file uploaded: choose a CSV, TSV, JSON lines, JSON or Parquet file")
    sources = [upload_buffer(name, data) for name, data in files]
    source = sources if len(sources) > 1 else sources[0]
    names = ", ".join(s.name for s in sources)
    return read_upload(lambda: load_queryset(source, format=format or None, pivot=pivot), names, "a query set")


def language_coverage(qs: QuerySet) -> pd.DataFrame:
    """Per language: concepts with a text, concepts missing it, texts (alternatives counted) and
    the mean text length in characters; what the Data page shows before any model runs."""
    rows = []
    for j, lang in enumerate(qs.languages):
        cells = [row[j] for row in qs.cells]
        texts = [t for cell in cells for t in cell]
        rows.append(
            {
                "language": lang,
                "concepts": sum(1 for c in cells if c),
                "missing": sum(1 for c in cells if not c),
                "texts": len(texts),
                "mean chars": float(np.mean([len(t) for t in texts])) if texts else float("nan"),
            }
        )
    return pd.DataFrame(rows)


PREVIEW_CHARS = 300
"""Longest cell text the Data page's preview shows (a cell may hold up to 1 MB)."""


def preview_frame(frame: pd.DataFrame, rows: int, max_chars: int = PREVIEW_CHARS) -> pd.DataFrame:
    """The first ``rows`` rows of ``frame`` with text cells over ``max_chars`` characters cut to
    ``max_chars`` plus ``" … (N chars)"``, so a preview never ships megabytes to the browser."""
    head = frame.head(rows).copy()

    def cut(value: object) -> object:
        if isinstance(value, str) and len(value) > max_chars:
            return f"{value[:max_chars]} … ({len(value):,} chars)"
        return value

    for column in head.columns:
        if not pd.api.types.is_numeric_dtype(head[column]):
            head[column] = head[column].map(cut)
    return head


@dataclass(frozen=True)
class Points:
    """Per row of ``qs.items()``: its text, language code and concept id (what plots label)."""

    texts: list[str]
    languages: list[str]
    concept_ids: list[str]


def points(qs: QuerySet) -> Points:
    """The labels of every plotted point of ``qs`` (rows of ``qs.items()``)."""
    items = qs.items()
    return Points(items.texts, [qs.languages[j] for j in items.lang], [qs.ids[i] for i in items.concept])


PROJECTION_MIN_POINTS = 5
"""Points a 3D projection needs (:func:`semanscope.reduce.settings.check_input`: n_components + 2)."""


def projection_note(n_points: int) -> str:
    """Why ``n_points`` cannot be drawn ("" when they can): too few for a 3D projection."""
    if n_points >= PROJECTION_MIN_POINTS:
        return ""
    return (
        f"Nothing to draw: a 3D projection needs at least {PROJECTION_MIN_POINTS} points and this view has "
        f"{n_points}. Add concepts or languages in the sidebar."
    )


def language_label(code: str) -> str:
    """``"de"`` -> ``"de - German"`` (the code alone when the name is unknown)."""
    try:
        return f"{code} - {language_name(code)}"
    except ValueError:
        return code


DEFAULT_SAMPLE = 30
"""Concepts drawn by default when a view has more: 30 concepts x 6 languages keep labels readable."""


@dataclass(frozen=True)
class PlotSample:
    """The concepts a page draws: ``view`` (a sub-view of the selection, its concepts in the
    selection's order), ``rows`` (its points as rows of the selection's ``items()``, so
    ``X[rows]`` are its embeddings) and ``added`` (concepts added because a search matched them)."""

    view: QuerySet
    rows: np.ndarray
    added: int


def plot_sample(qs: QuerySet, n: int, seed: int = 0, include: Sequence[str] = ()) -> PlotSample:
    """At most ``n`` concepts of ``qs`` (0 = all) drawn without replacement by
    ``np.random.default_rng(seed)``, plus the concepts ``include`` (e.g. search matches) that the
    draw missed; the same ``(qs, n, seed)`` gives the same sample in every view of a page."""
    if n < 0:
        raise AppError(f"the sample size must be >= 0 (0 = all), got {n}")
    keep = np.ones(qs.n_concepts, dtype=bool)
    if 0 < n < qs.n_concepts:
        keep[:] = False
        keep[np.random.default_rng(seed).choice(qs.n_concepts, n, replace=False)] = True
    wanted = set(include)
    extra = np.array([cid in wanted for cid in qs.ids], dtype=bool) & ~keep
    keep |= extra
    view = qs.subset(concept_ids=[cid for cid, k in zip(qs.ids, keep, strict=True) if k], complete_only=False)
    rows = np.flatnonzero(keep[qs.items().concept])  # concept-major rows: the sub-view's items() order
    return PlotSample(view, rows.astype(np.int64), int(extra.sum()))


def sample_note(qs: QuerySet, sample: PlotSample, n_matches: int = 0) -> str:
    """One line on what the plots show: all concepts of the view, or how many of them (scores use
    all), and how many concepts the search matched (and added to the sample)."""
    shown = sample.view.n_concepts
    if shown == qs.n_concepts and not sample.added:
        text = f"Plots: all {shown} concepts of the view."
    else:
        text = f"Plots: {shown} of {qs.n_concepts} concepts (a seeded sample); scores use all {qs.n_concepts}."
    if n_matches:
        text += f" {n_matches} concept(s) match the search (ringed)"
        text += f", {sample.added} of them added to the sample." if sample.added else "."
    return text


def search_concepts(qs: QuerySet, query: str) -> tuple[str, ...]:
    """Ids of the concepts whose id or any text (any language, any alternative) contains ``query``,
    case-insensitively (``str.casefold``), in ``qs`` order; () for a blank query."""
    needle = query.strip().casefold()
    if not needle:
        return ()
    return tuple(
        cid
        for cid, row in zip(qs.ids, qs.cells, strict=True)
        if needle in cid.casefold() or any(needle in text.casefold() for cell in row for text in cell)
    )


def search_rows(qs: QuerySet, concept_ids: Sequence[str]) -> np.ndarray:
    """Rows of ``qs.items()`` that belong to ``concept_ids`` (the points a search marks)."""
    ids = set(concept_ids)
    wanted = np.array([cid in ids for cid in qs.ids], dtype=bool)
    return np.flatnonzero(wanted[qs.items().concept]).astype(np.int64) if wanted.size else np.zeros(0, np.int64)


def colour_options(qs: QuerySet) -> list[str]:
    """What the points of ``qs`` can be coloured by: language, concept, topic (when the set has
    topics) and each metadata column of the set."""
    return ["language", "concept", *(["topic"] if qs.topic_names else []), *qs.metadata]


MISSING_GROUP = "(none)"


def colouring(qs: QuerySet, by: str) -> Colouring:
    """The :class:`~semanscope.plots.scatter.Colouring` of ``qs``'s points by ``by`` (one of
    :func:`colour_options`): languages keep their fixed colours and get names in the legend
    ("de - German"); concepts, topics and metadata values get :func:`group_colors`; empty
    topic/metadata values are the group :data:`MISSING_GROUP`."""
    items = qs.items()
    if by == "language":
        codes = [qs.languages[j] for j in items.lang]
        return Colouring(
            "language",
            tuple(codes),
            {c: language_color(c) for c in qs.languages},
            {c: language_label(c) for c in qs.languages},
        )
    if by == "concept":
        per_concept: Sequence[str | None] = qs.ids
    elif by == "topic":
        per_concept = qs.topics
    elif by in qs.metadata:
        per_concept = qs.metadata[by]
    else:
        raise AppError(f"cannot colour by {by!r}; choose one of {colour_options(qs)}")
    groups = [MISSING_GROUP if v is None or v == "" else str(v) for v in per_concept]
    labels = tuple(groups[i] for i in items.concept)
    return Colouring(by, labels, group_colors(dict.fromkeys(groups)))


def view_id(qs: QuerySet, *parts: object) -> str:
    """Short stable id of a view (content + settings), e.g. for widget keys that must reset
    (a chart's selection) when the data or the projection changes."""
    text = json.dumps([queryset_key(qs), *map(repr, parts)])
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]


# --------------------------------------------------------------------------- models
def split_models(infos: Sequence[ModelInfo]) -> tuple[list[ModelInfo], list[ModelInfo]]:
    """(available, unavailable) models, each in registry order."""
    return [i for i in infos if i.available], [i for i in infos if not i.available]


def default_models(infos: Sequence[ModelInfo], preferred: Sequence[str] | None = None) -> list[str]:
    """Keys of the ``preferred`` models (default: :func:`~semanscope.models.registry.default_comparison`)
    that are available; failing that, the first available static and the first available
    multilingual contextual model (or whatever is available)."""
    if preferred is None:
        preferred = default_comparison()
    available, _ = split_models(infos)
    keys = [k for k in preferred if any(i.key == k for i in available)]
    if len(keys) >= min(2, len(available)):
        return keys
    picks = [
        next((i.key for i in available if i.family == "static"), None),
        next((i.key for i in available if i.family == "contextual" and not i.english_only), None),
    ]
    chosen = [k for k in picks if k is not None]
    return chosen or [i.key for i in available[:2]]


def unavailable_note(info: ModelInfo) -> str:
    """One line for a model that cannot run here: its name, status and the command that fixes it."""
    return f"{info.display_name} (`{info.key}`): {info.status.replace('-', ' ')} - {info.fix}"


def visible_models(infos: Sequence[ModelInfo], session_keys: Sequence[str]) -> list[ModelInfo]:
    """The built-in models, then the user models this session added (``session_keys``, in that
    order): the registry is shared by every session of the server, a session sees its own."""
    by_key = {i.key: i for i in infos if i.kind != "builtin"}
    return [i for i in infos if i.kind == "builtin"] + [by_key[k] for k in session_keys if k in by_key]


def model_table(infos: Sequence[ModelInfo], defaults: Sequence[str] | None = None) -> pd.DataFrame:
    """One row per model: name, key, family, dimension, kind, status, "default" ("yes" for the
    ``defaults`` keys, by default :func:`~semanscope.models.registry.default_comparison`: the pair
    the pages and ``--models default`` start with) and what to do when it is not available."""
    chosen = set(default_comparison() if defaults is None else defaults)
    return pd.DataFrame(
        {
            "model": [i.display_name for i in infos],
            "key": [i.key for i in infos],
            "family": [i.family + (" (English only)" if i.english_only else "") for i in infos],
            "dim": [i.dim if i.dim is not None else "?" for i in infos],
            "kind": [i.kind for i in infos],
            "status": [i.status.replace("-", " ") for i in infos],
            "default": ["yes" if i.key in chosen else "" for i in infos],
            "to use it": [i.fix for i in infos],
        }
    ).astype({"dim": str})


ALLOW_SERVER_MODELS_ENV = "SEMANSCOPE_ALLOW_SERVER_MODELS"
ALLOW_SERVER_MODELS_SECRET = "allow_server_models"


def server_models_allowed(environ: Mapping[str, str], secrets: Mapping[str, object]) -> bool:
    """True when this deployment lets visitors add models from server paths or URLs: the
    environment variable :data:`ALLOW_SERVER_MODELS_ENV` is ``1``/``true``/``yes`` or
    ``.streamlit/secrets.toml`` sets ``allow_server_models = true``. Off by default: a shared
    deployment must not let visitors read the server's disk or make it call other hosts."""
    if environ.get(ALLOW_SERVER_MODELS_ENV, "").strip().lower() in ("1", "true", "yes"):
        return True
    return secrets.get(ALLOW_SERVER_MODELS_SECRET) is True


# --------------------------------------------------------------------------- projection
def projection_settings(method: str, *, knn: int, t: int | None, n_landmark: int | None) -> dict[str, object]:
    """Settings passed to :func:`semanscope.reduce.project_cached` for ``method``: the PHATE
    knobs the app exposes (``t=None`` means ``"auto"``, ``n_landmark=None`` means no landmarks);
    other methods run with their library defaults."""
    if method != "phate":
        return {}
    return {
        "knn": int(knn),
        "t": "auto" if t is None else int(t),
        "n_landmark": None if n_landmark is None else int(n_landmark),
    }


DISTINCT_TOLERANCE = 1e-6
"""Rows closer than this fraction of ``max |X|`` (Euclidean) count as one point."""
DISTINCT_PAIR_BLOCK = 65_536
"""Candidate pairs of :func:`distinct_rows` checked at a time (bounds the memory of a dense cluster)."""


def distinct_rows(X: np.ndarray, tolerance: float = DISTINCT_TOLERANCE) -> tuple[np.ndarray, np.ndarray]:
    """``(keep, inverse)`` with ``X[keep][inverse] ~= X``: rows i and j are the same point when
    ``||X_i - X_j|| <= tolerance * max|X|``, taken transitively (connected components of that
    radius graph, so near-duplicates are never split by a rounding boundary); ``keep`` = the first
    row of each group (increasing), ``inverse[i]`` = the position in ``keep`` of row i's group. A
    projection of ``X[keep]`` drawn at ``Y[inverse]`` puts identical vectors (e.g. out-of-vocabulary
    texts of a static model) on one spot, and PHATE's graph never sees a (near-)zero distance
    (graphtools fails on some).

    Runs on every rerun of a page, before the projection cache, so it avoids the M x M distances:
    identical rows are merged first (``np.unique``); the radius graph's edges are then found among
    the pairs whose projections ``p = X u`` on one fixed unit direction ``u`` differ by at most the
    radius (``|u . (x - y)| <= ||x - y||``: no edge is missed), each checked at its full distance.
    Without near-duplicates that is a sort, O(M log M + M d)."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    X = np.asarray(X, dtype=np.float64)
    n = len(X)
    scale = float(np.max(np.abs(X))) if X.size else 0.0
    if n < 2 or scale == 0:
        return np.zeros(min(n, 1), dtype=np.int64), np.zeros(n, dtype=np.int64)
    radius = tolerance * scale
    U, unique_of = np.unique(X, axis=0, return_inverse=True)
    direction = np.random.default_rng(0).standard_normal(X.shape[1])
    p = U @ (direction / np.linalg.norm(direction))
    order = np.argsort(p, kind="stable")
    ends = np.searchsorted(p[order], p[order] + radius, side="right")
    counts = ends - np.arange(len(U)) - 1  # candidates after each position in sorted order
    a = np.repeat(np.arange(len(U)), counts)
    b = a + 1 + np.arange(a.size) - np.repeat(np.cumsum(counts) - counts, counts)
    edge_i, edge_j = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)]
    for start in range(0, a.size, DISTINCT_PAIR_BLOCK):
        i = order[a[start : start + DISTINCT_PAIR_BLOCK]]
        j = order[b[start : start + DISTINCT_PAIR_BLOCK]]
        close = np.linalg.norm(U[i] - U[j], axis=1) <= radius
        edge_i.append(i[close])
        edge_j.append(j[close])
    sources, targets = np.concatenate(edge_i), np.concatenate(edge_j)
    graph = coo_matrix((np.ones(sources.size), (sources, targets)), shape=(len(U), len(U)))
    _, component_of_unique = connected_components(graph, directed=False)
    component = component_of_unique[unique_of.ravel()]
    _, first, inverse = np.unique(component, return_index=True, return_inverse=True)
    seen = np.argsort(first)  # groups in first-seen order
    rank = np.empty_like(seen)
    rank[seen] = np.arange(seen.size)
    return first[seen].astype(np.int64), rank[inverse.ravel()].astype(np.int64)


def fit_settings(method: str, settings: Mapping[str, Any], n_points: int) -> dict[str, Any]:
    """``settings`` for a view of ``n_points`` points: PHATE's ``knn`` lowered to ``n_points - 1``
    when the view is that small (one or two kept concepts), so it still draws; the rest as given."""
    out = dict(settings)
    knn = out.get("knn")
    if method == "phate" and isinstance(knn, int) and knn >= n_points > 1:
        out["knn"] = n_points - 1
    return out


def camera_from_view(elevation: float, azimuth: float, distance: float = DEFAULT_VIEW[2]) -> dict:
    """Plotly ``scene.camera`` looking at the centre from ``elevation``/``azimuth`` degrees at
    ``distance`` (zoom out = larger): ``eye = distance * (cos e cos a, cos e sin a, sin e)``,
    ``up = z``. Inverse of :func:`semanscope.plots.camera_to_view` for the angles."""
    if not distance > 0:
        raise AppError(f"camera distance must be > 0, got {distance}")
    e, a = math.radians(elevation), math.radians(azimuth)
    eye = {"x": math.cos(e) * math.cos(a), "y": math.cos(e) * math.sin(a), "z": math.sin(e)}
    eye = {axis: distance * value for axis, value in eye.items()}
    return {"eye": eye, "up": {"x": 0.0, "y": 0.0, "z": 1.0}, "center": {"x": 0.0, "y": 0.0, "z": 0.0}}


# --------------------------------------------------------------------------- selection
@dataclass(frozen=True)
class PointSelection:
    """Selected rows of ``qs.items()`` and the concepts / languages they belong to (``qs`` order)."""

    rows: np.ndarray
    concept_ids: tuple[str, ...]
    languages: tuple[str, ...]

    @property
    def empty(self) -> bool:
        return self.rows.size == 0


def selected_rows(selection: Mapping | None, n_rows: int) -> np.ndarray:
    """Sorted unique row ids (int64) from a ``st.plotly_chart`` selection state.

    Reads ``selection["points"][k]["customdata"]`` (a row id, or a list whose first entry is
    the row id); points without customdata (e.g. link lines) and ids outside ``[0, n_rows)``
    (a stale selection from another view) are ignored.
    """
    if not selection:
        return np.zeros(0, dtype=np.int64)
    rows = []
    for point in selection.get("points") or ():
        data = point.get("customdata") if isinstance(point, Mapping) else None
        if isinstance(data, (list, tuple)):
            data = data[0] if data else None
        if isinstance(data, (int, float, np.integer, np.floating)) and not isinstance(data, bool):
            value = float(data)
            if value.is_integer() and 0 <= value < n_rows:
                rows.append(int(value))
    return np.unique(np.asarray(rows, dtype=np.int64))


def describe_selection(qs: QuerySet, rows: np.ndarray) -> PointSelection:
    """The concepts and languages of ``rows`` of ``qs.items()``, in ``qs`` order."""
    rows = np.unique(np.asarray(rows, dtype=np.int64))
    items = qs.items()
    if rows.size and (rows[0] < 0 or rows[-1] >= len(items.texts)):
        raise AppError(f"selected row ids must be in [0, {len(items.texts)}); got {rows[0]}..{rows[-1]}")
    concepts = np.unique(items.concept[rows])
    langs = np.unique(items.lang[rows])
    return PointSelection(rows, tuple(qs.ids[i] for i in concepts), tuple(qs.languages[j] for j in langs))


# --------------------------------------------------------------------------- tables
def number_text(value: float, digits: int = 3) -> str:
    """``value`` with ``digits`` decimals for a score tile; ``"-"`` for NaN or inf (an invalid
    score, e.g. from degenerate embeddings, is never shown as "nan")."""
    return f"{value:.{digits}f}" if math.isfinite(value) else "-"


def ci_text(low: float, high: float, level: float = 0.95) -> str:
    """``"95% CI [0.412, 0.498]"`` for a score's bootstrap interval; ``"no CI"`` when a bound is
    NaN (no bootstrap, e.g. ``n_boot=0``, or an invalid score)."""
    if not (math.isfinite(low) and math.isfinite(high)):
        return "no CI"
    return f"{level:.0%} CI [{number_text(low)}, {number_text(high)}]"


def score_table(runs: Sequence[ModelRun], metric: str = "cosine") -> pd.DataFrame:
    """One row per model: family, role (static / contextual / English-only control), score status
    (:attr:`~semanscope.study.ModelRun.score_status`), SA of ``metric`` with its bootstrap CI, its
    chance floor and normalised value (:mod:`semanscope.metrics.calibration`), mean P@1 with CI and
    by CSLS, mean MRR with CI, concepts and languages used (NaN for models that did not run or values not
    computed; ``note`` says why)."""
    rows = []
    nan = float("nan")
    for run in runs:
        row: dict[str, object] = {"model": run.key, "name": run.name, "family": run.family, "role": role_of(run)}
        row["status"] = run.score_status
        if run.ok:
            sa, ret = run.affinity_for(metric), run.retrieval
            cal = run.calibration_for(metric)
            row.update(
                {
                    "SA": sa.sa,
                    "SA low": sa.ci_low,
                    "SA high": sa.ci_high,
                    "SA floor": cal.floor if cal is not None else nan,
                    "SA normalised": cal.normalized if cal is not None else nan,
                    "P@1": ret.mean_p_at_1,
                    "P@1 low": ret.p_at_1_ci_low,
                    "P@1 high": ret.p_at_1_ci_high,
                    "P@1 CSLS": ret.mean_p_at_1_csls,
                    "MRR": ret.mean_mrr,
                    "MRR low": ret.mrr_ci_low,
                    "MRR high": ret.mrr_ci_high,
                    "concepts": sa.n_concepts,
                    "languages": sa.n_languages,
                    "note": run.message,
                }
            )
        else:
            scores = ("SA", "SA low", "SA high", "SA floor", "SA normalised", "P@1", "P@1 low", "P@1 high", "P@1 CSLS")
            row.update(dict.fromkeys((*scores, "MRR", "MRR low", "MRR high"), nan))
            row.update({"concepts": 0, "languages": 0, "note": run.message})
        rows.append(row)
    return pd.DataFrame(rows)


def concept_table(run: ModelRun, qs: QuerySet, metric: str = "cosine") -> pd.DataFrame:
    """Per-concept scores of one model, worst first: concept id, topic, SA_i = 1 / (1 + v_i / H),
    vertical spread v_i, the concept's P@1 and MRR averaged over ordered language pairs, and its
    text in the first language of the view (alternatives joined with ``|``)."""
    if not run.ok:
        raise AppError(f"{run.key} has no scores ({run.status}: {run.message})")
    sa, ret = run.affinity_for(metric), run.retrieval
    where = {cid: k for k, cid in enumerate(qs.ids)}
    ret_pos = {cid: k for k, cid in enumerate(ret.concept_ids)}
    nan = float("nan")
    frame = pd.DataFrame(
        {
            "concept": list(sa.concept_ids),
            "topic": [qs.topics[where[c]] if c in where else None for c in sa.concept_ids],
            "SA_i": sa.sa_per_concept,
            "v_i": sa.v,
            "P@1_i": [ret.p_at_1_per_concept[ret_pos[c]] if c in ret_pos else nan for c in sa.concept_ids],
            "MRR_i": [ret.mrr_per_concept[ret_pos[c]] if c in ret_pos else nan for c in sa.concept_ids],
            f"text ({qs.languages[0]})": [
                "|".join(qs.cells[where[c]][0]) if c in where else "" for c in sa.concept_ids
            ],
        }
    )
    return frame.sort_values(["SA_i", "concept"], kind="stable").reset_index(drop=True)


def matrix_frame(matrix: np.ndarray, languages: Sequence[str], corner: str = "language") -> pd.DataFrame:
    """An (L, L) language-pair matrix as a table: first column the row language, one column per language."""
    z = np.asarray(matrix, dtype=np.float64)
    if z.shape != (len(languages), len(languages)):
        raise ValueError(f"matrix must be ({len(languages)}, {len(languages)}); got {z.shape}")
    frame = pd.DataFrame(z, columns=list(languages))
    frame.insert(0, corner, list(languages))
    return frame


def degradation_labels(deg: Degradation) -> list[str]:
    """Gap rows in reading order: all pairs, then script pairs, then language pairs."""
    return [ALL, *deg.scripts, *deg.pairs]


def gap_matrix(gap: Gap, languages: Sequence[str], field: str = "gap") -> np.ndarray:
    """Symmetric (L, L) matrix of one :class:`~semanscope.degradation.Gap` field per language
    pair (``"l-m"`` labels), NaN on the diagonal and for pairs the gap does not cover."""
    out = np.full((len(languages), len(languages)), np.nan)
    index = {lang: k for k, lang in enumerate(languages)}
    for a, b in language_pairs(languages):
        label = pair_label(a, b)
        if label in gap.labels:
            value = gap.row(label)[field]
            out[index[a], index[b]] = out[index[b], index[a]] = value
    return out
