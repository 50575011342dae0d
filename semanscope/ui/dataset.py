"""The current query set: choosing it (Data page callbacks) and the sidebar filters that make the view."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import streamlit as st

from semanscope import appcore
from semanscope.data.assemble import LoadResult
from semanscope.data.loaders import load_queryset
from semanscope.data.queryset import QuerySet
from semanscope.data.typed import queryset_from_lists
from semanscope.plots.tables import markdown_escape
from semanscope.ui.errors import guard, keep_error, show_error
from semanscope.ui.resources import builtin_queryset
from semanscope.ui.state import CONCEPTS, DATASET, DATASET_REPORT, LANGUAGES, MAX_CONCEPTS, TOPICS, UPLOAD, persistent


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


def _clear_concepts() -> None:
    st.session_state[CONCEPTS] = None


SIDEBAR_CSS = """<style>
section[data-testid="stSidebar"] { min-width: 22rem; }
section[data-testid="stSidebar"] [data-baseweb="select"] > div { max-height: none; }
</style>"""
"""A sidebar wide enough for two language chips a row, and a language picker that grows with its
chips instead of scrolling inside itself (1280 x 800 screens)."""


def sidebar_view() -> QuerySet:
    """Sidebar data filters (languages first, topics, concept cap, concept filter) -> the view.

    Any view of at least one language and one concept is returned (a view too small for scores
    is drawn, :func:`appcore.scores_note` says why it has none); the page stops with a message
    only when no language is chosen or no concept is left.
    """
    qs = current_dataset()
    st.html(SIDEBAR_CSS)
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
        format_func=appcore.language_label,
        wrap=True,  # the chips wrap onto more rows (SIDEBAR_CSS lets the widget grow with them)
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


def _use_loaded(load: Callable[[], LoadResult]) -> None:
    """``load()``'s query set becomes the data of every page; a failure is kept in ``data_error``
    for the Data page to show (:func:`~semanscope.ui.errors.keep_error`)."""

    def use() -> None:
        result = load()
        set_dataset(result.queryset, result.report)

    keep_error("data_error", use)


def load_files(format: str | None, pivot: str) -> None:
    """``on_click`` of the Data page's Load button: load ``st.session_state[UPLOAD]`` with
    :func:`appcore.load_upload`."""
    _use_loaded(lambda: appcore.load_upload(st.session_state.get(UPLOAD) or [], format=format, pivot=pivot))


def use_builtin(name: str) -> None:
    """``on_click``: make a built-in set the current data."""
    st.session_state["data_error"] = None
    set_dataset(builtin_queryset(name), [])


def use_file(path: str, name: str) -> None:
    """``on_click``: load a query-set file on this machine (e.g. the shared XQuAD questions)."""
    _use_loaded(lambda: load_queryset(path, name=name))


TYPED_LANGUAGES = "typed_languages"  # codes of the typed-list text areas on the Data page


def typed_key(code: str) -> str:
    """Session key of the text area of language ``code`` on the Data page."""
    return f"typed:{code}"


def typed_codes() -> list[str]:
    """The languages named in the Data page's comma-separated languages field, in order."""
    return [c.strip() for c in str(st.session_state.get(TYPED_LANGUAGES) or "").split(",") if c.strip()]


def use_lists() -> None:
    """``on_click``: the typed lists (:func:`semanscope.data.typed.queryset_from_lists`) become the
    data of every page."""
    _use_loaded(
        lambda: queryset_from_lists({code: str(st.session_state.get(typed_key(code)) or "") for code in typed_codes()})
    )
