"""Relational Affinity input: word pairs (word1 -> word2) in several languages, by category.

A relation file (CSV/TSV, the original Semanscope's ``*-RA.csv``) has one relation per row::

    relation_id,category,word1_en,word2_en,word1_zh,word2_zh,...,relation_type,verified,notes
    NeurIPS-RA-001,family,husband,wife,丈夫,妻子,...,gendered_pair,pending,

Columns, matched case-insensitively:

* ``relation_id`` (or ``id``) -> relation id; without it ids are ``rel-00001``...; an empty or
  repeated id is an error naming the rows;
* ``category`` -> the category RA is computed in (an empty cell or no column: ``(none)``);
* ``word1_<lang>`` / ``word2_<lang>`` (``_`` or ``-``; ``<lang>`` any language label,
  ``word1_english`` = ``word1_en``) -> the pair in that language; both columns of a language
  are required, an unknown language is an error naming the column;
* any other column (``relation_type``, ``verified``, ``notes``...) -> per-relation metadata,
  kept (all-empty columns dropped) and reported, never embedded;
* a column without a header -> ignored (reported).

Rows: ``#`` comment lines, blank lines and repeated header lines are skipped (as in every CSV
Semanscope reads, :mod:`semanscope.data.records`) and reported. Words are stripped and taken
literally (a ``|`` is part of the word: relations have no alternatives; reported). A relation
missing a word in a language is excluded in that language only (reported per language); one
with no pair in any language is dropped (reported). Both words equal in a language is kept and
reported: its relation vector is zero and the metric excludes and counts it. Limits:
:data:`MAX_RELATIONS` relations, ``validation.MAX_LANGUAGES`` languages and
``validation.MAX_METADATA_COLUMNS`` metadata columns, ``validation.MAX_FILE_MB`` per file.
Errors are :class:`~semanscope.data.validation.QuerySetError` naming the file, row and column.

A built-in set ships with the package (:func:`load_builtin_relations`,
``semanscope/data/builtin/relations.csv``): 32 relations in 4 categories (gender pairs,
country -> capital, singular -> plural, antonyms) in English, German, Spanish, French, Russian
and Chinese, written by the project (Chinese plurals are person nouns with the marker 们).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from . import validation
from .assemble import metadata_value
from .builtin import BUILTIN_DIR, BUILTIN_LICENSE
from .encoding import as_source
from .languages import UnknownLanguage, normalize_language
from .records import Progress, RowCounter, container_of, read_records
from .tables import column_key
from .validation import QuerySetError, language_code, listing

MAX_RELATIONS = 10_000
"""Most relations one file may hold (within-category RA needs every pair of a category's relations)."""
MIN_RELATIONS = 2
NO_CATEGORY = "(none)"
ID_COLUMNS = ("relation_id", "id")
CATEGORY_COLUMN = "category"
WORD_COLUMN = re.compile(r"^word([12])[_-](.+)$", re.IGNORECASE)
BUILTIN_RELATIONS = "relations"
"""Name of the built-in relation set (``semanscope/data/builtin/relations.csv``)."""

Pair = tuple[str, str]


@dataclass(frozen=True)
class RelationSet:
    """N relations x L languages: ``pairs[i][j]`` = (word1, word2) of relation ``ids[i]`` in
    ``languages[j]``, ``None`` when it lacks a word there; ``categories[i]`` its category;
    ``metadata[column][i]`` a non-word column's value (``None`` = empty)."""

    name: str
    languages: tuple[str, ...]
    ids: tuple[str, ...]
    categories: tuple[str, ...]
    pairs: tuple[tuple[Pair | None, ...], ...]
    metadata: Mapping[str, tuple[str | None, ...]] = field(default_factory=dict)
    provenance: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "metadata", {str(k): tuple(v) for k, v in self.metadata.items()})
        n = len(self.ids)
        if len(self.categories) != n or len(self.pairs) != n:
            raise ValueError("ids, categories and pairs must have the same length")
        if any(len(row) != len(self.languages) for row in self.pairs):
            raise ValueError("every row of pairs must have one entry per language")
        if any(len(values) != n for values in self.metadata.values()):
            raise ValueError("every metadata column must have one value per relation")
        if len(set(self.ids)) != n:
            raise ValueError("relation ids must be unique")
        if len(set(self.languages)) != len(self.languages):
            raise ValueError("language codes must be unique")

    @property
    def n_relations(self) -> int:
        return len(self.ids)

    @property
    def category_names(self) -> tuple[str, ...]:
        """Categories in first-seen order."""
        return tuple(dict.fromkeys(self.categories))

    def words_by_language(self) -> dict[str, list[str]]:
        """Unique words per language (word1 then word2 of each relation, first-seen order): what gets embedded."""
        out: dict[str, list[str]] = {}
        for j, lang in enumerate(self.languages):
            seen: dict[str, None] = {}
            for row in self.pairs:
                if (pair := row[j]) is not None:
                    seen.update(dict.fromkeys(pair))
            out[lang] = list(seen)
        return out

    def subset(self, languages: Sequence[str] | None = None, categories: Sequence[str] | None = None) -> RelationSet:
        """Restrict to ``languages`` (in the given order) and ``categories`` (set order kept).
        Relations left without a pair in any selected language are dropped."""
        langs = list(self.languages) if languages is None else list(dict.fromkeys(languages))
        unknown = [code for code in langs if code not in self.languages]
        if unknown:
            raise ValueError(f"unknown language(s) {unknown}; this set has {list(self.languages)}")
        missing = sorted(set(categories or ()) - set(self.categories))
        if missing:
            raise ValueError(f"unknown categor(y/ies) {missing}; this set has {list(self.category_names)}")
        cols = [self.languages.index(code) for code in langs]
        wanted = None if categories is None else set(categories)
        kept = [
            i
            for i, row in enumerate(self.pairs)
            if (wanted is None or self.categories[i] in wanted) and any(row[j] is not None for j in cols)
        ]
        return RelationSet(
            self.name,
            tuple(langs),
            tuple(self.ids[i] for i in kept),
            tuple(self.categories[i] for i in kept),
            tuple(tuple(self.pairs[i][j] for j in cols) for i in kept),
            {k: tuple(v[i] for i in kept) for k, v in self.metadata.items()},
            dict(self.provenance),
        )

    def to_frame(self):
        """Table in the input layout: relation_id, category, word1_<l>, word2_<l> per language, metadata."""
        import pandas as pd

        data: dict[str, list] = {"relation_id": list(self.ids), CATEGORY_COLUMN: list(self.categories)}
        for j, lang in enumerate(self.languages):
            sides = [row[j] or (None, None) for row in self.pairs]
            data[f"word1_{lang}"] = [pair[0] for pair in sides]
            data[f"word2_{lang}"] = [pair[1] for pair in sides]
        for column, values in self.metadata.items():
            data[column] = list(values)
        return pd.DataFrame(data)


@dataclass(frozen=True)
class RelationLoadResult:
    """A loaded relation set and the report of everything the loader noticed or changed."""

    relations: RelationSet
    report: list[str]


@dataclass
class _Header:
    """Column roles of one relation-file header."""

    id_column: str | None = None
    category_column: str | None = None
    words: dict[str, dict[str, str]] = field(default_factory=dict)  # language -> {"1"/"2": column}
    metadata: list[str] = field(default_factory=list)
    renamed: dict[str, str] = field(default_factory=dict)
    ignored: list[str] = field(default_factory=list)


def _read_header(file: str, header: Sequence[str]) -> _Header:
    """Classify every column (see module doc); clashes and half-given languages are errors."""
    out = _Header()
    where_of: dict[str, str] = {}

    def claim(role: str, name: str, where: str) -> None:
        if role in where_of:
            raise QuerySetError(f"{file}: {where_of[role]} and {where} {name!r} are both {role}")
        where_of[role] = f"{where} {name!r}"

    for k, name in enumerate(header, start=1):
        where, key = f"column {k}", column_key(name)
        match = WORD_COLUMN.match(name.strip())
        if not key:
            out.ignored.append(f"(no header, {where})")
        elif key in ID_COLUMNS:
            claim("the relation id", name, where)
            out.id_column = name
        elif key == CATEGORY_COLUMN:
            claim("the category", name, where)
            out.category_column = name
        elif match:
            side, label = match.groups()
            try:
                code = normalize_language(label)
            except UnknownLanguage as exc:
                raise QuerySetError(f"{file}: {where} {name!r}: {exc}") from None
            claim(f"word{side} of language {code}", name, where)
            out.words.setdefault(code, {})[side] = name
            if label.strip() != code:
                out.renamed[name] = f"word{side}_{code}"
        else:
            claim(f"metadata column {key!r}", name, where)
            out.metadata.append(name)
    for code, sides in out.words.items():
        if len(sides) < 2:
            have = next(iter(sides.values()))
            need = "word2" if "1" in sides else "word1"
            raise QuerySetError(f"{file}: column {have!r} has no matching {need}_{code} column")
    if not out.words:
        raise QuerySetError(
            f"{file}: no word columns; a relation file needs word1_<lang>, word2_<lang> columns "
            "(e.g. word1_en, word2_en, word1_zh, word2_zh)"
        )
    if len(out.words) > validation.MAX_LANGUAGES:
        raise QuerySetError(f"{file}: more than {validation.MAX_LANGUAGES} languages; select fewer with languages=")
    if len(out.metadata) > validation.MAX_METADATA_COLUMNS:
        raise QuerySetError(f"{file}: more than {validation.MAX_METADATA_COLUMNS} metadata columns; remove some")
    return out


def _word(value: object, file: str, where: str, column: str) -> str:
    text = "" if value is None else str(value).strip()
    if "\x00" in text:
        raise QuerySetError(f"{file}: {where}: column {column!r} contains a NUL character (byte 0)")
    return text


def load_relations(
    source: object,
    *,
    name: str | None = None,
    languages: Sequence[str] | None = None,
    progress: Progress | None = None,
    max_rows: int | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    license: str | None = None,
) -> RelationLoadResult:
    """Load a relation file (see module doc) from a path or a binary file object with ``.name``.

    name: set name (default: the file's stem). languages: labels to keep, in this order (default:
    all; a requested language the file lacks is an error). progress, max_rows, encoding,
    delimiter, license: as for :func:`semanscope.data.loaders.load_queryset`.
    """
    src = as_source(source)
    if container_of(src) != "csv":
        raise QuerySetError(f"{src.name}: relation files are CSV/TSV (like the original *-RA.csv files)")
    codes = None if languages is None else list(dict.fromkeys(language_code(x, "languages") for x in languages))
    records = read_records(src, "csv", encoding=encoding, delimiter=delimiter)
    header = _read_header(src.name, records.columns or [])
    if codes is not None:
        absent = [code for code in codes if code not in header.words]
        if absent:
            records.rows.close()  # type: ignore[attr-defined]
            raise QuerySetError(
                f"{src.name}: requested language(s) {', '.join(absent)} not in the file; "
                f"it has {', '.join(header.words)}"
            )
    langs = codes or list(header.words)
    ids: list[str] = []
    categories: list[str] = []
    pairs: list[tuple[Pair | None, ...]] = []
    metadata: dict[str, list[str | None]] = {column: [] for column in header.metadata}
    where_of: dict[str, str] = {}
    missing: dict[str, list[str]] = {code: [] for code in langs}
    same: list[str] = []
    empty_rows: list[str] = []
    piped: list[str] = []
    uncategorised = 0
    counter = RowCounter(progress, max_rows)
    for rec in counter.over(records.rows):
        values = rec.values
        if header.id_column is not None:
            rid = str(values[header.id_column]).strip()
            if not rid:
                raise QuerySetError(f"{src.name}: {rec.where}: empty relation id")
        else:
            rid = f"rel-{rec.number:05d}"
        if rid in where_of:
            raise QuerySetError(f"{src.name}: duplicate relation id {rid!r} in {where_of[rid]} and {rec.where}")
        where_of[rid] = rec.where
        row: list[Pair | None] = []
        for code in langs:
            col1, col2 = header.words[code]["1"], header.words[code]["2"]
            w1 = _word(values[col1], src.name, rec.where, col1)
            w2 = _word(values[col2], src.name, rec.where, col2)
            if not (w1 and w2):
                missing[code].append(rec.ref)
                row.append(None)
                continue
            if "|" in w1 or "|" in w2:
                piped.append(f"{rec.ref} ({code})")
            if w1 == w2:
                same.append(f"{rec.ref} ({code}: {w1!r})")
            row.append((w1, w2))
        if all(p is None for p in row):
            empty_rows.append(rec.ref)
            continue
        if len(ids) >= MAX_RELATIONS:
            raise QuerySetError(
                f"{src.name}: more than {MAX_RELATIONS:,} relations (at {rec.where}); load a prefix with max_rows="
            )
        category = "" if header.category_column is None else str(values[header.category_column]).strip()
        uncategorised += not category
        ids.append(rid)
        categories.append(category or NO_CATEGORY)
        pairs.append(tuple(row))
        for column, kept in metadata.items():
            kept.append(metadata_value(values[column]))
    if len(ids) < MIN_RELATIONS:
        raise QuerySetError(f"{src.name}: needs at least {MIN_RELATIONS} relations with a word pair, found {len(ids)}")
    report = records.skipped.notes()
    if header.renamed:
        report.append("word columns normalised: " + ", ".join(f"{k!r} -> {v}" for k, v in header.renamed.items()))
    if header.ignored:
        report.append(f"ignored column(s) without a name: {', '.join(header.ignored)}")
    kept_metadata = {k: tuple(v) for k, v in metadata.items() if any(x is not None for x in v)}
    if kept_metadata:
        report.append(f"kept column(s) {', '.join(map(repr, kept_metadata))} as per-relation metadata (not embedded)")
    if len(kept_metadata) < len(metadata):
        dropped = [repr(k) for k in metadata if k not in kept_metadata]
        report.append(f"dropped metadata column(s) with no value at all: {', '.join(dropped)}")
    if header.category_column is None:
        report.append(f"no 'category' column: all relations are in one category, {NO_CATEGORY!r}")
    elif uncategorised:
        report.append(f"{uncategorised:,} relation(s) without a category are grouped as {NO_CATEGORY!r}")
    if empty_rows:
        report.append(f"dropped {len(empty_rows):,} row(s) with no word pair in any language: {listing(empty_rows)}")
    for code, refs in missing.items():
        refs = [r for r in refs if r not in set(empty_rows)]
        if refs:
            report.append(f"{code}: {len(refs):,} relation(s) lack word1 or word2, excluded in {code}: {listing(refs)}")
    if same:
        report.append(
            f"{len(same):,} pair(s) have the same word on both sides; their relation vector is zero and "
            f"is excluded (and counted) by the metric: {listing(same)}"
        )
    if piped:
        report.append(
            f"{len(piped):,} word(s) contain '|', read literally (relations have no alternatives): {listing(piped)}"
        )
    if counter.truncated:
        report.append(f"read only the first {counter.done:,} rows (max_rows={counter.max_rows:,})")
    provenance = {
        "source": src.name,
        "format": "relations",
        "sha256": src.sha256(),
        "bytes": src.size(),
        "encoding": records.encoding,
        "license": license,
        "rows_read": counter.done,
    }
    relations = RelationSet(
        name or Path(src.name).stem,
        tuple(langs),
        tuple(ids),
        tuple(categories),
        tuple(pairs),
        kept_metadata,
        provenance,
    )
    return RelationLoadResult(relations, report)


def load_builtin_relations() -> RelationSet:
    """The built-in relation set (module doc); provenance says ``source="builtin"`` and the license."""
    path = BUILTIN_DIR / f"{BUILTIN_RELATIONS}.csv"
    if not path.exists():
        raise QuerySetError(f"the built-in relation set is not installed (missing {path})")
    relations = load_relations(path, name=BUILTIN_RELATIONS, license=BUILTIN_LICENSE).relations
    provenance = {**relations.provenance, "source": "builtin", "path": f"semanscope/data/builtin/{path.name}"}
    return dataclasses.replace(relations, provenance=provenance)
