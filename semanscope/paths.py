"""Where Semanscope keeps its files: the layout of the cache folder and the default location of
the shared XQuAD questions.

The cache folder itself is :func:`semanscope.models.registry.default_cache_dir` (``$SEMANSCOPE_CACHE``
or ``<repo>/cache``); the CLI and the app keep the same sub-folders in it, so they share their
embeddings and projections.
"""

from __future__ import annotations

from pathlib import Path

EMBEDDINGS_SUBDIR = "embeddings"  # <cache>/embeddings: the embedding cache (semanscope.cache)
PROJECTIONS_SUBDIR = "projections"  # <cache>/projections: cached projections (semanscope.reduce)
# the 1,190 professionally translated XQuAD questions beside the project root (read, never copied)
XQUAD_DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "data" / "xquad" / "questions.csv"
