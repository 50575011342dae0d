"""Compare: several models side by side on the same languages and concepts, with the same camera."""

import streamlit as st

from semanscope import appcore
from semanscope.plots.tables import markdown_escape
from semanscope.ui.dataset import sidebar_view
from semanscope.ui.downloads import figure_downloads, scatter_vector, table_downloads
from semanscope.ui.errors import page, run_page
from semanscope.ui.runs import model_picker, model_runs
from semanscope.ui.scores import metric_picker, score_metrics
from semanscope.ui.views import (
    METHOD_NAMES,
    camera_controls,
    display_controls,
    projection,
    projection_controls,
    scatter_view,
    with_camera,
)

page("Compare")


def main() -> None:
    qs = sidebar_view()
    keys = model_picker(multi=True)
    metric = metric_picker()
    method, settings, seed = projection_controls()
    style = display_controls()
    camera = camera_controls()

    st.title("Compare models")
    if not keys:
        st.info("Choose two or more models in the sidebar.")
        return
    st.caption(
        f"**{markdown_escape(qs.name)}**: the same {qs.n_concepts} concepts in {', '.join(qs.languages)} "
        "for every model; "
        "one camera (sidebar) for all views."
    )
    runs = model_runs(keys, qs)
    ok = [r for r in runs if r.ok]
    pts = appcore.points(qs)
    per_row = min(len(ok), 3) or 1
    method_name = METHOD_NAMES.get(method, method)
    for start in range(0, len(ok), per_row):
        for col, run in zip(st.columns(per_row), ok[start : start + per_row], strict=False):
            with col:
                st.subheader(markdown_escape(run.name))
                st.caption(f"{markdown_escape(run.key)} - {run.family}")
                score_metrics(run, full=False, metric=metric)
                Y = projection(run.embeddings, method, settings, seed, f"{method_name} for {run.key}")
                if Y is None:
                    continue
                title = f"{run.key} ({method_name})"
                fig = scatter_view(Y, pts, style, title)
                fig.update_layout(height=520)
                st.plotly_chart(with_camera(fig, camera), key=f"compare3d-{run.key}")
                with st.expander("Export", icon=":material/download:"):
                    vector = scatter_vector(Y, pts.languages, pts.concept_ids, style, camera, title)
                    figure_downloads(fig, f"{qs.name}-{run.key}-{method}-3d", camera, vector)

    st.subheader("Scores")
    table = appcore.score_table(runs, metric)
    st.dataframe(table, hide_index=True)
    table_downloads(table, f"{qs.name}-compare-scores", caption=f"Scores on {qs.name}")


run_page(main)
