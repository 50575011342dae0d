"""The parallel query set: N concepts x L languages, each cell one or more texts.

A cell holds the alternative phrasings of one concept in one language (``a|b`` in
Semanscope's SA CSVs; ``\\|`` is a literal ``|`` inside a text). An empty cell means the
concept has no text in that language. Per-concept metadata (columns of the input that are
not languages, e.g. ``category``, ``difficulty``) travels with the concepts for colouring and
filtering; it is never embedded. Everything downstream (embeddings, metrics, projections)
works on :meth:`QuerySet.items`, a flat list of (concept, language, text) rows.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

ALT_SEP = "|"
ALT_ESCAPE = "\\|"
"""A literal ``|`` inside a text: ``C++\\|C#`` is the one text ``C++|C#``."""
_UNESCAPED_SEP = re.compile(r"(?<!\\)\|")


def split_cell(cell: str) -> list[str]:
    """Split on every ``|`` not preceded by a backslash and turn ``\\|`` into ``|``; parts are
    returned as they are (not stripped). Only ``\\|`` is an escape: any other backslash is kept,
    so an alternative cannot end with a backslash."""
    if ALT_ESCAPE not in cell:
        return cell.split(ALT_SEP)
    return [part.replace(ALT_ESCAPE, ALT_SEP) for part in _UNESCAPED_SEP.split(cell)]


def join_alternatives(alternatives: Iterable[str]) -> str:
    """Inverse of :func:`split_alternatives` for texts that do not end with a backslash:
    alternatives joined with ``|``, each literal ``|`` written as ``\\|``."""
    return ALT_SEP.join(text.replace(ALT_SEP, ALT_ESCAPE) for text in alternatives)


def alternatives(value: object) -> tuple[tuple[str, ...], bool]:
    """Cell value -> (alternatives, duplicates_removed).

    Strings are split by :func:`split_cell`; lists/tuples give one alternative per element.
    Parts are stripped, empty parts dropped, repeats removed keeping the first. ``None`` and
    NaN are missing; other scalars are converted with ``str``.
    """
    if isinstance(value, str):
        if ALT_SEP not in value:  # fast path: one alternative
            value = value.strip()
            return ((value,) if value else ()), False
        parts = split_cell(value)
    elif value is None or (isinstance(value, float) and math.isnan(value)):
        return (), False
    elif isinstance(value, (list, tuple)):
        parts = ["" if v is None else str(v) for v in value]
    else:
        parts = [str(value)]
    out: list[str] = []
    duplicated = False
    for part in parts:
        part = part.strip()
        if not part:
            continue
        if part in out:
            duplicated = True
        else:
            out.append(part)
    return tuple(out), duplicated


def split_alternatives(cell: str | None) -> tuple[str, ...]:
    """The alternatives of one cell (:func:`alternatives` without the duplicate flag)."""
    return alternatives(cell)[0]


@dataclass(frozen=True)
class Items:
    """Flat view of a query set: one row per (concept, language, alternative text).

    ``concept[k]`` indexes ``QuerySet.ids``, ``lang[k]`` indexes ``QuerySet.languages``.
    """

    texts: list[str]
    concept: np.ndarray  # int64 (M,)
    lang: np.ndarray  # int64 (M,)


@dataclass(frozen=True)
class QuerySet:
    """N concepts x L languages of parallel texts.

    cells[i][j] is the tuple of alternative texts of concept ``ids[i]`` in language
    ``languages[j]`` (empty tuple = missing). ``metadata[column][i]`` is concept ``ids[i]``'s
    value of a non-language input column (``None`` = empty), in the input's column order.
    """

    name: str
    languages: tuple[str, ...]
    ids: tuple[str, ...]
    cells: tuple[tuple[tuple[str, ...], ...], ...]
    topics: tuple[str | None, ...] = ()
    provenance: dict = field(default_factory=dict)
    metadata: Mapping[str, tuple[str | None, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.topics:
            object.__setattr__(self, "topics", (None,) * len(self.ids))
        object.__setattr__(self, "metadata", {str(k): tuple(v) for k, v in self.metadata.items()})
        if len(self.cells) != len(self.ids) or len(self.topics) != len(self.ids):
            raise ValueError("ids, cells and topics must have the same length")
        if any(len(values) != len(self.ids) for values in self.metadata.values()):
            raise ValueError("every metadata column must have one value per concept")
        reserved = {"id", "topic", "domain", *(code.casefold() for code in self.languages)}
        clash = [k for k in self.metadata if k.strip().casefold() in reserved]
        if clash:
            raise ValueError(f"metadata column(s) {clash} clash with id, topic/domain or a language code")
        if any(len(row) != len(self.languages) for row in self.cells):
            raise ValueError("every row of cells must have one cell per language")
        if len(set(self.ids)) != len(self.ids):
            raise ValueError("concept ids must be unique")
        if len(set(self.languages)) != len(self.languages):
            raise ValueError("language codes must be unique")

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_rows(
        cls,
        name: str,
        languages: Sequence[str],
        rows: Iterable[tuple[str, Sequence[str | None], str | None]],
        provenance: dict | None = None,
        metadata: Mapping[str, Sequence[str | None]] | None = None,
    ) -> QuerySet:
        """Build from (id, [cell per language], topic) rows; cells may contain ``a|b`` and ``\\|``.
        ``metadata`` maps a column name to one value per row."""
        ids, cells, topics = [], [], []
        for cid, row_cells, topic in rows:
            ids.append(str(cid))
            cells.append(tuple(split_alternatives(c) for c in row_cells))
            topics.append(topic if topic else None)
        meta = {k: tuple(v) for k, v in (metadata or {}).items()}
        return cls(name, tuple(languages), tuple(ids), tuple(cells), tuple(topics), dict(provenance or {}), meta)

    # ------------------------------------------------------------------ views
    @property
    def n_concepts(self) -> int:
        return len(self.ids)

    @property
    def n_languages(self) -> int:
        return len(self.languages)

    @property
    def topic_names(self) -> list[str]:
        return sorted({t for t in self.topics if t})

    def cell(self, concept_id: str, language: str) -> tuple[str, ...]:
        return self.cells[self.ids.index(concept_id)][self.languages.index(language)]

    def is_complete(self) -> bool:
        """True when every concept has at least one text in every language."""
        return all(all(c for c in row) for row in self.cells)

    def incomplete_ids(self) -> list[str]:
        return [cid for cid, row in zip(self.ids, self.cells, strict=True) if not all(row)]

    def items(self) -> Items:
        """Flatten to (concept, language, text) rows, concept-major, then language order."""
        texts: list[str] = []
        concept: list[int] = []
        lang: list[int] = []
        for i, row in enumerate(self.cells):
            for j, alts in enumerate(row):
                for t in alts:
                    texts.append(t)
                    concept.append(i)
                    lang.append(j)
        return Items(texts, np.asarray(concept, dtype=np.int64), np.asarray(lang, dtype=np.int64))

    def texts_by_language(self) -> dict[str, list[str]]:
        """Unique texts per language (first-seen order), as embedded by language-aware models."""
        out: dict[str, list[str]] = {}
        for j, lang in enumerate(self.languages):
            seen: dict[str, None] = {}
            for row in self.cells:
                for t in row[j]:
                    seen.setdefault(t, None)
            out[lang] = list(seen)
        return out

    # ------------------------------------------------------------------ subsets
    def subset(
        self,
        languages: Sequence[str] | None = None,
        topics: Sequence[str] | None = None,
        concept_ids: Sequence[str] | None = None,
        complete_only: bool = True,
    ) -> QuerySet:
        """Restrict to languages / topics / concepts (kept in this set's order).

        With ``complete_only`` (the default, what the metrics need) concepts missing any
        selected language are dropped; how many is recorded in ``provenance['dropped_incomplete']``.
        Metadata follows the kept concepts.
        """
        langs = (
            list(self.languages) if languages is None else [code for code in self.languages if code in set(languages)]
        )
        unknown = set(languages or ()) - set(self.languages)
        if unknown:
            raise ValueError(f"unknown language(s) {sorted(unknown)}; this set has {list(self.languages)}")
        lang_idx = [self.languages.index(code) for code in langs]
        topic_set = set(topics) if topics is not None else None
        id_set = set(concept_ids) if concept_ids is not None else None
        kept: list[int] = []
        dropped = 0
        for i, (cid, row, tp) in enumerate(zip(self.ids, self.cells, self.topics, strict=True)):
            if topic_set is not None and tp not in topic_set:
                continue
            if id_set is not None and cid not in id_set:
                continue
            if complete_only and not all(row[j] for j in lang_idx):
                dropped += 1
                continue
            kept.append(i)
        prov = dict(self.provenance)
        prov["dropped_incomplete"] = dropped
        return QuerySet(
            self.name,
            tuple(langs),
            tuple(self.ids[i] for i in kept),
            tuple(tuple(self.cells[i][j] for j in lang_idx) for i in kept),
            tuple(self.topics[i] for i in kept),
            prov,
            {column: tuple(values[i] for i in kept) for column, values in self.metadata.items()},
        )

    def to_frame(self):
        """Wide table: id, topic, one column per language (:func:`join_alternatives`: ``|``
        between alternatives, ``\\|`` for a literal pipe), then the metadata columns; loading
        it back (e.g. after ``to_csv``) gives the same concepts, texts and metadata."""
        import pandas as pd

        data: dict[str, list] = {"id": list(self.ids), "topic": list(self.topics)}
        for j, lang in enumerate(self.languages):
            data[lang] = [join_alternatives(row[j]) for row in self.cells]
        for column, values in self.metadata.items():
            data[column] = list(values)
        return pd.DataFrame(data)
