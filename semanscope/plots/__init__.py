"""Figures (plotly), matplotlib vector exports and table exports."""

from semanscope.plots.arrows import relation_arrows
from semanscope.plots.charts import (
    degradation_heatmap,
    ra_heatmap,
    retrieval_heatmap,
    sa_bars,
    sa_heatmap,
    sa_vs_p_at_1,
)
from semanscope.plots.export import ExportUnavailable, figure_to_html, figure_to_image, figure_to_images, find_browser
from semanscope.plots.mpl import camera_to_view, scatter_to_vector
from semanscope.plots.palette import language_color
from semanscope.plots.scatter import scatter2d, scatter3d
from semanscope.plots.tables import format_ci, to_csv, to_latex, to_markdown

__all__ = [
    "ExportUnavailable",
    "camera_to_view",
    "degradation_heatmap",
    "figure_to_html",
    "figure_to_image",
    "figure_to_images",
    "find_browser",
    "format_ci",
    "language_color",
    "ra_heatmap",
    "relation_arrows",
    "retrieval_heatmap",
    "sa_bars",
    "sa_heatmap",
    "sa_vs_p_at_1",
    "scatter2d",
    "scatter3d",
    "scatter_to_vector",
    "to_csv",
    "to_latex",
    "to_markdown",
]
