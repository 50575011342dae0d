"""KMeans clustering overlay: the sidebar widget, cluster labels of a view's points with their scores
against the concepts (:mod:`semanscope.metrics.clustering`), and their colouring.

:func:`cluster_labels` is free of Streamlit: ``(labels, caption)`` for any page's colouring.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import streamlit as st

from semanscope.metrics.clustering import MAX_DEFAULT_K, cluster_concepts, default_k
from semanscope.plots.scatter import Colouring, group_colors
from semanscope.ui.state import persistent

CLUSTERS_EXPLAINED = (
    "Purity: share of points whose cluster's main concept is their own; inverse purity: share of points "
    "in their concept's main cluster; ARI: agreement of clusters with concepts beyond chance "
    "(1 = exactly the concepts, 0 = chance)."
)
SPACES = {
    "embeddings": "the embeddings (cosine): one clustering for every view",
    "projection": "each projection as drawn (2D/3D coordinates)",
}
N_INIT = 4  # k-means++ starts; the lowest inertia wins (steadier clusters for ~0.1 s more at 1,800 points)


@dataclass(frozen=True)
class ClusterChoice:
    """k and where to cluster: on the embeddings (cosine) or on each projection's coordinates."""

    k: int
    on_embeddings: bool


def cluster_controls(n_concepts: int, n_points: int) -> ClusterChoice | None:
    """Sidebar KMeans overlay: on/off, k (0 = one per concept, capped), embeddings or projection.
    None when the overlay is off."""
    if st.session_state.get("kmeans_k", 0) > n_points:  # the view shrank below the stored k
        st.session_state["kmeans_k"] = 0
    with st.sidebar.expander("Clusters (KMeans)", expanded=False):
        on = persistent(
            st.checkbox,
            bool,
            "Colour by KMeans clusters",
            "kmeans_on",
            False,
            help="Clusters found without the concept labels; purity and ARI say how well they match the concepts.",
        )
        k = persistent(
            st.number_input,
            int,
            f"k (0 = one per concept, at most {MAX_DEFAULT_K})",
            "kmeans_k",
            0,
            min_value=0,
            max_value=n_points,
            step=1,
        )
        space = persistent(
            st.radio, str, "Cluster", "kmeans_space", "embeddings", options=list(SPACES), format_func=SPACES.get
        )
    if not on:
        return None
    return ClusterChoice(int(k) or default_k(n_concepts, n_points), space == "embeddings")


def cluster_labels(
    X: np.ndarray, concept_ids: Sequence[str], k: int, seed: int = 0, *, cosine: bool = True
) -> tuple[np.ndarray, str]:
    """K-means clusters of the rows of ``X`` (a run's embeddings with ``cosine=True``, or projected
    coordinates with ``cosine=False``) -> (labels ``"cluster 1"``.. ``"cluster k"`` per row, numbered
    by first appearance; one line with k, purity, inverse purity and ARI against ``concept_ids``)."""
    result = cluster_concepts(X, np.asarray(concept_ids), k, seed, cosine=cosine, n_init=N_INIT)
    names = np.array([f"cluster {i + 1}" for i in range(int(result.labels.max()) + 1)], dtype=object)
    return names[result.labels], result.summary()


cached_cluster_labels = st.cache_data(show_spinner="Clustering...", max_entries=32)(cluster_labels)
""":func:`cluster_labels` cached per session-independent input (the page reruns on every click)."""


def cluster_colouring(labels: Sequence[str]) -> Colouring:
    """Points coloured by their cluster (labels from :func:`cluster_labels`), for
    :func:`semanscope.ui.views.scatter_view`; the hover keeps each point's text and language."""
    return Colouring("KMeans cluster", [str(x) for x in labels], group_colors(labels))
