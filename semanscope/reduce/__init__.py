"""2D/3D projections of embeddings (PHATE, PCA, t-SNE, UMAP, PaCMAP, TriMap, Isomap, MDS, kernel
PCA, spectral embedding, LLE), their cache, and several methods side by side."""

from semanscope.reduce.cache import ProjectionCache, project_cached, projection_key
from semanscope.reduce.compare import MethodRun, compare_methods
from semanscope.reduce.projection import project
from semanscope.reduce.settings import DEFAULTS, METHODS, available_methods, resolve_settings, unavailable_methods

__all__ = [
    "DEFAULTS",
    "METHODS",
    "MethodRun",
    "ProjectionCache",
    "available_methods",
    "compare_methods",
    "project",
    "project_cached",
    "projection_key",
    "resolve_settings",
    "unavailable_methods",
]
