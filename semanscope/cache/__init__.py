"""Persistent caches: embeddings (:mod:`semanscope.cache.store`) on the SQLite store of
:mod:`semanscope.cache.sqlite_store`, values encoded by :mod:`semanscope.cache.codec`, problems
reported through :mod:`semanscope.cache.problems` (see docs/ARCHITECTURE.md, "Caches")."""

from semanscope.cache.problems import CacheProblem, CacheRepairedWarning, CacheUnavailableWarning, CacheWarning
from semanscope.cache.store import (
    DEFAULT_SIZE_LIMIT,
    BatchWriter,
    CacheStats,
    EmbeddingCache,
    encode_cached,
    key_language,
)

__all__ = [
    "DEFAULT_SIZE_LIMIT",
    "BatchWriter",
    "CacheProblem",
    "CacheRepairedWarning",
    "CacheStats",
    "CacheUnavailableWarning",
    "CacheWarning",
    "EmbeddingCache",
    "encode_cached",
    "key_language",
]
