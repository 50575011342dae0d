"""Affinity: SA per model with CIs, per language pair, per concept (worst outliers), and the
static-vs-contextual degradation."""

import streamlit as st

from semanscope import appcore
from semanscope.plots import retrieval_heatmap, sa_heatmap
from semanscope.plots.tables import markdown_escape
from semanscope.ui.dataset import sidebar_view
from semanscope.ui.downloads import export_preset, figure_downloads, table_downloads
from semanscope.ui.errors import page, run_page
from semanscope.ui.runs import model_picker, model_runs
from semanscope.ui.scores import degradation_section, metric_picker, sa_chart, show_scores_note

page("Affinity")


def main() -> None:
    qs = sidebar_view()
    keys = model_picker(multi=True)
    metric = metric_picker()
    preset = export_preset()
    st.title("Semantic Affinity")
    if not keys:
        st.info("Choose one or more models in the sidebar.")
        return
    runs = model_runs(keys, qs)
    show_scores_note(qs)
    ok = [r for r in runs if r.ok]
    if not ok:
        return
    st.caption(
        f"**{markdown_escape(qs.name)}**: {qs.n_concepts} concepts x {qs.n_languages} languages "
        f"({', '.join(qs.languages)})"
    )

    st.header("SA per model")
    fig = sa_chart(runs, title=f"Semantic Affinity, {metric} (95% bootstrap CI over concepts)", metric=metric)
    st.plotly_chart(fig, key="sa-bars")
    figure_downloads(fig, f"{qs.name}-sa-per-model", preset=preset)
    table = appcore.score_table(runs, metric)
    st.dataframe(table, hide_index=True)
    table_downloads(table, f"{qs.name}-scores", caption=f"Semantic Affinity and retrieval on {qs.name}")

    st.header("Language pairs")
    for tab, run in zip(st.tabs([r.key for r in ok]), ok, strict=True):
        with tab:
            sa, ret = run.affinity_for(metric), run.retrieval
            c1, c2 = st.columns(2)
            title = f"SA ({metric}) per language pair: {run.key}"
            heat = sa_heatmap(sa.pair_sa, sa.languages, title, sa.pair_ci_low, sa.pair_ci_high)
            c1.plotly_chart(heat, key=f"sa-heat-{run.key}")
            c2.plotly_chart(retrieval_heatmap(ret.p_at_1, ret.languages, f"P@1: {run.key}"), key=f"p1-heat-{run.key}")
            table_downloads(
                appcore.matrix_frame(sa.pair_sa, sa.languages),
                f"{qs.name}-{run.key}-pair-sa",
                caption=f"SA per language pair, {run.key}",
            )

    st.header("Per concept: worst outliers")
    c1, c2 = st.columns(2)
    key = c1.selectbox("Model", [r.key for r in ok], key="outlier-model")
    k = c2.slider("Show the worst", 5, 50, 10, key="outlier-k")
    concepts = appcore.concept_table(next(r for r in ok if r.key == key), qs, metric)
    st.dataframe(concepts.head(k), hide_index=True)
    with st.expander(f"All {len(concepts)} concepts"):
        st.dataframe(concepts, hide_index=True)
    table_downloads(concepts, f"{qs.name}-{key}-concepts", caption=f"Per-concept SA, {key}")

    st.header("Static vs contextual degradation")
    degradation_section(runs, qs, name=qs.name)


run_page(main)
