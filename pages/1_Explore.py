"""Explore: one model on one query set - scores, an interactive 3D projection and a linked 2D
selection view (box / lasso) whose points can become the new language or concept subset."""

import streamlit as st

from semanscope import appcore
from semanscope.plots import scatter2d
from semanscope.plots.tables import markdown_escape
from semanscope.ui.dataset import sidebar_view
from semanscope.ui.downloads import figure_downloads, scatter_vector, table_downloads
from semanscope.ui.errors import page, run_page, show_error
from semanscope.ui.runs import model_picker, model_run, show_notes
from semanscope.ui.scores import metric_picker, score_metrics, selection_actions
from semanscope.ui.state import persistent
from semanscope.ui.views import (
    METHOD_NAMES,
    camera_controls,
    display_controls,
    projection,
    projection_controls,
    scatter_view,
    with_camera,
)

page("Explore")
COMPONENT_PAIRS = {"components 1-2": (0, 1), "components 1-3": (0, 2), "components 2-3": (1, 2)}


def main() -> None:
    qs = sidebar_view()
    (key,) = model_picker(multi=False)
    metric = metric_picker()
    method, settings, seed = projection_controls()
    style = display_controls()
    camera = camera_controls()

    st.title("Explore")
    run = model_run(key, qs)
    if not run.ok:
        show_error(f"{run.name} ({run.key}) {run.status}: {run.message}")
        return
    st.caption(
        f"{markdown_escape(run.name)} ({run.family}) on **{markdown_escape(qs.name)}**, "
        f"languages {', '.join(qs.languages)}"
    )
    score_metrics(run, metric=metric)
    show_notes(run)
    pts = appcore.points(qs)
    method_name = METHOD_NAMES.get(method, method)
    Y = projection(run.embeddings, method, settings, seed, f"{method_name} of {len(pts.texts):,} points")
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
    fig2 = scatter2d(
        Y[:, pair],
        pts.languages,
        pts.texts,
        pts.concept_ids,
        links=style.links,
        marker_size=style.marker_size * 2,
        opacity=style.opacity,
    )
    fig2.update_layout(dragmode="select" if drag == "box" else "lasso", height=520)
    chart_key = "explore2d-" + appcore.view_id(qs, key, method, settings, seed, pair)
    event = st.plotly_chart(fig2, key=chart_key, on_select="rerun", selection_mode=("points", "box", "lasso"))
    rows = appcore.selected_rows(event.selection if event else None, len(pts.texts))
    selection = appcore.describe_selection(qs, rows)
    selection_actions(selection)

    title = f"{run.name}: {qs.name} ({method_name})"
    fig3 = scatter_view(Y, pts, style, title, highlight=None if selection.empty else rows)
    fig3.update_layout(height=640)
    with view3d:
        st.plotly_chart(with_camera(fig3, camera), key="explore3d")

    with st.expander("Export figures and scores", icon=":material/download:"):
        name = f"{qs.name}-{key}-{method}"
        st.markdown("**3D view** (exports use the camera set in the sidebar)")
        vector3 = scatter_vector(Y, pts.languages, pts.concept_ids, style, camera, title)
        figure_downloads(fig3, f"{name}-3d", camera, vector3)
        st.markdown("**2D view**")
        vector2 = scatter_vector(Y[:, pair], pts.languages, pts.concept_ids, style, None, title)
        figure_downloads(fig2, f"{name}-2d", None, vector2)
        st.markdown("**Scores**")
        table_downloads(
            appcore.score_table([run], metric), f"{name}-scores", caption=f"Scores of {run.name} on {qs.name}"
        )


run_page(main)
