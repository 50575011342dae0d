"""The parallel query set: N concepts x L languages, each cell one or more texts.

A cell holds the alternative phrasings of one concept in one language (``a|b`` in
Semanscope's SA CSVs). An empty cell means the concept has no text in that language.
Everything downstream (embeddings, metrics, projections) works on :meth:`QuerySet.items`,
a flat list of (concept, language, text) rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

ALT_SEP = "|"


def split_alternatives(cell: str | None) -> tuple[str, ...]:
    """Split a cell on ``|`` into stripped, non-empty, de-duplicated alternatives (order kept)."""
    if cell is None:
        return ()
    out: list[str] = []
    for part in str(cell).split(ALT_SEP):
        part = part.strip()
        if part and part not in out:
            out.append(part)
    return tuple(out)


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
    ``languages[j]`` (empty tuple = missing).
    """

    name: str
    languages: tuple[str, ...]
    ids: tuple[str, ...]
    cells: tuple[tuple[tuple[str, ...], ...], ...]
    topics: tuple[str | None, ...] = ()
    provenance: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.topics:
            object.__setattr__(self, "topics", (None,) * len(self.ids))
        if len(self.cells) != len(self.ids) or len(self.topics) != len(self.ids):
            raise ValueError("ids, cells and topics must have the same length")
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
    ) -> QuerySet:
        """Build from (id, [cell per language], topic) rows; cells may contain ``a|b``."""
        ids, cells, topics = [], [], []
        for cid, row_cells, topic in rows:
            ids.append(str(cid))
            cells.append(tuple(split_alternatives(c) for c in row_cells))
            topics.append(topic if topic else None)
        return cls(name, tuple(languages), tuple(ids), tuple(cells), tuple(topics), dict(provenance or {}))

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
        ids, cells, tps = [], [], []
        dropped = 0
        for cid, row, tp in zip(self.ids, self.cells, self.topics, strict=True):
            if topic_set is not None and tp not in topic_set:
                continue
            if id_set is not None and cid not in id_set:
                continue
            new_row = tuple(row[j] for j in lang_idx)
            if complete_only and not all(new_row):
                dropped += 1
                continue
            ids.append(cid)
            cells.append(new_row)
            tps.append(tp)
        prov = dict(self.provenance)
        prov["dropped_incomplete"] = dropped
        return QuerySet(self.name, tuple(langs), tuple(ids), tuple(cells), tuple(tps), prov)

    def to_frame(self):
        """Wide table: id, topic, one column per language (alternatives joined with ``|``)."""
        import pandas as pd

        data = {"id": list(self.ids), "topic": list(self.topics)}
        for j, lang in enumerate(self.languages):
            data[lang] = [ALT_SEP.join(row[j]) for row in self.cells]
        return pd.DataFrame(data)
