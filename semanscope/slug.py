"""ASCII-safe name parts for file names and LaTeX labels derived from user text (data set names,
model keys, upload names): :func:`ascii_slug`."""

from __future__ import annotations

import hashlib
import re
import unicodedata

SLUG_MAX = 60
"""Longest slug before its hash suffix."""
_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def ascii_slug(text: str, max_length: int = SLUG_MAX) -> str:
    """``text`` as ``[a-z0-9-]`` only: safe in any file name, URL and LaTeX ``\\label``.

    Lower-cased, accents removed (NFKD, combining marks dropped: ``Données`` -> ``donnees``), every
    run of other characters one ``-``, no ``-`` at either end, cut to ``max_length``. When a letter
    or digit was lost (another script: ``日本``) or the text was cut, ``-`` and the first 8 hex digits
    of SHA-256 of the UTF-8 text are appended, so different names keep different slugs; when
    nothing is left the slug is those 8 digits alone. ``"données_日本-scores"`` ->
    ``"donnees-scores-<8 hex>"``.
    """
    decomposed = "".join(ch for ch in unicodedata.normalize("NFKD", str(text)) if not unicodedata.combining(ch))
    lowered = decomposed.lower()
    slug = _NOT_SLUG.sub("-", lowered).strip("-")
    lost = any(ch.isalnum() and not ch.isascii() for ch in lowered)
    if len(slug) > max_length:
        slug, lost = slug[:max_length].rstrip("-"), True
    if not lost and slug:
        return slug
    digest = hashlib.sha256(str(text).encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return f"{slug}-{digest}" if slug else digest
