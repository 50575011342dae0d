"""Resources shared by every session behind ``st.cache_resource``: loaded models and built-in query sets
(read-only), the embedding and projection caches (thread-safe).
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from semanscope.cache import EmbeddingCache
from semanscope.data.builtin import load_builtin
from semanscope.data.queryset import QuerySet
from semanscope.models.base import Embedder
from semanscope.models.registry import default_cache_dir, load_model
from semanscope.reduce import ProjectionCache


@st.cache_resource(show_spinner=False)
def builtin_queryset(name: str) -> QuerySet:
    """A built-in query set (immutable, shared by all sessions)."""
    return load_builtin(name)


@st.cache_resource(show_spinner=False, max_entries=8)
def load_embedder(key: str) -> Embedder:
    """A loaded model, shared by all sessions (a failure is not cached: the next call retries)."""
    return load_model(key)


@st.cache_resource(show_spinner=False)
def embedding_cache(directory: str) -> EmbeddingCache:
    """The persistent embedding cache shared with the CLI (``<cache>/embeddings``)."""
    return EmbeddingCache(directory)


@st.cache_resource(show_spinner=False)
def projection_cache(directory: str) -> ProjectionCache:
    """Projections cached in memory and on disk (``<cache>/projections``), shared by all sessions
    (the cache is thread-safe); memory only when the folder cannot be opened."""
    try:
        return ProjectionCache(max_items=32, directory=directory)
    except Exception:  # noqa: BLE001 - an unusable cache folder must not break the app
        return ProjectionCache(max_items=32)


def cache_dir(subdir: str) -> str:
    """``<semanscope cache>/<subdir>`` as a string (the cache key of the resources above)."""
    return str(Path(default_cache_dir()) / subdir)
