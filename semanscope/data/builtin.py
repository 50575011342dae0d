"""The query sets shipped with Semanscope (``semanscope/data/builtin/<name>.csv``, wide CSV)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from .loaders import load_queryset
from .queryset import QuerySet
from .validation import QuerySetError

BUILTIN_DIR = Path(__file__).with_name("builtin")
BUILTIN_LICENSE = "CC BY 4.0, written by the Semanscope project"
BUILTIN_SETS: dict[str, str] = {
    "faq": "FAQ-style questions on everyday topics",
    "words": "common words (family, body, nature, ...) with | alternatives",
}


def builtin_path(name: str) -> Path:
    """Path of a built-in set's CSV (it may not exist in a partial install)."""
    if name not in BUILTIN_SETS:
        raise QuerySetError(f"unknown built-in set {name!r}; available: {', '.join(BUILTIN_SETS)}")
    return BUILTIN_DIR / f"{name}.csv"


def list_builtin() -> dict[str, str]:
    """Built-in sets whose file is installed: name -> description."""
    return {name: text for name, text in BUILTIN_SETS.items() if builtin_path(name).exists()}


def load_builtin(name: str = "faq") -> QuerySet:
    """Load a built-in set with the wide-CSV loader; provenance says ``source="builtin"`` and the license."""
    path = builtin_path(name)
    if not path.exists():
        raise QuerySetError(f"built-in set {name!r} is not installed (missing {path})")
    result = load_queryset(path, format="csv", name=name, license=BUILTIN_LICENSE)
    provenance = {**result.queryset.provenance, "source": "builtin", "path": f"semanscope/data/builtin/{name}.csv"}
    return dataclasses.replace(result.queryset, provenance=provenance)
