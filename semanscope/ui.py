"""Streamlit glue shared by the pages: page set-up, sidebar widgets, cached resources, progress
bars, error messages and download buttons.

State: everything a user chooses lives in ``st.session_state`` (per browser session). Widgets
that several pages share (languages, models, projection, camera) mirror a plain session key
(:func:`persistent`), so a choice survives page switches. Module-level objects are only the
caches behind ``st.cache_resource`` (loaded models, built-in query sets: read-only; the
embedding and projection caches: thread-safe) and ``st.cache_data``.

Errors: :func:`guard` turns any exception into an ``st.error`` with a one-line message (never a
stack trace) and lets the rest of the page render.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TypeVar

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from semanscope import appcore
from semanscope.cache import EmbeddingCache
from semanscope.data.builtin import load_builtin
from semanscope.data.languages import language_name
from semanscope.data.loaders import load_queryset
from semanscope.data.queryset import QuerySet
from semanscope.embeddings import cached_count, embed_queryset
from semanscope.models.base import Embedder, ModelUnavailable
from semanscope.models.registry import default_cache_dir, list_models, load_model
from semanscope.paths import EMBEDDINGS_SUBDIR, PROJECTIONS_SUBDIR
from semanscope.plots import (
    ExportUnavailable,
    degradation_heatmap,
    figure_to_html,
    figure_to_image,
    find_browser,
    sa_bars,
    scatter3d,
    scatter_to_vector,
    to_csv,
    to_latex,
    to_markdown,
)
from semanscope.plots.export import NO_BROWSER_HELP
from semanscope.plots.tables import markdown_escape
from semanscope.reduce import ProjectionCache, available_methods, project_cached
from semanscope.report import answer, gap_table
from semanscope.slug import ascii_slug
from semanscope.study import SA_METRICS, ModelRun, ModelSpec, Suite, not_run, run_model, study_result

T = TypeVar("T")

# session keys (plain values; widgets mirror them through ``persistent``)
DATASET = "dataset"  # QuerySet chosen on the Data page; absent = built-in FAQ
DATASET_REPORT = "dataset_report"  # loader report lines of that set
LANGUAGES = "languages"
TOPICS = "topics"
CONCEPTS = "concept_filter"  # tuple of concept ids kept from a selection, or None
MAX_CONCEPTS = "max_concepts"  # 0 = all
MODEL = "model"  # Explore
MODELS = "models"  # Compare, Affinity
SA_METRIC = "sa_metric"  # SA distance shown: cosine / euclidean
SA_METRIC_LABELS = {"cosine": "cosine", "euclidean": "Euclidean (RMS)"}
UPLOAD = "upload_files"  # [(file name, bytes)] waiting on the Data page (set by the uploader)

METHOD_NAMES = {"phate": "PHATE", "pca": "PCA", "tsne": "t-SNE (slow)", "umap": "UMAP"}


# --------------------------------------------------------------------------- page + errors
def page(title: str, icon: str = "🔭") -> None:
    """``st.set_page_config`` (wide layout); call first on every page. The page icon is an emoji:
    Streamlit turns a ``:material/...:`` page icon into a favicon fetched from a font CDN, and the
    app must work offline."""
    st.set_page_config(page_title=f"{title} - Semanscope", page_icon=icon, layout="wide")


def error_text(exc: BaseException) -> str:
    """One line for the user: messages of our own errors as they are, others with their type."""
    if isinstance(exc, (appcore.AppError, ModelUnavailable, ExportUnavailable, ValueError)):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


def show_error(message: str | BaseException, what: str = "") -> None:
    """``st.error`` with a clear one-line message (prefixed by ``what`` failed, when given)."""
    text = error_text(message) if isinstance(message, BaseException) else message
    text = markdown_escape(text)  # messages quote file names and cell values
    st.error(f"{what} failed: {text}" if what else text, icon=":material/error:")


@dataclass
class Outcome:
    """What :func:`guard` saw: the exception it caught, if any."""

    error: BaseException | None = None

    @property
    def failed(self) -> bool:
        return self.error is not None


@contextmanager
def guard(what: str) -> Iterator[Outcome]:
    """Run a block; an exception becomes :func:`show_error` (no stack trace) and the page goes on.

    Streamlit's own stop / rerun signals are ``BaseException`` and pass through.
    """
    outcome = Outcome()
    try:
        yield outcome
    except Exception as exc:  # noqa: BLE001 - shown to the user instead of a stack trace
        outcome.error = exc
        show_error(exc, what)


def run_page(main: Callable[[], None]) -> None:
    """Run a page's ``main`` under :func:`guard`, so even an unexpected bug shows as a message."""
    with guard("This page"):
        main()


# --------------------------------------------------------------------------- persistent widgets
def _sync(widget_key: str, key: str) -> None:
    st.session_state[key] = st.session_state[widget_key]


def persistent(
    widget: Callable[..., object], kind: type[T], label: str, key: str, default: object, **kwargs: object
) -> T:
    """``widget(label, ...)`` whose value lives in ``st.session_state[key]`` (initialised to
    ``default``), so it survives page switches; the widget itself uses key ``w:<key>``.

    The value must be a ``kind`` (e.g. ``list`` for a multiselect, ``int`` for an integer
    slider): Streamlit's widgets return different types for different arguments, so the
    caller says which one it relies on, and a mismatch is a TypeError here, not later.
    """
    if key not in st.session_state:
        st.session_state[key] = default
    widget_key = f"w:{key}"
    st.session_state[widget_key] = st.session_state[key]
    value = widget(label, key=widget_key, on_change=_sync, args=(widget_key, key), **kwargs)
    if not isinstance(value, kind):
        raise TypeError(f"{label}: the widget returned a {type(value).__name__}, expected a {kind.__name__}")
    return value


# --------------------------------------------------------------------------- progress
class ProgressBar:
    """A Streamlit progress bar for the library's callbacks, removed when done.

    ``bar(done, total)`` matches :class:`semanscope.progress.Progress`;
    ``bar.message(text, fraction)`` matches the projection progress of :mod:`semanscope.reduce`.
    """

    def __init__(self, label: str) -> None:
        self.label = label
        self.slot = st.empty()

    def __call__(self, done: int, total: int) -> None:
        fraction = min(max(done / total, 0.0), 1.0) if total else 1.0
        self.slot.progress(fraction, text=f"{self.label}: {done:,} / {total:,}")

    def message(self, text: str, fraction: float) -> None:
        self.slot.progress(min(max(float(fraction), 0.0), 1.0), text=f"{self.label}: {text}")

    def clear(self) -> None:
        self.slot.empty()


@contextmanager
def progress_bar(label: str) -> Iterator[ProgressBar]:
    """A :class:`ProgressBar` that disappears when the block ends (also on errors)."""
    bar = ProgressBar(label)
    try:
        yield bar
    finally:
        bar.clear()


# --------------------------------------------------------------------------- cached resources
@st.cache_resource(show_spinner=False)
def builtin_queryset(name: str) -> QuerySet:
    """A built-in query set (immutable, shared by all sessions)."""
    return load_builtin(name)


@st.cache_resource(show_spinner=False, max_entries=8)
def load_embedder(key: str) -> Embedder:
    """A loaded model, shared by all sessions (a failure is not cached: the next call retries)."""
    return load_model(key)


@st.cache_resource(show_spinner=False)
def embedding_cache(directory: str) -> EmbeddingCache:
    """The persistent embedding cache shared with the CLI (``<cache>/embeddings``)."""
    return EmbeddingCache(directory)


@st.cache_resource(show_spinner=False)
def projection_cache(directory: str) -> ProjectionCache:
    """Projections cached in memory and on disk (``<cache>/projections``), shared by all sessions
    (the cache is thread-safe); memory only when the folder cannot be opened."""
    try:
        return ProjectionCache(max_items=32, directory=directory)
    except Exception:  # noqa: BLE001 - an unusable cache folder must not break the app
        return ProjectionCache(max_items=32)


def cache_dir(subdir: str) -> str:
    """``<semanscope cache>/<subdir>`` as a string (the cache key of the resources above)."""
    return str(Path(default_cache_dir()) / subdir)


# --------------------------------------------------------------------------- data
def current_dataset() -> QuerySet:
    """The query set chosen on the Data page, else the built-in FAQ set."""
    qs = st.session_state.get(DATASET)
    return qs if isinstance(qs, QuerySet) else builtin_queryset(appcore.DEFAULT_DATASET)


def set_dataset(qs: QuerySet, report: Sequence[str]) -> None:
    """Make ``qs`` the data of every page; languages, topics and concept filter start afresh."""
    st.session_state[DATASET] = qs
    st.session_state[DATASET_REPORT] = list(report)
    st.session_state[LANGUAGES] = appcore.default_languages(qs)
    st.session_state[TOPICS] = []
    st.session_state[CONCEPTS] = None


def language_label(code: str) -> str:
    """``"de"`` -> ``"de - German"`` (the code alone when the name is unknown)."""
    try:
        return f"{code} - {language_name(code)}"
    except ValueError:
        return code


def _clear_concepts() -> None:
    st.session_state[CONCEPTS] = None


def sidebar_view() -> QuerySet:
    """Sidebar data filters (languages first, topics, concept cap, concept filter) -> the view.

    Stops the page with a message when the choice leaves fewer than 2 languages or 3 concepts.
    """
    qs = current_dataset()
    sb = st.sidebar
    sb.header("Data")
    sb.caption(f"**{markdown_escape(qs.name)}**: {qs.n_concepts:,} concepts x {qs.n_languages} languages")
    stored = st.session_state.get(LANGUAGES)
    kept = [code for code in stored or [] if code in qs.languages]
    # defaults on first use and when none of the stored languages is in this set
    st.session_state[LANGUAGES] = kept if stored is not None and (kept or not stored) else appcore.default_languages(qs)
    languages = persistent(
        sb.multiselect,
        list,
        "Languages",
        LANGUAGES,
        None,
        options=list(qs.languages),
        format_func=language_label,
        help="Every score and plot is recomputed for these languages.",
    )
    topics: list[str] = []
    if qs.topic_names:
        st.session_state[TOPICS] = [t for t in st.session_state.get(TOPICS) or [] if t in qs.topic_names]
        topics = persistent(sb.multiselect, list, "Topics (none = all)", TOPICS, [], options=qs.topic_names)
    if MAX_CONCEPTS not in st.session_state:
        with guard("Reading the concept cap"):
            st.session_state[MAX_CONCEPTS] = appcore.default_max_concepts() or 0
    max_concepts = persistent(
        sb.number_input,
        int,
        "Max concepts (0 = all)",
        MAX_CONCEPTS,
        0,
        min_value=0,
        step=50,
        help="A random sample (seed 0) keeps big sets fast.",
    )
    concept_filter = st.session_state.get(CONCEPTS)
    if concept_filter:
        sb.info(f"Showing {len(concept_filter)} concepts kept from a selection.", icon=":material/filter_alt:")
        sb.button("Show all concepts", on_click=_clear_concepts, key="clear-concepts")
    sorted_languages = [code for code in qs.languages if code in set(languages)]
    try:
        return appcore.select(
            qs, sorted_languages, topics=topics, concept_ids=concept_filter, max_concepts=int(max_concepts) or None
        )
    except appcore.AppError as exc:
        show_error(exc)
        st.stop()


def stash_upload() -> None:
    """``on_change`` of the Data page's uploader: keep the chosen files as ``(name, bytes)`` (and
    drop the message about the previous files)."""
    files = st.session_state.get("uploader") or []
    st.session_state[UPLOAD] = [(f.name, f.getvalue()) for f in files]
    st.session_state["data_error"] = None


def load_files(format: str | None, pivot: str) -> None:
    """``on_click`` of the Data page's Load button: load ``st.session_state[UPLOAD]`` with
    :func:`appcore.load_upload`; a failure is kept in ``data_error`` for the page to show."""
    st.session_state["data_error"] = None
    try:
        result = appcore.load_upload(st.session_state.get(UPLOAD) or [], format=format, pivot=pivot)
    except Exception as exc:  # noqa: BLE001 - shown on the page, the session stays usable
        st.session_state["data_error"] = error_text(exc)
        return
    set_dataset(result.queryset, result.report)


def use_builtin(name: str) -> None:
    """``on_click``: make a built-in set the current data."""
    st.session_state["data_error"] = None
    set_dataset(builtin_queryset(name), [])


def use_file(path: str, name: str) -> None:
    """``on_click``: load a query-set file on this machine (e.g. the shared XQuAD questions)."""
    st.session_state["data_error"] = None
    try:
        result = load_queryset(path, name=name)
    except Exception as exc:  # noqa: BLE001
        st.session_state["data_error"] = error_text(exc)
        return
    set_dataset(result.queryset, result.report)


# --------------------------------------------------------------------------- models
def model_picker(multi: bool) -> list[str]:
    """Sidebar model choice: one model (Explore) or several (Compare, Affinity; default: the
    static-vs-contextual comparison). Unavailable models are listed with the command to run."""
    infos = list_models()
    available, unavailable = appcore.split_models(infos)
    names = {i.key: f"{i.display_name} [{i.family}]" for i in available}
    keys = list(names)
    defaults = appcore.default_models(infos)
    sb = st.sidebar
    sb.header("Models")
    if not keys:
        show_error("no model is available here; install the packages in requirements.txt")
        st.stop()
    if multi:
        stored = st.session_state.get(MODELS)
        st.session_state[MODELS] = defaults if stored is None else [k for k in stored if k in names]
        chosen = persistent(sb.multiselect, list, "Models", MODELS, defaults, options=keys, format_func=names.get)
    else:
        if st.session_state.get(MODEL) not in names:
            st.session_state[MODEL] = defaults[0] if defaults else keys[0]
        chosen = [persistent(sb.selectbox, str, "Model", MODEL, keys[0], options=keys, format_func=names.get)]
    if unavailable:
        with sb.expander(f"{len(unavailable)} model(s) not available"):
            for info in unavailable:
                st.markdown(f"- {markdown_escape(appcore.unavailable_note(info))}")
    return list(chosen)


@st.cache_data(show_spinner="Computing Semantic Affinity and retrieval scores...", max_entries=16)
def _scores(key: str, fingerprint: str, view_key: str, n_boot: int, seed: int, _qs: QuerySet) -> ModelRun:
    """:func:`semanscope.study.run_model` (embeddings already cached), keyed by model weights and view content."""
    cache = embedding_cache(cache_dir(EMBEDDINGS_SUBDIR))
    return run_model(_qs, load_embedder(key), spec=ModelSpec.of(key), cache=cache, seed=seed, n_boot=n_boot)


def model_run(key: str, qs: QuerySet, *, n_boot: int = appcore.DEFAULT_N_BOOT, seed: int = 0) -> ModelRun:
    """One model on the view: load (cached), embed with a progress bar (persistent cache), then
    the cached scores. A model that cannot load or fails comes back as an ``unavailable`` /
    ``failed`` run with its message, so other models still show."""
    spec = ModelSpec.of(key)
    try:
        with st.spinner(f"Loading {markdown_escape(spec.name)}..."):
            embedder = load_embedder(key)
    except ModelUnavailable as exc:
        return not_run(spec, "unavailable", str(exc))
    except Exception as exc:  # noqa: BLE001 - a broken model is reported, the page goes on
        return not_run(spec, "failed", f"loading failed: {error_text(exc)}")
    try:
        cache = embedding_cache(cache_dir(EMBEDDINGS_SUBDIR))
        seen = max((p.seq for p in cache.problems()), default=0)
        cached, total = cached_count(qs, embedder, cache)
        label = f"Embedding {total:,} texts with {markdown_escape(spec.name)} ({cached:,} of {total:,} cached)"
        try:
            with progress_bar(label) as bar:
                embed_queryset(qs, embedder, cache, progress=bar)
        finally:
            show_cache_problems(cache, seen)
        return _scores(key, embedder.fingerprint, appcore.queryset_key(qs), n_boot, seed, _qs=qs)
    except Exception as exc:  # noqa: BLE001
        return not_run(spec, "failed", error_text(exc))


def show_cache_problems(cache: EmbeddingCache, after: int) -> None:
    """What the embedding cache reported since problem ``after``: damage found and repaired as a
    toast (the entries were recomputed), a disk it cannot use as a lasting warning."""
    for problem in cache.problems(after=after):
        if problem.kind == "repaired":
            st.toast(markdown_escape(problem.message), icon=":material/build:")
        else:
            st.warning(markdown_escape(problem.message), icon=":material/warning:")


def show_notes(run: ModelRun) -> None:
    """A warning with what the scores of an ok run need said (texts the model truncated, rows
    dropped for degenerate vectors, collapse; an invalid score), nothing when there is none."""
    if run.ok and run.message:
        note = f"{run.name} ({run.key}), scores {run.score_status}: {run.message}"  # quotes concept ids
        st.warning(markdown_escape(note), icon=":material/warning:")


def model_runs(keys: Sequence[str], qs: QuerySet) -> list[ModelRun]:
    """:func:`model_run` for each key; failures are shown as errors, notes on the scores as
    warnings (:func:`show_notes`), and every run is kept in the list."""
    runs = [model_run(k, qs) for k in keys]
    for run in runs:
        if not run.ok:
            show_error(f"{run.name} ({run.key}) {run.status}: {run.message}")
        show_notes(run)
    return runs


def metric_picker() -> str:
    """The SA distance shown on the page (sidebar, remembered across pages): "cosine" or "euclidean".
    Every run computes both; retrieval is always by cosine."""
    return persistent(
        st.sidebar.radio,
        str,
        "SA distance",
        SA_METRIC,
        "cosine",
        options=list(SA_METRICS),
        format_func=SA_METRIC_LABELS.get,
        help="Semantic Affinity from cosine distances or from root-mean-square Euclidean distances "
        "(the original Semanscope offers both). Retrieval (P@1, MRR) is always by cosine.",
    )


def score_metrics(run: ModelRun, full: bool = True, metric: str = "cosine") -> None:
    """SA of ``metric`` (95% CI in its help) and P@1 as ``st.metric`` tiles; ``full`` adds MRR and the view size."""
    sa, ret = run.affinity_for(metric), run.retrieval
    tiles = st.columns(4 if full else 2)
    num = appcore.number_text
    sa_help = f"95% CI [{num(sa.ci_low)}, {num(sa.ci_high)}]; status {run.score_status}"
    tiles[0].metric(
        f"Semantic Affinity ({metric})" if metric != "cosine" else "Semantic Affinity", num(sa.sa), help=sa_help
    )
    tiles[1].metric("P@1", num(ret.mean_p_at_1), help=f"95% CI [{num(ret.p_at_1_ci_low)}, {num(ret.p_at_1_ci_high)}]")
    if full:
        tiles[2].metric("MRR", num(ret.mean_mrr))
        tiles[3].metric("Concepts x languages", f"{sa.n_concepts} x {sa.n_languages}")


def _keep(key: str, value: object) -> None:
    st.session_state[key] = value


def selection_actions(selection: appcore.PointSelection) -> None:
    """What a 2D selection can become: buttons keeping its concepts or its languages (the view,
    and every score, is then recomputed for that subset)."""
    if selection.empty:
        st.caption("Drag a box or a lasso on the 2D view to select points; they are highlighted in the 3D view.")
        return
    st.markdown(
        f"**{selection.rows.size} points selected**: {len(selection.concept_ids)} concepts in "
        f"{len(selection.languages)} languages ({', '.join(selection.languages)})"
    )
    c1, c2 = st.columns(2)
    c1.button(
        "Keep selected concepts",
        on_click=_keep,
        args=(CONCEPTS, selection.concept_ids),
        disabled=len(selection.concept_ids) < 3,
        help="Scores need at least 3 concepts.",
    )
    c2.button(
        "Keep selected languages",
        on_click=_keep,
        args=(LANGUAGES, list(selection.languages)),
        disabled=len(selection.languages) < 2,
        help="Scores need at least 2 languages.",
    )


def sa_chart(runs: Sequence[ModelRun], title: str = "", metric: str = "cosine") -> go.Figure:
    """SA of ``metric`` per model with a score (invalid runs have none) with its bootstrap CI, coloured by family."""
    ok = [r for r in runs if r.ok and np.isfinite(r.affinity_for(metric).sa)]
    results = [r.affinity_for(metric) for r in ok]
    return sa_bars(
        [r.key for r in ok],
        [a.sa for a in results],
        [a.ci_low for a in results],
        [a.ci_high for a in results],
        [r.family for r in ok],
        title=title,
    )


def degradation_section(runs: Sequence[ModelRun], qs: QuerySet, *, heatmaps: bool = True, name: str = "") -> None:
    """The static-vs-contextual answer on the view: sentences, the gap table (all pairs, script
    pairs, language pairs) with downloads, and SA / P@1 gap heatmaps."""
    study = study_result(qs, runs, seed=0, n_boot=appcore.DEFAULT_N_BOOT, ci=0.95)
    deg = study.degradation
    if deg is None:
        st.info(f"No static-vs-contextual comparison: {markdown_escape(study.degradation_note)}.")
        return
    for sentence in answer(Suite({qs.name: study}, (), {}, {})):
        st.markdown(markdown_escape(sentence))
    table = gap_table(deg, appcore.degradation_labels(deg), "pairs")
    st.dataframe(table, hide_index=True)
    table_downloads(table, f"{name or qs.name}-degradation", caption="Static vs contextual gap (contextual - static)")
    if heatmaps and len(qs.languages) > 2:
        c1, c2 = st.columns(2)
        for col, gap, what in ((c1, deg.sa, "SA"), (c2, deg.p_at_1, "P@1")):
            fig = degradation_heatmap(
                appcore.gap_matrix(gap, qs.languages),
                qs.languages,
                title=f"{what} gap (contextual - static)",
                value_name=f"{what} gap",
            )
            col.plotly_chart(fig, key=f"gap-{what}-{name}")


# --------------------------------------------------------------------------- projection
def projection_controls() -> tuple[str, dict, int]:
    """Sidebar projection settings -> (method, settings, seed); PHATE has fast defaults."""
    methods = list(available_methods())
    with st.sidebar.expander("Projection", expanded=False):
        method = persistent(
            st.selectbox,
            str,
            "Method",
            "proj_method",
            "phate",
            options=methods,
            format_func=lambda m: METHOD_NAMES.get(m, m),
        )
        knn, t, landmarks = 5, None, None
        if method == "phate":
            defaults = appcore.PHATE_APP_SETTINGS
            knn = persistent(st.slider, int, "knn", "phate_knn", defaults["knn"], min_value=2, max_value=50)
            auto_t = persistent(
                st.checkbox,
                bool,
                "automatic t (knee of the von Neumann entropy)",
                "phate_auto_t",
                defaults["t"] == "auto",
            )
            if not auto_t:
                t = persistent(st.slider, int, "t (diffusion time)", "phate_t", 10, min_value=1, max_value=100)
            landmarks = persistent(
                st.number_input,
                int,
                "landmarks (0 = none)",
                "phate_landmarks",
                defaults["n_landmark"],
                min_value=0,
                step=100,
            )
        seed = persistent(st.number_input, int, "seed", "proj_seed", 0, min_value=0, step=1)
    n_landmark = int(landmarks) if landmarks else None
    return method, appcore.projection_settings(method, knn=int(knn), t=t, n_landmark=n_landmark), int(seed)


def projection(X: np.ndarray, method: str, settings: dict, seed: int, label: str) -> np.ndarray | None:
    """3D projection through the shared cache, with a progress bar; None (message shown) on error."""
    with guard(f"{METHOD_NAMES.get(method, method)} projection"), progress_bar(label) as bar:
        return project_cached(
            X, method, 3, seed, cache=projection_cache(cache_dir(PROJECTIONS_SUBDIR)), progress=bar.message, **settings
        )
    return None


@dataclass(frozen=True)
class Style:
    """Marker size, opacity and whether to draw the concept links."""

    marker_size: float
    opacity: float
    links: bool


def scatter_view(
    coords: np.ndarray, pts: appcore.Points, style: Style, title: str, highlight: np.ndarray | None = None
) -> go.Figure:
    """The app's 3D view of ``pts`` at ``coords`` (M, 3) in the sidebar's ``style``
    (:func:`semanscope.plots.scatter3d`); ``highlight``: row ids drawn larger."""
    return scatter3d(
        coords,
        pts.languages,
        pts.texts,
        pts.concept_ids,
        links=style.links,
        marker_size=style.marker_size,
        opacity=style.opacity,
        highlight=highlight,
        title=title,
    )


def display_controls() -> Style:
    """Sidebar marker size / opacity / links controls."""
    with st.sidebar.expander("Display", expanded=False):
        size = persistent(st.slider, float, "marker size", "marker_size", 3.0, min_value=1.0, max_value=12.0, step=0.5)
        opacity = persistent(st.slider, float, "opacity", "opacity", 0.85, min_value=0.1, max_value=1.0, step=0.05)
        links = persistent(st.checkbox, bool, "link each concept's translations", "links", False)
    return Style(float(size), float(opacity), bool(links))


def _apply_preset() -> None:
    elevation, azimuth, distance = appcore.CAMERA_PRESETS[st.session_state["w:camera_preset"]]
    st.session_state["camera_preset"] = st.session_state["w:camera_preset"]
    st.session_state["cam_elev"], st.session_state["cam_azim"], st.session_state["cam_dist"] = (
        round(elevation, 1),
        round(azimuth, 1),
        round(distance, 2),
    )


def camera_controls() -> dict:
    """Sidebar camera (preset, elevation, azimuth, distance) -> plotly ``scene.camera``.

    Streamlit cannot read the camera back from the browser, so these sliders are the camera
    used by every 3D view (Explore, Compare) and by the exports.
    """
    elevation, azimuth, distance = appcore.CAMERA_PRESETS["plotly default"]
    with st.sidebar.expander("Camera (3D views and exports)", expanded=False):
        if "camera_preset" not in st.session_state:
            st.session_state["camera_preset"] = "plotly default"
        st.session_state["w:camera_preset"] = st.session_state["camera_preset"]
        st.selectbox("Preset", list(appcore.CAMERA_PRESETS), key="w:camera_preset", on_change=_apply_preset)
        e = persistent(st.slider, float, "elevation", "cam_elev", round(elevation, 1), min_value=-90.0, max_value=90.0)
        a = persistent(st.slider, float, "azimuth", "cam_azim", round(azimuth, 1), min_value=-180.0, max_value=180.0)
        d = persistent(
            st.slider, float, "distance (zoom out)", "cam_dist", round(distance, 2), min_value=0.5, max_value=6.0
        )
    return appcore.camera_from_view(float(e), float(a), float(d))


def with_camera(fig: go.Figure, camera: dict) -> go.Figure:
    """Set ``scene.camera`` and tie ``scene.uirevision`` to it: the user's own rotation survives
    reruns until the camera controls change, then the figure jumps to the new camera."""
    fig.update_layout(scene_camera=camera, scene_uirevision=json.dumps(camera, sort_keys=True))
    return fig


# --------------------------------------------------------------------------- downloads
def table_downloads(df: pd.DataFrame, name: str, caption: str = "") -> None:
    """CSV (formula-safe), Markdown and LaTeX (booktabs) download buttons for a result table."""
    cols = st.columns(3)
    stem = ascii_slug(name)  # file names and the LaTeX label must be ASCII
    files: tuple[tuple[str, str | bytes, str, str], ...] = (
        ("CSV", to_csv(df), f"{stem}.csv", "text/csv"),
        ("Markdown", to_markdown(df), f"{stem}.md", "text/markdown"),
        ("LaTeX", to_latex(df, caption=caption, label=f"tab:{stem}"), f"{stem}.tex", "application/x-tex"),
    )
    for col, (title, data, file_name, mime) in zip(cols, files, strict=True):
        col.download_button(
            title,
            data,
            file_name=file_name,
            mime=mime,
            key=f"dl:{name}:{title}",
            on_click="ignore",
            icon=":material/download:",
        )


def _figure_digest(fig: go.Figure) -> str:
    return hashlib.sha1(fig.to_json().encode("utf-8")).hexdigest()


def figure_downloads(
    fig: go.Figure, name: str, camera: dict | None = None, vector: Callable[[str], bytes] | None = None
) -> None:
    """Download buttons for a figure: interactive HTML, PNG/SVG/PDF through kaleido (rendered on
    request, keeping ``camera``), and, when ``vector(fmt)`` is given, matplotlib vector PDF/SVG."""
    cols = st.columns(4)
    stem = ascii_slug(name)
    cols[0].download_button(
        "Interactive HTML",
        lambda: figure_to_html(fig),
        file_name=f"{stem}.html",
        mime="text/html",
        key=f"dl:{name}:html",
        on_click="ignore",
        icon=":material/download:",
    )
    if vector is not None:
        for col, fmt in zip(cols[1:3], ("pdf", "svg"), strict=True):
            col.download_button(
                f"Vector {fmt.upper()} (matplotlib)",
                partial(vector, fmt),
                file_name=f"{stem}.{fmt}",
                mime="application/pdf" if fmt == "pdf" else "image/svg+xml",
                key=f"dl:{name}:mpl-{fmt}",
                on_click="ignore",
                icon=":material/download:",
            )
    with cols[3].popover("PNG / SVG / PDF (kaleido)", icon=":material/image:", key=f"pop:{name}"):
        if find_browser() is None:
            st.info(NO_BROWSER_HELP)
            return
        image_fmt = st.radio("format", ["png", "svg", "pdf"], horizontal=True, key=f"kaleido-fmt:{name}") or "png"
        slot = f"kaleido:{name}"
        if st.button("Render", key=f"kaleido-go:{name}"):
            with guard("Image export"), st.spinner("Rendering with kaleido (starts a headless browser)..."):
                st.session_state[slot] = (
                    image_fmt,
                    _figure_digest(fig),
                    figure_to_image(fig, image_fmt, camera=camera),
                )
        done = st.session_state.get(slot)
        if done and done[0] == image_fmt and done[1] == _figure_digest(fig):
            st.download_button(
                f"Download {image_fmt.upper()}",
                done[2],
                file_name=f"{stem}.{image_fmt}",
                key=f"dl:{name}:kaleido",
                on_click="ignore",
                icon=":material/download:",
            )


def scatter_vector(
    coords: np.ndarray, labels: Sequence[str], concept_ids: Sequence[str], style: Style, camera: dict | None, title: str
) -> Callable[[str], bytes]:
    """``fmt -> bytes`` matplotlib vector export of a 2D/3D view with the app's camera and links."""
    return lambda fmt: scatter_to_vector(
        coords, labels, fmt=fmt, camera=camera, links=style.links, title=title, concept_ids=concept_ids
    )
