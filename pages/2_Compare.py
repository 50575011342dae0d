"""Compare: several models side by side on the same languages and concepts, with the same camera,
the same plotted sample and linked 2D views (a box / lasso selection in any model's 2D view is
highlighted in every model's views and can become the new concept or language subset)."""

from functools import partial

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
from semanscope.ui.errors import page, run_page
from semanscope.ui.runs import model_picker, model_runs
from semanscope.ui.scores import metric_picker, score_metrics, selection_actions, show_scores_note
from semanscope.ui.state import keep
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

page("Compare")
ACTIVE = "compare_active_2d"  # key of the 2D chart whose selection was made last


def main() -> None:
    qs = sidebar_view()
    matches = search_box(qs)
    keys = model_picker(multi=True)
    metric = metric_picker()
    method, settings, seed = projection_controls()
    style = display_controls(qs)
    camera = camera_controls()
    preset = export_preset()

    st.title("Compare models")
    if not keys:
        st.info("Choose two or more models in the sidebar.")
        return
    st.caption(
        f"**{markdown_escape(qs.name)}**: the same {qs.n_concepts} concepts in {', '.join(qs.languages)} "
        "for every model; one camera (sidebar) for all views."
    )
    runs = model_runs(keys, qs)
    show_scores_note(qs)
    drawn = [r for r in runs if r.embeddings is not None]
    sample = appcore.plot_sample(qs, style.sample, seed, include=matches)
    view, marked = sample.view, appcore.search_rows(sample.view, matches)
    st.caption(appcore.sample_note(qs, sample, len(matches)))
    method_name = method_label(method)
    coords = {}
    for run in drawn:
        Y = projection(run.embeddings[sample.rows], method, settings, seed, f"{method_name} for {run.key}")
        if Y is not None:
            coords[run.key] = Y
    view_key = appcore.view_id(view, method, settings, seed)
    chart_keys = {k: f"compare2d-{k}-{view_key}" for k in coords}
    active = st.session_state.get(ACTIVE)
    state = st.session_state.get(active) if active in chart_keys.values() else None
    rows = appcore.selected_rows(state.get("selection") if state else None, sample.rows.size)
    selection = appcore.describe_selection(view, rows)
    highlight = None if selection.empty else rows

    per_row = min(len(drawn), 3) or 1
    for start in range(0, len(drawn), per_row):
        for col, run in zip(st.columns(per_row), drawn[start : start + per_row], strict=False):
            with col:
                st.subheader(markdown_escape(run.name))
                st.caption(f"{markdown_escape(run.key)} - {run.family}")
                if run.ok:
                    score_metrics(run, full=False, metric=metric)
                if run.key not in coords:
                    continue
                Y = coords[run.key]
                title = f"{run.key} ({method_name})"
                fig = scatter_view(Y, view, style, title, highlight=highlight, marked=marked)
                fig.update_layout(height=560)
                st.plotly_chart(with_camera(fig, camera), key=f"compare3d-{run.key}", config=PLOT_CONFIG)
                chart = chart_keys[run.key]
                others = None if chart == active else highlight  # the active chart shows its own selection
                fig2 = scatter_view(Y[:, :2], view, style, f"{run.key}: 2D", highlight=others, marked=marked)
                fig2.update_layout(dragmode="select", height=480)
                st.plotly_chart(
                    fig2,
                    key=chart,
                    on_select=partial(keep, ACTIVE, chart),
                    selection_mode=("points", "box", "lasso"),
                    config=PLOT_CONFIG,
                )
                with st.expander("Export", icon=":material/download:"):
                    pts = appcore.points(view)
                    vector = scatter_vector(Y, pts.languages, pts.concept_ids, style, camera, title, preset)
                    figure_downloads(fig, f"{qs.name}-{run.key}-{method}-3d", camera, vector, preset)
                    coordinates_download(Y, pts, f"{qs.name}-{run.key}-{method}-3d")
    selection_actions(selection, qs, key="-compare")

    st.subheader("Scores")
    table = appcore.score_table(runs, metric)
    st.dataframe(table, hide_index=True)
    table_downloads(table, f"{qs.name}-compare-scores", caption=f"Scores on {qs.name}")


run_page(main)
