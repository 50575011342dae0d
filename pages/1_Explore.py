"""Explore: one model on one query set - scores, an interactive 3D projection and a linked 2D
selection view (box / lasso) whose points can become the new language or concept subset."""

import streamlit as st

from semanscope import appcore
from semanscope.plots.tables import markdown_escape
from semanscope.ui.dataset import sidebar_view
from semanscope.ui.downloads import (
    coordinates_download,
    export_preset,
    figure_downloads,
    scatter_vector,
    table_downloads,
)
from semanscope.ui.errors import page, run_page, show_error
from semanscope.ui.runs import model_picker, model_run, show_notes
from semanscope.ui.scores import metric_picker, score_metrics, selection_actions, show_scores_note
from semanscope.ui.state import persistent
from semanscope.ui.views import (
    PLOT_CONFIG,
    camera_controls,
    display_controls,
    method_label,
    projection,
    projection_controls,
    scatter_view,
    search_box,
    with_camera,
)

page("Explore")
COMPONENT_PAIRS = {"components 1-2": (0, 1), "components 1-3": (0, 2), "components 2-3": (1, 2)}


def main() -> None:
    qs = sidebar_view()
    matches = search_box(qs)
    (key,) = model_picker(multi=False)
    metric = metric_picker()
    method, settings, seed = projection_controls()
    style = display_controls(qs)
    camera = camera_controls()
    preset = export_preset()

    st.title("Explore")
    run = model_run(key, qs)
    if run.embeddings is None:
        show_error(f"{run.name} ({run.key}) {run.status}: {run.message}")
        return
    st.caption(
        f"{markdown_escape(run.name)} ({run.family}) on **{markdown_escape(qs.name)}**, "
        f"languages {', '.join(qs.languages)}"
    )
    show_scores_note(qs)
    if run.ok:
        score_metrics(run, metric=metric)
    show_notes(run)
    sample = appcore.plot_sample(qs, style.sample, seed, include=matches)
    view, marked = sample.view, appcore.search_rows(sample.view, matches)
    st.caption(appcore.sample_note(qs, sample, len(matches)))
    method_name = method_label(method)
    n_points = sample.rows.size
    Y = projection(run.embeddings[sample.rows], method, settings, seed, f"{method_name} of {n_points:,} points")
    if Y is None:
        return

    view3d = st.container()
    st.subheader("Linked 2D view")
    c1, c2 = st.columns(2)
    pair_name = persistent(
        c1.radio, str, "Axes", "explore_pair", "components 1-2", options=list(COMPONENT_PAIRS), horizontal=True
    )
    drag = persistent(
        c2.radio, str, "Drag to select with", "explore_drag", "box", options=["box", "lasso"], horizontal=True
    )
    pair = list(COMPONENT_PAIRS[pair_name])
    fig2 = scatter_view(Y[:, pair], view, style, "", marked=marked)
    fig2.update_layout(dragmode="select" if drag == "box" else "lasso", height=560)
    chart_key = "explore2d-" + appcore.view_id(view, key, method, settings, seed, pair)
    event = st.plotly_chart(
        fig2, key=chart_key, on_select="rerun", selection_mode=("points", "box", "lasso"), config=PLOT_CONFIG
    )
    rows = appcore.selected_rows(event.selection if event else None, n_points)
    selection = appcore.describe_selection(view, rows)
    selection_actions(selection, qs)

    title = f"{run.name}: {qs.name} ({method_name})"
    fig3 = scatter_view(Y, view, style, title, highlight=None if selection.empty else rows, marked=marked)
    fig3.update_layout(height=680)
    with view3d:
        st.plotly_chart(with_camera(fig3, camera), key="explore3d", config=PLOT_CONFIG)

    with st.expander("Export figures and scores", icon=":material/download:"):
        name = f"{qs.name}-{key}-{method}"
        pts = appcore.points(view)
        st.markdown("**3D view** (exports use the camera set in the sidebar)")
        vector3 = scatter_vector(Y, pts.languages, pts.concept_ids, style, camera, title, preset)
        figure_downloads(fig3, f"{name}-3d", camera, vector3, preset)
        coordinates_download(Y, pts, f"{name}-3d")
        st.markdown("**2D view**")
        vector2 = scatter_vector(Y[:, pair], pts.languages, pts.concept_ids, style, None, title, preset)
        figure_downloads(fig2, f"{name}-2d", None, vector2, preset)
        if run.ok:
            st.markdown("**Scores**")
            table_downloads(
                appcore.score_table([run], metric), f"{name}-scores", caption=f"Scores of {run.name} on {qs.name}"
            )


run_page(main)
