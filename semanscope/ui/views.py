"""Projection and view controls of the sidebar (method, display, search, camera), the cached projection and the
figures of the 2D and 3D views."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from semanscope import appcore
from semanscope.data.queryset import QuerySet
from semanscope.paths import PROJECTIONS_SUBDIR
from semanscope.plots import scatter2d, scatter3d
from semanscope.plots.scatter import Colouring
from semanscope.plots.tables import markdown_escape
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
    """3D projection of the distinct rows of ``X`` (:func:`appcore.distinct_rows`; identical rows
    share a spot) through the shared cache, with a progress bar; None (message shown) on error
    or when there are too few points to project (:func:`appcore.projection_note`)."""
    keep, inverse = appcore.distinct_rows(X)
    note = appcore.projection_note(keep.size)
    if note:
        st.info(note, icon=":material/info:")
        return None
    with guard(f"{method_label(method)} projection"), progress_bar(label) as bar:
        fitted = appcore.fit_settings(method, settings, keep.size)
        cache = projection_cache(cache_dir(PROJECTIONS_SUBDIR))
        return project_cached(X[keep], method, 3, seed, cache=cache, progress=bar.message, **fitted)[inverse]
    return None


LABEL_CHARS = 24  # default characters of a text label
LABEL_SIZE = 11  # default font size of text labels (px)


@dataclass(frozen=True)
class Style:
    """How the points are drawn: marker size, opacity, concept links, colouring (one of
    :func:`appcore.colour_options`), text labels (on/off, characters, font size) and the number
    of concepts drawn (0 = all; the scores always use the whole view)."""

    marker_size: float
    opacity: float
    links: bool
    colour_by: str = "language"
    labels: bool = False
    label_chars: int = LABEL_CHARS
    label_size: float = LABEL_SIZE
    sample: int = appcore.DEFAULT_SAMPLE


def scatter_view(
    coords: np.ndarray,
    qs: QuerySet,
    style: Style,
    title: str,
    *,
    highlight: np.ndarray | None = None,
    marked: np.ndarray | None = None,
    colouring: Colouring | None = None,
) -> go.Figure:
    """The app's view of the points of ``qs`` at ``coords``: 3D (M, 3) or the linked 2D view
    (M, 2, markers twice as large), in the sidebar's ``style``; ``highlight``: row ids drawn
    larger (a 2D selection), ``marked``: row ids ringed (search matches), ``colouring``: instead
    of the style's colour-by (e.g. KMeans clusters)."""
    pts = appcore.points(qs)
    options: dict[str, Any] = dict(
        links=style.links,
        opacity=style.opacity,
        highlight=highlight,
        marked=marked,
        colouring=colouring or appcore.colouring(qs, style.colour_by),
        text_labels=pts.texts if style.labels else None,
        label_chars=style.label_chars,
        label_size=style.label_size,
        title=title,
    )
    if coords.shape[1] == 2:
        return scatter2d(
            coords, pts.languages, pts.texts, pts.concept_ids, marker_size=style.marker_size * 2, **options
        )
    return scatter3d(coords, pts.languages, pts.texts, pts.concept_ids, marker_size=style.marker_size, **options)


def display_controls(qs: QuerySet) -> Style:
    """Sidebar "Display" controls: concepts drawn, colour by, text labels (size, length), marker
    size / opacity and concept links (on by default: the sample is small enough to read them)."""
    options = appcore.colour_options(qs)
    if st.session_state.get("colour_by") not in options:
        st.session_state["colour_by"] = "language"
    with st.sidebar.expander("Display", expanded=True):
        sample = persistent(
            st.number_input,
            int,
            "Concepts in the plots (0 = all)",
            "plot_sample",
            appcore.DEFAULT_SAMPLE,
            min_value=0,
            step=10,
            help="A seeded random sample (the projection seed) keeps the plots readable; every view of "
            "the page shows the same concepts, search matches are added. Scores use the whole selection.",
        )
        colour_by = persistent(
            st.selectbox,
            str,
            "Colour by",
            "colour_by",
            "language",
            options=options,
            help="Language, concept, topic or any extra column of the query set.",
        )
        labels = persistent(st.checkbox, bool, "text labels", "labels", False, help="Hover a point for its whole text.")
        chars, font = LABEL_CHARS, LABEL_SIZE
        if labels:
            chars = persistent(
                st.slider, int, "label length (characters)", "label_chars", LABEL_CHARS, min_value=4, max_value=80
            )
            font = persistent(st.slider, int, "label font size", "label_size", LABEL_SIZE, min_value=6, max_value=24)
        links = persistent(st.checkbox, bool, "link each concept's translations", "links", True)
        size = persistent(st.slider, float, "marker size", "marker_size", 3.0, min_value=1.0, max_value=12.0, step=0.5)
        opacity = persistent(st.slider, float, "opacity", "opacity", 0.85, min_value=0.1, max_value=1.0, step=0.05)
    return Style(
        float(size), float(opacity), bool(links), colour_by, bool(labels), int(chars), float(font), int(sample)
    )


def search_box(qs: QuerySet) -> tuple[str, ...]:
    """Sidebar search: the ids of the concepts whose id or any text contains the query
    (:func:`appcore.search_concepts`); says how many match. Their points are ringed in every view."""
    query = persistent(
        st.sidebar.text_input,
        str,
        "Search a concept",
        "search",
        "",
        placeholder="id or any text, e.g. password",
        help="Case-insensitive; matches a concept id or any of its texts in any language of the view. "
        "Matching concepts are ringed in every view (and added to the plot sample).",
    )
    matches = appcore.search_concepts(qs, query)
    if query.strip():
        shown = ", ".join(matches[:5]) + (" ..." if len(matches) > 5 else "")
        note = f"{len(matches)} concept(s) match" + (f": {shown}" if matches else "")
        st.sidebar.caption(markdown_escape(note))
    return matches


PLOT_CONFIG = {"displaylogo": False}
"""``st.plotly_chart`` config of every view (no plotly logo in the mode bar)."""


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
