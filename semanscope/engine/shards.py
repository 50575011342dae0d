"""The Parquet files the engine reads and writes (pyarrow only; no Ray).

* **concept shards** (input): :mod:`semanscope.data.concept_shards`.
* **embedding shards**: one row per (concept, language, text) in ``QuerySet.items()`` order,
  each file whole concepts: ``position``, ``id``, ``lang`` (code), ``text``, ``vector``
  (``fixed_size_list<float>[d]``); the languages are in the schema metadata too.
* **text buckets** (de-duplication pass): first occurrences of (language, text) of one shard that
  fall in one bucket: ``lang`` (index), ``text``, ``position``, ``vector``.
* **cell shards** (retrieval): per kept concept, ``position`` and one ``cell:<code>``
  ``fixed_size_list<double>[d]`` column per language (the renormalised mean unit vector).

Files are named by the first position they hold, so a retried task rewrites the same file.
Values read back are checked (column types, one vector width) before they are used.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from semanscope.data.concept_shards import ShardError, language_metadata, languages_of
from semanscope.data.queryset import QuerySet

CELL_PREFIX = "cell:"


# ------------------------------------------------------------------ vectors
def vector_array(X: np.ndarray) -> pa.FixedSizeListArray:
    """(n, d) float array -> ``fixed_size_list<float32 or float64>[d]`` (no copy when contiguous)."""
    X = np.ascontiguousarray(X)
    if X.dtype not in (np.float32, np.float64):
        X = X.astype(np.float64)
    return pa.FixedSizeListArray.from_arrays(pa.array(X.reshape(-1)), X.shape[1])


def array_vectors(column: pa.ChunkedArray | pa.Array, where: object) -> np.ndarray:
    """A ``fixed_size_list`` column -> (n, d) float array, checked."""
    arr = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if not pa.types.is_fixed_size_list(arr.type) or not pa.types.is_floating(arr.type.value_type):
        raise ShardError(f"{where}: expected a fixed_size_list<float> column, got {arr.type}")
    if arr.null_count:
        raise ShardError(f"{where}: {arr.null_count} missing vector(s)")
    d = arr.type.list_size
    return arr.flatten().to_numpy(zero_copy_only=False).reshape(len(arr), d)


def vector_width(schema: pa.Schema, where: object) -> int:
    """The width d of a shard's ``vector`` column (from its schema)."""
    kind = schema.field("vector").type if "vector" in schema.names else None
    if kind is None or not pa.types.is_fixed_size_list(kind):
        raise ShardError(f"{where}: no fixed_size_list 'vector' column")
    return int(kind.list_size)


# ------------------------------------------------------------------ embedding shards
def embedding_table(position: np.ndarray, qs: QuerySet, X: np.ndarray) -> pa.Table:
    """One row per ``qs.items()`` row: ``position``, ``id``, ``lang``, ``text``, ``vector``."""
    items = qs.items()
    schema = pa.schema(
        [
            pa.field("position", pa.int64()),
            pa.field("id", pa.string()),
            pa.field("lang", pa.string()),
            pa.field("text", pa.string()),
            pa.field("vector", pa.list_(pa.from_numpy_dtype(np.asarray(X).dtype), X.shape[1])),
        ],
        metadata=language_metadata(qs.languages),
    )
    return pa.Table.from_arrays(
        [
            pa.array(position[items.concept], pa.int64()),
            pa.array([qs.ids[i] for i in items.concept], pa.string()),
            pa.array([qs.languages[j] for j in items.lang], pa.string()),
            pa.array(items.texts, pa.string()),
            vector_array(X),
        ],
        schema=schema,
    )


@dataclass(frozen=True)
class EmbeddingShard:
    """An embedding shard read back: ``position`` (n,) and ``ids`` of its concepts, rows ``X``
    (M, d) with ``concept`` (M,) the local concept index, ``lang`` (M,) language index, ``texts``."""

    languages: tuple[str, ...]
    position: np.ndarray
    ids: list[str]
    X: np.ndarray
    concept: np.ndarray
    lang: np.ndarray
    texts: list[str]


def read_embedding_shard(path: Path, languages: Sequence[str] | None = None) -> EmbeddingShard:
    """Read and check an embedding shard (rows must be concept-contiguous, positions increasing)."""
    table = pq.read_table(path)
    langs = languages_of(table.schema, path)
    if languages is not None and tuple(languages) != langs:
        raise ShardError(f"{path}: languages {langs} differ from {tuple(languages)}")
    for name in ("position", "id", "lang", "text", "vector"):
        if name not in table.column_names:
            raise ShardError(f"{path}: not an embedding shard: no {name!r} column")
    row_position = np.asarray(table.column("position").to_numpy(zero_copy_only=False), dtype=np.int64)
    if np.any(np.diff(row_position) < 0):
        raise ShardError(f"{path}: rows are not in concept order")
    starts = np.flatnonzero(np.r_[True, np.diff(row_position) != 0])
    concept = np.cumsum(np.r_[False, np.diff(row_position) != 0]).astype(np.int64)
    code_index = {code: j for j, code in enumerate(langs)}
    codes = table.column("lang").to_pylist()
    unknown = set(codes) - set(code_index)
    if unknown:
        raise ShardError(f"{path}: language(s) {sorted(map(str, unknown))} not in the shard's languages")
    lang = np.fromiter((code_index[c] for c in codes), dtype=np.int64, count=len(codes))
    ids = table.column("id").to_pylist()
    X = array_vectors(table.column("vector"), path)
    texts = [str(t) for t in table.column("text").to_pylist()]
    return EmbeddingShard(langs, row_position[starts], [str(ids[k]) for k in starts], X, concept, lang, texts)


# ------------------------------------------------------------------ text buckets and cells
def text_bucket_table(lang: np.ndarray, text: np.ndarray, position: np.ndarray, X: np.ndarray) -> pa.Table:
    return pa.table(
        {
            "lang": pa.array(lang, pa.int32()),
            "text": pa.array(list(text), pa.string()),
            "position": pa.array(position, pa.int64()),
            "vector": vector_array(X) if len(X) else pa.array([], pa.list_(pa.float32(), X.shape[1])),
        }
    )


def read_text_buckets(files: Sequence[Path]) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """``(lang, text, position, X)`` of each text-bucket file."""
    for path in files:
        table = pq.read_table(path)
        yield (
            np.asarray(table.column("lang").to_numpy(zero_copy_only=False), dtype=np.int64),
            np.array(table.column("text").to_pylist(), dtype=object),
            np.asarray(table.column("position").to_numpy(zero_copy_only=False), dtype=np.int64),
            array_vectors(table.column("vector"), path),
        )


def cell_table(position: np.ndarray, cells: np.ndarray, languages: Sequence[str]) -> pa.Table:
    """Cell-mean unit vectors ``cells`` (L, n, d) of the concepts at ``position`` (n,)."""
    columns = {"position": pa.array(position, pa.int64())}
    columns.update({CELL_PREFIX + code: vector_array(cells[j]) for j, code in enumerate(languages)})
    return pa.Table.from_pydict(columns, metadata=language_metadata(languages))


def read_cells(path: Path, languages: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """``(position (n,), cells (L, n, d))`` of a cell shard."""
    table = pq.read_table(path)
    position = np.asarray(table.column("position").to_numpy(zero_copy_only=False), dtype=np.int64)
    return position, np.stack([array_vectors(table.column(CELL_PREFIX + code), path) for code in languages])
