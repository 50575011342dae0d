"""Relations as arrows on a 3D projection: word1 -> word2 of each relation, one colour per category.

:func:`relation_arrows` takes the projected words (``coords`` (M, 3)) and, per arrow, the rows
of its two words; it returns a ``go.Figure`` with, per category (in order of first appearance):

* one ``Scatter3d`` trace named after the category: the segments ``start, end, None`` (lines)
  with a circle at word1 and a diamond at word2; hovering either end shows
  ``word1 -> word2``, the language and the relation id (HTML-escaped, cut at 120 characters);
* one ``Cone`` trace (no hover, no legend) with the arrowheads at word2, pointing along
  ``end - start``, each :data:`HEAD_FRACTION` of the largest extent of the plot long (plotly's
  ``sizemode="raw"``: the cone vector is the head itself; arrows of zero length get no head).

Category colours come from :data:`CATEGORY_COLORS` in category order, so a category keeps its
colour for every model and language choice of one relation set.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from semanscope.plots.scatter import hover_text

CATEGORY_COLORS: tuple[str, ...] = (
    "#1f77b4",
    "#d62728",
    "#2ca02c",
    "#9467bd",
    "#ff7f0e",
    "#17becf",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
)
HEAD_FRACTION = 0.05
MAX_HOVER_CHARS = 120


def category_color(index: int) -> str:
    """Colour of the ``index``-th category (cycling through :data:`CATEGORY_COLORS`)."""
    return CATEGORY_COLORS[index % len(CATEGORY_COLORS)]


def relation_arrows(
    coords: np.ndarray,
    start: np.ndarray,
    end: np.ndarray,
    categories: Sequence[str],
    hover: Sequence[str],
    *,
    category_order: Sequence[str] | None = None,
    title: str = "",
) -> go.Figure:
    """3D arrows from ``coords[start[k]]`` to ``coords[end[k]]`` coloured by ``categories[k]``
    (see the module doc); ``hover[k]`` is arrow k's hover text (escaped here); ``category_order``
    fixes the colour of each category (default: order of first appearance)."""
    coords = np.asarray(coords, dtype=np.float64)
    start, end = np.asarray(start, dtype=np.int64), np.asarray(end, dtype=np.int64)
    n = len(start)
    if coords.ndim != 2 or coords.shape[1] != 3:
        raise ValueError(f"coords must have shape (M, 3); got {coords.shape}")
    if end.shape != (n,) or len(categories) != n or len(hover) != n:
        raise ValueError("start, end, categories and hover need one entry per arrow")
    if n and (min(start.min(), end.min()) < 0 or max(start.max(), end.max()) >= len(coords)):
        raise ValueError(f"arrow rows must lie in [0, {len(coords)})")
    order = list(dict.fromkeys(category_order if category_order is not None else categories))
    unknown = sorted(set(categories) - set(order))
    if unknown:
        raise ValueError(f"categories {unknown} are not in category_order")
    extent = float(np.ptp(coords, axis=0).max()) if len(coords) else 1.0
    head = HEAD_FRACTION * (extent or 1.0)
    labels = [hover_text(h, MAX_HOVER_CHARS) for h in hover]
    cats = np.asarray(categories, dtype=object)
    fig = go.Figure()
    for c, category in enumerate(order):
        idx = np.flatnonzero(cats == category)
        if idx.size == 0:
            continue
        color = category_color(c)
        seg = np.full((idx.size, 3, 3), np.nan)
        seg[:, 0], seg[:, 1] = coords[start[idx]], coords[end[idx]]
        axes = [[None if v != v else v for v in seg[:, :, k].ravel().tolist()] for k in range(3)]
        text = [t for k in idx for t in (labels[k], labels[k], None)]
        fig.add_trace(
            go.Scatter3d(
                x=axes[0],
                y=axes[1],
                z=axes[2],
                mode="lines+markers",
                name=hover_text(category, MAX_HOVER_CHARS),
                legendgroup=f"category-{c}",
                line=dict(color=color, width=3),
                marker=dict(color=color, size=3, symbol=["circle", "diamond", "circle"] * idx.size),
                text=text,
                hovertemplate="%{text}<extra></extra>",
            )
        )
        direction = coords[end[idx]] - coords[start[idx]]
        length = np.linalg.norm(direction, axis=1)
        keep = length > 0
        if keep.any():
            tip, vec = coords[end[idx]][keep], direction[keep] * (head / length[keep, None])
            fig.add_trace(
                go.Cone(
                    x=tip[:, 0],
                    y=tip[:, 1],
                    z=tip[:, 2],
                    u=vec[:, 0],
                    v=vec[:, 1],
                    w=vec[:, 2],
                    anchor="tip",
                    sizemode="raw",
                    sizeref=1.0,
                    colorscale=[[0, color], [1, color]],
                    showscale=False,
                    hoverinfo="skip",
                    showlegend=False,
                    legendgroup=f"category-{c}",
                    name=f"{hover_text(category, MAX_HOVER_CHARS)} heads",
                )
            )
    fig.update_layout(
        title=title or None,
        legend=dict(title="category", itemsizing="constant"),
        margin=dict(l=0, r=0, t=40 if title else 0, b=0),
        scene=dict(
            xaxis=dict(showticklabels=False), yaxis=dict(showticklabels=False), zaxis=dict(showticklabels=False)
        ),
    )
    return fig
