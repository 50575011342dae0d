"""Query set + model + cache -> one embedding per row of ``QuerySet.items()``; texts per language
(e.g. the words of a relation set) + model + cache -> one embedding per text."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from semanscope.cache import EmbeddingCache, encode_cached, key_language
from semanscope.data.queryset import QuerySet
from semanscope.data.validation import listing
from semanscope.models.base import Embedder
from semanscope.progress import Progress, span


def text_ids(qs: QuerySet) -> np.ndarray:
    """int64 (M,) ids for ``qs.items()`` rows: equal iff (language, text) are equal; first-seen order."""
    items = qs.items()
    first: dict[tuple[int, str], int] = {}
    return np.fromiter(
        (first.setdefault((int(j), t), len(first)) for j, t in zip(items.lang, items.texts, strict=True)),
        dtype=np.int64,
        count=len(items.texts),
    )


def encode_groups(texts: Mapping[str, Sequence[str]], embedder: Embedder) -> list[tuple[str | None, list[str]]]:
    """The texts as the model receives them: per language (``(code, texts)``) for a language-aware
    embedder, else one group ``(None, unique texts of all languages in first-seen order)``."""
    if embedder.language_aware:
        return [(code, list(group)) for code, group in texts.items()]
    return [(None, list(dict.fromkeys(t for group in texts.values() for t in group)))]


def cached_count(qs: QuerySet, embedder: Embedder, cache: EmbeddingCache) -> tuple[int, int]:
    """(texts already cached, texts to embed) for :func:`embed_queryset` of ``qs`` with ``embedder``:
    unique texts counted as the model would receive them (:func:`encode_groups`); reads no vector
    and encodes nothing (the app shows "n of m cached" before a run)."""
    groups = encode_groups(qs.texts_by_language(), embedder)
    fingerprint, dim = embedder.fingerprint, embedder.dim
    cached = sum(
        cache.count_cached(fingerprint, dim, group, key_language(embedder.language_aware, code))
        for code, group in groups
    )
    return cached, sum(len(group) for _, group in groups)


def embed_by_language(
    texts: Mapping[str, Sequence[str]],
    embedder: Embedder,
    cache: EmbeddingCache | None = None,
    *,
    batch_size: int = 64,
    progress: Progress | None = None,
) -> dict[str, np.ndarray]:
    """Embed unique texts per language: ``{code: texts}`` -> ``{code: float32 (len(texts), dim)}``,
    row k = vector of ``texts[code][k]`` (texts of one language must be unique).

    Language-aware embedders get each language's texts with ``lang=code``; all other embedders
    get the unique texts of all languages at once (first-seen order), so a text shared by two
    languages is encoded once. Only cache misses reach the model. ``progress(done, total)``
    counts the texts sent to :func:`~semanscope.cache.encode_cached`.
    """
    groups = encode_groups(texts, embedder)
    total = sum(len(group) for _, group in groups)
    vectors: dict[str | None, np.ndarray] = {}
    start = 0
    for code, group in groups:
        progress_of_group = span(progress, start, len(group), total)
        vectors[code] = encode_cached(
            embedder, group, cache, lang=code, batch_size=batch_size, progress=progress_of_group
        )
        start += len(group)
    if embedder.language_aware:
        return {code: vectors[code] for code in texts}
    shared, position = vectors[None], {t: k for k, t in enumerate(groups[0][1])}
    return {code: shared[[position[t] for t in group]] for code, group in texts.items()}


def embed_queryset(
    qs: QuerySet,
    embedder: Embedder,
    cache: EmbeddingCache | None = None,
    *,
    batch_size: int = 64,
    progress: Progress | None = None,
) -> np.ndarray:
    """Embed every row of ``qs.items()`` -> float32 (M, dim), row k = vector of ``items.texts[k]``.

    Each language's unique texts (``qs.texts_by_language()``) go through
    :func:`embed_by_language` (a text is encoded once per language for language-aware
    embedders, once overall for the others). ``progress(done, total)`` counts unique texts.
    """
    items = qs.items()
    out = np.zeros((len(items.texts), embedder.dim), dtype=np.float32)
    by_lang = qs.texts_by_language()
    vectors = embed_by_language(by_lang, embedder, cache, batch_size=batch_size, progress=progress)
    for j, code in enumerate(qs.languages):
        rows = np.flatnonzero(items.lang == j)
        position = {t: k for k, t in enumerate(by_lang[code])}
        out[rows] = vectors[code][[position[items.texts[r]] for r in rows]]
    return out


def truncation_note(qs: QuerySet, embedder: Embedder) -> str:
    """One line naming the texts of ``qs`` that ``embedder`` truncates (``""`` when it reads all
    of every text): the model's limit, how many ``qs.items()`` rows are cut, and the first few
    as ``concept id (language)``, e.g. ``"e5-small-nano reads at most 512 tokens of a text:
    2 of 36 texts were truncated: q3 (de), q7 (en)"``. Cached or not, the same texts are named:
    the check asks :meth:`~semanscope.models.base.Embedder.truncated` on the unique texts.
    """
    items = qs.items()
    unique = list(dict.fromkeys(items.texts))
    if not unique:
        return ""
    cut = {t for t, flag in zip(unique, embedder.truncated(unique), strict=True) if flag}
    if not cut:
        return ""
    rows = [k for k, t in enumerate(items.texts) if t in cut]
    refs = [f"{qs.ids[items.concept[k]]} ({qs.languages[items.lang[k]]})" for k in rows]
    limit = f"{embedder.max_tokens:,} tokens" if embedder.max_tokens else "its input limit"
    return (
        f"{embedder.name} reads at most {limit} of a text: {len(rows):,} of {len(items.texts):,} texts "
        f"were truncated: {listing(refs)}"
    )
