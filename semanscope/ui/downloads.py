"""Download buttons: tables (CSV, Markdown, LaTeX) and figures (HTML, kaleido images, matplotlib vectors)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import replace
from functools import partial

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from semanscope.appcore import Points
from semanscope.plots import (
    figure_to_html,
    figure_to_image,
    find_browser,
    scatter_to_vector,
    to_csv,
    to_latex,
    to_markdown,
)
from semanscope.plots.export import NO_BROWSER_HELP
from semanscope.plots.mpl import PALETTES, PRESETS, Preset
from semanscope.plots.tables import coordinates_frame
from semanscope.slug import ascii_slug
from semanscope.ui.errors import guard
from semanscope.ui.state import persistent
from semanscope.ui.views import Style


def table_downloads(df: pd.DataFrame, name: str, caption: str = "") -> None:
    """CSV (formula-safe), Markdown and LaTeX (booktabs) download buttons for a result table."""
    cols = st.columns(3)
    stem = ascii_slug(name)  # file names and the LaTeX label must be ASCII
    files: tuple[tuple[str, str | bytes, str, str], ...] = (
        ("CSV", to_csv(df), f"{stem}.csv", "text/csv"),
        ("Markdown", to_markdown(df), f"{stem}.md", "text/markdown"),
        ("LaTeX", to_latex(df, caption=caption, label=f"tab:{stem}"), f"{stem}.tex", "application/x-tex"),
    )
    for col, (title, data, file_name, mime) in zip(cols, files, strict=True):
        col.download_button(
            title,
            data,
            file_name=file_name,
            mime=mime,
            key=f"dl:{name}:{title}",
            on_click="ignore",
            icon=":material/download:",
        )


def _figure_digest(fig: go.Figure) -> str:
    return hashlib.sha1(fig.to_json().encode("utf-8")).hexdigest()


def export_preset() -> Preset:
    """Sidebar "Export style" (remembered across pages): a publication preset (width, font size,
    DPI) and the palette of the exported scatter plots."""
    with st.sidebar.expander("Export style (papers)", expanded=False):
        name = persistent(st.selectbox, str, "Preset", "export_preset", "screen", options=list(PRESETS))
        preset = PRESETS[name]
        palette = persistent(
            st.radio,
            str,
            "Palette of exported scatter plots",
            "export_palette",
            preset.palette,
            options=list(PALETTES),
            help="'language': each language's colour in the app; 'colour-blind safe': Okabe-Ito colours, "
            "then marker shapes beyond 8 languages.",
        )
        st.caption(f"{preset.width:g} in wide, {preset.font_size:g} pt text, PNG at {preset.dpi} dpi")
    return replace(preset, palette=palette)


def figure_downloads(
    fig: go.Figure,
    name: str,
    camera: dict | None = None,
    vector: Callable[[str], bytes] | None = None,
    preset: Preset = PRESETS["screen"],
) -> None:
    """Download buttons for a figure: interactive HTML, PNG/SVG/PDF through kaleido (rendered on
    request, keeping ``camera``, at the ``preset``'s width and DPI), and, when ``vector(fmt)`` is
    given, matplotlib PDF/SVG/PNG."""
    cols = st.columns(5)
    stem = ascii_slug(name)
    cols[0].download_button(
        "Interactive HTML",
        lambda: figure_to_html(fig),
        file_name=f"{stem}.html",
        mime="text/html",
        key=f"dl:{name}:html",
        on_click="ignore",
        icon=":material/download:",
    )
    if vector is not None:
        mimes = {"pdf": "application/pdf", "svg": "image/svg+xml", "png": "image/png"}
        for col, fmt in zip(cols[1:4], mimes, strict=True):
            col.download_button(
                f"{fmt.upper()} (matplotlib)",
                partial(vector, fmt),
                file_name=f"{stem}.{fmt}",
                mime=mimes[fmt],
                key=f"dl:{name}:mpl-{fmt}",
                on_click="ignore",
                icon=":material/download:",
            )
    with cols[4].popover("PNG / SVG / PDF (kaleido)", icon=":material/image:", key=f"pop:{name}"):
        if find_browser() is None:
            st.info(NO_BROWSER_HELP)
            return
        image_fmt = st.radio("format", ["png", "svg", "pdf"], horizontal=True, key=f"kaleido-fmt:{name}") or "png"
        slot = f"kaleido:{name}"
        if st.button("Render", key=f"kaleido-go:{name}"):
            with guard("Image export"), st.spinner("Rendering with kaleido (starts a headless browser)..."):
                st.session_state[slot] = (
                    image_fmt,
                    _figure_digest(fig),
                    figure_to_image(fig, image_fmt, *kaleido_size(preset), camera=camera),
                )
        done = st.session_state.get(slot)
        if done and done[0] == image_fmt and done[1] == _figure_digest(fig):
            st.download_button(
                f"Download {image_fmt.upper()}",
                done[2],
                file_name=f"{stem}.{image_fmt}",
                key=f"dl:{name}:kaleido",
                on_click="ignore",
                icon=":material/download:",
            )


def kaleido_size(preset: Preset) -> tuple[int, int, float]:
    """kaleido's ``(width, height, scale)``: layout pixels at 96 per inch, scaled to the preset's DPI."""
    return round(preset.width * 96), round(preset.height * 96), preset.dpi / 96


def scatter_vector(
    coords: np.ndarray,
    labels: Sequence[str],
    concept_ids: Sequence[str],
    style: Style,
    camera: dict | None,
    title: str,
    preset: Preset = PRESETS["screen"],
) -> Callable[[str], bytes]:
    """``fmt -> bytes`` matplotlib export of a 2D/3D view with the app's camera and links, in the ``preset``."""
    return lambda fmt: scatter_to_vector(
        coords, labels, fmt=fmt, camera=camera, links=style.links, title=title, concept_ids=concept_ids, preset=preset
    )


def coordinates_download(coords: np.ndarray, pts: Points, name: str) -> None:
    """CSV download of the points drawn (language, concept id, text) with their 2D/3D coordinates."""
    st.download_button(
        "Points and coordinates (CSV)",
        lambda: to_csv(coordinates_frame(coords, pts.languages, pts.concept_ids, pts.texts)),
        file_name=f"{ascii_slug(name)}-points.csv",
        mime="text/csv",
        key=f"dl:{name}:points",
        on_click="ignore",
        icon=":material/download:",
    )
