"""Result charts: SA and retrieval heatmaps per language pair, SA per model, degradation.

Heatmaps: row ``i``, column ``j`` of the (L, L) matrix is drawn at row ``languages[i]`` (top
to bottom) and column ``languages[j]``; each cell is annotated with its value (blank for NaN).
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import TypeVar

import numpy as np
import numpy.typing as npt
import plotly.graph_objects as go

from semanscope.plots.palette import FAMILY_COLORS


def _square(name: str, matrix: np.ndarray, languages: Sequence[str]) -> np.ndarray:
    z = np.asarray(matrix, dtype=np.float64)
    n = len(languages)
    if z.shape != (n, n):
        raise ValueError(f"{name} must be a ({n}, {n}) matrix for {n} languages; got shape {z.shape}")
    return z


T = TypeVar("T")


def _ci_bounds(ci_low: T | None, ci_high: T | None) -> tuple[T, T] | None:
    """``(ci_low, ci_high)``, or None when neither is given; ValueError when only one is."""
    if ci_low is None and ci_high is None:
        return None
    if ci_low is None or ci_high is None:
        raise ValueError("give both ci_low and ci_high, or neither")
    return ci_low, ci_high


def _cell_text(z: np.ndarray, digits: int) -> list[list[str]]:
    return [["" if np.isnan(v) else f"{v:.{digits}f}" for v in row] for row in z]


def _heatmap(
    z: np.ndarray,
    languages: Sequence[str],
    *,
    title: str,
    colorscale: str,
    value_name: str,
    row_title: str,
    col_title: str,
    digits: int = 2,
    zmin: float | None = None,
    zmax: float | None = None,
    zmid: float | None = None,
    customdata: np.ndarray | None = None,
    hover_value: str | None = None,
) -> go.Figure:
    labels = [str(x) for x in languages]
    hover_value = hover_value or f"%{{z:.{digits + 1}f}}"
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=labels,
            y=labels,
            text=_cell_text(z, digits),
            texttemplate="%{text}",
            colorscale=colorscale,
            zmin=zmin,
            zmax=zmax,
            zmid=zmid,
            customdata=customdata,
            colorbar=dict(title=value_name),
            hovertemplate=f"{row_title}: %{{y}}<br>{col_title}: %{{x}}<br>{value_name}: {hover_value}<extra></extra>",
        )
    )
    fig.update_layout(
        title=title or None,
        xaxis=dict(title=col_title, showgrid=False),
        yaxis=dict(title=row_title, autorange="reversed", showgrid=False),
    )
    return fig


def sa_heatmap(
    pair_sa: np.ndarray,
    languages: Sequence[str],
    title: str = "",
    ci_low: np.ndarray | None = None,
    ci_high: np.ndarray | None = None,
) -> go.Figure:
    """Semantic Affinity per language pair (L, L), annotated; hover adds ``[low, high]`` when CIs are given."""
    z = _square("pair_sa", pair_sa, languages)
    customdata = hover = None
    bounds = _ci_bounds(ci_low, ci_high)
    if bounds is not None:
        customdata = np.stack([_square("ci_low", bounds[0], languages), _square("ci_high", bounds[1], languages)], -1)
        hover = "%{z:.3f} [%{customdata[0]:.3f}, %{customdata[1]:.3f}]"
    return _heatmap(
        z,
        languages,
        title=title,
        colorscale="Viridis",
        value_name="SA",
        row_title="language",
        col_title="language",
        customdata=customdata,
        hover_value=hover,
    )


def ra_heatmap(cross: np.ndarray, languages: Sequence[str], title: str = "") -> go.Figure:
    """Cross-language Relational Affinity (L, L) in [-1, 1] (mean matched cosine of relation vectors),
    on a diverging scale centred at 0 (negative red, positive blue); NaN cells (the diagonal) blank."""
    z = _square("cross", cross, languages)
    return _heatmap(
        z,
        languages,
        title=title,
        colorscale="RdBu",
        value_name="RA",
        row_title="language",
        col_title="language",
        zmin=-1.0,
        zmax=1.0,
        zmid=0.0,
    )


def retrieval_heatmap(p1: np.ndarray, languages: Sequence[str], title: str = "", metric: str = "P@1") -> go.Figure:
    """Retrieval score (L, L) in [0, 1]: row = query language, column = target language."""
    z = _square(metric, p1, languages)
    return _heatmap(
        z,
        languages,
        title=title,
        colorscale="Blues",
        value_name=metric,
        row_title="query language",
        col_title="target language",
        zmin=0.0,
        zmax=1.0,
    )


def degradation_heatmap(
    gap: np.ndarray, languages: Sequence[str], title: str = "", value_name: str = "gap"
) -> go.Figure:
    """Difference matrix (L, L) per language pair, e.g. contextual SA - static SA.

    Diverging scale centred at 0 and symmetric (``zmin = -zmax = -max|gap|``): negative
    red, positive blue.
    """
    z = _square(value_name, gap, languages)
    finite = np.abs(z[np.isfinite(z)])
    bound = float(finite.max()) if finite.size and finite.max() > 0 else 1.0
    return _heatmap(
        z,
        languages,
        title=title,
        colorscale="RdBu",
        value_name=value_name,
        row_title="language",
        col_title="language",
        zmin=-bound,
        zmax=bound,
        zmid=0.0,
    )


def sa_bars(
    models: Sequence[str],
    sa: npt.ArrayLike,
    ci_low: npt.ArrayLike | None,
    ci_high: npt.ArrayLike | None,
    families: Sequence[str],
    title: str = "",
) -> go.Figure:
    """SA per model as bars in the given order, one trace (colour) per family, asymmetric CI error bars.

    Error bar lengths are ``high - sa`` up and ``sa - low`` down (clipped at 0 when a
    percentile CI does not contain the point estimate).
    """
    names = [str(m) for m in models]
    n = len(names)
    if len(set(names)) != n:
        raise ValueError("model names must be unique")
    values = np.asarray(sa, dtype=np.float64)
    if values.shape != (n,) or len(families) != n:
        raise ValueError(
            f"sa and families need one entry per model ({n}); "
            f"got {values.shape[0] if values.ndim else 0} and {len(families)}"
        )
    bounds = _ci_bounds(ci_low, ci_high)
    unknown = sorted(set(families) - set(FAMILY_COLORS))
    if unknown:
        raise ValueError(f"unknown model family {unknown}; expected one of {sorted(FAMILY_COLORS)}")
    ci: tuple[np.ndarray, np.ndarray] | None = None
    if bounds is not None:
        ci = np.asarray(bounds[0], dtype=np.float64), np.asarray(bounds[1], dtype=np.float64)
        if ci[0].shape != (n,) or ci[1].shape != (n,):
            raise ValueError(f"ci_low and ci_high need one entry per model ({n})")
    fam = np.asarray(families)
    fig = go.Figure()
    for family in FAMILY_COLORS:
        idx = np.flatnonzero(fam == family)
        if idx.size == 0:
            continue
        error_y = None
        custom = None
        hover = "%{x}<br>SA: %{y:.3f}"
        if ci is not None:
            low, high = ci
            error_y = dict(
                type="data",
                symmetric=False,
                array=np.maximum(high[idx] - values[idx], 0.0),
                arrayminus=np.maximum(values[idx] - low[idx], 0.0),
            )
            custom = np.stack([low[idx], high[idx]], axis=1)
            hover += " [%{customdata[0]:.3f}, %{customdata[1]:.3f}]"
        fig.add_trace(
            go.Bar(
                x=[names[i] for i in idx],
                y=values[idx],
                name=family,
                marker_color=FAMILY_COLORS[family],
                error_y=error_y,
                customdata=custom,
                hovertemplate=hover + f"<br>{family}<extra></extra>",
            )
        )
    fig.update_layout(
        title=title or None,
        xaxis=dict(title="model", categoryorder="array", categoryarray=names),
        yaxis=dict(title="Semantic Affinity"),
        legend=dict(title="family"),
        barmode="overlay",
    )
    return fig


def sa_vs_p_at_1(
    sa: npt.ArrayLike,
    p_at_1: npt.ArrayLike,
    models: Sequence[str],
    pairs: Sequence[str],
    title: str = "",
) -> go.Figure:
    """SA (x) against P@1 (y), one point per (model, language pair), one trace (colour) per model
    in first-appearance order; hover names the model and the pair."""
    x, y = np.asarray(sa, dtype=np.float64), np.asarray(p_at_1, dtype=np.float64)
    n = len(models)
    if x.shape != (n,) or y.shape != (n,) or len(pairs) != n:
        raise ValueError(
            f"sa, p_at_1, models and pairs need the same length, got {x.shape}, {y.shape}, {n}, {len(pairs)}"
        )
    fig = go.Figure()
    names = np.asarray(models, dtype=object)
    for model in dict.fromkeys(models):
        idx = np.flatnonzero(names == model)
        fig.add_trace(
            go.Scatter(
                x=x[idx],
                y=y[idx],
                mode="markers",
                name=str(model),
                text=[f"{html.escape(str(model))}<br>{html.escape(str(pairs[i]))}" for i in idx.tolist()],
                hovertemplate="%{text}<br>SA %{x:.3f}<br>P@1 %{y:.3f}<extra></extra>",
            )
        )
    fig.update_layout(
        title=title or None,
        xaxis=dict(title="Semantic Affinity (language pair)"),
        yaxis=dict(title="P@1 (mean of both directions)", range=[0, 1.02]),
        legend=dict(title="model"),
    )
    return fig
