"""Stable colours: one fixed colour per language code and per model family.

The same language gets the same colour in every figure (plotly and matplotlib), whatever the
model or the subset of languages shown. Known codes have hand-picked colours; any other code
gets a colour from :data:`EXTRA` chosen by the sha1 of the code (stable across runs, unlike
Python's ``hash``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

# Distinct, colour-blind-friendlier first for the XQuAD languages, then common others.
LANGUAGE_COLORS: dict[str, str] = {
    "en": "#1f77b4",
    "es": "#ff7f0e",
    "de": "#2ca02c",
    "el": "#d62728",
    "ru": "#9467bd",
    "tr": "#8c564b",
    "ar": "#e377c2",
    "vi": "#7f7f7f",
    "th": "#bcbd22",
    "zh": "#17becf",
    "hi": "#393b79",
    "ro": "#e7969c",
    "fr": "#637939",
    "ja": "#843c39",
    "ko": "#7b4173",
    "it": "#3182bd",
    "pt": "#e6550d",
    "nl": "#31a354",
    "pl": "#756bb1",
    "uk": "#636363",
    "fa": "#bd9e39",
    "he": "#ad494a",
    "id": "#a55194",
    "sw": "#6baed6",
    "bn": "#fd8d3c",
    "ur": "#74c476",
    "ta": "#9e9ac8",
    "sv": "#969696",
    "fi": "#e7ba52",
    "cs": "#d6616b",
}

EXTRA: tuple[str, ...] = (
    "#5254a3",
    "#8ca252",
    "#bd9e39",
    "#ad494a",
    "#a55194",
    "#6b6ecf",
    "#b5cf6b",
    "#e7cb94",
    "#d6616b",
    "#ce6dbd",
    "#9c9ede",
    "#cedb9c",
    "#e7969c",
    "#de9ed6",
    "#3182bd",
    "#e6550d",
)

FAMILY_COLORS: dict[str, str] = {"static": "#ff7f0e", "contextual": "#1f77b4"}

OKABE_ITO: tuple[str, ...] = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#000000", "#F0E442")
"""Okabe & Ito's colour-blind-safe qualitative palette (blue, orange, green, purple, sky blue,
vermillion, black, yellow)."""
SYMBOLS: tuple[str, ...] = ("circle", "square", "diamond", "cross")
"""Marker shapes that plotly draws in 2D and 3D, cycled after every :data:`OKABE_ITO` colour."""
MPL_MARKERS: dict[str, str] = {"circle": "o", "square": "s", "diamond": "D", "cross": "P"}


def distinct_styles(groups: Iterable[str]) -> dict[str, tuple[str, str]]:
    """``{group: (colour, symbol)}`` for the groups of one figure, in order of first appearance:
    group k gets ``OKABE_ITO[k % 8]`` and ``SYMBOLS[(k // 8) % 4]``, so up to 32 groups differ in
    colour or shape and the colours stay colour-blind-safe (used where every group of a figure
    must be told apart, e.g. the study report; the app keeps :func:`language_color`, stable
    across figures)."""
    n = len(OKABE_ITO)
    return {
        g: (OKABE_ITO[k % n], SYMBOLS[(k // n) % len(SYMBOLS)]) for k, g in enumerate(dict.fromkeys(map(str, groups)))
    }


def language_color(code: str) -> str:
    """Hex colour of a language code (case-insensitive; unknown codes hashed into :data:`EXTRA`)."""
    key = str(code).strip().lower()
    if key in LANGUAGE_COLORS:
        return LANGUAGE_COLORS[key]
    return EXTRA[int(hashlib.sha1(key.encode()).hexdigest(), 16) % len(EXTRA)]


def with_alpha(hex_color: str, alpha: float) -> str:
    """``"#rrggbb"`` -> ``"rgba(r,g,b,alpha)"``."""
    h = hex_color.lstrip("#")
    r, g, b = (int(h[i : i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha:g})"
