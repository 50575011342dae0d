"""Matplotlib vector (PDF/SVG) versions of the scatter plots; no browser needed.

Points, links and text stay vectors (``pdf.fonttype`` 42 embeds TrueType text, SVG keeps
``<text>``); colours come from the same palette as the plotly figures. Output is reproducible
(no creation date; fixed SVG id salt).
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib
import numpy as np
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure

from semanscope.plots.links import link_pairs
from semanscope.plots.palette import MPL_MARKERS, distinct_styles, language_color

VECTOR_FORMATS: tuple[str, ...] = ("pdf", "svg")
FORMATS: tuple[str, ...] = (*VECTOR_FORMATS, "png")


@dataclass(frozen=True)
class Preset:
    """Figure size and type for a publication: ``width`` in inches (height from the plot's
    aspect), ``font_size`` in points, ``dpi`` for raster output, ``palette``: ``"language"``
    (each language's stable app colour, :func:`language_color`) or ``"colour-blind safe"``
    (:func:`distinct_styles`: Okabe-Ito colours, then marker shapes)."""

    name: str
    width: float
    font_size: float
    dpi: int
    palette: str = "language"

    @property
    def height(self) -> float:
        """Figure height in inches: 6/7 of the width (the scatter plots' aspect)."""
        return self.width * 6 / 7


PRESETS: dict[str, Preset] = {
    p.name: p
    for p in (
        Preset("screen", 7.0, 10.0, 150),
        Preset("single column (3.5 in)", 3.5, 7.0, 600, "colour-blind safe"),
        Preset("double column (7.2 in)", 7.2, 8.0, 600, "colour-blind safe"),
        Preset("slides (10 in)", 10.0, 14.0, 200),
    )
}
PALETTES: tuple[str, ...] = ("language", "colour-blind safe")


def label_styles(labels: Sequence[str], palette: str = "language") -> dict[str, tuple[str, str]]:
    """``{label: (colour, plotly symbol)}`` of a figure's labels under ``palette`` (see :class:`Preset`)."""
    if palette == "colour-blind safe":
        return distinct_styles(labels)
    if palette != "language":
        raise ValueError(f"unknown palette {palette!r}; choose one of {list(PALETTES)}")
    return {str(x): (language_color(str(x)), "circle") for x in dict.fromkeys(labels)}


# plotly's default 3D camera eye, used when no camera is given so both views match
DEFAULT_EYE = {"x": 1.25, "y": 1.25, "z": 1.25}


def camera_to_view(camera: dict | None) -> tuple[float, float]:
    """Plotly ``scene.camera`` -> matplotlib ``(elev, azim)`` in degrees.

    With eye ``(x, y, z)`` (z up, looking at the centre): ``elev = atan2(z, hypot(x, y))``,
    ``azim = atan2(y, x)``. The eye's distance (zoom), ``center`` and ``up`` are ignored.
    """
    eye = {**DEFAULT_EYE, **((camera or {}).get("eye") or {})}
    x, y, z = (float(eye[k]) for k in "xyz")
    if x == 0 and y == 0 and z == 0:
        raise ValueError("camera eye must not be at the origin")
    return math.degrees(math.atan2(z, math.hypot(x, y))), math.degrees(math.atan2(y, x))


def scatter_to_vector(
    coords: np.ndarray,
    labels: Sequence[str],
    fmt: str = "pdf",
    camera: dict | None = None,
    links: bool = False,
    title: str = "",
    concept_ids: Sequence | None = None,
    marker_size: float = 6.0,
    preset: Preset = PRESETS["screen"],
    text_labels: Sequence[str] | None = None,
) -> bytes:
    """Scatter of ``coords`` (M, 2) or (M, 3) as PDF, SVG or PNG bytes, one style per language
    label (:func:`label_styles` of the ``preset``'s palette), sized by the ``preset`` (width,
    font size, PNG dpi; :attr:`Preset.height`). No coordinate ticks: projected coordinates
    have no units.

    ``camera`` (3D only) is a plotly camera dict converted by :func:`camera_to_view`.
    ``links`` joins each concept's points as in the plotly figures and needs ``concept_ids``.
    ``text_labels`` (one per point, ``""`` for none) are written beside the points.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; choose one of {list(FORMATS)}")
    xyz = np.asarray(coords, dtype=np.float64)
    if xyz.ndim != 2 or xyz.shape[1] not in (2, 3):
        raise ValueError(f"coords must have shape (M, 2) or (M, 3); got {xyz.shape}")
    m, dim = xyz.shape
    if len(labels) != m:
        raise ValueError(f"labels has {len(labels)} entries but coords has {m} points")
    pairs = None
    if links:
        if concept_ids is None or len(concept_ids) != m:
            raise ValueError("links=True needs concept_ids with one id per point")
        pairs = link_pairs(concept_ids)
    if text_labels is not None and len(text_labels) != m:
        raise ValueError(f"text_labels has {len(text_labels)} entries but coords has {m} points")
    lab = np.asarray([str(x) for x in labels], dtype=object)
    styles = label_styles(lab.tolist(), preset.palette)
    scale = preset.font_size / 10.0

    segments = None if pairs is None else np.stack([xyz[pairs[:, 0]], xyz[pairs[:, 1]]], axis=1)
    fig = Figure(figsize=(preset.width, preset.height))
    if dim == 3:
        from mpl_toolkits.mplot3d import Axes3D
        from mpl_toolkits.mplot3d.art3d import Line3DCollection

        ax = fig.add_subplot(projection="3d")
        assert isinstance(ax, Axes3D)
        if segments is not None:
            ax.add_collection3d(Line3DCollection(segments, colors="0.5", linewidths=0.4, alpha=0.35))
        elev, azim = camera_to_view(camera)
        ax.view_init(elev=elev, azim=azim)
        span = np.ptp(xyz, axis=0)
        ax.set_box_aspect(np.where(span > 0, span, 1.0))
    else:
        ax = fig.add_subplot()
        if segments is not None:
            ax.add_collection(LineCollection(list(segments), colors="0.5", linewidths=0.4, alpha=0.35, zorder=1))
        ax.set_aspect("equal", adjustable="datalim")
    for language, (color, symbol) in styles.items():
        rows = lab == language
        columns = [xyz[rows, k] for k in range(dim)]
        style = dict(s=marker_size * scale, color=color, marker=MPL_MARKERS[symbol], label=language, linewidths=0)
        ax.scatter(*columns, zorder=2, **style)
    if text_labels is not None:
        for k in (i for i, text in enumerate(text_labels) if text):
            ax.text(*xyz[k], str(text_labels[k]), fontsize=preset.font_size * 0.7, color=styles[lab[k]][0], zorder=3)
    ax.set_xticks([])
    ax.set_yticks([])
    if dim == 3:
        ax.set_zticks([])
    ax.legend(
        title="language",
        loc="upper left",
        bbox_to_anchor=(1.02, 1.0),
        markerscale=2,
        frameon=False,
        fontsize=preset.font_size * 0.8,
        title_fontsize=preset.font_size * 0.8,
    )
    if title:
        ax.set_title(title, fontsize=preset.font_size)

    buf = io.BytesIO()
    meta = {"CreationDate": None} if fmt == "pdf" else ({"Date": None} if fmt == "svg" else {})
    with matplotlib.rc_context({"pdf.fonttype": 42, "svg.fonttype": "none", "svg.hashsalt": "semanscope"}):
        fig.savefig(buf, format=fmt, bbox_inches="tight", metadata=meta, dpi=preset.dpi)
    return buf.getvalue()
