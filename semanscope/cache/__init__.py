"""Persistent embedding cache (see :mod:`semanscope.cache.store`)."""

from semanscope.cache.store import (
    DEFAULT_SIZE_LIMIT,
    CacheStats,
    CacheUnavailableWarning,
    EmbeddingCache,
    encode_cached,
)

__all__ = ["DEFAULT_SIZE_LIMIT", "CacheStats", "CacheUnavailableWarning", "EmbeddingCache", "encode_cached"]
