"""Errors, limits and small checks shared by the query-set loaders.

The size limits are read when a file is loaded, so setting e.g.
``semanscope.data.validation.MAX_FILE_MB`` changes them for later loads.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from .languages import UnknownLanguage, normalize_language

MAX_FILE_MB = 200
"""Largest input file accepted, in MiB (uploads and paths alike)."""
MAX_DECODED_BYTES = 512 * 2**20
"""Most text one input file may decode to, in UTF-8 bytes (512 MiB): bounds what a small compressed
file (a Parquet "decompression bomb") can expand to; see :mod:`semanscope.data.decoded`."""
MAX_CELL_BYTES = 1 * 2**20
"""Longest text in one cell (one row and column, all alternatives together), in UTF-8 bytes (1 MiB)."""
MAX_CONCEPTS = 200_000
"""Most concepts (rows, empty rows included) one query set may hold."""
MAX_LANGUAGES = 100
"""Most language columns one query set may hold."""
MAX_METADATA_COLUMNS = 100
"""Most metadata (non-language) columns one query set may keep."""
LONG_TEXT_CHARS = 2_000
"""Texts longer than this are kept but reported: models truncate them (~512 tokens)."""
MAX_UPLOAD_NAME = 120
"""Longest file name :func:`safe_upload_name` returns (extension kept)."""
LISTED = 10
"""How many rows a report line names before summarising the rest as "and N more"."""


class QuerySetError(ValueError):
    """Input that cannot become a query set; the message names the file, row and column."""


def language_code(label: str, what: str) -> str:
    """:func:`normalize_language` with errors as :class:`QuerySetError` prefixed by ``what`` (e.g. "pivot")."""
    try:
        return normalize_language(label)
    except UnknownLanguage as exc:
        raise QuerySetError(f"{what}: {exc}") from None


_WORD_CHAR = re.compile(r"[^\W_]")


def has_word_character(text: str) -> bool:
    """True when ``text`` has a letter or digit (Unicode-aware); emoji/punctuation-only is False."""
    return text[:1].isalnum() or _WORD_CHAR.search(text) is not None


def listing(refs: Sequence[str], limit: int = LISTED) -> str:
    """``"row 3, row 7, ... and 12 more"``: the first ``limit`` refs, then a count of the rest."""
    shown = ", ".join(refs[:limit])
    rest = len(refs) - limit
    return f"{shown} and {rest:,} more" if rest > 0 else shown


def safe_upload_name(name: str) -> str:
    """A file name safe to save an upload under.

    Keeps only the last path component (``/`` and ``\\`` both count as separators, so
    ``"../../etc/passwd"`` -> ``"passwd"``), drops control/format characters, strips leading
    dots and surrounding whitespace, and shortens to :data:`MAX_UPLOAD_NAME` characters
    keeping the extension. Returns ``"upload"`` when nothing usable is left.
    """
    base = re.split(r"[\\/]", str(name))[-1]
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C")
    base = base.strip().lstrip(".").strip()
    if not base:
        return "upload"
    if len(base) > MAX_UPLOAD_NAME:
        stem, dot, ext = base.rpartition(".")
        if dot and 0 < len(ext) <= 16 and stem:
            base = stem[: MAX_UPLOAD_NAME - len(ext) - 1] + "." + ext
        else:
            base = base[:MAX_UPLOAD_NAME]
    return base
