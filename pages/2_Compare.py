"""Compare: several models side by side on the same languages and concepts, with the same camera."""

import streamlit as st

from semanscope import appcore, ui
from semanscope.plots.tables import markdown_escape

ui.page("Compare")


def main() -> None:
    qs = ui.sidebar_view()
    keys = ui.model_picker(multi=True)
    metric = ui.metric_picker()
    method, settings, seed = ui.projection_controls()
    style = ui.display_controls()
    camera = ui.camera_controls()

    st.title("Compare models")
    if not keys:
        st.info("Choose two or more models in the sidebar.")
        return
    st.caption(
        f"**{markdown_escape(qs.name)}**: the same {qs.n_concepts} concepts in {', '.join(qs.languages)} "
        "for every model; "
        "one camera (sidebar) for all views."
    )
    runs = ui.model_runs(keys, qs)
    ok = [r for r in runs if r.ok]
    pts = appcore.points(qs)
    per_row = min(len(ok), 3) or 1
    method_name = ui.METHOD_NAMES.get(method, method)
    for start in range(0, len(ok), per_row):
        for col, run in zip(st.columns(per_row), ok[start : start + per_row], strict=False):
            with col:
                st.subheader(markdown_escape(run.name))
                st.caption(f"{markdown_escape(run.key)} - {run.family}")
                ui.score_metrics(run, full=False, metric=metric)
                Y = ui.projection(run.embeddings, method, settings, seed, f"{method_name} for {run.key}")
                if Y is None:
                    continue
                title = f"{run.key} ({method_name})"
                fig = ui.scatter_view(Y, pts, style, title)
                fig.update_layout(height=520)
                st.plotly_chart(ui.with_camera(fig, camera), key=f"compare3d-{run.key}")
                with st.expander("Export", icon=":material/download:"):
                    vector = ui.scatter_vector(Y, pts.languages, pts.concept_ids, style, camera, title)
                    ui.figure_downloads(fig, f"{qs.name}-{run.key}-{method}-3d", camera, vector)

    st.subheader("Scores")
    table = appcore.score_table(runs, metric)
    st.dataframe(table, hide_index=True)
    ui.table_downloads(table, f"{qs.name}-compare-scores", caption=f"Scores on {qs.name}")


ui.run_page(main)
