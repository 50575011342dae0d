"""Concept shards: a query set as Parquet files of whole concepts (the Ray engine's input).

One row per concept, so any batch of rows holds whole concepts: ``position`` int64 (the global
concept order: the query set's row index, or the WebFAQ pivot's first-seen bitext row), ``id``
string, ``topic`` string (nullable) and one ``list<string>`` column per language named
``text:<code>`` (the cell's alternatives; empty = missing). The languages, in order, are in the
schema metadata (``semanscope.languages``). Files are named by their first position
(:func:`shard_name`), so they sort in concept order and a rewrite replaces the same file.
"""

from __future__ import annotations

import heapq
import json
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from .queryset import QuerySet

META_KEY = b"semanscope.languages"
TEXT_PREFIX = "text:"
CONCEPTS_PER_FILE = 10_000


class ShardError(ValueError):
    """A shard file that does not have the expected layout."""


def shard_name(first_position: int) -> str:
    """``shard-000000001234.parquet``: files sort in position order of their first concept."""
    return f"shard-{first_position:012d}.parquet"


def language_metadata(languages: Sequence[str]) -> dict[bytes, bytes]:
    """Schema metadata recording the language order of a shard."""
    return {META_KEY: json.dumps(list(languages)).encode("utf-8")}


def languages_of(schema: pa.Schema, where: object) -> tuple[str, ...]:
    """The language codes stored in a shard's schema metadata."""
    raw = (schema.metadata or {}).get(META_KEY)
    try:
        languages = json.loads(raw.decode("utf-8")) if raw is not None else None
    except (UnicodeDecodeError, json.JSONDecodeError):
        languages = None
    if not isinstance(languages, list) or not all(isinstance(code, str) for code in languages) or len(languages) < 2:
        raise ShardError(f"{where}: no list of at least 2 languages in the Parquet metadata ({META_KEY.decode()})")
    return tuple(languages)


def concept_schema(languages: Sequence[str]) -> pa.Schema:
    fields = [pa.field("position", pa.int64()), pa.field("id", pa.string()), pa.field("topic", pa.string())]
    fields += [pa.field(TEXT_PREFIX + code, pa.list_(pa.string())) for code in languages]
    return pa.schema(fields, metadata=language_metadata(languages))


class ConceptShardWriter:
    """Writes concept shards of ``concepts_per_file`` concepts to ``directory`` (created).

    ``add(position, id, topic, cells)`` with ``cells`` one tuple of alternatives per language;
    :meth:`close` flushes and returns the files written. Rows are buffered one file at a time.
    """

    def __init__(self, directory: Path, languages: Sequence[str], concepts_per_file: int = CONCEPTS_PER_FILE):
        if concepts_per_file < 1:
            raise ValueError(f"concepts_per_file must be >= 1, got {concepts_per_file}")
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.languages = tuple(languages)
        self.schema = concept_schema(self.languages)
        self.concepts_per_file = concepts_per_file
        self.files: list[Path] = []
        self._rows: list[tuple[int, str, str | None, Sequence[Sequence[str]]]] = []

    def add(self, position: int, cid: str, topic: str | None, cells: Sequence[Sequence[str]]) -> None:
        if len(cells) != len(self.languages):
            raise ValueError(f"concept {cid!r}: {len(cells)} cells for {len(self.languages)} languages")
        self._rows.append((position, cid, topic, cells))
        if len(self._rows) >= self.concepts_per_file:
            self._flush()

    def _flush(self) -> None:
        if not self._rows:
            return
        rows, self._rows = self._rows, []
        columns = [[r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows]]
        columns += [[list(r[3][j]) for r in rows] for j in range(len(self.languages))]
        path = self.directory / shard_name(rows[0][0])
        pq.write_table(pa.Table.from_arrays(columns, schema=self.schema), path)
        self.files.append(path)

    def close(self) -> list[Path]:
        self._flush()
        return list(self.files)


def write_concept_shards(
    qs: QuerySet, directory: Path, concepts_per_file: int = CONCEPTS_PER_FILE, first_position: int = 0
) -> list[Path]:
    """Write a query set as concept shards (position = ``first_position`` + row index)."""
    writer = ConceptShardWriter(directory, qs.languages, concepts_per_file)
    for i, (cid, row, topic) in enumerate(zip(qs.ids, qs.cells, qs.topics, strict=True)):
        writer.add(first_position + i, cid, topic, row)
    return writer.close()


def concept_batch(table: pa.Table, languages: Sequence[str]) -> tuple[np.ndarray, QuerySet]:
    """A batch of concept-shard rows -> (positions (n,), the batch as a :class:`QuerySet`);
    ``QuerySet.items()`` of it are the batch's rows in the global items order."""
    missing = [TEXT_PREFIX + code for code in languages if TEXT_PREFIX + code not in table.column_names]
    if missing or "position" not in table.column_names or "id" not in table.column_names:
        raise ShardError(f"not a concept shard: missing column(s) {', '.join(missing or ['position/id'])}")
    position = np.asarray(table.column("position").to_numpy(zero_copy_only=False), dtype=np.int64)
    ids = [str(x) for x in table.column("id").to_pylist()]
    topics = table.column("topic").to_pylist() if "topic" in table.column_names else [None] * len(ids)
    texts = [table.column(TEXT_PREFIX + code).to_pylist() for code in languages]
    cells = tuple(tuple(tuple(texts[j][i] or ()) for j in range(len(languages))) for i in range(len(ids)))
    return position, QuerySet("shard", tuple(languages), tuple(ids), cells, tuple(topics))


def iter_concept_rows(files: Sequence[Path], languages: Sequence[str]) -> Iterator[tuple[int, str, str | None, tuple]]:
    """``(position, id, topic, cells)`` of every concept of ``files`` (read one row group at a
    time), in file order; ``cells`` one tuple of alternatives per language."""
    for path in files:
        for batch in pq.ParquetFile(path).iter_batches():
            position, qs = concept_batch(pa.Table.from_batches([batch]), languages)
            yield from zip(position.tolist(), qs.ids, qs.topics, qs.cells, strict=True)


def merge_concept_rows(
    runs: Sequence[Sequence[Path]], languages: Sequence[str]
) -> Iterator[tuple[int, str, str | None, tuple]]:
    """k-way merge by position of several runs of files, each sorted by position (streamed)."""
    return heapq.merge(*(iter_concept_rows(files, languages) for files in runs), key=lambda row: row[0])
