"""The query sets shipped with Semanscope: written by the project (``semanscope/data/builtin/<name>.csv``,
wide CSV) or generated from data inside an installed package (``cldr``: :mod:`semanscope.data.cldr`)."""

from __future__ import annotations

import dataclasses
import importlib.util
from pathlib import Path

from .loaders import load_queryset
from .queryset import QuerySet
from .validation import QuerySetError

BUILTIN_DIR = Path(__file__).with_name("builtin")
BUILTIN_LICENSE = "CC BY 4.0, written by the Semanscope project"
BUILTIN_SETS: dict[str, str] = {
    "faq": "FAQ-style questions on everyday topics",
    "words": "common words (family, body, nature, ...) with | alternatives",
    "cldr": "Unicode CLDR names of countries, languages, months and weekdays: real human translations",
}
GENERATED = frozenset({"cldr"})  # built from an installed package's data, not from a CSV


def _check_name(name: str) -> None:
    if name not in BUILTIN_SETS:
        raise QuerySetError(f"unknown built-in set {name!r}; available: {', '.join(BUILTIN_SETS)}")


def builtin_path(name: str) -> Path:
    """Path of a written built-in set's CSV (it may not exist in a partial install)."""
    _check_name(name)
    if name in GENERATED:
        raise QuerySetError(f"built-in set {name!r} is generated from installed package data, not read from a file")
    return BUILTIN_DIR / f"{name}.csv"


def _installed(name: str) -> bool:
    if name in GENERATED:
        return importlib.util.find_spec("babel") is not None
    return builtin_path(name).exists()


def list_builtin() -> dict[str, str]:
    """Built-in sets usable here (CSV installed, or the generating package importable): name -> description."""
    return {name: text for name, text in BUILTIN_SETS.items() if _installed(name)}


def load_builtin(name: str = "faq") -> QuerySet:
    """Load a built-in set: a written one with the wide-CSV loader (provenance says ``source="builtin"``
    and the license), ``cldr`` from babel's CLDR data (:func:`semanscope.data.cldr.cldr_queryset`)."""
    _check_name(name)
    if name == "cldr":
        from .cldr import cldr_queryset

        return cldr_queryset()
    path = builtin_path(name)
    if not path.exists():
        raise QuerySetError(f"built-in set {name!r} is not installed (missing {path})")
    result = load_queryset(path, format="csv", name=name, license=BUILTIN_LICENSE)
    provenance = {**result.queryset.provenance, "source": "builtin", "path": f"semanscope/data/builtin/{name}.csv"}
    return dataclasses.replace(result.queryset, provenance=provenance)
