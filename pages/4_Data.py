"""Data: choose the built-in set or upload one (CSV/TSV, JSON lines, Parquet, WebFAQ bitexts,
XQuAD), see what the loader reported, preview it and pick languages and topics."""

import streamlit as st

from semanscope import appcore
from semanscope.data.builtin import list_builtin
from semanscope.data.loaders import FORMATS, MAX_FILE_MB
from semanscope.paths import XQUAD_DEFAULT
from semanscope.plots.tables import markdown_escape
from semanscope.ui.dataset import (
    TYPED_LANGUAGES,
    current_dataset,
    load_files,
    sidebar_view,
    stash_upload,
    typed_codes,
    typed_key,
    use_builtin,
    use_file,
    use_lists,
)
from semanscope.ui.errors import page, run_page, show_error
from semanscope.ui.state import DATASET_REPORT, UPLOAD

page("Data")


def typed_lists() -> None:
    """One text area per language; line k of every list is concept k."""
    st.markdown(
        "One item per line; line *k* of every language is concept *k*. Blank lines and lines starting "
        "with `#` are skipped; `a | b` gives alternatives. One language is enough to explore the points; "
        "Semantic Affinity and retrieval need at least 2 languages and 3 concepts."
    )
    st.text_input(
        "Languages (codes or names, comma-separated)", value="en, de", key=TYPED_LANGUAGES, help="e.g. en, de, zh"
    )
    codes = typed_codes()
    cols = st.columns(min(len(codes), 4) or 1)
    for i, code in enumerate(codes):
        cols[i % len(cols)].text_area(
            markdown_escape(code), key=typed_key(code), height=220, placeholder="one item per line"
        )
    st.button(
        "Use these lists",
        type="primary",
        on_click=use_lists,
        disabled=not codes,
        key="use-typed",
        help=None if codes else "Name at least one language first.",
    )


def main() -> None:
    st.title("Data")
    st.markdown("The query set used by every page. Languages and topics are chosen in the sidebar.")
    builtin, upload, typed = st.tabs(["Built-in sets", "Upload", "Type or paste"])
    with builtin:
        for name, text in list_builtin().items():
            st.button(f"Use built-in '{name}': {text}", on_click=use_builtin, args=(name,), key=f"use-{name}")
        if XQUAD_DEFAULT.is_file():
            st.button(
                "Use XQuAD questions (shared data folder)",
                on_click=use_file,
                args=(str(XQUAD_DEFAULT), "xquad"),
                key="use-xquad",
            )
    with upload:
        st.file_uploader(
            f"Query set file(s), up to {MAX_FILE_MB} MB; several files = WebFAQ bitexts or XQuAD files to join",
            type=["csv", "tsv", "txt", "jsonl", "json", "parquet"],
            accept_multiple_files=True,
            key="uploader",
            on_change=stash_upload,
        )
        c1, c2 = st.columns(2)
        fmt = c1.selectbox(
            "Format", ["auto", *FORMATS], format_func=lambda f: "detect" if f == "auto" else f"{f}: {FORMATS[f]}"
        )
        pivot = c2.text_input("Pivot language (WebFAQ / XQuAD joins)", "en")
        st.button(
            "Load",
            type="primary",
            on_click=load_files,
            args=(None if fmt == "auto" else fmt, pivot),
            disabled=not st.session_state.get(UPLOAD),
            help="Load the chosen file(s) as the data of every page (choose a file above first).",
            key="load-upload",
        )
    with typed:
        typed_lists()
    error = st.session_state.get("data_error")
    if error:
        show_error(error, "Loading the data")

    qs = current_dataset()
    if qs.n_languages < 2 or qs.n_concepts < 3:
        st.info(
            f"This set has {qs.n_concepts} concept(s) in {qs.n_languages} language(s): the pages draw its points, "
            "but Semantic Affinity and retrieval need at least 2 languages and 3 concepts.",
            icon=":material/info:",
        )
    view = sidebar_view()
    st.header(f"Current set: {markdown_escape(qs.name)}")
    prov = qs.provenance
    st.markdown(
        f"{qs.n_concepts:,} concepts, {qs.n_languages} languages, {len(qs.topic_names)} topics; "
        f"license: {markdown_escape(prov.get('license') or 'unknown')}; "
        f"source: {markdown_escape(prov.get('source', '-'))}"
    )
    for line in st.session_state.get(DATASET_REPORT) or []:
        st.warning(markdown_escape(line), icon=":material/info:")
    st.dataframe(appcore.language_coverage(qs), hide_index=True)
    st.header("Current view")
    dropped = view.provenance.get("dropped_incomplete", 0)
    note = f" ({dropped} concepts without a text in some chosen language left out)" if dropped else ""
    st.markdown(f"{view.n_concepts:,} complete concepts in {', '.join(view.languages)}{note}")
    st.dataframe(appcore.preview_frame(view.to_frame(), 500), hide_index=True)


run_page(main)
