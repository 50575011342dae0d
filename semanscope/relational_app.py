"""What the Relational Affinity page computes, without Streamlit: uploads, subsets, cache keys,
the words to project and the arrows between them.

The page (``pages/6_Relational.py`` through :mod:`semanscope.ui.relational`) gets every table
from :mod:`semanscope.relational_report` (the same tables the ``semanscope relational`` CLI
writes) and every choice and array from here, so all of it is unit-tested without a browser.
User mistakes raise :class:`~semanscope.appcore.AppError`, whose message is shown as is.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from semanscope.appcore import AppError, read_upload, upload_buffer
from semanscope.data.relations import RelationLoadResult, RelationSet, load_relations
from semanscope.relational_study import pair_rows

DEFAULT_PROJECTION_LANGUAGES = 2
"""Languages drawn on the projection at first (all relations of two languages stay readable)."""


def load_relations_upload(name: str, data: bytes) -> RelationLoadResult:
    """Load an uploaded relation file (``name``, ``data``) with :func:`load_relations`: the same
    size limits, decoded-text budget and validation as every file; the name is reduced with
    ``safe_upload_name``. Every failure becomes an :class:`AppError` naming the file."""
    buffer = upload_buffer(name, data)
    return read_upload(lambda: load_relations(buffer), buffer.name, "a relation file")


def select_relations(relations: RelationSet, languages: Sequence[str], categories: Sequence[str]) -> RelationSet:
    """``relations`` restricted to ``languages`` (set order) and ``categories`` (none = all);
    :class:`AppError` when no language is chosen or fewer than 2 relations remain."""
    langs = [code for code in relations.languages if code in set(languages)]
    if not langs:
        raise AppError("choose at least 1 language")
    try:
        subset = relations.subset(langs, list(categories) or None)
    except ValueError as exc:
        raise AppError(str(exc)) from None
    if subset.n_relations < 2:
        raise AppError(f"the choice leaves {subset.n_relations} relation(s); RA needs at least 2")
    return subset


def relations_key(relations: RelationSet) -> str:
    """Hex SHA-1 of a relation set's content (name, languages, ids, categories, pairs): a cache
    key that changes whenever any word, relation, category or language changes."""
    payload = [
        relations.name,
        list(relations.languages),
        list(relations.ids),
        list(relations.categories),
        [[None if p is None else list(p) for p in row] for row in relations.pairs],
    ]
    return hashlib.sha1(json.dumps(payload, ensure_ascii=False).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ArrowData:
    """The words of the chosen languages stacked into ``X`` (M, d) (language by language, rows of
    ``words_by_language()``) and one arrow per (relation, language) pair: rows ``start`` (word1)
    and ``end`` (word2) of ``X``, its relation's category, and a hover text
    ``"word1 -> word2 (lang, relation id)"``."""

    X: np.ndarray
    start: np.ndarray
    end: np.ndarray
    categories: tuple[str, ...]
    hover: tuple[str, ...]


def arrow_data(relations: RelationSet, vectors: Mapping[str, np.ndarray], languages: Sequence[str]) -> ArrowData:
    """:class:`ArrowData` for ``languages`` from a run's ``vectors[lang]`` (row k = the vector of
    ``relations.words_by_language()[lang][k]``, :class:`~semanscope.relational_study.RelationalRun`)."""
    langs = [code for code in relations.languages if code in set(languages)]
    if not langs:
        raise AppError("choose at least 1 language to draw")
    words = relations.words_by_language()
    blocks, starts, ends, categories, hover = [], [], [], [], []
    offset = 0
    for lang in langs:
        j = relations.languages.index(lang)
        index, w1, w2 = pair_rows(relations, lang)
        blocks.append(np.asarray(vectors[lang]))
        starts.append(w1 + offset)
        ends.append(w2 + offset)
        for i in index:
            first, second = relations.pairs[i][j]
            categories.append(relations.categories[i])
            hover.append(f"{first} \u2192 {second} ({lang}, {relations.ids[i]})")
        offset += len(words[lang])
    return ArrowData(
        np.concatenate(blocks),
        np.concatenate(starts),
        np.concatenate(ends),
        tuple(categories),
        tuple(hover),
    )
