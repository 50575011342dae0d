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

Out of core (:func:`pivot_webfaq`), so millions of bitext rows never sit in memory at once:

1. *stream*: rows are read one batch at a time (Parquet: only the needed columns; no pandas),
   filtered, and appended to one of ``n_buckets`` Parquet bucket files chosen by the first 8 hex
   digits of SHA-256(key) - so every row of a concept, and every key whose short id could
   collide, lands in the same bucket;
2. *join*: each bucket is joined in memory on its own (memory ~ one bucket) and written as
   concept shards (:mod:`semanscope.data.concept_shards`) sorted by the concept's first bitext
   row, which is its position;
3. :func:`load_webfaq` merges the buckets' shards by position (a streamed k-way merge), which
   is the first-seen order of the keys, into a :class:`QuerySet`; the Ray engine reads the
   shards directly.
"""

from __future__ import annotations

import hashlib
import heapq
import math
import os
import tempfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pyarrow as pa
import pyarrow.parquet as pq

from .assemble import LoadResult, QuerySetBuilder
from .concept_shards import CONCEPTS_PER_FILE, ConceptShardWriter, merge_concept_rows
from .encoding import as_source
from .languages import UnknownLanguage, normalize_language
from .queryset import ALT_SEP, split_alternatives
from .records import Progress, RowCounter, container_of, read_records
from .validation import LISTED, QuerySetError, language_code

REQUIRED_COLUMNS = ("language1", "language2", "question1", "question2")
"""Columns a WebFAQ bitext file must have (``origin`` and ``labse_similarity`` are optional)."""
READ_COLUMNS = (*REQUIRED_COLUMNS, "origin", "labse_similarity")
"""The only columns read from a Parquet bitext file (answers are never decoded)."""
DUPLICATE_POLICIES = ("best", "all")
N_BUCKETS = 16


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


@dataclass(frozen=True)
class WebFAQPivot:
    """The pivot join written as concept shards: ``runs`` (per bucket, its shard files sorted by
    position), ``languages`` (pivot first), ``n_concepts`` kept, ``report`` lines and ``provenance``."""

    runs: tuple[tuple[Path, ...], ...]
    languages: tuple[str, ...]
    n_concepts: int
    report: tuple[str, ...]
    provenance: dict
    label: str

    @property
    def files(self) -> list[Path]:
        """Every concept-shard file (the Ray engine's input)."""
        return [f for run in self.runs for f in run]


_BUCKET_SCHEMA = pa.schema(
    [
        ("seq", pa.int64()),
        ("key", pa.string()),
        ("pivot", pa.string()),
        ("topic", pa.string()),
        ("lang", pa.string()),
        ("text", pa.string()),
        ("sim", pa.float64()),
    ]
)
BUFFER_ROWS = 50_000  # join rows held in memory over all buckets before they are written


class _Buckets:
    """Appends join rows to ``n`` bucket Parquet files under ``directory``; at most
    :data:`BUFFER_ROWS` rows are buffered in all, then every bucket's rows become a row group."""

    def __init__(self, directory: Path, n: int):
        self.directory = directory
        self.rows: list[list[tuple]] = [[] for _ in range(n)]
        self.writers: list[pq.ParquetWriter | None] = [None] * n
        self.buffered = 0

    def add(self, key: str, row: tuple) -> None:
        b = int(hashlib.sha256(key.encode("utf-8")).hexdigest()[:8], 16) % len(self.rows)
        self.rows[b].append(row)
        self.buffered += 1
        if self.buffered >= BUFFER_ROWS:
            for bucket in range(len(self.rows)):
                self._flush(bucket)
            self.buffered = 0

    def _flush(self, b: int) -> None:
        rows, self.rows[b] = self.rows[b], []
        if not rows:
            return
        if self.writers[b] is None:
            self.writers[b] = pq.ParquetWriter(self.directory / f"bucket-{b:04d}.parquet", _BUCKET_SCHEMA)
        table = pa.Table.from_arrays([list(column) for column in zip(*rows, strict=True)], schema=_BUCKET_SCHEMA)
        self.writers[b].write_table(table)  # type: ignore[union-attr]

    def close(self) -> list[Path]:
        for b in range(len(self.rows)):
            self._flush(b)
        for writer in self.writers:
            if writer is not None:
                writer.close()
        return [self.directory / f"bucket-{b:04d}.parquet" for b, w in enumerate(self.writers) if w is not None]


def _join_bucket(
    path: Path, langs: Sequence[str], needed: int, duplicates: str, writer: ConceptShardWriter
) -> tuple[int, int, list[tuple[int, str]], int]:
    """Join one bucket (rows in bitext order) into concepts written to ``writer`` in first-seen
    order. Returns (concepts, excluded count, the first :data:`~.validation.LISTED` excluded as
    ``(position, "id (missing ...)")``, cells with several translations)."""
    table = pq.read_table(path)
    columns = [table.column(name).to_pylist() for name in _BUCKET_SCHEMA.names]
    concepts: dict[str, tuple[int, str, str | None, dict[str, list[tuple[str, float]]]]] = {}
    for seq, key, p_text, topic, lang, text, sim in zip(*columns, strict=True):
        concept = concepts.get(key)
        if concept is None:
            concept = concepts[key] = (seq, p_text, topic, {})
        concept[3].setdefault(lang, []).append((text, sim))
    excluded: list[tuple[int, str]] = []
    n_excluded = several = 0
    for (seq, p_text, topic, translations), cid in zip(concepts.values(), concept_ids(list(concepts)), strict=True):
        if 1 + len(translations) < needed:
            n_excluded += 1
            if len(excluded) < LISTED:
                missing = [code for code in langs[1:] if code not in translations]
                excluded.append((seq, f"{cid} (missing {', '.join(missing)})"))
            continue
        cells: list[Sequence[str]] = [split_alternatives(p_text)]
        for code in langs[1:]:
            alternatives, multiple = _resolve(translations[code], duplicates) if code in translations else ([], False)
            cells.append(alternatives)
            several += multiple
        writer.add(seq, cid, topic, cells)
    return len(concepts) - n_excluded, n_excluded, excluded, several


def pivot_webfaq(
    paths: Sequence[object] | object,
    out_dir: str | os.PathLike,
    pivot: str = "en",
    min_similarity: float | None = None,
    min_languages: int | None = None,
    languages: Sequence[str] | None = None,
    *,
    duplicates: str = "best",
    progress: Progress | None = None,
    max_rows: int | None = None,
    encoding: str | None = None,
    license: str | None = None,
    n_buckets: int = N_BUCKETS,
    concepts_per_file: int = CONCEPTS_PER_FILE,
) -> WebFAQPivot:
    """Pivot-join WebFAQ bitext files out of core into concept shards under ``out_dir``
    (``buckets/`` holds the streamed rows, ``concepts/bucket-<b>/`` the joined concepts).

    Options as :func:`load_webfaq`. Memory: :data:`BUFFER_ROWS` rows while streaming, then one
    bucket (~ rows / ``n_buckets``) at a time while joining; for WebFAQ-sized inputs choose
    ``n_buckets`` ~ rows / 200,000 (e.g. 512 for 96M rows).
    Concept positions are the index of the concept's first bitext row over all files.
    """
    if duplicates not in DUPLICATE_POLICIES:
        raise QuerySetError(f"duplicates must be one of {DUPLICATE_POLICIES}, got {duplicates!r}")
    if n_buckets < 1:
        raise QuerySetError(f"n_buckets must be >= 1, got {n_buckets}")
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

    out = Path(out_dir)
    (out / "buckets").mkdir(parents=True, exist_ok=True)
    buckets = _Buckets(out / "buckets", n_buckets)
    found: dict[str, None] = {}
    skipped_pairs: Counter[str] = Counter()
    unknown: Counter[str] = Counter()
    not_requested = below = empty = 0
    counter = RowCounter(progress, max_rows)
    files = []
    skipped_lines: list[str] = []
    for source in sources:
        records = read_records(source, container_of(source), encoding=encoding, columns=READ_COLUMNS)
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
            buckets.add(key, (counter.done - 1, key, p_text, origin_topic(v.get("origin")), lang, text, sim))
            found[lang] = None
        files.append({"source": source.name, "sha256": source.sha256(), "rows_read": counter.done - rows_before})
        skipped_lines += [f"{source.name}: {note}" for note in records.skipped.notes()]
    bucket_files = buckets.close()

    report: list[str] = list(skipped_lines)
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

    runs = []
    kept = n_excluded = several = 0
    excluded: list[tuple[int, str]] = []
    for path in bucket_files:
        writer = ConceptShardWriter(out / "concepts" / path.stem, langs, concepts_per_file)
        k, x, first_excluded, s = _join_bucket(path, langs, needed, duplicates, writer)
        runs.append(tuple(writer.close()))
        kept, n_excluded, several = kept + k, n_excluded + x, several + s
        excluded = heapq.nsmallest(LISTED, excluded + first_excluded)
    if n_excluded:
        shown = [text for _, text in excluded]
        rest = f" and {n_excluded - len(shown):,} more" if n_excluded > len(shown) else ""
        report.append(
            f"excluded {n_excluded:,} of {kept + n_excluded:,} concepts present in fewer than {needed} languages: "
            + ", ".join(shown)
            + rest
        )
    if several:
        kept_how = (
            "kept the highest labse_similarity" if duplicates == "best" else "kept all as | alternatives, best first"
        )
        report.append(f"{several:,} cells had several translations of the same {pivot_code} question: {kept_how}")
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
    return WebFAQPivot(tuple(r for r in runs if r), tuple(langs), kept, tuple(report), provenance, label)


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
    ``max_rows`` caps the bitext rows read over all files. The join runs out of core
    (:func:`pivot_webfaq` into a temporary folder); the query set is built from its shards.
    """
    with tempfile.TemporaryDirectory(prefix="semanscope-webfaq-") as tmp:
        joined = pivot_webfaq(
            paths,
            tmp,
            pivot,
            min_similarity,
            min_languages,
            languages,
            duplicates=duplicates,
            progress=progress,
            max_rows=max_rows,
            encoding=encoding,
            license=license,
        )
        builder = QuerySetBuilder(joined.label, joined.languages)
        for message in joined.report:
            builder.note(message)
        for _, cid, topic, cells in merge_concept_rows(joined.runs, joined.languages):
            texts: dict[str, object] = dict(zip(joined.languages, cells, strict=True))
            texts[joined.languages[0]] = ALT_SEP.join(cells[0])  # the pivot text as read (split by the builder)
            builder.add(cid, f"concept {cid}", cid, topic, texts)
    return builder.finish(name or "webfaq", joined.provenance)


def _check_columns(columns: Sequence[str], file: str) -> None:
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        raise QuerySetError(
            f"{file}: not a WebFAQ bitext file: missing column(s) {', '.join(missing)} "
            f"(expected {', '.join(REQUIRED_COLUMNS)}, origin, labse_similarity)"
        )
