"""The Relational Affinity page's parts: the relation set (built-in or uploaded), the sidebar
selection, one run per model (embeddings through the shared cache), result tables, heatmaps and
the arrow projection. Everything computed lives in :mod:`semanscope.relational_app`,
:mod:`semanscope.relational_study` and :mod:`semanscope.relational_report`."""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from semanscope import relational_app
from semanscope.appcore import AppError, language_label
from semanscope.data.relations import MAX_RELATIONS, RelationSet, load_builtin_relations
from semanscope.data.validation import MAX_FILE_MB
from semanscope.embeddings import embed_by_language
from semanscope.paths import EMBEDDINGS_SUBDIR
from semanscope.plots import ra_heatmap, relation_arrows
from semanscope.plots.tables import markdown_escape, to_csv
from semanscope.relational_report import cross_table, relation_table, summary_lines, tidy_rows, within_table
from semanscope.relational_study import RelationalRun, RelationalStudy, run_relational_model
from semanscope.slug import ascii_slug
from semanscope.study import ModelSpec, study_versions
from semanscope.ui.downloads import figure_downloads, table_downloads
from semanscope.ui.errors import error_text, keep_error, show_error
from semanscope.ui.resources import cache_dir, embedding_cache, load_embedder
from semanscope.ui.runs import embed_with_progress, load_for_run
from semanscope.ui.state import persistent
from semanscope.ui.views import camera_controls, projection, projection_controls, with_camera

# session keys of this page
RELATIONS = "relations"  # RelationSet chosen on this page; absent = the built-in set
RELATIONS_REPORT = "relations_report"  # loader report lines of that set
RELATIONS_UPLOAD = "relations_upload"  # (file name, bytes) waiting for "Load"
RELATIONS_ERROR = "relations_error"  # message of the last failed load
RA_LANGUAGES = "ra_languages"
RA_CATEGORIES = "ra_categories"
PROJECTION_LANGUAGES = "ra_projection_languages"
PROJECTION_MODEL = "ra_projection_model"


@st.cache_resource(show_spinner=False)
def builtin_relations() -> RelationSet:
    """The built-in relation set (immutable, shared by all sessions)."""
    return load_builtin_relations()


def current_relations() -> RelationSet:
    """The relation set chosen on this page, else the built-in one."""
    rel = st.session_state.get(RELATIONS)
    return rel if isinstance(rel, RelationSet) else builtin_relations()


def _set_relations(rel: RelationSet, report: Sequence[str]) -> None:
    st.session_state[RELATIONS] = rel
    st.session_state[RELATIONS_REPORT] = list(report)
    st.session_state[RA_LANGUAGES] = list(rel.languages)
    st.session_state[RA_CATEGORIES] = []
    st.session_state[PROJECTION_LANGUAGES] = None


def use_builtin_relations() -> None:
    """``on_click``: make the built-in set current."""
    st.session_state[RELATIONS_ERROR] = None
    _set_relations(builtin_relations(), [])


def stash_relations_upload() -> None:
    """``on_change`` of the uploader: keep the chosen file as ``(name, bytes)``."""
    file = st.session_state.get("ra-uploader")
    st.session_state[RELATIONS_UPLOAD] = None if file is None else (file.name, file.getvalue())
    st.session_state[RELATIONS_ERROR] = None


def load_relations_file() -> None:
    """``on_click`` of Load: :func:`relational_app.load_relations_upload`; a failure is kept for the page."""

    def load() -> None:
        upload = st.session_state.get(RELATIONS_UPLOAD)
        if not upload:
            raise AppError("no file uploaded: choose a relation CSV/TSV file")
        result = relational_app.load_relations_upload(*upload)
        _set_relations(result.relations, result.report)

    keep_error(RELATIONS_ERROR, load)


def relation_set_section() -> RelationSet:
    """Expander to choose the relation set (built-in or an uploaded file), its loader report; the set."""
    rel = current_relations()
    with st.expander(f"Relation set: {markdown_escape(rel.name)}", expanded=False):
        st.markdown(
            "A relation file has columns `relation_id, category, word1_<lang>, word2_<lang>, ...` "
            "(the original Semanscope's `*-RA.csv`); other columns are kept as metadata, `#` lines are skipped."
        )
        st.button("Use the built-in set", on_click=use_builtin_relations, key="ra-use-builtin")
        st.file_uploader(
            f"Relation file (CSV/TSV, up to {MAX_FILE_MB} MB and {MAX_RELATIONS:,} relations)",
            type=["csv", "tsv", "txt"],
            key="ra-uploader",
            on_change=stash_relations_upload,
        )
        st.button(
            "Load",
            type="primary",
            on_click=load_relations_file,
            disabled=not st.session_state.get(RELATIONS_UPLOAD),
            help="Choose a file first." if not st.session_state.get(RELATIONS_UPLOAD) else None,
            key="ra-load",
        )
        for line in st.session_state.get(RELATIONS_REPORT) or []:
            st.warning(markdown_escape(line), icon=":material/info:")
    error = st.session_state.get(RELATIONS_ERROR)
    if error:
        show_error(error, "Loading the relation file")
    return rel


def sidebar_selection(rel: RelationSet) -> RelationSet:
    """Sidebar languages and categories -> the subset every table and plot uses (page stops with a
    message when the choice leaves nothing to compute)."""
    sb = st.sidebar
    sb.header("Relations")
    sb.caption(
        f"**{markdown_escape(rel.name)}**: {rel.n_relations:,} relations, {len(rel.category_names)} categories, "
        f"{len(rel.languages)} languages"
    )
    stored = st.session_state.get(RA_LANGUAGES)
    kept = [code for code in stored or [] if code in rel.languages]
    st.session_state[RA_LANGUAGES] = kept if stored is not None and (kept or not stored) else list(rel.languages)
    languages = persistent(
        sb.multiselect,
        list,
        "Languages",
        RA_LANGUAGES,
        None,
        options=list(rel.languages),
        format_func=language_label,
        help="Within-language RA per language; cross-language RA needs 2 or more.",
    )
    st.session_state[RA_CATEGORIES] = [c for c in st.session_state.get(RA_CATEGORIES) or [] if c in rel.categories]
    categories = persistent(
        sb.multiselect, list, "Categories (none = all)", RA_CATEGORIES, [], options=list(rel.category_names)
    )
    try:
        return relational_app.select_relations(rel, languages, categories)
    except AppError as exc:
        show_error(exc)
        st.stop()


@st.cache_data(show_spinner="Computing Relational Affinity...", max_entries=16)
def _ra_run(key: str, fingerprint: str, relations_key: str, _relations: RelationSet) -> RelationalRun:
    """:func:`run_relational_model` (embeddings already cached), keyed by model weights and set content."""
    cache = embedding_cache(cache_dir(EMBEDDINGS_SUBDIR))
    return run_relational_model(_relations, load_embedder(key), spec=ModelSpec.of(key), cache=cache)


def relational_run(key: str, rel: RelationSet) -> RelationalRun:
    """One model on ``rel``: load (cached), embed its words with a progress bar (persistent cache),
    then the cached RA. A model that cannot load or fails is an ``unavailable`` / ``failed`` run."""
    spec = ModelSpec.of(key)
    embedder, status, message = load_for_run(spec)
    if embedder is None:
        return RelationalRun(spec.key, spec.name, spec.family, status, message)
    try:
        cache = embedding_cache(cache_dir(EMBEDDINGS_SUBDIR))
        words = rel.words_by_language()
        label = f"Embedding {sum(map(len, words.values())):,} words with {markdown_escape(spec.name)}"
        embed_with_progress(label, lambda bar: embed_by_language(words, embedder, cache, progress=bar))
        return _ra_run(key, embedder.fingerprint, relational_app.relations_key(rel), _relations=rel)
    except Exception as exc:  # noqa: BLE001
        return RelationalRun(spec.key, spec.name, spec.family, "failed", error_text(exc))


def relational_study(keys: Sequence[str], rel: RelationSet) -> RelationalStudy:
    """:func:`relational_run` for each key; failures shown as errors, notes (zero vectors, categories
    too small) as one info box per model."""
    runs = tuple(relational_run(k, rel) for k in keys)
    for run in runs:
        if not run.ok:
            show_error(f"{run.name} ({run.key}) {run.status}: {run.message}")
        elif run.message:
            with st.expander(f"Notes on {markdown_escape(run.key)}"):
                st.info(markdown_escape(run.message), icon=":material/info:")
    return RelationalStudy(rel, runs, study_versions())


def summary_section(study: RelationalStudy) -> None:
    """One line per model (within- and cross-language RA) and the tidy results CSV."""
    st.markdown("\n".join(summary_lines(study)))
    stem = f"{study.relations.name}-ra-results"
    st.download_button(
        "All results (tidy CSV)",
        to_csv(tidy_rows(study)),
        file_name=f"{ascii_slug(stem)}.csv",
        mime="text/csv",
        key="dl:ra-results",
        on_click="ignore",
        icon=":material/download:",
    )


def within_section(study: RelationalStudy) -> None:
    """Within-language RA per model x category x language."""
    name = study.relations.name
    table = within_table(study)
    st.dataframe(table, hide_index=True)
    table_downloads(table, f"{name}-ra-within", caption=f"Within-language relational affinity on {name}")


def cross_section(study: RelationalStudy) -> None:
    """Cross-language RA: a heatmap per model and the per-pair table."""
    name = study.relations.name
    if len(study.relations.languages) < 2:
        st.info("Choose 2 or more languages for cross-language RA.", icon=":material/info:")
        return
    ok = study.ok_runs
    for tab, run in zip(st.tabs([r.key for r in ok]), ok, strict=True):
        with tab:
            r = run.record.result  # type: ignore[union-attr]
            fig = ra_heatmap(r.cross_mean, r.languages, f"Cross-language RA per language pair: {run.key}")
            st.plotly_chart(fig, key=f"ra-heat-{run.key}")
            figure_downloads(fig, f"{name}-{run.key}-ra-cross")
    table = cross_table(study)
    st.dataframe(table, hide_index=True)
    table_downloads(table, f"{name}-ra-cross", caption=f"Cross-language relational affinity on {name}")
    relations = relation_table(study)
    with st.expander(f"Per relation ({study.relations.n_relations})"):
        st.dataframe(relations, hide_index=True)
        table_downloads(relations, f"{name}-ra-relations", caption=f"Cross-language RA per relation on {name}")


def projection_section(study: RelationalStudy) -> None:
    """The words of one model's run projected (sidebar projection and camera) with arrows word1 -> word2."""
    rel, ok = study.relations, study.ok_runs
    method, settings, seed = projection_controls()
    camera = camera_controls()
    keys = [r.key for r in ok]
    if st.session_state.get(PROJECTION_MODEL) not in keys:
        st.session_state[PROJECTION_MODEL] = keys[0]
    c1, c2 = st.columns([1, 2])
    key = persistent(c1.selectbox, str, "Model", PROJECTION_MODEL, keys[0], options=keys)
    stored = st.session_state.get(PROJECTION_LANGUAGES)
    kept = [code for code in stored or [] if code in rel.languages]
    default = list(rel.languages[: relational_app.DEFAULT_PROJECTION_LANGUAGES])
    st.session_state[PROJECTION_LANGUAGES] = kept if stored is not None and (kept or not stored) else default
    languages = persistent(
        c2.multiselect,
        list,
        "Languages drawn",
        PROJECTION_LANGUAGES,
        None,
        options=list(rel.languages),
        format_func=language_label,
        help="Words of these languages are projected together; one arrow per relation and language.",
    )
    if not languages:
        st.info("Choose at least 1 language to draw.", icon=":material/info:")
        return
    run = next(r for r in ok if r.key == key)
    arrows = relational_app.arrow_data(rel, run.vectors, languages)
    coords = projection(arrows.X, method, settings, seed, f"Projecting {len(arrows.X):,} words")
    if coords is None:
        return
    title = f"{key}: word1 \u2192 word2 by category"
    order = rel.category_names
    fig = relation_arrows(
        coords, arrows.start, arrows.end, arrows.categories, arrows.hover, category_order=order, title=title
    )
    fig = with_camera(fig, camera)
    st.plotly_chart(fig, key="ra-arrows")
    figure_downloads(fig, f"{rel.name}-{key}-ra-arrows", camera=camera)
