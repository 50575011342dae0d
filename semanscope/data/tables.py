"""Wide tables -> query set: CSV/TSV, Semanscope SA CSVs, JSON lines / arrays, Parquet.

Column (or JSON key) roles, matched case-insensitively:

* ``id`` -> concept id; without it ids are generated from the data row: ``row-00001``...
* ``topic`` or ``domain`` -> topic;
* ``concept`` / ``word`` / ``label`` / ``term`` -> concept labels of Semanscope SA CSVs, not
  embedded (reported);
* ``human`` -> the annotation column of Semanscope SA CSVs, ignored (reported);
* a column without a header -> ignored (reported);
* anything else must be a language label (:func:`normalize_language`), else an error names
  the column. Two columns of one language (``German`` and ``de``) are an error.

JSON objects are flat (``{"id", "topic", "en", "de", ...}``) or nested
(``{"id", "topic", "texts": {"en": ..., "de": ...}}``; other top-level keys of a nested
object are ignored and reported). A cell may be a ``|``-separated string or a list of
alternatives.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .assemble import LoadResult, QuerySetBuilder
from .encoding import Source
from .languages import LANGUAGES, UnknownLanguage, normalize_language
from .records import Records, RowCounter
from .validation import QuerySetError

ID_COLUMNS = frozenset({"id"})
TOPIC_COLUMNS = frozenset({"topic", "domain"})
LABEL_COLUMNS = frozenset({"concept", "word", "label", "term"})
IGNORED_COLUMNS = frozenset({"human"})
NESTED_KEY = "texts"


@dataclass(frozen=True)
class Plan:
    """Where one header / key set keeps the id, the topic and each language's text."""

    id_key: str | None
    topic_key: str | None
    lang_keys: tuple[tuple[str, str], ...]  # (column name / key, language code)


class ColumnRoles:
    """Decides the role of each column name / JSON key, and checks for clashes."""

    def __init__(self, file: str, requested: Sequence[str] | None):
        self.file = file
        self.requested = set(requested) if requested is not None else None
        self.found: dict[str, None] = {}  # language codes seen (ordered), requested or not
        self.renamed: dict[str, str] = {}
        self.labels: dict[str, None] = {}
        self.ignored: dict[str, None] = {}

    def _classify(self, name: str, where: str) -> tuple[str, str | None]:
        """``(role, code)``, role in id/topic/label/ignore/lang/skip (skip = a language not requested)."""
        key = name.strip().casefold()
        if key in ID_COLUMNS:
            return "id", None
        if key in TOPIC_COLUMNS:
            return "topic", None
        if key in LABEL_COLUMNS:
            self.labels[name] = None
            return "label", None
        if not key or key in IGNORED_COLUMNS:
            self.ignored[name or f"(no header, {where})"] = None
            return "ignore", None
        try:
            code = normalize_language(name)
        except UnknownLanguage as exc:
            raise QuerySetError(
                f"{self.file}: {where} {name!r} is neither id/topic nor a language: {exc}. Rename or remove it"
            ) from None
        self.found[code] = None
        if name.strip() != code:
            self.renamed[name] = code
        if self.requested is not None and code not in self.requested:
            return "skip", code
        return "lang", code

    def plan(self, names: Sequence[str], where_of: Sequence[str]) -> Plan:
        """Classify a header / an object's keys; two columns of one role or language are an error."""
        first: dict[tuple[str, str | None], tuple[str, str]] = {}  # (role, code) -> (name, where)
        for name, where in zip(names, where_of, strict=True):
            role, code = self._classify(str(name), where)
            if role in ("ignore", "label", "skip"):
                continue
            if (role, code) in first:
                other, other_where = first[role, code]
                what = f"language {code} ({LANGUAGES[code].name})" if code else f"the {role}"
                raise QuerySetError(f"{self.file}: {other_where} {other!r} and {where} {name!r} are both {what}")
            first[role, code] = (name, where)
        return Plan(
            first.get(("id", None), (None,))[0],
            first.get(("topic", None), (None,))[0],
            tuple((name, code) for (role, code), (name, _) in first.items() if role == "lang" and code),
        )

    def notes(self) -> list[str]:
        out = []
        if self.renamed:
            out.append("language labels normalised: " + ", ".join(f"{k!r} -> {v}" for k, v in self.renamed.items()))
        if self.labels:
            out.append(
                f"column {', '.join(map(repr, self.labels))} read as concept labels (not embedded); "
                "ids are row numbers unless an id column is given"
            )
        if self.ignored:
            out.append(f"ignored column(s)/key(s): {', '.join(map(repr, self.ignored))}")
        return out


def _nested_plan(roles: ColumnRoles, values: dict, where: str) -> Plan:
    """Plan for ``{"id", "topic", "texts": {...}}``: languages from ``texts``, other outer keys ignored."""
    texts = values[NESTED_KEY]
    if not isinstance(texts, dict):
        raise QuerySetError(f"{roles.file}: {where}: {NESTED_KEY!r} must be an object of language -> text")
    langs = roles.plan(list(texts), [f"{where}: key in {NESTED_KEY!r}"] * len(texts))
    meta = [k for k in values if k != NESTED_KEY]
    id_key = next((k for k in meta if k.strip().casefold() in ID_COLUMNS), None)
    topic_key = next((k for k in meta if k.strip().casefold() in TOPIC_COLUMNS), None)
    for k in meta:
        if k not in (id_key, topic_key):
            roles.ignored[k] = None
    return Plan(id_key, topic_key, langs.lang_keys)


def load_table(
    source: Source,
    records: Records,
    *,
    name: str,
    languages: Sequence[str] | None,
    counter: RowCounter,
    provenance: dict,
) -> LoadResult:
    """Read a wide table (see module doc) into a query set.

    ``languages`` (codes) selects and orders the language columns; a requested language
    the file lacks is an error. ``provenance`` gets ``rows_read`` added.
    """
    roles = ColumnRoles(source.name, languages)
    builder = QuerySetBuilder(source.name, languages or ())
    header_plan = None
    if records.columns is not None:
        header = records.columns
        header_plan = roles.plan(header, [f"column {k}" for k in range(1, len(header) + 1)])
        for _, code in header_plan.lang_keys:
            builder.add_language(code)
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
                    plan = _nested_plan(roles, values, rec.where)
                else:
                    plan = roles.plan(list(values), [f"{rec.where}: key"] * len(values))
                for _, code in plan.lang_keys:
                    builder.add_language(code)
                plans[signature] = plan
        cid = values.get(plan.id_key) if plan.id_key is not None else None
        if plan.id_key is None or (cid is None and header_plan is None):
            cid = f"row-{rec.number:05d}"  # no id column, or a JSON object without an id value
        topic = values.get(plan.topic_key) if plan.topic_key is not None else None
        builder.add(
            rec.ref, rec.where, "" if cid is None else str(cid), topic, {c: texts.get(k) for k, c in plan.lang_keys}
        )
    if languages is not None:
        absent = [code for code in languages if code not in roles.found]
        if absent:
            raise QuerySetError(
                f"{source.name}: requested language(s) {', '.join(absent)} not in the file; "
                f"it has {', '.join(roles.found) or 'no language columns'}"
            )
    for message in roles.notes():
        builder.note(message)
    if counter.truncated:
        builder.note(f"read only the first {counter.done:,} rows (max_rows={counter.max_rows:,})")
    return builder.finish(name, {**provenance, "rows_read": counter.done})
