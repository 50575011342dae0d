"""Interactive plotly scatter plots of projected embeddings (3D for exploring, 2D for lasso selection).

Both take plain arrays (one entry per point, rows in :meth:`QuerySet.items` order) and return
a ``go.Figure``:

* one trace per language, in order of first appearance, coloured by
  :func:`~semanscope.plots.palette.language_color` (same colour for a language in every model);
* ``customdata`` of every point = its global row index (what a selection returns);
* hover shows the text, language and concept id;
* ``links`` adds ONE extra trace (named ``"links"``) of grey segments separated by ``None``,
  joining each concept's points as a chain (see :func:`~semanscope.plots.links.link_pairs`);
* ``highlight`` (boolean mask or row ids) draws those points ``1.8 x`` larger and opaque and
  fades the others to alpha 0.15. 3D markers have no per-point opacity or selection state, so
  3D uses per-point sizes and rgba colours (highlighted rows first within a trace, so the
  legend shows the opaque colour); 2D uses plotly's ``selectedpoints`` with
  ``selected`` / ``unselected`` marker styles, the same state a lasso selection sets;
* ``uirevision`` is a constant, so a rerun keeps the user's camera / zoom.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence

import numpy as np
import plotly.graph_objects as go

from semanscope.plots.links import link_pairs
from semanscope.plots.palette import language_color, with_alpha

UIREVISION = "semanscope-scatter"
HIGHLIGHT_SCALE = 1.8
FADED_ALPHA = 0.15
WEBGL_THRESHOLD = 5000  # 2D: above this many points draw with WebGL (Scattergl)
MAX_HOVER_CHARS = 300

Highlight = np.ndarray | Sequence[bool] | Iterable[int] | None


def highlight_mask(highlight: Highlight, n_points: int) -> np.ndarray | None:
    """Boolean mask (n_points,) from a boolean mask or an iterable of row ids; None stays None."""
    if highlight is None:
        return None
    values = np.asarray(list(highlight) if isinstance(highlight, (set, frozenset)) else highlight)
    if values.dtype == bool:
        if values.shape != (n_points,):
            raise ValueError(f"highlight mask has shape {values.shape}; expected ({n_points},)")
        return values
    mask = np.zeros(n_points, dtype=bool)
    if values.size == 0:
        return mask
    if not np.issubdtype(values.dtype, np.integer):
        raise ValueError("highlight must be a boolean mask or row ids (integers)")
    if values.min() < 0 or values.max() >= n_points:
        raise ValueError(f"highlight row ids must be in [0, {n_points}); got {values.min()}..{values.max()}")
    mask[values] = True
    return mask


def hover_text(text: str, max_chars: int = MAX_HOVER_CHARS) -> str:
    """``text`` for a plotly hover: cut to ``max_chars`` (ending in an ellipsis) and HTML-escaped."""
    text = str(text)
    if len(text) > max_chars:
        text = text[: max_chars - 1] + "\u2026"
    return html.escape(text, quote=False)


def _check_points(
    coords: np.ndarray, dim: int, labels: Sequence[str], texts: Sequence[str], concept_ids: Sequence[object]
) -> np.ndarray:
    coords = np.asarray(coords, dtype=np.float64)
    if coords.ndim != 2 or coords.shape[1] != dim:
        raise ValueError(f"coords must have shape (M, {dim}); got {coords.shape}")
    m = coords.shape[0]
    for name, values in (("labels", labels), ("texts", texts), ("concept_ids", concept_ids)):
        if len(values) != m:
            raise ValueError(f"{name} has {len(values)} entries but coords has {m} points")
    return coords


def _link_trace(coords: np.ndarray, concept_ids: Sequence[object], dim: int) -> go.Scatter3d | go.Scatter:
    """One line trace; segment i is (a_i, b_i, None) on each axis."""
    pairs = link_pairs(concept_ids)
    axes = []
    for k in range(dim):
        seg = np.full((len(pairs), 3), np.nan)
        seg[:, 0] = coords[pairs[:, 0], k]
        seg[:, 1] = coords[pairs[:, 1], k]
        flat = seg.ravel().tolist()
        axes.append([None if v != v else v for v in flat])  # NaN -> None gap
    style = dict(mode="lines", name="links", hoverinfo="skip", line=dict(color="rgba(120,120,120,0.35)", width=1))
    if dim == 3:
        return go.Scatter3d(x=axes[0], y=axes[1], z=axes[2], **style)
    return go.Scatter(x=axes[0], y=axes[1], **style)


def _scatter(
    coords: np.ndarray,
    labels: Sequence[str],
    texts: Sequence[str],
    concept_ids: Sequence,
    dim: int,
    links: bool,
    marker_size: float,
    opacity: float,
    highlight: Highlight,
    title: str,
) -> go.Figure:
    coords = _check_points(coords, dim, labels, texts, concept_ids)
    if not 0 < opacity <= 1:
        raise ValueError(f"opacity must be in (0, 1]; got {opacity}")
    if marker_size <= 0:
        raise ValueError(f"marker_size must be > 0; got {marker_size}")
    m = coords.shape[0]
    lab = np.asarray([str(x) for x in labels], dtype=object)
    mask = highlight_mask(highlight, m)
    fig = go.Figure()
    if links:
        fig.add_trace(_link_trace(coords, concept_ids, dim))
    trace_cls = go.Scatter3d if dim == 3 else (go.Scattergl if m > WEBGL_THRESHOLD else go.Scatter)
    for language in dict.fromkeys(lab):
        rows = np.flatnonzero(lab == language)
        color = language_color(language)
        marker: dict = dict(size=marker_size, color=color, opacity=opacity)
        extra: dict = {}
        if mask is not None and dim == 3:
            rows = rows[np.argsort(~mask[rows], kind="stable")]  # highlighted first: legend keeps its colour
            on = mask[rows]
            marker = dict(
                size=np.where(on, marker_size * HIGHLIGHT_SCALE, marker_size),
                color=[with_alpha(color, 1.0) if h else with_alpha(color, FADED_ALPHA) for h in on],
                opacity=1.0,
            )
        elif mask is not None:
            extra = dict(
                selectedpoints=np.flatnonzero(mask[rows]).tolist(),
                selected=dict(marker=dict(size=marker_size * HIGHLIGHT_SCALE, opacity=1.0)),
                unselected=dict(marker=dict(opacity=FADED_ALPHA)),
            )
        xyz = dict(zip("xyz"[:dim], (coords[rows, k] for k in range(dim)), strict=True))
        fig.add_trace(
            trace_cls(
                **xyz,
                mode="markers",
                name=language,
                marker=marker,
                **extra,
                customdata=rows,
                hovertext=[hover_text(texts[i]) for i in rows.tolist()],
                text=[str(concept_ids[i]) for i in rows.tolist()],
                hovertemplate=(
                    f"<b>%{{hovertext}}</b><br>language: {html.escape(language)}"
                    "<br>concept: %{text}<br>row: %{customdata}<extra></extra>"
                ),
            )
        )
    fig.update_layout(
        title=title or None,
        uirevision=UIREVISION,
        legend=dict(title="language", itemsizing="constant"),
        margin=dict(l=0, r=0, t=40 if title else 10, b=0),
    )
    return fig


def scatter3d(
    coords: np.ndarray,
    labels: Sequence[str],
    texts: Sequence[str],
    concept_ids: Sequence,
    *,
    links: bool = False,
    marker_size: float = 3.0,
    opacity: float = 0.85,
    highlight: Highlight = None,
    camera: dict | None = None,
    title: str = "",
) -> go.Figure:
    """3D scatter of ``coords`` (M, 3); ``camera`` is a plotly ``scene.camera`` dict (eye/up/center)."""
    fig = _scatter(coords, labels, texts, concept_ids, 3, links, marker_size, opacity, highlight, title)
    fig.update_layout(scene=dict(uirevision=UIREVISION, aspectmode="data"))
    if camera is not None:
        fig.update_layout(scene_camera=camera)
    return fig


def scatter2d(
    coords: np.ndarray,
    labels: Sequence[str],
    texts: Sequence[str],
    concept_ids: Sequence,
    *,
    links: bool = False,
    marker_size: float = 6.0,
    opacity: float = 0.85,
    highlight: Highlight = None,
    title: str = "",
) -> go.Figure:
    """2D scatter of ``coords`` (M, 2) with lasso selection on, for ``st.plotly_chart(on_select="rerun")``.

    WebGL (``Scattergl``) is used above :data:`WEBGL_THRESHOLD` points.
    """
    fig = _scatter(coords, labels, texts, concept_ids, 2, links, marker_size, opacity, highlight, title)
    fig.update_layout(dragmode="lasso", clickmode="event+select")
    fig.update_yaxes(scaleanchor="x", scaleratio=1)
    return fig
