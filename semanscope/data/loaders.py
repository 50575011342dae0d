"""Read query-set files into a :class:`~semanscope.data.queryset.QuerySet`, with validation.

``load_queryset(source, format=None, ...)`` detects the format from the extension and the
header (or uses ``format``), reads it with the matching loader and returns a
:class:`LoadResult` = ``(queryset, report)``. Bad input raises :class:`QuerySetError`
(a ``ValueError``) naming the file, row and column; usable-but-odd input is kept and
described in ``report``. Formats:

========  ==================================================================================
csv       wide CSV/TSV (``,`` ``;`` or tab): ``id``, optional ``topic``/``domain``, one column
          per language (code or name); ids ``row-00001``... without an ``id`` column
sa        Semanscope SA CSV: language columns (often names like ``english``), ``|``
          alternatives, optional concept-label column; same reader as ``csv``
jsonl     JSON lines (or a ``.json`` array) of flat ``{"id", "topic", "en", ...}`` or nested
          ``{"id", "topic", "texts": {...}}`` objects
parquet   Parquet with the wide schema
webfaq    WebFAQ bitexts (Parquet / JSON lines / CSV), pivot-joined (:func:`load_webfaq`)
xquad     XQuAD/SQuAD JSON, one file per language, joined by question id (:func:`load_xquad`)
========  ==================================================================================

The wide formats (csv, sa, jsonl, parquet) share one set of rules (:mod:`semanscope.data.tables`):
columns that are not a language, ``id`` or ``topic`` are kept as per-concept metadata
(``QuerySet.metadata``), ``\\|`` in a cell is a literal pipe, and CSV/TSV lines whose first
cell starts with ``#`` are comments (:mod:`semanscope.data.records`); the report says how many
comment lines were skipped, which columns became metadata and how many cells were split
into alternatives.

Several files (a list) are joined as ``webfaq`` or ``xquad``. Encoding rules are in
:mod:`semanscope.data.encoding` (UTF-8/UTF-16/UTF-32 BOMs accepted; invalid UTF-8 is an
error unless ``encoding=`` says otherwise). Every query set's provenance records source,
format, SHA-256 of the bytes, rows read, encoding and license (``None`` = unknown).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

from .assemble import LoadResult
from .encoding import Source, as_source, open_text
from .records import Progress, RowCounter, container_of, parquet_schema, read_records
from .tables import ID_COLUMNS, load_table
from .validation import (
    MAX_CONCEPTS,
    MAX_FILE_MB,
    MAX_LANGUAGES,
    QuerySetError,
    language_code,
    safe_upload_name,
)
from .webfaq import REQUIRED_COLUMNS as WEBFAQ_COLUMNS
from .webfaq import load_webfaq
from .xquad import load_xquad

__all__ = [
    "FORMATS",
    "MAX_CONCEPTS",
    "MAX_FILE_MB",
    "MAX_LANGUAGES",
    "LoadResult",
    "QuerySetError",
    "detect_format",
    "load_queryset",
    "load_webfaq",
    "load_xquad",
    "safe_upload_name",
]

FORMATS: dict[str, str] = {
    "csv": "wide CSV/TSV: id, topic, one column per language",
    "sa": "Semanscope SA CSV: language columns with | alternatives",
    "jsonl": "JSON lines (or a JSON array) of flat or nested objects",
    "parquet": "Parquet with the wide schema",
    "webfaq": "WebFAQ bitexts (Parquet, JSON lines or CSV), pivot-joined",
    "xquad": "XQuAD/SQuAD JSON, one file per language",
}
_ALIASES = {"tsv": "csv", "wide": "csv", "json": "jsonl", "squad": "xquad"}
_PEEK = 4096


def _json_kind(source: Source, encoding: str | None) -> str:
    """What a ``.json`` file holds: ``"json"`` (an array of records), ``"jsonl"`` (one object
    per line) or ``"squad"`` (one document, pretty-printed or on one line, with ``data``)."""
    with open_text(source, encoding) as (text, _codec):
        first = text.readline()
        while first and not first.strip():
            first = text.readline()
        if first.lstrip("\ufeff \t").startswith("["):
            return "json"
        try:
            doc = json.loads(first)
        except (ValueError, RecursionError):  # JSONDecodeError, too deep, a huge integer
            return "squad"  # an object spread over several lines (or not JSON: the reader says so)
        more = text.read(_PEEK).strip()
    if more:
        return "jsonl"
    return "squad" if isinstance(doc, dict) and "data" in doc else "jsonl"


def detect_format(source: Source, *, encoding: str | None = None, delimiter: str | None = None) -> str:
    """Format name of one file from its extension and its header / first record / schema."""
    container = container_of(source)
    if container == "parquet":
        columns, _ = parquet_schema(source)
        return "webfaq" if set(WEBFAQ_COLUMNS) <= set(columns) else "parquet"
    if container == "json":
        container = _json_kind(source, encoding)
        if container == "squad":
            return "xquad"
    records = read_records(source, container, encoding=encoding, delimiter=delimiter)
    try:
        if records.columns is not None:
            columns = records.columns
        else:
            first = next(records.rows, None)
            columns = list(first.values) if first is not None else []
    finally:
        records.rows.close()  # type: ignore[attr-defined]
    if set(WEBFAQ_COLUMNS) <= set(columns):
        return "webfaq"
    if container == "csv":
        return "csv" if any(c.strip().casefold() in ID_COLUMNS for c in columns) else "sa"
    return "jsonl"


def load_queryset(
    source: object,
    *,
    format: str | None = None,
    name: str | None = None,
    languages: Sequence[str] | None = None,
    pivot: str = "en",
    progress: Progress | None = None,
    max_rows: int | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    min_similarity: float | None = None,
    min_languages: int | None = None,
    duplicates: str = "best",
    license: str | None = None,
    metadata: Sequence[str] | None = None,
) -> LoadResult:
    """Load a query set from a path, a binary file object with ``.name`` (e.g. a Streamlit
    upload), or a list of them / ``{language: file}`` mapping (WebFAQ, XQuAD).

    format: one of :data:`FORMATS` (``tsv``/``wide``/``json``/``squad`` are aliases); detected when ``None``.
    name: query-set name (default: the file's stem, or ``webfaq``/``xquad``).
    languages: language labels to keep, in this order (default: all).
    pivot: join language for WebFAQ and XQuAD (unused by the wide formats).
    progress: ``progress(rows_done, total_rows_or_None)`` while reading.
    max_rows: read at most this many data rows (a prefix; reported).
    encoding: text codec when there is no BOM (default UTF-8; see :mod:`~semanscope.data.encoding`).
    delimiter: CSV delimiter (default: tab for .tsv, else sniffed from the header).
    min_similarity, min_languages, duplicates: WebFAQ options (see :func:`load_webfaq`).
    license: recorded in provenance.
    metadata: wide formats: column names to keep as metadata even when they look like (or are)
        language labels, e.g. ``["pos"]``; each must be in the file.
    """
    codes = None if languages is None else [language_code(code, "languages") for code in languages]
    fmt = _format_name(format)
    files: list[Source] | dict[str, Source]
    if isinstance(source, Mapping):
        files = {str(lang): as_source(f) for lang, f in source.items()}
    elif isinstance(source, (list, tuple)):
        files = [as_source(f) for f in source]
    else:
        files = [as_source(source)]
    if not files:
        raise QuerySetError("no files given")
    first = next(iter(files.values())) if isinstance(files, dict) else files[0]
    fmt = fmt or detect_format(first, encoding=encoding, delimiter=delimiter)
    if len(files) > 1 and fmt not in ("webfaq", "xquad"):
        raise QuerySetError(f"several files can only be joined as webfaq or xquad; {first.name} looks like {fmt}")
    if metadata and fmt in ("webfaq", "xquad"):
        raise QuerySetError(f"metadata= applies to the wide formats (csv, sa, jsonl, parquet), not {fmt}")
    if fmt == "xquad":
        return load_xquad(files, pivot, codes, name=name, progress=progress, encoding=encoding, license=license)
    if fmt == "webfaq":
        if isinstance(files, dict):
            raise QuerySetError("WebFAQ files take a list of files, not a {language: file} mapping")
        return load_webfaq(
            files,
            pivot,
            min_similarity,
            min_languages,
            codes,
            duplicates=duplicates,
            name=name,
            progress=progress,
            max_rows=max_rows,
            encoding=encoding,
            license=license,
        )
    container = {"csv": "csv", "sa": "csv", "parquet": "parquet"}.get(fmt) or (
        _json_kind(first, encoding) if container_of(first) == "json" else "jsonl"
    )
    if container == "squad":
        raise QuerySetError(f"{first.name}: holds one JSON document, not records; use format='xquad' for SQuAD files")
    if format is not None and format.lower() == "tsv" and delimiter is None:
        delimiter = "\t"
    records = read_records(first, container, encoding=encoding, delimiter=delimiter)
    provenance = {
        "source": first.name,
        "format": fmt,
        "sha256": first.sha256(),
        "bytes": first.size(),
        "encoding": records.encoding,
        "license": license,
    }
    return load_table(
        first,
        records,
        name=name or Path(first.name).stem,
        languages=codes,
        counter=RowCounter(progress, max_rows, records.total),
        provenance=provenance,
        metadata=metadata,
    )


def _format_name(format: str | None) -> str | None:
    if format is None:
        return None
    fmt = _ALIASES.get(format.lower(), format.lower())
    if fmt not in FORMATS:
        raise QuerySetError(f"unknown format {format!r}; use one of {', '.join(FORMATS)} (or leave it out to detect)")
    return fmt
