"""XQuAD / SQuAD JSON files (one per language) -> a query set of questions joined by question id.

Each file is ``{"data": [{"title": ..., "paragraphs": [{"qas": [{"id": ..., "question": ...}]}]}]}``.
The language comes from the file name (``xquad.de.json``, ``squad_zh-CN.json``, ``de.json``)
or from a mapping ``{language: path}``. Concepts are question ids, in the pivot file's order
(ids found only in other files follow); topic = article title in the pivot-language file.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path

from .assemble import LoadResult, QuerySetBuilder
from .decoded import DecodedBudget, value_size
from .encoding import Source, as_source, open_text
from .languages import LANGUAGES, UnknownLanguage, normalize_language
from .records import Progress, parse_json
from .validation import QuerySetError, language_code


def language_from_filename(name: str) -> str | None:
    """Language in a file name's last ``.``/``_``/``-`` separated token before ``.json``.

    ``xquad.de.json`` -> de, ``dev-ar.json`` -> ar, ``squad.german.json`` -> de; a region or
    script suffix after a 2-3 letter language token is allowed (``squad_zh-CN.json`` -> zh,
    ``faq.fr-CA.json`` -> fr). ``None`` when no token is a language.
    """
    stem = Path(name).name
    if stem.lower().endswith(".json"):
        stem = stem[:-5]
    tokens = [t for t in re.split(r"[._\s-]+", stem) if t]
    candidates = tokens[-1:]
    if len(tokens) >= 2 and len(tokens[-1]) in (2, 4) and 2 <= len(tokens[-2]) <= 3:
        candidates.insert(0, tokens[-2])
    for candidate in candidates:
        try:
            return normalize_language(candidate)
        except UnknownLanguage:
            continue
    return None


def read_squad(source: Source, encoding: str | None = None) -> tuple[dict[str, str], dict[str, str]]:
    """(question id -> question, question id -> article title) of one SQuAD-format file, in file order."""
    with open_text(source, encoding) as (text, _codec):
        body = text.read()
    try:
        doc = parse_json(body, source.name)
    except QuerySetError as exc:
        if "invalid JSON (Extra data)" not in str(exc):
            raise
        raise QuerySetError(f"{exc}; one object per line is JSON lines: name the file .jsonl") from None
    articles = doc.get("data") if isinstance(doc, dict) else None
    if not isinstance(articles, list):
        raise QuerySetError(
            f"{source.name}: not a SQuAD/XQuAD file: expected "
            '{"data": [{"title": ..., "paragraphs": [{"qas": [{"id": ..., "question": ...}]}]}]}'
        )
    questions: dict[str, str] = {}
    titles: dict[str, str] = {}
    budget = DecodedBudget(source.name)
    for a, article in enumerate(articles, start=1):
        title = str(article.get("title") or f"article {a}") if isinstance(article, dict) else f"article {a}"
        budget.add(value_size(title), f"article {a}", "title")
        paragraphs = article.get("paragraphs") if isinstance(article, dict) else None
        if not isinstance(paragraphs, list):
            raise QuerySetError(f"{source.name}: article {a} ({title!r}) has no 'paragraphs' list")
        for p, paragraph in enumerate(paragraphs, start=1):
            qas = paragraph.get("qas", []) if isinstance(paragraph, dict) else None
            if not isinstance(qas, list):
                raise QuerySetError(f"{source.name}: article {a} ({title!r}), paragraph {p}: 'qas' must be a list")
            for q, qa in enumerate(qas, start=1):
                qid = qa.get("id") if isinstance(qa, dict) else None
                if qid is None or not isinstance(qa.get("question"), str):
                    raise QuerySetError(
                        f"{source.name}: article {a} ({title!r}), paragraph {p}, question {q}: "
                        "needs 'id' and 'question'"
                    )
                qid = str(qid)
                budget.add(value_size(qa["question"]), f"article {a}, paragraph {p}, question {q}", "question")
                if qid in questions:
                    raise QuerySetError(
                        f"{source.name}: question id {qid!r} appears twice (articles {titles[qid]!r} and {title!r})"
                    )
                questions[qid] = qa["question"]
                titles[qid] = title
    return questions, titles


def load_xquad(
    paths: Sequence[object] | Mapping[str, object],
    pivot: str = "en",
    languages: Sequence[str] | None = None,
    *,
    name: str | None = None,
    progress: Progress | None = None,
    encoding: str | None = None,
    license: str | None = None,
) -> LoadResult:
    """Join per-language SQuAD-format files by question id (see module doc).

    ``paths``: files (language from the name) or ``{language: file}``; files are paths or
    binary file objects. ``languages`` selects languages (the pivot is always read).
    ``progress(files_done, n_files)`` is called after each file.
    """
    if isinstance(paths, Mapping):
        pairs = [(str(lang), as_source(p)) for lang, p in paths.items()]
    else:
        pairs = []
        for p in paths:
            source = as_source(p)
            code = language_from_filename(source.name)
            if code is None:
                raise QuerySetError(
                    f"{source.name}: cannot tell the language from the file name; name it like xquad.de.json "
                    "or pass {language: path}"
                )
            pairs.append((code, source))
    pivot_code = language_code(pivot, "pivot")
    wanted = None if languages is None else {language_code(code, "languages") for code in languages} | {pivot_code}
    by_lang: dict[str, Source] = {}
    for label, source in pairs:
        code = language_code(label, source.name)
        if code in by_lang:
            raise QuerySetError(f"{by_lang[code].name} and {source.name} are both {LANGUAGES[code].name} ({code})")
        by_lang[code] = source
    if pivot_code not in by_lang:
        raise QuerySetError(
            f"no file for the pivot language {pivot_code} (files cover {', '.join(by_lang)}); pass pivot="
        )
    if wanted is not None and wanted - set(by_lang):
        raise QuerySetError(f"no file for requested language(s) {', '.join(sorted(wanted - set(by_lang)))}")
    order = [pivot_code] + [c for c in by_lang if c != pivot_code and (wanted is None or c in wanted)]
    questions: dict[str, dict[str, str]] = {}
    files = []
    titles: dict[str, str] = {}
    for done, code in enumerate(order, start=1):
        source = by_lang[code]
        questions[code], file_titles = read_squad(source, encoding)
        if code == pivot_code:
            titles = file_titles
        files.append(
            {"source": source.name, "language": code, "sha256": source.sha256(), "questions": len(questions[code])}
        )
        if progress is not None:
            progress(done, len(order))
    all_ids = dict.fromkeys(qid for code in order for qid in questions[code])
    label = f"{by_lang[pivot_code].name} and {len(order) - 1} more file(s)"
    builder = QuerySetBuilder(label, order)
    skipped = [by_lang[c].name for c in by_lang if c not in order]
    if skipped:
        builder.note(f"skipped files of languages not requested: {', '.join(skipped)}")
    for qid in all_ids:
        texts = {code: questions[code].get(qid) for code in order}
        builder.add(f"question {qid}", f"question {qid}", qid, titles.get(qid), texts)
    provenance = {
        "source": [f["source"] for f in files],
        "format": "xquad",
        "files": files,
        "rows_read": sum(len(q) for q in questions.values()),
        "pivot": pivot_code,
        "license": license,
    }
    return builder.finish(name or "xquad", provenance)
