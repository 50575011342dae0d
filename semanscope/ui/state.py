"""Session state of the app: the session keys every page shares and :func:`persistent`, a widget whose value
survives page switches.

Everything a user chooses lives in ``st.session_state`` (per browser session). Widgets that several pages
share (languages, models, projection, camera) mirror a plain session key, so a choice survives page switches.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import streamlit as st

T = TypeVar("T")

# session keys (plain values; widgets mirror them through ``persistent``)
DATASET = "dataset"  # QuerySet chosen on the Data page; absent = built-in FAQ
DATASET_REPORT = "dataset_report"  # loader report lines of that set
LANGUAGES = "languages"
TOPICS = "topics"
CONCEPTS = "concept_filter"  # tuple of concept ids kept from a selection, or None
MAX_CONCEPTS = "max_concepts"  # 0 = all
MODEL = "model"  # Explore
MODELS = "models"  # Compare, Affinity
SA_METRIC = "sa_metric"  # SA distance shown: cosine / euclidean
USER_MODELS = "user_models"  # keys of the models this session added on the Models page
UPLOAD = "upload_files"  # [(file name, bytes)] waiting on the Data page (set by the uploader)


def _sync(widget_key: str, key: str) -> None:
    st.session_state[key] = st.session_state[widget_key]


def persistent(
    widget: Callable[..., object], kind: type[T], label: str, key: str, default: object, **kwargs: object
) -> T:
    """``widget(label, ...)`` whose value lives in ``st.session_state[key]`` (initialised to
    ``default``), so it survives page switches; the widget itself uses key ``w:<key>``.

    The value must be a ``kind`` (e.g. ``list`` for a multiselect, ``int`` for an integer
    slider): Streamlit's widgets return different types for different arguments, so the
    caller says which one it relies on, and a mismatch is a TypeError here, not later.
    """
    if key not in st.session_state:
        st.session_state[key] = default
    widget_key = f"w:{key}"
    st.session_state[widget_key] = st.session_state[key]
    value = widget(label, key=widget_key, on_change=_sync, args=(widget_key, key), **kwargs)
    if not isinstance(value, kind):
        raise TypeError(f"{label}: the widget returned a {type(value).__name__}, expected a {kind.__name__}")
    return value


def keep(key: str, value: object) -> None:
    """``on_click`` callback: ``st.session_state[key] = value``."""
    st.session_state[key] = value
