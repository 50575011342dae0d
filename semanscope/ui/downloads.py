"""Download buttons: tables (CSV, Markdown, LaTeX) and figures (HTML, kaleido images, matplotlib vectors)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from functools import partial

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

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
from semanscope.slug import ascii_slug
from semanscope.ui.errors import guard
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


def figure_downloads(
    fig: go.Figure, name: str, camera: dict | None = None, vector: Callable[[str], bytes] | None = None
) -> None:
    """Download buttons for a figure: interactive HTML, PNG/SVG/PDF through kaleido (rendered on
    request, keeping ``camera``), and, when ``vector(fmt)`` is given, matplotlib vector PDF/SVG."""
    cols = st.columns(4)
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
        for col, fmt in zip(cols[1:3], ("pdf", "svg"), strict=True):
            col.download_button(
                f"Vector {fmt.upper()} (matplotlib)",
                partial(vector, fmt),
                file_name=f"{stem}.{fmt}",
                mime="application/pdf" if fmt == "pdf" else "image/svg+xml",
                key=f"dl:{name}:mpl-{fmt}",
                on_click="ignore",
                icon=":material/download:",
            )
    with cols[3].popover("PNG / SVG / PDF (kaleido)", icon=":material/image:", key=f"pop:{name}"):
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
                    figure_to_image(fig, image_fmt, camera=camera),
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


def scatter_vector(
    coords: np.ndarray, labels: Sequence[str], concept_ids: Sequence[str], style: Style, camera: dict | None, title: str
) -> Callable[[str], bytes]:
    """``fmt -> bytes`` matplotlib vector export of a 2D/3D view with the app's camera and links."""
    return lambda fmt: scatter_to_vector(
        coords, labels, fmt=fmt, camera=camera, links=style.links, title=title, concept_ids=concept_ids
    )
