"""Query set + model + cache -> one embedding per row of ``QuerySet.items()``."""

from __future__ import annotations

import numpy as np

from semanscope.cache import EmbeddingCache, encode_cached
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


def embed_queryset(
    qs: QuerySet,
    embedder: Embedder,
    cache: EmbeddingCache | None = None,
    *,
    batch_size: int = 64,
    progress: Progress | None = None,
) -> np.ndarray:
    """Embed every row of ``qs.items()`` -> float32 (M, dim), row k = vector of ``items.texts[k]``.

    Language-aware embedders get each language's unique texts (``qs.texts_by_language()``)
    with ``lang=code``; all other embedders get the unique texts of all languages at once, so
    a text shared by two languages is encoded once. Only cache misses reach the model.
    ``progress(done, total)`` counts unique texts over all languages.
    """
    items = qs.items()
    out = np.zeros((len(items.texts), embedder.dim), dtype=np.float32)
    groups: list[tuple[str | None, np.ndarray, list[str]]]
    if embedder.language_aware:
        by_lang = qs.texts_by_language()
        groups = [(code, np.flatnonzero(items.lang == j), by_lang[code]) for j, code in enumerate(qs.languages)]
    else:
        groups = [(None, np.arange(len(items.texts)), list(dict.fromkeys(items.texts)))]
    total = sum(len(texts) for _, _, texts in groups)
    start = 0
    for code, rows, texts in groups:
        vectors = encode_cached(
            embedder,
            texts,
            cache,
            lang=code,
            batch_size=batch_size,
            progress=span(progress, start, len(texts), total),
        )
        position = {t: k for k, t in enumerate(texts)}
        out[rows] = vectors[[position[items.texts[r]] for r in rows]]
        start += len(texts)
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
