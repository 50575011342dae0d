"""Relational Affinity: does a model encode a relation (word1 -> word2, e.g. king -> queen) as one
direction, within a language and across languages? Tables, heatmaps and arrows on a projection."""

import streamlit as st

from semanscope.ui.errors import page, run_page
from semanscope.ui.relational import (
    cross_section,
    projection_section,
    relation_set_section,
    relational_study,
    sidebar_selection,
    summary_section,
    within_section,
)
from semanscope.ui.runs import model_picker

page("Relational")


def main() -> None:
    st.title("Relational Affinity")
    st.markdown(
        "Relation vector r = u(word2) - u(word1) on unit word vectors. **Within-language RA** of a category: "
        "mean cosine between its relation vectors in one language. **Cross-language RA**: cosine between one "
        "relation's vectors in two languages, averaged over relations. 1 = parallel, 0 = unrelated, "
        "negative = opposite; zero relation vectors (the same word on both sides) are excluded and counted."
    )
    rel = sidebar_selection(relation_set_section())
    keys = model_picker(multi=True)
    if not keys:
        st.info("Choose one or more models in the sidebar.")
        return
    study = relational_study(keys, rel)
    if not study.ok_runs:
        return
    summary_section(study)
    st.header("Within a language, per category")
    within_section(study)
    st.header("Across languages")
    cross_section(study)
    st.header("Arrows on a projection")
    projection_section(study)


run_page(main)
