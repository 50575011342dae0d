"""Compare methods: one model, several projection methods side by side on the same selection, with the
same colours and camera, the cost and quality of each, and an optional KMeans clustering overlay."""

import streamlit as st

from semanscope import appcore
from semanscope.plots.tables import markdown_escape
from semanscope.ui.clustering import CLUSTERS_EXPLAINED, cached_cluster_labels, cluster_colouring, cluster_controls
from semanscope.ui.dataset import sidebar_view
from semanscope.ui.downloads import export_preset, figure_downloads, scatter_vector, table_downloads
from semanscope.ui.errors import guard, page, run_page, show_error
from semanscope.ui.methods import QUALITY_EXPLAINED, method_controls, method_runs, method_summary
from semanscope.ui.runs import model_picker, model_run, show_notes
from semanscope.ui.views import camera_controls, display_controls, method_label, scatter_view, with_camera

page("Compare methods")


def main() -> None:
    qs = sidebar_view()
    (key,) = model_picker(multi=False)
    methods, seed = method_controls()
    style = display_controls(qs)
    camera = camera_controls()
    preset = export_preset()
    pts = appcore.points(qs)
    clusters = cluster_controls(qs.n_concepts, len(pts.texts))

    st.title("Compare methods")
    if not methods:
        st.info("Choose one or more projection methods in the sidebar.")
        return
    run = model_run(key, qs)
    if not run.ok:
        show_error(f"{run.name} ({run.key}) {run.status}: {run.message}")
        return
    show_notes(run)
    st.caption(
        f"{markdown_escape(run.name)} ({run.family}) on **{markdown_escape(qs.name)}**: the same "
        f"{qs.n_concepts} concepts in {markdown_escape(', '.join(qs.languages))} for every method; "
        "one camera (sidebar) for all views."
    )
    runs = method_runs(run.embeddings, methods, seed)
    labels, caption = None, ""
    if clusters is not None and clusters.on_embeddings:
        with guard("KMeans clustering"):
            labels, caption = cached_cluster_labels(run.embeddings, pts.concept_ids, clusters.k, seed)
            st.markdown(f"**Clusters**: {caption}")
            st.caption(CLUSTERS_EXPLAINED)

    per_row = min(len(runs), 3)
    items = list(runs.values())
    for start in range(0, len(items), per_row):
        for col, method_run in zip(st.columns(per_row), items[start : start + per_row], strict=False):
            with col:
                name = method_label(method_run.method)
                st.subheader(name)
                if method_run.coords is None:
                    show_error(method_run.error or "failed", f"{name} projection")
                    continue
                Y = method_run.coords
                title = f"{run.key} ({name})"
                if clusters is not None and not clusters.on_embeddings:
                    labels = None
                    with guard(f"KMeans clustering of the {name} projection"):
                        labels, caption = cached_cluster_labels(Y, pts.concept_ids, clusters.k, seed, cosine=False)
                        st.caption(caption)
                colouring = None if labels is None else cluster_colouring(labels)
                fig = scatter_view(Y, qs, style, title, colouring=colouring)
                fig.update_layout(height=480)
                st.plotly_chart(with_camera(fig, camera), key=f"methods3d-{method_run.method}")
                with st.expander("Export", icon=":material/download:"):
                    vector = scatter_vector(Y, pts.languages, pts.concept_ids, style, camera, title, preset)
                    figure_downloads(fig, f"{qs.name}-{run.key}-{method_run.method}-3d", camera, vector, preset)
    if clusters is not None and not clusters.on_embeddings:
        st.caption(CLUSTERS_EXPLAINED)

    st.subheader("Cost and quality")
    table = method_summary(runs, run.embeddings)
    st.dataframe(table, hide_index=True)
    st.caption(QUALITY_EXPLAINED)
    table_downloads(table, f"{qs.name}-{run.key}-methods", caption=f"Projection methods for {run.name} on {qs.name}")


run_page(main)
