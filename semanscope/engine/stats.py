"""Semantic Affinity as mergeable sufficient statistics of shards of whole concepts.

A *shard* holds every row of each of its concepts (rows in concept order; a concept's rows in
``QuerySet.items()`` order). Everything :func:`semanscope.metrics.affinity.semantic_affinity`
needs then splits into (formulas in :mod:`semanscope.metrics.affinity`):

* per concept i, local to its shard (:class:`ConceptStats`): the joint mean squared distance
  ``m_i = mean_{l<m} (|mu_il - mu_im|^2 + s_il + s_im)`` and its pair terms ``m_i^{lm}``, from the
  cell means ``mu_il`` and within-cell spreads ``s_il`` (:func:`~semanscope.metrics.affinity.cross_msd`);
  the largest ``|x|`` of its rows (``peak_i``); which rows were unusable (zero / non-finite);
* per language l over its *unique* texts (:class:`LanguageStats`): count ``n_l``, unit-vector
  sum ``S_l = sum u`` and raw moments (mean, ``sse``). Sums add and moments merge exactly
  (:func:`~semanscope.metrics.affinity.merge_moments`), but only after de-duplication by
  (language, text) across shards: each shard offers its first occurrences (:class:`TextRows`,
  with the concept position of the row) and the keeper of a (language, text) is the row with
  the smallest concept position - the same row ``semantic_affinity`` keeps with ``text_ids``.

Euclidean quantities are kept in raw units: every msd is a homogeneous quadratic, so dividing
by ``scale^2`` at the end (``scale = max_i peak_i``, the largest |x| of the used rows) gives
what ``semantic_affinity`` computes on ``x / scale`` (to rounding). Cosine quantities use unit
vectors, which need no scale. Cost O(M d) per pass; memory: one shard, plus O(N (1 + P)) floats
for the per-concept values and O(L d) per language.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from semanscope.metrics.affinity import (
    GroupMoments,
    check_metric,
    cross_msd,
    group_moments,
    merge_moments,
    msd_to_distance,
    pairwise_msd,
    segment_sum,
    unit_rows,
    unit_sse,
)


@dataclass(frozen=True)
class ConceptStats:
    """Per-concept statistics of a shard, one entry per input concept (used or not).

    ``position`` (n,) global concept order key; ``kept`` (n,) the concept still has a usable row
    in every language; ``n_rows`` (n,) its rows; ``n_dropped`` (n,) its unusable rows; ``peak`` (n,) largest |x| of its
    usable rows; ``joint`` (n,) and ``pair`` (n, P) mean squared distances (``np.triu_indices``
    order; cosine: of unit vectors; euclidean: raw units); NaN where not kept.
    """

    position: np.ndarray
    kept: np.ndarray
    n_rows: np.ndarray
    n_dropped: np.ndarray
    peak: np.ndarray
    joint: np.ndarray
    pair: np.ndarray


@dataclass(frozen=True)
class TextRows:
    """First occurrences of (language, text) in a shard: ``lang`` (k,), ``text`` (k,) str,
    ``position`` (k,) concept position of the row, ``vector`` (k, d) its raw embedding."""

    lang: np.ndarray
    text: np.ndarray
    position: np.ndarray
    vector: np.ndarray


@dataclass(frozen=True)
class LanguageStats:
    """Per language over unique texts: ``count`` (L,), ``unit_sum`` (L, d) = sum of unit vectors,
    ``moments`` raw-unit count / mean / sse (the euclidean H)."""

    count: np.ndarray
    unit_sum: np.ndarray
    moments: GroupMoments

    @classmethod
    def empty(cls, n_languages: int, dim: int) -> LanguageStats:
        zeros = np.zeros(n_languages, dtype=np.int64)
        return cls(
            zeros,
            np.zeros((n_languages, dim)),
            GroupMoments(zeros, np.zeros((n_languages, dim)), np.zeros(n_languages)),
        )

    def merge(self, other: LanguageStats) -> LanguageStats:
        """Union of two disjoint sets of unique texts: counts and sums add, moments merge (Chan et al.)."""
        return LanguageStats(
            self.count + other.count, self.unit_sum + other.unit_sum, merge_moments(self.moments, other.moments)
        )


def usable_rows(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(peak, valid)``: largest |x| of each row, and rows whose vector is finite and not all zero."""
    peak = np.abs(np.asarray(X)).max(axis=1).astype(np.float64)
    return peak, np.isfinite(peak) & (peak > 0)


def concept_stats(
    X: np.ndarray, concept: np.ndarray, lang: np.ndarray, position: np.ndarray, n_languages: int, metric: str
) -> tuple[ConceptStats, np.ndarray]:
    """Statistics of one shard's concepts, and the mask of the rows SA uses.

    ``X`` (M, d) raw embeddings; ``concept`` (M,) in [0, n) local concept index, non-decreasing;
    ``lang`` (M,) in [0, L); ``position`` (n,) the concepts' global order keys. A row is used when
    its vector is finite and not all zero and its concept keeps a used row in every language
    (as :func:`~semanscope.metrics.affinity.prepare_inputs`). Cell moments are two-pass
    (:func:`~semanscope.metrics.affinity.group_moments`) on unit vectors (cosine) or raw float64
    rows (euclidean); ``m_i`` and ``m_i^{lm}`` come from
    :func:`~semanscope.metrics.affinity.cross_msd` on the kept concepts.
    """
    check_metric(metric)
    n, L = len(position), n_languages
    peak, valid = usable_rows(X)
    n_dropped = np.bincount(concept[~valid], minlength=n)
    present = np.bincount(concept[valid] * L + lang[valid], minlength=n * L).reshape(n, L) > 0
    kept = np.asarray(present.all(axis=1), dtype=bool)
    used = valid & kept[concept]
    P = L * (L - 1) // 2
    joint, pair = np.full(n, np.nan), np.full((n, P), np.nan)
    concept_peak = np.zeros(n)
    np.maximum.at(concept_peak, concept[used], peak[used])
    if used.any():
        rows = np.flatnonzero(used)
        index = np.cumsum(kept) - 1  # local concept -> index among kept concepts
        nk = int(kept.sum())
        Y = unit_rows(X[rows], peak[rows]) if metric == "cosine" else np.asarray(X[rows], dtype=np.float64)
        cells = group_moments(Y, index[concept[rows]] * L + lang[rows], nk * L)
        within = (cells.sse / cells.count).reshape(nk, L)
        joint_k, pair_k = cross_msd(cells.mean.reshape(nk, L, -1), within)
        iu = np.triu_indices(L, 1)
        joint[kept], pair[kept] = joint_k, pair_k[:, iu[0], iu[1]]
    n_rows = np.bincount(concept, minlength=n)
    stats = ConceptStats(np.asarray(position, dtype=np.int64), kept, n_rows, n_dropped, concept_peak, joint, pair)
    return stats, used


def first_text_rows(
    X: np.ndarray, lang: np.ndarray, texts: Sequence[str], concept_position: np.ndarray, used: np.ndarray
) -> TextRows:
    """The used rows that are the first occurrence of their (language, text) in the shard (rows
    are in concept order, so the first occurrence has the smallest concept position)."""
    first: dict[tuple[int, str], int] = {}
    for k in np.flatnonzero(used):
        first.setdefault((int(lang[k]), texts[int(k)]), int(k))
    rows = np.fromiter(first.values(), dtype=np.int64, count=len(first))
    return TextRows(
        lang[rows].astype(np.int64),
        np.array([texts[k] for k in rows], dtype=object),
        np.asarray(concept_position)[rows].astype(np.int64),
        np.asarray(X)[rows],
    )


def text_bucket(lang: int, text: str, n_buckets: int) -> int:
    """Bucket of a (language, text) for the de-duplication pass: blake2b-64 of ``"<lang>\\0<text>"``
    modulo ``n_buckets`` (stable across processes, unlike ``hash``)."""
    digest = hashlib.blake2b(f"{lang}\0{text}".encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "little") % n_buckets


def split_text_rows(rows: TextRows, n_buckets: int) -> list[TextRows]:
    """``rows`` split by :func:`text_bucket`: every copy of a (language, text) lands in one bucket."""
    bucket = np.fromiter(
        (text_bucket(int(l_), t, n_buckets) for l_, t in zip(rows.lang, rows.text, strict=True)),
        dtype=np.int64,
        count=len(rows.lang),
    )
    return [
        TextRows(rows.lang[m], rows.text[m], rows.position[m], rows.vector[m])
        for m in (bucket == b for b in range(n_buckets))
    ]


def unique_text_rows(parts: Iterable[TextRows]) -> TextRows:
    """Concatenate candidate first occurrences and keep, per (language, text), the one with the
    smallest concept position (exact string equality, no hashing)."""
    parts = list(parts)
    lang = np.concatenate([p.lang for p in parts])
    text = np.concatenate([p.text for p in parts])
    position = np.concatenate([p.position for p in parts])
    vector = np.concatenate([p.vector for p in parts])
    best: dict[tuple[int, str], int] = {}
    for k in np.argsort(position, kind="stable"):
        best.setdefault((int(lang[k]), text[k]), int(k))
    keep = np.sort(np.fromiter(best.values(), dtype=np.int64, count=len(best)))
    return TextRows(lang[keep], text[keep], position[keep], vector[keep])


def language_stats(rows: TextRows, n_languages: int) -> LanguageStats:
    """:class:`LanguageStats` of a set of unique texts (rows as given, already de-duplicated)."""
    X = np.asarray(rows.vector)
    if len(X) == 0:
        return LanguageStats.empty(n_languages, X.shape[1])
    peak = np.abs(X).max(axis=1).astype(np.float64)
    unit_sum = segment_sum(unit_rows(X, peak), rows.lang, n_languages)
    count = np.bincount(rows.lang, minlength=n_languages)
    return LanguageStats(count, unit_sum, group_moments(np.asarray(X, dtype=np.float64), rows.lang, n_languages))


@dataclass(frozen=True)
class Spreads:
    """Merged statistics in the caller's units, concepts in position order (kept concepts only).

    ``position`` (n,), ``v`` (n,), ``pair_v`` (n, P), ``h_lang`` (L,), ``lang_count`` (L,),
    ``unit_sum`` (L, d) (unit vectors of unique texts), ``scale`` largest |x| of the used rows,
    ``excluded`` positions of the concepts left without a usable row in some language,
    ``n_rows`` / ``n_dropped_rows`` rows / unusable rows of all concepts.
    """

    position: np.ndarray
    v: np.ndarray
    pair_v: np.ndarray
    h_lang: np.ndarray
    lang_count: np.ndarray
    unit_sum: np.ndarray
    scale: float
    excluded: np.ndarray
    n_rows: int
    n_dropped_rows: int


def concat_concept_stats(parts: Iterable[ConceptStats]) -> ConceptStats:
    """All shards' concept statistics in position order (positions must be unique)."""
    parts = list(parts)
    position = np.concatenate([p.position for p in parts])
    order = np.argsort(position, kind="stable")
    if len(order) > 1 and np.any(np.diff(position[order]) == 0):
        raise ValueError("concept positions must be unique across shards")
    return ConceptStats(
        *(np.concatenate([getattr(p, f) for p in parts])[order] for f in ConceptStats.__dataclass_fields__)
    )


def merge_spreads(concepts: ConceptStats, languages: LanguageStats, metric: str) -> Spreads:
    """Distances from the merged statistics: ``v_i = msd_to_distance(m_i)`` (cosine: ``m_i / 2``;
    euclidean: ``scale sqrt(m_i / scale^2)``), likewise ``v_i^lm``, and
    ``H_l = msd_to_distance(2 sse_l / (n_l - 1))`` with cosine ``sse_l = n_l - |S_l|^2 / n_l``."""
    check_metric(metric)
    kept = concepts.kept
    scale = float(concepts.peak[kept].max()) if kept.any() else 0.0
    unit = 1.0 if metric == "cosine" or scale == 0 else scale
    joint, pair = concepts.joint[kept] / unit**2, concepts.pair[kept] / unit**2
    if metric == "cosine":
        sse = unit_sse(languages.count, languages.unit_sum)
    else:
        sse = languages.moments.sse / unit**2
    return Spreads(
        position=concepts.position[kept],
        v=msd_to_distance(joint, metric, unit),
        pair_v=msd_to_distance(pair, metric, unit),
        h_lang=msd_to_distance(pairwise_msd(languages.count, sse), metric, unit),
        lang_count=languages.count,
        unit_sum=languages.unit_sum,
        scale=scale,
        excluded=concepts.position[~kept],
        n_rows=int(concepts.n_rows.sum()),
        n_dropped_rows=int(concepts.n_dropped.sum()),
    )


def sharded_spreads(
    X: np.ndarray,
    concept: np.ndarray,
    lang: np.ndarray,
    texts: Sequence[str],
    n_languages: int,
    *,
    metric: str = "cosine",
    shard_concepts: int = 64,
    n_buckets: int = 4,
) -> Spreads:
    """The whole decomposition without Ray: split rows (concept-major, ``concept`` non-decreasing,
    in [0, N)) into shards of ``shard_concepts`` concepts, compute each shard's statistics, route
    its first occurrences to ``n_buckets`` de-duplication buckets, reduce each bucket to
    :class:`LanguageStats` and merge. Equals the single-pass ``semantic_affinity`` quantities."""
    n = int(concept.max()) + 1 if len(concept) else 0
    bounds = np.searchsorted(concept, np.arange(0, n + shard_concepts, shard_concepts).clip(max=n))
    concept_parts: list[ConceptStats] = []
    buckets: list[list[TextRows]] = [[] for _ in range(n_buckets)]
    for c0, r0, r1 in zip(range(0, n, shard_concepts), bounds[:-1], bounds[1:], strict=False):
        local = concept[r0:r1] - c0
        positions = np.arange(c0, min(c0 + shard_concepts, n))
        stats, used = concept_stats(X[r0:r1], local, lang[r0:r1], positions, n_languages, metric)
        concept_parts.append(stats)
        first = first_text_rows(X[r0:r1], lang[r0:r1], texts[r0:r1], positions[local], used)
        for bucket, part in zip(buckets, split_text_rows(first, n_buckets), strict=True):
            bucket.append(part)
    languages = LanguageStats.empty(n_languages, X.shape[1])
    for parts in buckets:
        languages = languages.merge(language_stats(unique_text_rows(parts), n_languages))
    return merge_spreads(concat_concept_stats(concept_parts), languages, metric)
