"""Semanscope entry point: the page menu, and the Home page (what the tool measures, the built-in
data, and the study in one click)."""

import streamlit as st

from semanscope import appcore
from semanscope.data.languages import language_name
from semanscope.models.registry import list_models
from semanscope.plots.tables import markdown_escape
from semanscope.ui.downloads import table_downloads
from semanscope.ui.errors import page, run_page
from semanscope.ui.resources import builtin_queryset
from semanscope.ui.runs import model_runs
from semanscope.ui.scores import degradation_section, sa_chart

WHAT = """
When the same query is asked in many languages, do a model's embeddings put the translations together?

* **Semantic Affinity (SA)** compares how far apart the translations of one concept are (vertical
  spread *v*) with how far apart different texts of one language are (horizontal spread *H*):
  SA = 1 / (1 + mean *v* / *H*). 1 means translations coincide; 0.5 means translations are as
  far apart as unrelated texts. Reported overall and per language pair, with 95% bootstrap CIs over concepts.
* **Retrieval P@1 / MRR**: for each ordered language pair, is a concept's nearest neighbour in
  the other language its own translation?
* **Static vs contextual**: how much a static (word/token-vector) model loses against a
  contextual encoder, per language pair and script pair, with paired bootstrap CIs.

Pages: **Explore** (one model, 3D PHATE view, lasso selection), **Compare** (models side by side),
**Affinity** (heatmaps, per-concept outliers, degradation), **Data** (load your own query set).
"""


def home() -> None:
    page("Home", icon="🌐")
    run_page(main)


def main() -> None:
    st.title("Semanscope")
    st.markdown(WHAT)

    qs = builtin_queryset(appcore.DEFAULT_DATASET)
    st.header("Built-in data")
    st.markdown(
        f"**{markdown_escape(qs.name)}**: {qs.n_concepts} FAQ-style questions in {qs.n_languages} languages "
        f"({', '.join(f'{language_name(code)}' for code in qs.languages)}), on {len(qs.topic_names)} topics "
        f"({', '.join(qs.topic_names)}). License: {qs.provenance.get('license')}."
    )
    st.dataframe(qs.to_frame().head(5), hide_index=True)

    st.header("Run the study")
    infos = list_models()
    keys = appcore.default_models(infos)
    view = appcore.select(qs, appcore.default_languages(qs), max_concepts=appcore.default_max_concepts())
    names = {i.key: f"{i.display_name} ({i.family})" for i in infos}
    st.markdown(
        f"Models: {', '.join(names[k] for k in keys)}. Data: {view.n_concepts} concepts in "
        f"{', '.join(view.languages)} (change languages and models on the other pages)."
    )
    if st.button("Run the study", type="primary", icon=":material/play_arrow:"):
        st.session_state["home_study"] = True
    if not st.session_state.get("home_study"):
        return
    runs = model_runs(keys, view)
    if not any(r.ok for r in runs):
        return
    table = appcore.score_table(runs)
    st.dataframe(table, hide_index=True)
    table_downloads(table, "faq-study-scores", caption="Semantic Affinity and retrieval on the built-in FAQ set")
    st.plotly_chart(sa_chart(runs, title="Semantic Affinity (95% CI)"), key="home-sa")
    st.subheader("Answer")
    degradation_section(runs, view, heatmaps=False, name="home")


st.navigation(
    [
        st.Page(home, title="Home", icon=":material/home:", default=True),
        st.Page("pages/1_Explore.py", title="Explore", icon=":material/scatter_plot:"),
        st.Page("pages/2_Compare.py", title="Compare", icon=":material/compare:"),
        st.Page("pages/3_Affinity.py", title="Affinity", icon=":material/grid_on:"),
        st.Page("pages/4_Data.py", title="Data", icon=":material/table:"),
        st.Page("pages/5_Methods.py", title="Compare methods", icon=":material/view_column:"),
        st.Page("pages/6_Relational.py", title="Relational", icon=":material/arrow_right_alt:"),
        st.Page("pages/7_Models.py", title="Models", icon=":material/extension:"),
    ]
).run()
