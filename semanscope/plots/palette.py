"""Stable colours: one fixed colour per language code and per model family.

The same language gets the same colour in every figure (plotly and matplotlib), whatever the
model or the subset of languages shown. Known codes have hand-picked colours; any other code
gets a colour from :data:`EXTRA` chosen by the sha1 of the code (stable across runs, unlike
Python's ``hash``).
"""

from __future__ import annotations

import hashlib

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
