"""Scores on a page: the SA distance picker, score tiles, SA bars, the static-vs-contextual section and
what a 2D selection can become.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from semanscope import appcore
from semanscope.data.queryset import QuerySet
from semanscope.plots import degradation_heatmap, sa_bars
from semanscope.plots.tables import markdown_escape
from semanscope.report import answer, gap_table
from semanscope.study import SA_METRICS, ModelRun, Suite, study_result
from semanscope.ui.downloads import table_downloads
from semanscope.ui.state import CONCEPTS, LANGUAGES, SA_METRIC, keep, persistent

SA_METRIC_LABELS = {"cosine": "cosine", "euclidean": "Euclidean (RMS)"}


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
    """SA of ``metric`` and P@1 as ``st.metric`` tiles, each with its 95% CI in a caption below;
    ``full`` adds MRR (with CI) and the view size."""
    sa, ret = run.affinity_for(metric), run.retrieval
    tiles = st.columns(4 if full else 2)
    num = appcore.number_text
    label = f"Semantic Affinity ({metric})" if metric != "cosine" else "Semantic Affinity"
    shown = [
        (label, sa.sa, sa.ci_low, sa.ci_high, f"bootstrap over concepts; status {run.score_status}"),
        ("P@1", ret.mean_p_at_1, ret.p_at_1_ci_low, ret.p_at_1_ci_high, "share of queries whose translation is first"),
    ]
    if full:
        shown.append(("MRR", ret.mean_mrr, ret.mrr_ci_low, ret.mrr_ci_high, "mean reciprocal rank of the translation"))
    for col, (name, value, low, high, about) in zip(tiles, shown, strict=False):
        ci = appcore.ci_text(low, high)
        col.metric(name, num(value), help=f"{about}; {ci}")
        col.caption(ci)
    if full:
        tiles[3].metric("Concepts x languages", f"{sa.n_concepts} x {sa.n_languages}")


def show_scores_note(qs: QuerySet) -> None:
    """For a view too small for scores, a note saying what the scores need
    (:func:`appcore.scores_note`); nothing otherwise."""
    note = appcore.scores_note(qs)
    if note:
        st.info(note, icon=":material/info:")


def selection_actions(selection: appcore.PointSelection, qs: QuerySet, key: str = "") -> None:
    """What a 2D selection of points of ``qs`` can become: buttons keeping its concepts or its
    languages (the view, and every score, is then recomputed for that subset). A button that
    would change nothing is disabled and says why; a subset too small for scores is allowed
    (the points are drawn, a note says what the scores need)."""
    if selection.empty:
        st.caption("Drag a box or a lasso on a 2D view to select points; they are highlighted in every view.")
        return
    n_concepts, n_languages = len(selection.concept_ids), len(selection.languages)
    st.markdown(
        f"**{selection.rows.size} points selected**: {n_concepts} concepts in "
        f"{n_languages} languages ({', '.join(selection.languages)})"
    )
    scores = (
        f"Scores need at least {appcore.SCORE_MIN_CONCEPTS} concepts and {appcore.SCORE_MIN_LANGUAGES} languages; "
        "a smaller view is drawn without them."
    )
    all_concepts, all_languages = n_concepts == qs.n_concepts, n_languages == qs.n_languages
    c1, c2 = st.columns(2)
    c1.button(
        "Keep selected concepts",
        on_click=keep,
        args=(CONCEPTS, selection.concept_ids),
        key=f"keep-concepts{key}",
        disabled=all_concepts,
        help=f"The selection covers all {n_concepts} concepts of the view already; nothing to drop."
        if all_concepts
        else f"Show only these {n_concepts} concept(s) on every page. {scores}",
    )
    c2.button(
        "Keep selected languages",
        on_click=keep,
        args=(LANGUAGES, list(selection.languages)),
        key=f"keep-languages{key}",
        disabled=all_languages,
        help=f"The selection covers all {n_languages} languages of the view already; nothing to drop."
        if all_languages
        else f"Show only these {n_languages} language(s) on every page. {scores}",
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
