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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from semanscope.data.assemble import LoadResult
from semanscope.data.loaders import QuerySetError, load_queryset, safe_upload_name
from semanscope.data.queryset import QuerySet
from semanscope.degradation import Gap, language_pairs, pair_label
from semanscope.models.registry import ModelInfo, default_comparison
from semanscope.report import role_of
from semanscope.study import ALL, Degradation, ModelRun, select_queryset

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
    with ``seed`` (:func:`semanscope.study.select_queryset`). :class:`AppError` says what is
    missing when fewer than 2 languages or 3 concepts remain."""
    if len(set(languages)) < 2:
        raise AppError(f"choose at least 2 languages (chosen: {', '.join(languages) or 'none'})")
    base = qs
    if concept_ids is not None:
        base = qs.subset(concept_ids=concept_ids, complete_only=False)
    try:
        return select_queryset(base, languages=languages, topics=topics or None, max_concepts=max_concepts, seed=seed)
    except ValueError as exc:
        raise AppError(str(exc)) from None


def queryset_key(qs: QuerySet) -> str:
    """Hex SHA-1 of a query set's content (name, languages, ids, cells, topics): a cache key
    that changes whenever any text, concept or language of the view changes."""
    payload = [qs.name, list(qs.languages), list(qs.ids), [list(map(list, row)) for row in qs.cells], list(qs.topics)]
    return hashlib.sha1(json.dumps(payload, ensure_ascii=False).encode("utf-8")).hexdigest()


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
    naming the file, so the page shows a message instead of a stack trace.
    """
    if not files:
        raise AppError("no file uploaded: choose a CSV, TSV, JSON lines, JSON or Parquet file")
    sources = []
    for name, data in files:
        buffer = io.BytesIO(bytes(data))
        buffer.name = safe_upload_name(name)
        sources.append(buffer)
    names = ", ".join(s.name for s in sources)
    try:
        return load_queryset(sources if len(sources) > 1 else sources[0], format=format or None, pivot=pivot)
    except QuerySetError as exc:
        raise AppError(str(exc)) from None
    except Exception as exc:  # noqa: BLE001 - any parser failure on user bytes is a bad upload
        raise AppError(f"{names}: could not be read as a query set ({type(exc).__name__}: {exc})") from None


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


def score_table(runs: Sequence[ModelRun], metric: str = "cosine") -> pd.DataFrame:
    """One row per model: family, role (static / contextual / English-only control), score status
    (:attr:`~semanscope.study.ModelRun.score_status`), SA of ``metric`` with its bootstrap CI, its
    chance floor and normalised value (:mod:`semanscope.metrics.calibration`), mean P@1 with CI and
    by CSLS, mean MRR, concepts and languages used (NaN for models that did not run or values not
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
                    "concepts": sa.n_concepts,
                    "languages": sa.n_languages,
                    "note": run.message,
                }
            )
        else:
            scores = ("SA", "SA low", "SA high", "SA floor", "SA normalised", "P@1", "P@1 low", "P@1 high", "P@1 CSLS")
            row.update(dict.fromkeys((*scores, "MRR"), nan))
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
