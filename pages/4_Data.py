"""Data: choose the built-in set or upload one (CSV/TSV, JSON lines, Parquet, WebFAQ bitexts,
XQuAD), see what the loader reported, preview it and pick languages and topics."""

import streamlit as st

from semanscope import appcore
from semanscope.data.builtin import list_builtin
from semanscope.data.loaders import FORMATS, MAX_FILE_MB
from semanscope.paths import XQUAD_DEFAULT
from semanscope.plots.tables import markdown_escape
from semanscope.ui.dataset import current_dataset, load_files, sidebar_view, stash_upload, use_builtin, use_file
from semanscope.ui.errors import page, run_page, show_error
from semanscope.ui.state import DATASET_REPORT, UPLOAD

page("Data")


def main() -> None:
    st.title("Data")
    st.markdown("The query set used by every page. Languages and topics are chosen in the sidebar.")
    builtin, upload = st.tabs(["Built-in sets", "Upload"])
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
    error = st.session_state.get("data_error")
    if error:
        show_error(error, "Loading the data")

    qs = current_dataset()
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
