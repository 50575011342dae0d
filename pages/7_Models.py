"""Models: every model with its status, models added for this session (folders, files, hub
names, OpenAI-compatible endpoints; where the deployment allows it) and the paper's catalogue."""

import streamlit as st

from semanscope import appcore
from semanscope.models.catalogue import catalogue, catalogue_key
from semanscope.models.registry import list_models
from semanscope.plots.tables import markdown_escape
from semanscope.ui.errors import page, run_page
from semanscope.ui.models import ENABLE_HELP, add_form, add_model, remove_model, server_models_allowed, show_outcome
from semanscope.ui.state import USER_MODELS

page("Models", icon="🧩")


def main() -> None:
    st.title("Models")
    infos = appcore.visible_models(list_models(), st.session_state.get(USER_MODELS) or [])
    st.caption(
        "Every model the pages can use here, with what to do for those that are not available. "
        '"default" marks the static and the contextual model the pages start with (`e5-small-int8` once '
        "`semanscope setup` built it and its cosine check passed, else `e5-small-nano`)."
    )
    st.dataframe(appcore.model_table(infos), hide_index=True)

    st.subheader("Add a model")
    show_outcome()
    if server_models_allowed():
        add_form()
    else:
        st.info(ENABLE_HELP, icon=":material/lock:")
    added = [i for i in infos if i.kind != "builtin"]
    if added:
        st.markdown("**Added in this session**")
        for info in added:
            c1, c2 = st.columns([4, 1])
            c1.markdown(f"{markdown_escape(info.display_name)} (`{markdown_escape(info.key)}`), {info.kind}")
            c2.button("Remove", key=f"remove:{info.key}", on_click=remove_model, args=(info.key,))

    st.subheader("Catalogue: the paper's models")
    st.caption(
        "Loaded from the local Hugging Face cache only (Semanscope never downloads at run time): "
        "on a machine with internet, fetch a model once and it becomes available here."
    )
    session = set(st.session_state.get(USER_MODELS) or [])
    for entry, info in catalogue():
        c1, c2 = st.columns([4, 1])
        status = "available" if info.available else info.fix
        c1.markdown(
            f"**{markdown_escape(entry.display_name)}** `{markdown_escape(entry.name)}`: "
            f"{markdown_escape(entry.note)}. *{markdown_escape(status)}*"
        )
        key = catalogue_key(entry)
        c2.button(
            "Added" if key in session else "Add",
            key=f"catalogue:{entry.name}",
            on_click=add_model,
            args=("sentence-transformers", entry.name, key),
            disabled=not info.available or key in session,
            help="Already in this session's pickers." if key in session else (None if info.available else info.fix),
        )


run_page(main)
