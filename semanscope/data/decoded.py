"""Decoded-size limits: the text a loader decodes from one file, counted while it is read.

A file's size says little about what it decodes to: a 1.4 KB Parquet file can hold 300 MB of
text (one 1 MB string in a dictionary page that every row points to, compressed). Every reader
of :mod:`semanscope.data.records` and :mod:`semanscope.data.xquad` counts the UTF-8 bytes of
the text values it decodes and refuses, with a :class:`QuerySetError` naming the file, row,
column, size and limit:

* a cell (one row and column; all alternatives of a list cell together) over
  :data:`~semanscope.data.validation.MAX_CELL_BYTES`;
* a file whose text values add up to more than :data:`~semanscope.data.validation.MAX_DECODED_BYTES`.

Size of a value (:func:`value_size`): a string's UTF-8 length, a list's or object's the sum
of its parts (object keys included); numbers, booleans and null count 0.

Parquet is checked before its values become Python objects (:func:`parquet_text_columns`,
:meth:`DecodedBudget.footer`, :meth:`DecodedBudget.batch`): first the footer (nothing decoded yet:
the uncompressed sizes of the column chunks to be read), then each record batch, read with
its text columns kept dictionary-encoded so a string repeated by every row is held once; the
cell sizes come from Arrow's string lengths, and only a batch within the limits is turned
into Python rows. The limits are read when a budget is made, so setting e.g.
``semanscope.data.validation.MAX_CELL_BYTES`` changes them for later loads.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from . import validation
from .validation import QuerySetError

if TYPE_CHECKING:
    import pyarrow as pa
    import pyarrow.parquet as pq


def _mib(n: int) -> str:
    return f"{n / 2**20:,.2f} MiB" if n >= 2**20 else f"{n:,} bytes"


def value_size(value: object) -> int:
    """UTF-8 bytes of the text in ``value`` (see module doc); nested lists/objects are walked
    without recursion, so any depth the JSON parser accepted is fine."""
    total = 0
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            total += len(item) if item.isascii() else len(item.encode("utf-8", "surrogatepass"))
        elif isinstance(item, (bytes, bytearray)):
            total += len(item)
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
    return total


class DecodedBudget:
    """Counts the decoded text of one file against the cell and file limits (module doc)."""

    def __init__(self, file: str):
        self.file = file
        self.max_cell = validation.MAX_CELL_BYTES
        self.max_total = validation.MAX_DECODED_BYTES
        self.total = 0

    def cell_error(self, where: str, size: str) -> QuerySetError:
        """The error for a cell of ``size`` at ``where`` (row and column when known)."""
        return QuerySetError(
            f"{self.file}: {where}: a cell of {size} is over the {_mib(self.max_cell)} limit "
            "per cell (semanscope.data.validation.MAX_CELL_BYTES); shorten that text"
        )

    def _total_error(self, where: str) -> QuerySetError:
        return QuerySetError(
            f"{self.file}: the text decoded up to {where} is {_mib(self.total)}, over the {_mib(self.max_total)} "
            "limit per file (semanscope.data.validation.MAX_DECODED_BYTES); split the file"
        )

    def add(self, size: int, where: str, column: str) -> None:
        """Count one cell of ``size`` bytes."""
        if size > self.max_cell:
            raise self.cell_error(f"{where}, column {column!r}", _mib(size))
        self.total += size
        if self.total > self.max_total:
            raise self._total_error(where)

    def record(self, values: dict, where: str) -> None:
        """Count every value of one record (a CSV row, a JSON object)."""
        for column, value in values.items():
            self.add(value_size(value), where, str(column))

    def footer(self, metadata: pq.FileMetaData, columns: list[str] | None) -> None:
        """Refuse a Parquet file whose footer declares more uncompressed data in ``columns``
        (``None`` = all) than the file limit, before any of it is read."""
        declared = 0
        for g in range(metadata.num_row_groups):
            group = metadata.row_group(g)
            for c in range(group.num_columns):
                chunk = group.column(c)
                path = chunk.path_in_schema  # "name" or "name.list.element" ...
                if columns is None or any(path == c or path.startswith(f"{c}.") for c in columns):
                    declared += max(0, chunk.total_uncompressed_size)
        if declared > self.max_total:
            raise QuerySetError(
                f"{self.file}: the Parquet footer declares {_mib(declared)} of uncompressed column data, over the "
                f"{_mib(self.max_total)} limit per file (semanscope.data.validation.MAX_DECODED_BYTES); split the file"
            )

    def batch(self, batch: pa.RecordBatch, first_row: int) -> None:
        """Count an Arrow record batch whose first row is data row ``first_row`` (1-based),
        from its string lengths only (nothing becomes a Python object)."""
        per_row = np.zeros(batch.num_rows, dtype=np.int64)
        for name, column in zip(batch.schema.names, batch.columns, strict=True):
            sizes = cell_sizes(column)
            over = np.flatnonzero(sizes > self.max_cell)
            if over.size:
                row = int(over[0])
                raise self.cell_error(f"row {first_row + row}, column {name!r}", _mib(int(sizes[row])))
            per_row += sizes
        running = self.total + np.cumsum(per_row)
        if running.size and int(running[-1]) > self.max_total:
            row = int(np.searchsorted(running, self.max_total, side="right"))
            self.total = int(running[row])
            raise self._total_error(f"row {first_row + row}")
        self.total = int(running[-1]) if running.size else self.total


def cell_sizes(array: pa.Array) -> np.ndarray:
    """Decoded text bytes of each element of an Arrow array (int64), as :func:`value_size` counts
    them: string/binary lengths; dictionary values looked up; list elements and struct fields summed;
    other types 0."""
    import pyarrow as pa
    import pyarrow.compute as pc

    n = len(array)
    kind = array.type
    valid = array.is_valid().to_numpy(zero_copy_only=False) if array.null_count else np.ones(n, dtype=bool)
    if pa.types.is_dictionary(kind):
        indices = np.where(valid, array.indices.to_numpy(zero_copy_only=False), 0).astype(np.int64)
        return np.where(valid, _value_sizes(array.dictionary, indices), 0)
    if _has_offsets(kind):
        return np.where(valid, _value_sizes(array, np.arange(n)), 0)
    if pa.types.is_fixed_size_binary(kind) or pa.types.is_string_view(kind) or pa.types.is_binary_view(kind):
        return pc.binary_length(array).fill_null(0).to_numpy(zero_copy_only=False).astype(np.int64)
    if pa.types.is_fixed_size_list(kind):
        return cell_sizes(array.cast(pa.list_(kind.value_type)))
    if pa.types.is_list(kind) or pa.types.is_large_list(kind) or pa.types.is_map(kind):
        # row i holds child elements offsets[i]..offsets[i+1] (a map's child: key/value structs)
        offsets = array.offsets.to_numpy(zero_copy_only=False).astype(np.int64)
        start, end = int(offsets[0]), int(offsets[-1])
        child = cell_sizes(array.values.slice(start, end - start))
        running = np.concatenate([[0], np.cumsum(child)])
        sums = running[offsets[1:] - start] - running[offsets[:-1] - start]
        return np.where(valid, sums, 0).astype(np.int64)
    if pa.types.is_struct(kind):
        out = np.zeros(n, dtype=np.int64)
        for child in array.flatten():
            out += cell_sizes(child)
        return out
    return np.zeros(n, dtype=np.int64)


def _has_offsets(kind: pa.DataType) -> bool:
    """String and binary types whose values sit between 32- or 64-bit offsets."""
    import pyarrow as pa

    return any(
        test(kind)
        for test in (pa.types.is_string, pa.types.is_large_string, pa.types.is_binary, pa.types.is_large_binary)
    )


def _value_sizes(values: pa.Array, positions: np.ndarray) -> np.ndarray:
    """Byte lengths of ``values[positions]`` from the offsets (O(len(positions)), however large
    ``values`` is: a batch's dictionary can hold a whole row group's distinct texts); other
    value types through :func:`cell_sizes`."""
    import pyarrow as pa

    kind = values.type
    if not _has_offsets(kind):
        return cell_sizes(values)[positions]
    if not len(positions):
        return np.zeros(0, dtype=np.int64)
    wide = pa.types.is_large_string(kind) or pa.types.is_large_binary(kind)
    offsets = np.frombuffer(values.buffers()[1], dtype=np.int64 if wide else np.int32)
    offsets = offsets[values.offset : values.offset + len(values) + 1]
    return (offsets[positions + 1] - offsets[positions]).astype(np.int64)


def parquet_text_columns(schema: pq.ParquetSchema) -> list[str]:
    """Paths of the byte-array leaf columns of a Parquet schema (read as dictionaries, see module doc)."""
    return [schema.column(i).path for i in range(len(schema)) if schema.column(i).physical_type == "BYTE_ARRAY"]
