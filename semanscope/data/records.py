"""Stream records (one dict per row) out of CSV/TSV, JSON lines, JSON arrays and Parquet.

Rows are yielded one at a time (csv module over a decoding stream, pyarrow record batches),
so memory stays bounded by what the caller keeps. Each record carries its location for
messages: CSV ``"row 5 (line 6)"`` (row = data row, header excluded; line = file line where
the record starts, which differs when cells contain newlines), JSON lines ``"line 7"``,
Parquet ``"row 5"``.
"""

from __future__ import annotations

import codecs
import csv
import itertools
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

from .encoding import Source, detect_encoding, open_text
from .validation import QuerySetError

if TYPE_CHECKING:
    import pyarrow.parquet as pq

Progress = Callable[[int, "int | None"], None]
"""progress(records_done, total_records_or_None)"""
PROGRESS_EVERY = 5_000
PARQUET_SUFFIXES = (".parquet", ".pq")
JSONL_SUFFIXES = (".jsonl", ".ndjson")
CSV_SUFFIXES = (".csv", ".tsv", ".tab", ".txt")
_FIELD_LIMIT = 16 * 1024 * 1024  # csv's default 128 KiB would reject very long cells
_BATCH = 8_192


class Record(NamedTuple):
    """One input row: ``number`` (1-based data row), ``ref`` (short, for report lists),
    ``where`` (full location, for errors) and the raw ``values`` by column/key name."""

    number: int
    ref: str
    where: str
    values: dict


@dataclass
class Records:
    """A stream of records: header ``columns`` (``None`` when keys vary, as in JSON lines),
    the decoding codec used (``None`` for Parquet) and ``total`` rows when known up front."""

    columns: list[str] | None
    rows: Iterator[Record]
    encoding: str | None
    total: int | None = None


def sniff_delimiter(header_line: str, suffix: str) -> str:
    """``\\t`` for .tsv/.tab files, else whichever of ``,`` ``\\t`` ``;`` is most frequent in the
    header (``,`` on ties)."""
    if suffix in (".tsv", ".tab"):
        return "\t"
    counts = {d: header_line.count(d) for d in (",", "\t", ";")}
    best = max(counts, key=lambda d: (counts[d], d == ","))
    return best if counts[best] else ","


def _csv_stream(source: Source, encoding: str | None, delimiter: str | None) -> Iterator:
    """Generator: first yields ``(header, codec)``, then one :class:`Record` per data row."""
    if csv.field_size_limit() < _FIELD_LIMIT:
        csv.field_size_limit(_FIELD_LIMIT)
    with open_text(source, encoding) as (text, codec):
        first = text.readline()
        delim = delimiter or sniff_delimiter(first, source.suffix)
        reader = csv.reader(itertools.chain([first], text), delimiter=delim)
        try:
            header = [h.strip() for h in next(reader)]
        except StopIteration:
            raise QuerySetError(f"{source.name}: the file is empty") from None
        if not any(header):
            raise QuerySetError(f"{source.name}: line 1 is blank; the first line must be the header")
        yield header, codec
        index, line = 0, reader.line_num
        try:
            for row in reader:
                start, line = line + 1, reader.line_num
                if not row or (len(row) == 1 and not row[0].strip() and len(header) > 1):
                    continue  # blank line
                index += 1
                where = f"row {index} (line {start})"
                if len(row) != len(header):
                    raise QuerySetError(
                        f"{source.name}: {where} has {len(row)} columns, expected {len(header)} like the header; "
                        f"check for an unquoted {'tab' if delim == chr(9) else repr(delim)} or quote inside a cell"
                    )
                yield Record(index, f"row {index}", where, dict(zip(header, row, strict=True)))
        except csv.Error as exc:
            raise QuerySetError(f"{source.name}: line {reader.line_num}: malformed CSV ({exc})") from None
        if index == 0:
            raise QuerySetError(f"{source.name}: has a header but no data rows")


def _jsonl_stream(source: Source, encoding: str | None) -> Iterator[Record]:
    with open_text(source, encoding) as (text, _codec):
        index = 0
        for lineno, line in enumerate(text, start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                message = f"invalid JSON ({exc.msg} at column {exc.colno})"
                raise QuerySetError(f"{source.name}: line {lineno}: {message}") from None
            if not isinstance(obj, dict):
                raise QuerySetError(f"{source.name}: line {lineno}: expected a JSON object, found {type(obj).__name__}")
            index += 1
            yield Record(index, f"line {lineno}", f"line {lineno}", obj)
        if index == 0:
            raise QuerySetError(f"{source.name}: no JSON objects found")


def _json_array(source: Source, encoding: str | None) -> Iterator[Record]:
    with open_text(source, encoding) as (text, _codec):
        try:
            data = json.load(text)
        except json.JSONDecodeError as exc:
            raise QuerySetError(f"{source.name}: line {exc.lineno}: invalid JSON ({exc.msg})") from None
    if not isinstance(data, list) or not data:
        raise QuerySetError(f"{source.name}: expected a non-empty JSON array of objects")
    for index, obj in enumerate(data, start=1):
        if not isinstance(obj, dict):
            raise QuerySetError(f"{source.name}: item {index}: expected a JSON object, found {type(obj).__name__}")
        yield Record(index, f"item {index}", f"item {index}", obj)


def _parquet_file(source: Source) -> pq.ParquetFile:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        if source.path is not None:
            return pq.ParquetFile(source.path)
        return pq.ParquetFile(source.reader())
    except (pa.ArrowInvalid, OSError) as exc:
        raise QuerySetError(f"{source.name}: not a readable Parquet file ({exc})") from None


def parquet_schema(source: Source) -> tuple[list[str], int]:
    """Column names and row count of a Parquet file (reads the footer only)."""
    pf = _parquet_file(source)
    return list(pf.schema_arrow.names), pf.metadata.num_rows


def container_of(source: Source) -> str:
    """``"csv"``, ``"jsonl"``, ``"json"`` or ``"parquet"``: from the extension, else from the first bytes."""
    suffix = source.suffix
    if suffix in PARQUET_SUFFIXES:
        return "parquet"
    if suffix in JSONL_SUFFIXES:
        return "jsonl"
    if suffix == ".json":
        return "json"
    if suffix in CSV_SUFFIXES:
        return "csv"
    head = source.head(64)
    if head.startswith(b"PAR1"):
        return "parquet"
    start = head.lstrip(codecs.BOM_UTF8 + b" \t\r\n")[:1]
    return {b"{": "jsonl", b"[": "json"}.get(start, "csv")


def _parquet_stream(source: Source) -> Iterator[Record]:
    pf = _parquet_file(source)
    index = 0
    for batch in pf.iter_batches(batch_size=_BATCH):
        for values in batch.to_pylist():
            index += 1
            yield Record(index, f"row {index}", f"row {index}", values)
    if index == 0:
        raise QuerySetError(f"{source.name}: the Parquet file has no rows")


def read_records(
    source: Source, container: str, *, encoding: str | None = None, delimiter: str | None = None
) -> Records:
    """Open ``source`` as ``container`` (``"csv"``, ``"jsonl"``, ``"json"`` or ``"parquet"``)."""
    if container == "csv":
        stream = _csv_stream(source, encoding, delimiter)
        header, codec = next(stream)
        return Records(header, stream, codec)
    if container == "jsonl":
        return Records(None, _jsonl_stream(source, encoding), detect_encoding(source, encoding))
    if container == "json":
        return Records(None, _json_array(source, encoding), detect_encoding(source, encoding))
    if container == "parquet":
        pf = _parquet_file(source)
        return Records(list(pf.schema_arrow.names), _parquet_stream(source), None, pf.metadata.num_rows)
    raise ValueError(f"unknown container {container!r}")  # pragma: no cover - callers pass known names


class RowCounter:
    """Counts records across one or more files, reports progress and enforces ``max_rows``.

    ``progress(done, total)`` is called every :data:`PROGRESS_EVERY` records and at the end of
    each file; after ``max_rows`` records reading stops and :attr:`truncated` tells whether
    the input had more.
    """

    def __init__(self, progress: Progress | None = None, max_rows: int | None = None, total: int | None = None):
        if max_rows is not None and max_rows < 1:
            raise QuerySetError(f"max_rows must be a positive number, got {max_rows}")
        self.progress = progress
        self.max_rows = max_rows
        self.total = total
        self.done = 0
        self.truncated = False

    def over(self, rows: Iterator[Record]) -> Iterator[Record]:
        try:
            for record in rows:
                if self.max_rows is not None and self.done >= self.max_rows:
                    self.truncated = True
                    break
                self.done += 1
                if self.progress is not None and self.done % PROGRESS_EVERY == 0:
                    self.progress(self.done, self.total)
                yield record
        finally:
            close = getattr(rows, "close", None)
            if close is not None:
                close()  # release the file at once when stopping early
        if self.progress is not None:
            self.progress(self.done, self.total)
