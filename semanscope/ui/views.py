"""Projection and 3D-view controls of the sidebar (method, display, camera) and the cached projection."""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from semanscope import appcore
from semanscope.paths import PROJECTIONS_SUBDIR
from semanscope.plots import scatter3d
from semanscope.reduce import available_methods, project_cached, unavailable_methods
from semanscope.ui.errors import guard
from semanscope.ui.progress import progress_bar
from semanscope.ui.resources import cache_dir, projection_cache
from semanscope.ui.state import persistent

METHOD_NAMES = {
    "phate": "PHATE",
    "pca": "PCA",
    "tsne": "t-SNE",
    "umap": "UMAP",
    "pacmap": "PaCMAP",
    "trimap": "TriMap",
    "isomap": "Isomap",
    "mds": "MDS",
    "kpca": "kernel PCA",
    "spectral": "spectral embedding",
    "lle": "LLE",
}
METHOD_HELP = (
    "Every method runs on cosine geometry (unit rows) with the library's fast defaults; each "
    "projection is cached. Isomap, MDS and kernel PCA hold an M x M matrix (at most 8,000 points); "
    "Isomap, spectral embedding and LLE need a connected neighbour graph."
)


# bench/bench_reduce.py, 1,800 points x 384 d, load 1.3: t-SNE 16 s median; every other method <= 8 s
# (PHATE with no landmarks 7.9, TriMap 4.8, LLE 1.1, the rest < 1 s)
SLOW_METHODS = ("tsne",)


def method_label(method: str) -> str:
    """Display name of a projection method (the key itself when unknown)."""
    return METHOD_NAMES.get(method, method)


def method_choice_label(method: str) -> str:
    """:func:`method_label` with "(slow)" for :data:`SLOW_METHODS`, for method pickers."""
    return method_label(method) + (" (slow)" if method in SLOW_METHODS else "")


def unavailable_note() -> str:
    """One line naming the optional methods missing here and what each needs ("" when none is)."""
    missing = unavailable_methods()
    return "; ".join(f"{method_label(m)} {why}" for m, why in missing.items())


def projection_controls() -> tuple[str, dict, int]:
    """Sidebar projection settings -> (method, settings, seed); PHATE has fast defaults."""
    methods = list(available_methods())
    with st.sidebar.expander("Projection", expanded=False):
        method = persistent(
            st.selectbox,
            str,
            "Method",
            "proj_method",
            "phate",
            options=methods,
            format_func=method_choice_label,
            help=METHOD_HELP,
        )
        if note := unavailable_note():
            st.caption(f"Not available here: {note}.")
        knn, t, landmarks = 5, None, None
        if method == "phate":
            defaults = appcore.PHATE_APP_SETTINGS
            knn = persistent(st.slider, int, "knn", "phate_knn", defaults["knn"], min_value=2, max_value=50)
            auto_t = persistent(
                st.checkbox,
                bool,
                "automatic t (knee of the von Neumann entropy)",
                "phate_auto_t",
                defaults["t"] == "auto",
            )
            if not auto_t:
                t = persistent(st.slider, int, "t (diffusion time)", "phate_t", 10, min_value=1, max_value=100)
            landmarks = persistent(
                st.number_input,
                int,
                "landmarks (0 = none)",
                "phate_landmarks",
                defaults["n_landmark"],
                min_value=0,
                step=100,
            )
        seed = persistent(st.number_input, int, "seed", "proj_seed", 0, min_value=0, step=1)
    n_landmark = int(landmarks) if landmarks else None
    return method, appcore.projection_settings(method, knn=int(knn), t=t, n_landmark=n_landmark), int(seed)


def projection(X: np.ndarray, method: str, settings: dict, seed: int, label: str) -> np.ndarray | None:
    """3D projection through the shared cache, with a progress bar; None (message shown) on error."""
    with guard(f"{method_label(method)} projection"), progress_bar(label) as bar:
        return project_cached(
            X, method, 3, seed, cache=projection_cache(cache_dir(PROJECTIONS_SUBDIR)), progress=bar.message, **settings
        )
    return None


@dataclass(frozen=True)
class Style:
    """Marker size, opacity and whether to draw the concept links."""

    marker_size: float
    opacity: float
    links: bool


def scatter_view(
    coords: np.ndarray, pts: appcore.Points, style: Style, title: str, highlight: np.ndarray | None = None
) -> go.Figure:
    """The app's 3D view of ``pts`` at ``coords`` (M, 3) in the sidebar's ``style``
    (:func:`semanscope.plots.scatter3d`); ``highlight``: row ids drawn larger."""
    return scatter3d(
        coords,
        pts.languages,
        pts.texts,
        pts.concept_ids,
        links=style.links,
        marker_size=style.marker_size,
        opacity=style.opacity,
        highlight=highlight,
        title=title,
    )


def display_controls() -> Style:
    """Sidebar marker size / opacity / links controls."""
    with st.sidebar.expander("Display", expanded=False):
        size = persistent(st.slider, float, "marker size", "marker_size", 3.0, min_value=1.0, max_value=12.0, step=0.5)
        opacity = persistent(st.slider, float, "opacity", "opacity", 0.85, min_value=0.1, max_value=1.0, step=0.05)
        links = persistent(st.checkbox, bool, "link each concept's translations", "links", False)
    return Style(float(size), float(opacity), bool(links))


def _apply_preset() -> None:
    elevation, azimuth, distance = appcore.CAMERA_PRESETS[st.session_state["w:camera_preset"]]
    st.session_state["camera_preset"] = st.session_state["w:camera_preset"]
    st.session_state["cam_elev"], st.session_state["cam_azim"], st.session_state["cam_dist"] = (
        round(elevation, 1),
        round(azimuth, 1),
        round(distance, 2),
    )


def camera_controls() -> dict:
    """Sidebar camera (preset, elevation, azimuth, distance) -> plotly ``scene.camera``.

    Streamlit cannot read the camera back from the browser, so these sliders are the camera
    used by every 3D view (Explore, Compare) and by the exports.
    """
    elevation, azimuth, distance = appcore.CAMERA_PRESETS["plotly default"]
    with st.sidebar.expander("Camera (3D views and exports)", expanded=False):
        if "camera_preset" not in st.session_state:
            st.session_state["camera_preset"] = "plotly default"
        st.session_state["w:camera_preset"] = st.session_state["camera_preset"]
        st.selectbox("Preset", list(appcore.CAMERA_PRESETS), key="w:camera_preset", on_change=_apply_preset)
        e = persistent(st.slider, float, "elevation", "cam_elev", round(elevation, 1), min_value=-90.0, max_value=90.0)
        a = persistent(st.slider, float, "azimuth", "cam_azim", round(azimuth, 1), min_value=-180.0, max_value=180.0)
        d = persistent(
            st.slider, float, "distance (zoom out)", "cam_dist", round(distance, 2), min_value=0.5, max_value=6.0
        )
    return appcore.camera_from_view(float(e), float(a), float(d))


def with_camera(fig: go.Figure, camera: dict) -> go.Figure:
    """Set ``scene.camera`` and tie ``scene.uirevision`` to it: the user's own rotation survives
    reruns until the camera controls change, then the figure jumps to the new camera."""
    fig.update_layout(scene_camera=camera, scene_uirevision=json.dumps(camera, sort_keys=True))
    return fig
