"""Interactive plotly scatter plots of projected embeddings (3D for exploring, 2D for lasso selection).

Both take plain arrays (one entry per point, rows in :meth:`QuerySet.items` order) and return
a ``go.Figure``:

* one trace per colour group, in order of first appearance: by default the point's language
  (``labels``), coloured by :func:`~semanscope.plots.palette.language_color` (same colour for a
  language in every model); any other grouping is a :class:`Colouring` (a group per point, a
  colour and a legend name per group), e.g. concept, topic, a metadata column or clusters;
* ``customdata`` of every point = its global row index (what a selection returns);
* hover shows the full text (up to :data:`MAX_HOVER_CHARS`), language and concept id;
* ``text_labels`` (one label per point) are drawn beside the markers at ``label_size`` px,
  cut to ``label_chars`` characters (:func:`short_label`);
* ``links`` adds ONE extra trace (named ``"links"``) of grey segments separated by ``None``,
  joining each concept's points as a chain (see :func:`~semanscope.plots.links.link_pairs`);
* ``highlight`` (boolean mask or row ids) draws those points ``1.8 x`` larger and opaque and
  fades the others to alpha 0.15. 3D markers have no per-point opacity or selection state, so
  3D uses per-point sizes and rgba colours (highlighted rows first within a trace, so the
  legend shows the opaque colour); 2D uses plotly's ``selectedpoints`` with
  ``selected`` / ``unselected`` marker styles, the same state a lasso selection sets;
* ``marked`` (mask or row ids, e.g. search matches) adds ONE trace (named :data:`MARKED_NAME`)
  of black open rings around those points, the same in 2D and 3D;
* the legend lies below the plot (horizontal) and plotly's mode bar stands vertically in the right
  margin, so neither covers the title or the legend;
* ``uirevision`` is a constant, so a rerun keeps the user's camera / zoom.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial

import numpy as np
import plotly.graph_objects as go
from plotly.colors import qualitative

from semanscope.plots.links import link_pairs
from semanscope.plots.palette import language_color, with_alpha

UIREVISION = "semanscope-scatter"
HIGHLIGHT_SCALE = 1.8
FADED_ALPHA = 0.15
WEBGL_THRESHOLD = 5000  # 2D: above this many points draw with WebGL (Scattergl)
MAX_HOVER_CHARS = 300
MARKED_NAME = "search matches"
MODEBAR_MARGIN = 36  # px of right margin holding plotly's (vertical) mode bar
GROUP_PALETTE: tuple[str, ...] = (*qualitative.Dark24, *qualitative.Light24)
"""48 distinct colours for concepts, topics, metadata values or clusters (cycled beyond)."""

Highlight = np.ndarray | Sequence[bool] | Iterable[int] | None


@dataclass(frozen=True)
class Colouring:
    """How points are coloured: ``labels[k]`` is point k's group, ``colors[group]`` its colour
    (hex), ``names[group]`` its legend entry (the group itself when absent), ``title`` the
    legend title, ``symbols[group]`` its marker shape (a circle when absent). Any grouping plugs
    in (language, concept, topic, metadata, clusters)."""

    title: str
    labels: Sequence[str]
    colors: Mapping[str, str]
    names: Mapping[str, str] = field(default_factory=dict)
    symbols: Mapping[str, str] = field(default_factory=dict)


def group_colors(groups: Iterable[str]) -> dict[str, str]:
    """One colour of :data:`GROUP_PALETTE` per group, in order (cycled beyond 48 groups)."""
    return {g: GROUP_PALETTE[k % len(GROUP_PALETTE)] for k, g in enumerate(dict.fromkeys(groups))}


def clip(text: str, max_chars: int) -> str:
    """``text`` when it has at most ``max_chars`` characters, else its first ``max_chars - 1``
    and an ellipsis ("…"): ``max_chars`` characters in all."""
    return text if len(text) <= max_chars else text[: max_chars - 1] + "\u2026"


def short_label(text: str, max_chars: int) -> str:
    """``text`` on one line, cut to ``max_chars`` characters (:func:`clip`) and HTML-escaped
    (plotly renders a subset of HTML in text labels)."""
    if max_chars < 1:
        raise ValueError(f"max_chars must be >= 1; got {max_chars}")
    return html.escape(clip(" ".join(str(text).split()), max_chars), quote=False)


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
    """``text`` for a plotly hover: cut to ``max_chars`` (:func:`clip`) and HTML-escaped."""
    return html.escape(clip(str(text), max_chars), quote=False)


def _hover(text: str, language: object, concept_id: object) -> str:
    """Hover of one point: its text in bold, its language and concept (all escaped)."""
    esc = partial(html.escape, quote=False)
    return f"<b>{hover_text(text)}</b><br>language: {esc(str(language))}<br>concept: {esc(str(concept_id))}"


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


def _marked_trace(coords: np.ndarray, mask: np.ndarray, dim: int, size: float) -> go.Scatter3d | go.Scatter:
    """Open black rings around the ``mask`` points (one trace, no hover: the points below have it)."""
    rows = np.flatnonzero(mask)
    xyz = dict(zip("xyz"[:dim], (coords[rows, k] for k in range(dim)), strict=True))
    marker = dict(symbol="circle-open", size=size, color="black", line=dict(width=2, color="black"))
    cls = go.Scatter3d if dim == 3 else go.Scatter
    return cls(**xyz, mode="markers", name=MARKED_NAME, marker=marker, hoverinfo="skip")


@dataclass(frozen=True)
class _Options:
    links: bool
    marker_size: float
    opacity: float
    highlight: Highlight
    marked: Highlight
    colouring: Colouring | None
    text_labels: Sequence[str] | None
    label_chars: int
    label_size: float
    title: str


def _scatter(
    coords: np.ndarray,
    labels: Sequence[str],
    texts: Sequence[str],
    concept_ids: Sequence,
    dim: int,
    opts: _Options,
) -> go.Figure:
    coords = _check_points(coords, dim, labels, texts, concept_ids)
    if not 0 < opts.opacity <= 1:
        raise ValueError(f"opacity must be in (0, 1]; got {opts.opacity}")
    if opts.marker_size <= 0:
        raise ValueError(f"marker_size must be > 0; got {opts.marker_size}")
    m = coords.shape[0]
    colouring = opts.colouring or Colouring(
        "language", [str(x) for x in labels], {str(x): language_color(str(x)) for x in labels}
    )
    if len(colouring.labels) != m:
        raise ValueError(f"the colouring has {len(colouring.labels)} labels but coords has {m} points")
    if opts.text_labels is not None and len(opts.text_labels) != m:
        raise ValueError(f"text_labels has {len(opts.text_labels)} entries but coords has {m} points")
    groups = np.asarray([str(x) for x in colouring.labels], dtype=object)
    mask = highlight_mask(opts.highlight, m)
    marked = highlight_mask(opts.marked, m)
    size = opts.marker_size
    fig = go.Figure()
    if opts.links:
        fig.add_trace(_link_trace(coords, concept_ids, dim))
    trace_cls = go.Scatter3d if dim == 3 else (go.Scattergl if m > WEBGL_THRESHOLD else go.Scatter)
    for group in dict.fromkeys(groups):
        rows = np.flatnonzero(groups == group)
        color = colouring.colors[group]
        marker: dict = dict(size=size, color=color, opacity=opts.opacity)
        extra: dict = {}
        if mask is not None and dim == 3:
            rows = rows[np.argsort(~mask[rows], kind="stable")]  # highlighted first: legend keeps its colour
            on = mask[rows]
            marker = dict(
                size=np.where(on, size * HIGHLIGHT_SCALE, size),
                color=[with_alpha(color, 1.0) if h else with_alpha(color, FADED_ALPHA) for h in on],
                opacity=1.0,
            )
        elif mask is not None:
            extra = dict(
                selectedpoints=np.flatnonzero(mask[rows]).tolist(),
                selected=dict(marker=dict(size=size * HIGHLIGHT_SCALE, opacity=1.0)),
                unselected=dict(marker=dict(opacity=FADED_ALPHA)),
            )
        if group in colouring.symbols:
            marker["symbol"] = colouring.symbols[group]
        if opts.text_labels is not None:
            extra.update(
                mode="markers+text",
                text=[short_label(opts.text_labels[i], opts.label_chars) for i in rows.tolist()],
                textposition="top center",
                textfont=dict(size=opts.label_size, color=color),
            )
        xyz = dict(zip("xyz"[:dim], (coords[rows, k] for k in range(dim)), strict=True))
        fig.add_trace(
            trace_cls(
                **xyz,
                **{"mode": "markers", **extra},
                name=html.escape(colouring.names.get(group, group), quote=False),
                marker=marker,
                customdata=rows,
                hovertext=[_hover(texts[i], labels[i], concept_ids[i]) for i in rows.tolist()],
                hovertemplate="%{hovertext}<br>row: %{customdata}<extra></extra>",
            )
        )
    if marked is not None and marked.any():
        fig.add_trace(_marked_trace(coords, marked, dim, size * 2.6))
    fig.update_layout(
        title=html.escape(opts.title, quote=False) or None,
        uirevision=UIREVISION,
        legend=dict(title=html.escape(colouring.title), itemsizing="constant", orientation="h", yanchor="top", y=-0.02),
        modebar=dict(orientation="v"),  # in the right margin: clear of the title and the legend
        margin=dict(l=0, r=MODEBAR_MARGIN, t=40 if opts.title else 10, b=0),
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
    marked: Highlight = None,
    colouring: Colouring | None = None,
    text_labels: Sequence[str] | None = None,
    label_chars: int = 24,
    label_size: float = 10.0,
    camera: dict | None = None,
    title: str = "",
) -> go.Figure:
    """3D scatter of ``coords`` (M, 3); ``labels`` are the points' languages; ``camera`` is a
    plotly ``scene.camera`` dict (eye/up/center). See the module docstring for the options."""
    opts = _Options(
        links, marker_size, opacity, highlight, marked, colouring, text_labels, label_chars, label_size, title
    )
    fig = _scatter(coords, labels, texts, concept_ids, 3, opts)
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
    marked: Highlight = None,
    colouring: Colouring | None = None,
    text_labels: Sequence[str] | None = None,
    label_chars: int = 24,
    label_size: float = 10.0,
    title: str = "",
) -> go.Figure:
    """2D scatter of ``coords`` (M, 2) with lasso selection on, for ``st.plotly_chart(on_select="rerun")``.
    The axes are scaled independently so the points fill the plot (a flat cloud stays readable).

    WebGL (``Scattergl``) is used above :data:`WEBGL_THRESHOLD` points.
    """
    opts = _Options(
        links, marker_size, opacity, highlight, marked, colouring, text_labels, label_chars, label_size, title
    )
    fig = _scatter(coords, labels, texts, concept_ids, 2, opts)
    fig.update_layout(dragmode="lasso", clickmode="event+select")
    return fig
