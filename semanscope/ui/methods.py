"""Compare methods: the sidebar choice of reducers, their projections of one run (cached, with one
progress bar) and the table of cost and quality per method."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import streamlit as st

from semanscope import appcore
from semanscope.paths import PROJECTIONS_SUBDIR
from semanscope.reduce import MethodRun, available_methods, compare_methods, method_table
from semanscope.ui.progress import progress_bar
from semanscope.ui.resources import cache_dir, projection_cache
from semanscope.ui.state import persistent
from semanscope.ui.views import METHOD_HELP, method_choice_label, method_label, unavailable_note

KNN = 10  # neighbours of the kNN-preservation score
# PHATE and PCA, then the first fast neighbour embedding here (t-SNE costs ~16 s for 1,800 points)
DEFAULT_CHOICE: tuple[tuple[str, ...], ...] = (("phate",), ("pca",), ("umap", "pacmap", "tsne"))
QUALITY_EXPLAINED = (
    f"kNN kept: share of each point's {KNN} nearest neighbours in the embeddings (cosine) that are also "
    "among its nearest in the 3D projection (1 = every neighbourhood kept). Seconds: a cached projection "
    "loads in ~0."
)


def default_methods(available: Sequence[str]) -> list[str]:
    """For each slot of :data:`DEFAULT_CHOICE`, its first method in ``available`` (slots with none are skipped)."""
    picks = (next((m for m in slot if m in available), None) for slot in DEFAULT_CHOICE)
    return [m for m in picks if m is not None]


def method_controls() -> tuple[list[str], int]:
    """Sidebar: the methods to compare (kept across pages) and the seed shared with the projection
    controls of the other pages -> (methods, seed)."""
    methods = list(available_methods())
    stored = st.session_state.get("compare_methods")
    if stored is not None:
        st.session_state["compare_methods"] = [m for m in stored if m in methods]
    with st.sidebar.expander("Methods", expanded=True):
        chosen = persistent(
            st.multiselect,
            list,
            "Methods to compare",
            "compare_methods",
            default_methods(methods),
            options=methods,
            format_func=method_choice_label,
            help=METHOD_HELP,
        )
        if note := unavailable_note():
            st.caption(f"Not available here: {note}.")
        seed = persistent(st.number_input, int, "seed", "proj_seed", 0, min_value=0, step=1)
    return list(chosen), int(seed)


def method_runs(X: np.ndarray, methods: Sequence[str], seed: int) -> dict[str, MethodRun]:
    """3D projections of ``X`` by each method through the shared projection cache (PHATE with the
    app's settings, so Explore's PHATE view is reused), one progress bar for all; a method that
    fails is a run with its error."""
    cache = projection_cache(cache_dir(PROJECTIONS_SUBDIR))
    settings = {"phate": dict(appcore.PHATE_APP_SETTINGS)}
    with progress_bar(f"Projecting {X.shape[0]:,} points with {len(methods)} methods") as bar:
        return compare_methods(X, methods, 3, seed, cache=cache, settings=settings, progress=bar.message)


def method_summary(runs: dict[str, MethodRun], X: np.ndarray) -> pd.DataFrame:
    """:func:`semanscope.reduce.method_table` with display names."""
    table = method_table(runs, X, KNN)
    table["method"] = table["method"].map(method_label)
    return table
