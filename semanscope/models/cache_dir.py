"""Where Semanscope keeps its caches and setup-built models (one setting, no other imports)."""

from __future__ import annotations

import os
from pathlib import Path


def default_cache_dir() -> Path:
    """``$SEMANSCOPE_CACHE``, else ``<repo>/cache`` in a source checkout, else ``~/.cache/semanscope``."""
    env = os.environ.get("SEMANSCOPE_CACHE")
    if env:
        return Path(env).expanduser()
    root = Path(__file__).resolve().parents[2]
    if (root / "pyproject.toml").is_file() and (root / "semanscope" / "models").is_dir():
        return root / "cache"
    return Path.home() / ".cache" / "semanscope"
