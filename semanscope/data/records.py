"""Stream records (one dict per row) out of CSV/TSV, JSON lines, JSON arrays and Parquet.

Rows are yielded one at a time (csv module over a decoding stream, pyarrow record batches),
so memory stays bounded by what the caller keeps. Each record carries its location for
messages: CSV ``"row 5 (line 6)"`` (row = data row, header excluded; line = file line where
the record starts, which differs when cells contain newlines or comments), JSON lines
``"line 7"``, Parquet ``"row 5"``.

CSV/TSV lines skipped (before and after the header; counted in :class:`SkippedLines`):

* comment lines: the first cell starts with ``#`` (spaces before it allowed), e.g.
  ``# source: ...`` or ``#丨,vertical line,``; a ``#`` in any other cell, or in a quoted first
  cell (``"#1",...``), is data. A comment line may have any number of cells;
* blank lines;
* repeated header lines (every cell equal to the header's, e.g. two files concatenated).

Every reader counts the text it decodes against the cell and file limits of
:mod:`semanscope.data.decoded` (Parquet before its values become Python objects), and turns
what a damaged file makes the parsers raise (malformed JSON, JSON nested too deeply, damaged
Parquet pages) into a :class:`QuerySetError` naming the file and row.
"""

from __future__ import annotations

import codecs
import csv
import itertools
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple

from . import validation
from .decoded import DecodedBudget, parquet_text_columns
from .encoding import Source, detect_encoding, open_text
from .validation import QuerySetError, listing

if TYPE_CHECKING:
    import pyarrow.parquet as pq

Progress = Callable[[int, "int | None"], None]
"""progress(records_done, total_records_or_None)"""
PROGRESS_EVERY = 5_000
PARQUET_SUFFIXES = (".parquet", ".pq")
JSONL_SUFFIXES = (".jsonl", ".ndjson")
CSV_SUFFIXES = (".csv", ".tsv", ".tab", ".txt")
_BATCH = 8_192


class Record(NamedTuple):
    """One input row: ``number`` (1-based data row), ``ref`` (short, for report lists),
    ``where`` (full location, for errors) and the raw ``values`` by column/key name."""

    number: int
    ref: str
    where: str
    values: dict


@dataclass
class SkippedLines:
    """File lines (1-based) a CSV reader skipped so far: comments and repeated headers."""

    comments: list[int] = field(default_factory=list)
    headers: list[int] = field(default_factory=list)

    def notes(self) -> list[str]:
        """Report lines for the loaders (empty when nothing was skipped)."""
        out = []
        if self.comments:
            refs = [f"line {n}" for n in self.comments]
            out.append(f"skipped {len(refs):,} comment line(s) starting with '#': {listing(refs)}")
        if self.headers:
            refs = [f"line {n}" for n in self.headers]
            out.append(f"skipped {len(refs):,} repeated header line(s): {listing(refs)}")
        return out


@dataclass
class Records:
    """A stream of records: header ``columns`` (``None`` when keys vary, as in JSON lines),
    the decoding codec used (``None`` for Parquet), ``total`` rows when known up front, and the
    lines skipped so far (``skipped``: complete once ``rows`` is exhausted)."""

    columns: list[str] | None
    rows: Iterator[Record]
    encoding: str | None
    total: int | None = None
    skipped: SkippedLines = field(default_factory=SkippedLines)


def sniff_delimiter(header_line: str, suffix: str) -> str:
    """``\\t`` for .tsv/.tab files, else whichever of ``,`` ``\\t`` ``;`` is most frequent in the
    header (``,`` on ties)."""
    if suffix in (".tsv", ".tab"):
        return "\t"
    counts = {d: header_line.count(d) for d in (",", "\t", ";")}
    best = max(counts, key=lambda d: (counts[d], d == ","))
    return best if counts[best] else ","


def is_comment(line: str, delimiter: str | None) -> bool:
    """True when the first cell of a raw CSV line starts with ``#`` (leading spaces allowed); with
    ``delimiter=None`` (before the header, delimiter not known yet) when the line does."""
    if not line.lstrip().startswith("#"):  # fast path: almost every line
        return False
    return delimiter is None or line.split(delimiter, 1)[0].strip().startswith("#")


class _Lines:
    """The physical lines of a text stream for ``csv.reader``, dropping comment lines met at a
    record boundary (never inside a quoted multi-line cell). The consumer sets ``at_boundary``
    after each record; ``line`` counts physical lines read, ``start`` is where the record began."""

    def __init__(self, text: Iterator[str], delimiter: str, line: int, skipped: SkippedLines):
        self.text, self.delimiter, self.line, self.skipped = text, delimiter, line, skipped
        self.at_boundary = True
        self.start = line

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        while True:
            raw = next(self.text)
            self.line += 1
            if not self.at_boundary:
                return raw
            if is_comment(raw, self.delimiter):
                self.skipped.comments.append(self.line)
                continue
            self.at_boundary, self.start = False, self.line
            return raw


def _csv_stream(source: Source, encoding: str | None, delimiter: str | None, skipped: SkippedLines) -> Iterator:
    """Generator: first yields ``(header, codec)``, then one :class:`Record` per data row; comment,
    blank and repeated-header lines are skipped (see module doc) and recorded in ``skipped``."""
    field_limit = validation.MAX_CELL_BYTES + 1  # characters: a longer cell is over the byte limit too
    if csv.field_size_limit() < field_limit:
        csv.field_size_limit(field_limit)  # csv's default 128 KiB would reject long cells
    with open_text(source, encoding) as (text, codec):
        first, line = "", 0
        known = delimiter or ("\t" if source.suffix in (".tsv", ".tab") else None)
        for first in text:
            line += 1
            if is_comment(first, known):
                skipped.comments.append(line)
            elif first.strip():
                break
        else:
            raise QuerySetError(
                f"{source.name}: " + ("has only comment lines, no header" if skipped.comments else "the file is empty")
            )
        delim = delimiter or sniff_delimiter(first, source.suffix)
        lines = _Lines(itertools.chain([first], text), delim, line - 1, skipped)
        reader = csv.reader(lines, delimiter=delim)
        index = 0
        try:
            header = [h.strip() for h in next(reader)]
            if not any(header):
                raise QuerySetError(f"{source.name}: line {line}: the header has no column names")
            yield header, codec
            lines.at_boundary = True
            for row in reader:
                lines.at_boundary = True
                if not row or (len(row) == 1 and not row[0].strip() and len(header) > 1):
                    continue  # blank line
                if row[0].strip() == header[0] and [cell.strip() for cell in row] == header:
                    skipped.headers.append(lines.start)
                    continue
                index += 1
                where = f"row {index} (line {lines.start})"
                if len(row) != len(header):
                    raise QuerySetError(
                        f"{source.name}: {where} has {len(row)} columns, expected {len(header)} like the header; "
                        f"check for an unquoted {'tab' if delim == chr(9) else repr(delim)} or quote inside a cell"
                    )
                yield Record(index, f"row {index}", where, dict(zip(header, row, strict=True)))
        except csv.Error as exc:
            if str(exc).startswith("field larger than field limit"):
                over = f"more than {csv.field_size_limit():,} characters"
                raise DecodedBudget(source.name).cell_error(f"row {index + 1} (line {lines.start})", over) from None
            raise QuerySetError(f"{source.name}: line {lines.line}: malformed CSV ({exc})") from None
        if index == 0:
            raise QuerySetError(f"{source.name}: has a header but no data rows")


def _jsonl_stream(source: Source, encoding: str | None) -> Iterator[Record]:
    with open_text(source, encoding) as (text, _codec):
        index = 0
        for lineno, line in enumerate(text, start=1):
            if not line.strip():
                continue
            obj = parse_json(line, source.name, lineno)
            if not isinstance(obj, dict):
                raise QuerySetError(f"{source.name}: line {lineno}: expected a JSON object, found {type(obj).__name__}")
            index += 1
            yield Record(index, f"line {lineno}", f"line {lineno}", obj)
        if index == 0:
            raise QuerySetError(f"{source.name}: no JSON objects found")


def _json_array(source: Source, encoding: str | None) -> Iterator[Record]:
    with open_text(source, encoding) as (text, _codec):
        data = parse_json(text.read(), source.name)
    if not isinstance(data, list) or not data:
        raise QuerySetError(f"{source.name}: expected a non-empty JSON array of objects")
    for index, obj in enumerate(data, start=1):
        if not isinstance(obj, dict):
            raise QuerySetError(f"{source.name}: item {index}: expected a JSON object, found {type(obj).__name__}")
        yield Record(index, f"item {index}", f"item {index}", obj)


def parse_json(text: str, file: str, line: int | None = None) -> object:
    """``json.loads(text)`` of a whole document, or of file line ``line`` (JSON lines); anything the
    parser refuses (also nesting too deep, a huge integer) is a :class:`QuerySetError` naming the
    file and line."""
    where = f"{file}: line {line}" if line is not None else file
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        if line is None:
            raise QuerySetError(f"{file}: line {exc.lineno}: invalid JSON ({exc.msg})") from None
        raise QuerySetError(f"{where}: invalid JSON ({exc.msg} at column {exc.colno})") from None
    except RecursionError:
        raise QuerySetError(f"{where}: JSON nested too deeply") from None
    except ValueError as exc:  # e.g. an integer of more than 4,300 digits
        raise QuerySetError(f"{where}: invalid JSON ({exc})") from None


def _parquet_file(source: Source, dictionaries: bool = False) -> pq.ParquetFile:
    """The Parquet file of ``source``; ``dictionaries``: read its text columns dictionary-encoded
    (:mod:`semanscope.data.decoded`)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    def open_file(**options: object) -> pq.ParquetFile:
        return pq.ParquetFile(source.path if source.path is not None else source.reader(), **options)

    try:
        pf = open_file()
        return open_file(read_dictionary=parquet_text_columns(pf.schema)) if dictionaries else pf
    except (pa.ArrowException, OSError) as exc:
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


def _parquet_stream(source: Source, columns: list[str] | None = None) -> Iterator[Record]:
    """Records of a Parquet file in batches of :data:`_BATCH` rows; each batch's decoded text is
    counted before it becomes Python rows (its dictionary columns decoded only then: ``to_pylist``
    of a dictionary column is much slower), and the footer's sizes before anything is read."""
    import pyarrow as pa

    pf = _parquet_file(source, dictionaries=True)
    budget = DecodedBudget(source.name)
    budget.footer(pf.metadata, columns)
    index = 0
    batches = pf.iter_batches(batch_size=_BATCH, columns=columns)
    while True:
        try:
            batch = next(batches, None)
            if batch is None:
                break
            budget.batch(batch, index + 1)
            plain = [c.dictionary_decode() if pa.types.is_dictionary(c.type) else c for c in batch.columns]
            rows = pa.RecordBatch.from_arrays(plain, names=batch.schema.names).to_pylist()  # ~8x faster
        except (pa.ArrowException, OSError) as exc:
            raise QuerySetError(f"{source.name}: damaged Parquet data after row {index:,} ({exc})") from None
        for values in rows:
            index += 1
            yield Record(index, f"row {index}", f"row {index}", values)
    if index == 0:
        raise QuerySetError(f"{source.name}: the Parquet file has no rows")


def read_records(
    source: Source,
    container: str,
    *,
    encoding: str | None = None,
    delimiter: str | None = None,
    columns: Sequence[str] | None = None,
) -> Records:
    """Open ``source`` as ``container`` (``"csv"``, ``"jsonl"``, ``"json"`` or ``"parquet"``).

    ``columns``: Parquet only, read just these of the file's columns (the others are never decoded);
    ``Records.columns`` still lists all of them.
    """
    if container == "csv":
        skipped = SkippedLines()
        stream = _csv_stream(source, encoding, delimiter, skipped)
        header, codec = next(stream)
        return Records(header, _counted(stream, source.name), codec, skipped=skipped)
    if container == "jsonl":
        return Records(None, _counted(_jsonl_stream(source, encoding), source.name), detect_encoding(source, encoding))
    if container == "json":
        return Records(None, _counted(_json_array(source, encoding), source.name), detect_encoding(source, encoding))
    if container == "parquet":
        pf = _parquet_file(source)
        names = list(pf.schema_arrow.names)
        wanted = None if columns is None else [c for c in names if c in set(columns)]
        return Records(names, _parquet_stream(source, wanted), None, pf.metadata.num_rows)
    raise ValueError(f"unknown container {container!r}")  # pragma: no cover - callers pass known names


def _counted(rows: Iterator[Record], file: str) -> Iterator[Record]:
    """``rows`` with each record's text counted against the limits (:class:`DecodedBudget`)."""
    budget = DecodedBudget(file)
    try:
        for record in rows:
            budget.record(record.values, record.where)
            yield record
    finally:
        rows.close()  # type: ignore[attr-defined]


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
