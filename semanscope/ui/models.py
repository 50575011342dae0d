"""The Models page's widgets: adding a model for this session (a folder, file, hub name or
endpoint; only where the deployment allows it) and the catalogue of the paper's models.

Added models go into the registry under their key and into ``st.session_state[USER_MODELS]``;
the model pickers of every page show the built-in models plus this session's additions
(:func:`semanscope.appcore.visible_models`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import streamlit as st

from semanscope import appcore
from semanscope.models.endpoint import DEFAULT_KEY_ENV
from semanscope.models.registry import register_user_model
from semanscope.plots.tables import markdown_escape
from semanscope.ui.errors import keep_error
from semanscope.ui.state import USER_MODELS

MODELS_ERROR = "models_error"  # message of the last failed add, shown once
MODELS_ADDED = "models_added"  # name of the last added model, shown once

KIND_HELP = {
    "sentence-transformers": "a sentence-transformers folder on the server, or a hub name already in its local cache",
    "fasttext": "a fastText .bin or .vec file on the server (aligned vectors: one file for all languages)",
    "model2vec": "a model2vec folder on the server (config.json, model.safetensors, tokenizer.json)",
    "endpoint": "the base URL of an OpenAI-compatible API, e.g. http://localhost:11434/v1 (Ollama)",
}
ENABLE_HELP = (
    f"Adding models from server paths or URLs is off: a shared deployment must not let visitors read "
    f"the server's disk or make it call other hosts. An administrator enables it with the environment "
    f"variable `{appcore.ALLOW_SERVER_MODELS_ENV}=1` or `{appcore.ALLOW_SERVER_MODELS_SECRET} = true` "
    f"in `.streamlit/secrets.toml`."
)


def _secrets() -> Mapping[str, object]:
    """``st.secrets`` as a mapping; empty when there is no secrets file (reading it then raises)."""
    try:
        return dict(st.secrets)
    except Exception:  # noqa: BLE001 - no or unreadable secrets.toml: nothing is allowed by it
        return {}


def server_models_allowed() -> bool:
    """:func:`semanscope.appcore.server_models_allowed` for this process's environment and secrets."""
    return appcore.server_models_allowed(os.environ, _secrets())


def add_model(kind: str, source: str, key: str = "", **options: Any) -> None:
    """``on_click``: register a user model and show it in this session's pickers; a failure is
    kept in :data:`MODELS_ERROR` for the page to show (the session stays usable)."""
    st.session_state[MODELS_ADDED] = None

    def add() -> None:
        if not source.strip():
            raise ValueError("give a path, name or URL")
        info = register_user_model(kind, source.strip(), key=key.strip() or None, **options)
        keys = [k for k in st.session_state.get(USER_MODELS) or [] if k != info.key]
        st.session_state[USER_MODELS] = [*keys, info.key]
        st.session_state[MODELS_ADDED] = f"{info.display_name} ({info.key}): {info.status.replace('-', ' ')}"

    keep_error(MODELS_ERROR, add)


def remove_model(key: str) -> None:
    """``on_click``: hide a model this session added (other sessions keep theirs)."""
    st.session_state[USER_MODELS] = [k for k in st.session_state.get(USER_MODELS) or [] if k != key]


def add_form() -> None:
    """Kind, source and options of a model to add, with an Add button (call only when allowed)."""
    kind = st.radio("Kind", list(KIND_HELP), horizontal=True, key="add_kind") or "sentence-transformers"
    st.caption(markdown_escape(KIND_HELP[kind]))
    if kind == "endpoint":
        c1, c2, c3 = st.columns(3)
        source = c1.text_input("Base URL", key="add_url", placeholder="http://localhost:11434/v1")
        model = c2.text_input("Model name on the server", key="add_endpoint_model", placeholder="bge-m3")
        key_env = c3.text_input(
            "API key environment variable",
            value=DEFAULT_KEY_ENV,
            key="add_key_env",
            help="The name of a variable in the server's environment; the key itself is never asked for, "
            "stored, cached or written to results.",
        )
        options: dict[str, object] = {"model": model.strip(), "api_key_env": key_env.strip() or DEFAULT_KEY_ENV}
    else:
        source = st.text_input("Path or name", key="add_source")
        options = {}
    key = st.text_input("Key (optional)", key="add_key", help="A short name for tables and file names.")
    st.button(
        "Add model",
        on_click=add_model,
        args=(kind, source, key),
        kwargs=options,
        disabled=not source.strip(),
        help="Give a path, name or URL first." if not source.strip() else None,
        key="add_model",
    )


def show_outcome() -> None:
    """The result of the last add (success or one-line error), once."""
    if st.session_state.get(MODELS_ERROR):
        st.error(f"Adding the model failed: {markdown_escape(st.session_state[MODELS_ERROR])}", icon=":material/error:")
    elif st.session_state.get(MODELS_ADDED):
        st.success(f"Added {markdown_escape(st.session_state[MODELS_ADDED])}", icon=":material/check:")
