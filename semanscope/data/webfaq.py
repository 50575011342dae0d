"""WebFAQ bitexts -> an N-way query set by a pivot join.

WebFAQ bitext files (Parquet, JSON lines or CSV) hold aligned FAQ pairs with the columns
``language1, language2, origin, labse_similarity, question1, question2, answer1, answer2``
(languages as ISO 639-3 codes, e.g. ``eng``/``deu``). Only the questions are used.

Join: every pair with the pivot language on either side (``eng-deu`` or ``deu-eng``)
contributes its other-language question to the concept keyed by the *normalised* pivot
question (:func:`pivot_key`: strip, casefold, collapse whitespace). The pivot cell keeps the
first-seen pivot text. Several different translations of one pivot question in one
language are resolved by ``duplicates``: ``"best"`` (default) keeps the highest
``labse_similarity`` (first seen on ties), ``"all"`` keeps them all as ``|`` alternatives,
best first. Concept ids are ``wf-`` + the first 8 hex digits of SHA-256 of the key (16 for
keys whose 8-digit ids would collide); topic = the host of ``origin`` when it is a URL,
else ``origin`` as given. Concepts present in fewer than ``min_languages`` languages
(default: every language found) are reported, then excluded.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from collections.abc import Sequence
from urllib.parse import urlsplit

from .assemble import LoadResult, QuerySetBuilder
from .encoding import as_source
from .languages import UnknownLanguage, normalize_language
from .records import Progress, RowCounter, container_of, read_records
from .validation import QuerySetError, language_code, listing

REQUIRED_COLUMNS = ("language1", "language2", "question1", "question2")
"""Columns a WebFAQ bitext file must have (``origin`` and ``labse_similarity`` are optional)."""
DUPLICATE_POLICIES = ("best", "all")


def pivot_key(text: str) -> str:
    """Join key of a pivot question: stripped, casefolded, inner whitespace collapsed to one space."""
    return " ".join(text.casefold().split())


def origin_topic(origin: object) -> str | None:
    """Topic of a pair: the lower-case host of ``origin`` when it is a URL, else the stripped string."""
    text = "" if origin is None else str(origin).strip()
    if not text:
        return None
    if "://" in text:
        return urlsplit(text).hostname or text
    return text


def concept_ids(keys: Sequence[str]) -> list[str]:
    """``wf-<8 hex>`` of SHA-256(key) per key; keys whose 8-hex ids collide get 16 hex digits."""
    digests = [hashlib.sha256(k.encode("utf-8")).hexdigest() for k in keys]
    short = Counter(d[:8] for d in digests)
    return [f"wf-{d[:8]}" if short[d[:8]] == 1 else f"wf-{d[:16]}" for d in digests]


class _Concept:
    """One pivot question: its first pivot text, topic, where first seen and translations."""

    __slots__ = ("pivot_text", "topic", "translations")

    def __init__(self, pivot_text: str, topic: str | None):
        self.pivot_text = pivot_text
        self.topic = topic
        self.translations: dict[str, list[tuple[str, float]]] = {}


def _similarity(value: object, file: str, where: str) -> float:
    """labse_similarity as a float; missing -> -inf (sorts last)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return -math.inf
    try:
        sim = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise QuerySetError(f"{file}: {where}: labse_similarity {value!r} is not a number") from None
    return -math.inf if math.isnan(sim) else sim


def _resolve(translations: list[tuple[str, float]], duplicates: str) -> tuple[list[str], bool]:
    """Cell alternatives from (text, similarity) pairs, best first; second = several distinct texts."""
    best: dict[str, float] = {}
    for text, sim in translations:
        if text not in best or sim > best[text]:
            best[text] = sim
    order = sorted(best, key=lambda t: -best[t])  # stable: first seen wins ties
    return (order[:1] if duplicates == "best" else order), len(order) > 1


def load_webfaq(
    paths: Sequence[object] | object,
    pivot: str = "en",
    min_similarity: float | None = None,
    min_languages: int | None = None,
    languages: Sequence[str] | None = None,
    *,
    duplicates: str = "best",
    name: str | None = None,
    progress: Progress | None = None,
    max_rows: int | None = None,
    encoding: str | None = None,
    license: str | None = None,
) -> LoadResult:
    """Pivot-join WebFAQ bitext files (paths or binary file objects) into one query set.

    See the module doc for the join. ``languages`` restricts the non-pivot languages;
    ``min_similarity`` drops pairs below that ``labse_similarity`` (and pairs without one);
    ``max_rows`` caps the bitext rows read over all files.
    """
    if duplicates not in DUPLICATE_POLICIES:
        raise QuerySetError(f"duplicates must be one of {DUPLICATE_POLICIES}, got {duplicates!r}")
    sources = [as_source(p) for p in (paths if isinstance(paths, (list, tuple)) else [paths])]
    if not sources:
        raise QuerySetError("load_webfaq needs at least one file")
    label = sources[0].name if len(sources) == 1 else f"{sources[0].name} and {len(sources) - 1} more file(s)"
    pivot_code = language_code(pivot, "pivot")
    wanted = None if languages is None else {language_code(code, "languages") for code in languages} | {pivot_code}

    lang_cache: dict[str, str | None] = {}

    def lang_of(value: object) -> str | None:
        label_ = "" if value is None else str(value)
        if label_ not in lang_cache:
            try:
                lang_cache[label_] = normalize_language(label_)
            except UnknownLanguage:
                lang_cache[label_] = None
        return lang_cache[label_]

    concepts: dict[str, _Concept] = {}
    found: dict[str, None] = {}
    skipped_pairs: Counter[str] = Counter()
    unknown: Counter[str] = Counter()
    not_requested = below = empty = 0
    counter = RowCounter(progress, max_rows)
    files = []
    for source in sources:
        records = read_records(source, container_of(source), encoding=encoding)
        if records.columns is not None:
            _check_columns(records.columns, source.name)
        if len(sources) == 1:
            counter.total = records.total
        rows_before = counter.done
        for rec in counter.over(records.rows):
            v = rec.values
            if records.columns is None and rec.number == 1:
                _check_columns(list(v), source.name)
            l1, l2 = lang_of(v.get("language1")), lang_of(v.get("language2"))
            if l1 is None or l2 is None:
                unknown[str(v.get("language1") if l1 is None else v.get("language2"))] += 1
                continue
            if l1 == pivot_code and l2 != pivot_code:
                p_text, lang, text = v.get("question1"), l2, v.get("question2")
            elif l2 == pivot_code and l1 != pivot_code:
                p_text, lang, text = v.get("question2"), l1, v.get("question1")
            else:
                skipped_pairs[f"{l1}-{l2}"] += 1
                continue
            if wanted is not None and lang not in wanted:
                not_requested += 1
                continue
            sim = _similarity(v.get("labse_similarity"), source.name, rec.where)
            if min_similarity is not None and sim < min_similarity:
                below += 1
                continue
            p_text = "" if p_text is None else " ".join(str(p_text).split())
            text = "" if text is None else str(text).strip()
            if not p_text or not text:
                empty += 1
                continue
            key = pivot_key(p_text)
            concept = concepts.get(key)
            if concept is None:
                concept = concepts[key] = _Concept(p_text, origin_topic(v.get("origin")))
            concept.translations.setdefault(lang, []).append((text, sim))
            found[lang] = None
        files.append({"source": source.name, "sha256": source.sha256(), "rows_read": counter.done - rows_before})

    report: list[str] = []
    if counter.truncated:
        report.append(f"read only the first {counter.done:,} bitext rows (max_rows={counter.max_rows:,})")
    if unknown:
        counts = ", ".join(f"{k!r} ({n:,})" for k, n in unknown.most_common())
        report.append(f"skipped rows with unknown language labels: {counts}")
    if skipped_pairs:
        report.append(
            f"skipped {sum(skipped_pairs.values()):,} rows whose pair does not include the pivot {pivot_code}: "
            + ", ".join(f"{k} ({n:,})" for k, n in skipped_pairs.most_common())
        )
    if not_requested:
        report.append(f"skipped {not_requested:,} rows in languages not requested")
    if below:
        report.append(f"skipped {below:,} rows with labse_similarity below {min_similarity} (or none)")
    if empty:
        report.append(f"skipped {empty:,} rows with an empty question")
    if wanted is not None:
        absent = sorted(wanted - set(found) - {pivot_code})
        if absent:
            raise QuerySetError(f"{label}: no {pivot_code} pairs for requested language(s) {', '.join(absent)}")
    langs = [pivot_code, *sorted(found)]
    needed = len(langs) if min_languages is None else min_languages
    if needed > len(langs):
        raise QuerySetError(
            f"{label}: min_languages={needed} but only {len(langs)} languages were found ({', '.join(langs)})"
        )

    keys = list(concepts)
    ids = concept_ids(keys)
    builder = QuerySetBuilder(label, langs)
    for message in report:
        builder.note(message)
    excluded: list[str] = []
    several = 0
    for key, cid in zip(keys, ids, strict=True):
        concept = concepts[key]
        if 1 + len(concept.translations) < needed:
            missing = [code for code in langs[1:] if code not in concept.translations]
            excluded.append(f"{cid} (missing {', '.join(missing)})")
            continue
        texts: dict[str, object] = {pivot_code: concept.pivot_text}
        for lang, translations in concept.translations.items():
            texts[lang], multiple = _resolve(translations, duplicates)
            several += multiple
        builder.add(cid, f"concept {cid}", cid, concept.topic, texts)
    if excluded:
        builder.note(
            f"excluded {len(excluded):,} of {len(keys):,} concepts present in fewer than {needed} languages: "
            + listing(excluded)
        )
    if several:
        kept = "kept the highest labse_similarity" if duplicates == "best" else "kept all as | alternatives, best first"
        builder.note(f"{several:,} cells had several translations of the same {pivot_code} question: {kept}")
    provenance = {
        "source": files[0]["source"] if len(files) == 1 else [f["source"] for f in files],
        "format": "webfaq",
        "files": files,
        "rows_read": counter.done,
        "pivot": pivot_code,
        "min_similarity": min_similarity,
        "min_languages": needed,
        "duplicates": duplicates,
        "license": license,
    }
    if len(files) == 1:
        provenance["sha256"] = files[0]["sha256"]
    return builder.finish(name or "webfaq", provenance)


def _check_columns(columns: Sequence[str], file: str) -> None:
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        raise QuerySetError(
            f"{file}: not a WebFAQ bitext file: missing column(s) {', '.join(missing)} "
            f"(expected {', '.join(REQUIRED_COLUMNS)}, origin, labse_similarity)"
        )
