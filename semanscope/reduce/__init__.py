"""2D/3D projections of embeddings (PHATE, PCA, t-SNE, UMAP, PaCMAP, TriMap, Isomap, MDS, kernel
PCA, spectral embedding, LLE), their cache, several methods side by side and how well each keeps
the neighbours (kNN preservation)."""

from semanscope.reduce.cache import ProjectionCache, project_cached, projection_key
from semanscope.reduce.compare import MethodRun, compare_methods, method_table
from semanscope.reduce.projection import project
from semanscope.reduce.quality import knn_preservation
from semanscope.reduce.settings import DEFAULTS, METHODS, available_methods, resolve_settings, unavailable_methods

__all__ = [
    "DEFAULTS",
    "METHODS",
    "MethodRun",
    "ProjectionCache",
    "available_methods",
    "compare_methods",
    "knn_preservation",
    "method_table",
    "project",
    "project_cached",
    "projection_key",
    "resolve_settings",
    "unavailable_methods",
]
