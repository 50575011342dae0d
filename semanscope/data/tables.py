"""Wide tables -> query set: CSV/TSV, Semanscope SA CSVs, JSON lines / arrays, Parquet.

Column (or JSON key) roles, matched case-insensitively, the same for every wide format:

* ``id`` -> concept id; without it ids are generated from the data row: ``row-00001``...
* ``topic`` or ``domain`` -> topic;
* a column named in ``metadata=[...]`` -> per-concept metadata, whatever its name;
* a language label (:func:`normalize_language`: ``de``, ``German``, ``english``...) -> a language;
* a name shaped like a language code that is not one (2-3 letters, optionally with a region or
  script part: ``jp``, ``cn``, ``xx-YY``) -> an error naming the column: it is most
  likely a mistyped language, and would otherwise silently lose that language. Keep such a
  column as metadata with ``metadata=[name]``;
* any other name (``category``, ``difficulty``, ``cultural-sensitivity``, ``human``,
  ``notes``, a concept-label column such as ``word``) -> per-concept metadata
  (:attr:`QuerySet.metadata`: not embedded, kept for colouring and filtering; reported);
* a column without a header -> ignored (reported).

Two columns of one language (``German`` and ``de``), two topic/id columns or two metadata
columns of one name are an error. JSON objects are flat (``{"id", "topic", "en", "de", ...}``)
or nested (``{"id", "topic", "texts": {"en": ..., "de": ...}}``: every key of ``texts`` must
be a language; the other top-level keys follow the rules above). A cell may be a
``|``-separated string or a list of alternatives.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from .assemble import LoadResult, QuerySetBuilder
from .encoding import Source
from .languages import LANGUAGES, UnknownLanguage, normalize_language
from .records import Records, RowCounter
from .validation import QuerySetError

ID_COLUMNS = frozenset({"id"})
TOPIC_COLUMNS = frozenset({"topic", "domain"})
NESTED_KEY = "texts"
CODE_SHAPED = re.compile(r"^[a-z]{2,3}([-_][a-z0-9]{2,8})*$", re.IGNORECASE)
"""Names refused when :func:`normalize_language` does not know them (see module doc)."""


def column_key(name: str) -> str:
    """How column names are compared: stripped and casefolded."""
    return name.strip().casefold()


@dataclass(frozen=True)
class Plan:
    """Where one header / key set keeps the id, the topic, each language's text and the metadata."""

    id_key: str | None
    topic_key: str | None
    lang_keys: tuple[tuple[str, str], ...]  # (column name / key, language code)
    meta_keys: tuple[str, ...] = ()  # column names / keys kept as metadata


class ColumnRoles:
    """Decides the role of each column name / JSON key, and checks for clashes.

    ``requested``: language codes to keep (others are skipped), ``None`` = all;
    ``metadata``: names always read as metadata.
    """

    def __init__(self, file: str, requested: Sequence[str] | None, metadata: Sequence[str] | None = None):
        self.file = file
        self.requested = set(requested) if requested is not None else None
        self.forced = {column_key(name): name for name in metadata or ()}
        self.found: dict[str, None] = {}  # language codes seen (ordered), requested or not
        self.found_metadata: dict[str, None] = {}  # column keys read as metadata
        self.renamed: dict[str, str] = {}
        self.ignored: dict[str, None] = {}

    def _classify(self, name: str, where: str, languages_only: bool) -> tuple[str, str | None]:
        """``(role, code)``, role in id/topic/meta/ignore/lang/skip (skip = a language not requested)."""
        key = column_key(name)
        if not languages_only:
            if key in ID_COLUMNS:
                return "id", None
            if key in TOPIC_COLUMNS:
                return "topic", None
            if key in self.forced:
                self.found_metadata[key] = None
                return "meta", key
        if not key:
            self.ignored[name or f"(no header, {where})"] = None
            return "ignore", None
        try:
            code = normalize_language(name)
        except UnknownLanguage as exc:
            if languages_only or CODE_SHAPED.match(name.strip()):
                hint = "" if languages_only else f", or keep it as metadata with metadata=[{name.strip()!r}]"
                raise QuerySetError(
                    f"{self.file}: {where} {name!r} is not a language: {exc}. Rename it{hint}"
                ) from None
            self.found_metadata[key] = None
            return "meta", key
        self.found[code] = None
        if name.strip() != code:
            self.renamed[name] = code
        if self.requested is not None and code not in self.requested:
            return "skip", code
        return "lang", code

    def plan(self, names: Sequence[str], where_of: Sequence[str], languages_only: bool = False) -> Plan:
        """Classify a header / an object's keys; two columns of one role, language or metadata
        name are an error. ``languages_only``: every name must be a language (nested ``texts``)."""
        first: dict[tuple[str, str | None], tuple[str, str]] = {}  # (role, code) -> (name, where)
        for name, where in zip(names, where_of, strict=True):
            role, code = self._classify(str(name), where, languages_only)
            if role in ("ignore", "skip"):
                continue
            if (role, code) in first:
                other, other_where = first[role, code]
                what = {
                    "lang": f"language {code} ({LANGUAGES[code].name})"
                    if code is not None and code in LANGUAGES
                    else f"language {code}",
                    "meta": f"metadata column {code!r}",
                }.get(role, f"the {role}")
                raise QuerySetError(f"{self.file}: {other_where} {other!r} and {where} {name!r} are both {what}")
            first[role, code] = (name, where)
        return Plan(
            first.get(("id", None), (None,))[0],
            first.get(("topic", None), (None,))[0],
            tuple((name, code) for (role, code), (name, _) in first.items() if role == "lang" and code),
            tuple(name for (role, _), (name, _) in first.items() if role == "meta"),
        )

    def check_found(self, languages: Sequence[str] | None) -> None:
        """Every requested language and every ``metadata=`` name must have been seen."""
        if languages is not None:
            absent = [code for code in languages if code not in self.found]
            if absent:
                raise QuerySetError(
                    f"{self.file}: requested language(s) {', '.join(absent)} not in the file; "
                    f"it has {', '.join(self.found) or 'no language columns'}"
                )
        absent = [name for key, name in self.forced.items() if key not in self.found_metadata]
        if absent:
            raise QuerySetError(f"{self.file}: metadata column(s) {', '.join(map(repr, absent))} not in the file")

    def notes(self) -> list[str]:
        out = []
        if self.renamed:
            out.append("language labels normalised: " + ", ".join(f"{k!r} -> {v}" for k, v in self.renamed.items()))
        if self.ignored:
            out.append(f"ignored column(s)/key(s) without a name: {', '.join(map(repr, self.ignored))}")
        return out


def _nested_plan(roles: ColumnRoles, values: dict, where: str) -> Plan:
    """Plan for ``{"id", "topic", "texts": {...}}``: languages from ``texts``, the other outer keys
    classified as usual (id, topic, metadata; a language outside ``texts`` is an error)."""
    texts = values[NESTED_KEY]
    if not isinstance(texts, dict):
        raise QuerySetError(f"{roles.file}: {where}: {NESTED_KEY!r} must be an object of language -> text")
    langs = roles.plan(list(texts), [f"{where}: key in {NESTED_KEY!r}"] * len(texts), languages_only=True)
    outer = [k for k in values if k != NESTED_KEY]
    meta = roles.plan(outer, [f"{where}: key"] * len(outer))
    if meta.lang_keys:
        raise QuerySetError(
            f"{roles.file}: {where}: key {meta.lang_keys[0][0]!r} is a language outside {NESTED_KEY!r}; "
            f"put every text inside {NESTED_KEY!r}"
        )
    return Plan(meta.id_key, meta.topic_key, langs.lang_keys, meta.meta_keys)


def load_table(
    source: Source,
    records: Records,
    *,
    name: str,
    languages: Sequence[str] | None,
    counter: RowCounter,
    provenance: dict,
    metadata: Sequence[str] | None = None,
) -> LoadResult:
    """Read a wide table (see module doc) into a query set.

    ``languages`` (codes) selects and orders the language columns; a requested language
    the file lacks is an error. ``metadata`` names columns to keep as metadata whatever their
    name (each must exist). ``provenance`` gets ``rows_read`` added.
    """
    roles = ColumnRoles(source.name, languages, metadata)
    builder = QuerySetBuilder(source.name, languages or ())

    def use(plan: Plan) -> Plan:
        for _, code in plan.lang_keys:
            builder.add_language(code)
        for column in plan.meta_keys:
            builder.add_metadata_column(column)
        return plan

    header_plan = None
    if records.columns is not None:
        header = records.columns
        header_plan = use(roles.plan(header, [f"column {k}" for k in range(1, len(header) + 1)]))
    plans: dict[tuple, Plan] = {}
    for rec in counter.over(records.rows):
        values = rec.values
        texts = values
        plan = header_plan
        if plan is None:  # JSON: keys may differ between objects; plan each distinct key set once
            nested = NESTED_KEY in values
            if nested:
                texts = values[NESTED_KEY]
            signature = (tuple(values), tuple(texts) if nested and isinstance(texts, dict) else ())
            plan = plans.get(signature)
            if plan is None:
                if nested:
                    plan = use(_nested_plan(roles, values, rec.where))
                else:
                    plan = use(roles.plan(list(values), [f"{rec.where}: key"] * len(values)))
                plans[signature] = plan
        cid = values.get(plan.id_key) if plan.id_key is not None else None
        if plan.id_key is None or (cid is None and header_plan is None):
            cid = f"row-{rec.number:05d}"  # no id column, or a JSON object without an id value
        topic = values.get(plan.topic_key) if plan.topic_key is not None else None
        builder.add(
            rec.ref,
            rec.where,
            "" if cid is None else str(cid),
            topic,
            {c: texts.get(k) for k, c in plan.lang_keys},
            {k: values.get(k) for k in plan.meta_keys},
        )
    roles.check_found(languages)
    for message in [*records.skipped.notes(), *roles.notes()]:
        builder.note(message)
    if counter.truncated:
        builder.note(f"read only the first {counter.done:,} rows (max_rows={counter.max_rows:,})")
    return builder.finish(name, {**provenance, "rows_read": counter.done})
