"""2D/3D projections of embeddings (PHATE, PCA, t-SNE, UMAP) and their cache."""

from semanscope.reduce.cache import ProjectionCache, project_cached, projection_key
from semanscope.reduce.projection import DEFAULTS, METHODS, available_methods, project, resolve_settings

__all__ = [
    "DEFAULTS",
    "METHODS",
    "ProjectionCache",
    "available_methods",
    "project",
    "project_cached",
    "projection_key",
    "resolve_settings",
]
