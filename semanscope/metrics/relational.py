"""Relational Affinity (RA): does a model encode one relation (word1 -> word2) as one direction?

Inputs: per language l, the embeddings of word1 and word2 of every relation (``first[l]``,
``second[l]``, (n, d)), a mask ``present`` (L, n) of the relations that have both words in l,
and each relation's category index.

Relation vectors (on unit vectors, as in the original Semanscope): ``u(x) = x / |x|``,
``r = u(x2) - u(x1)``. A relation vector with ``|r| < zero_norm`` (1e-8, the original's
epsilon: the same word on both sides, or a model mapping both words to one point), or one of a
zero word embedding, has no direction: it is excluded in that language and counted (``zero``).
The cosine of two relation vectors is ``cos(r_a, r_b) = r_a . r_b / (|r_a| |r_b|) = r^_a . r^_b``
with ``r^ = r / |r|``; the formulas below work on the unit relation vectors ``r^``.

* **Within-language RA** of category c in language l: over its n usable relation vectors, the
  mean of the n(n-1)/2 pairwise cosines, exactly and in O(n d) from their sum
  ``S = sum_k r^_k``: ``mean = (|S|^2 - n) / (n (n - 1))`` (``sum_{i != j} r^_i . r^_j =
  |S|^2 - sum_i |r^_i|^2`` and ``|r^_i| = 1``). The population std, min, max and the count of
  negative cosines need every pairwise value: they are accumulated over row blocks of the Gram
  matrix (at most :data:`GRAM_ENTRIES` values at a time, never the n x n matrix), the std in
  two passes around the exact mean: ``std = sqrt(sum_{i<j} (c_ij - mean)^2 / P)``. NaN for n < 2.
  (The std alone has an O(n d^2) form, ``sum_{i<j} c_ij^2 = (||R^T R||_F^2 - n) / 2``, but
  min/max/negatives need the O(n^2 d) pass anyway, and categories are small: n <= 10,000.)
* **Cross-language RA** of relation k for languages l, m: ``c_k(l, m) = r^_k(l) . r^_k(m)``, the
  same relation in both languages (usable in both). ``cross_*`` (L, L) hold per language pair the
  mean (std, min, max, negatives) over the relations usable in both, ``category_cross_*``
  (C, L, L) the mean per category; diagonals are NaN. ``relation_cross[k]`` is the mean of
  ``c_k(l, m)`` over the language pairs where k is usable in both (the original's "N-way" score).
* ``cross_all_pairs`` (L, L): the mean cosine over every (relation of l, relation of m) pair,
  mismatched relations included, ``= S_l . S_m / (n_l n_m)`` exactly in O(n d): the
  original Streamlit page's "inter-lingual RA", kept for comparison with its numbers.

Relation to the original Semanscope (``ui/pages/6_Relational_Affinity.py``,
``semanscope/cli/batch_benchmark_ra.py``): the unit word vectors, the relation vectors, the
cosine, the 1e-8 zero threshold, the population std and "negative = cosine < 0" are the same.
Differences: (1) the original pools every row of a file (each of its files holds one category,
where the two agree); here RA is per category. (2) The original page excludes zero vectors
per language, as here; its batch CLI drops a relation in every language when it is zero in
one (so e.g. Turkish gender-neutral pairs, identical words, would remove those relations from
English too). (3) Cross-language: the page averages all N_l x N_m pairs (``cross_all_pairs``
here); the batch CLI, for two languages, pools both languages' vectors and averages every pair
of the pool (within-language pairs included), and for three or more also reports the per-relation
"N-way" mean (``relation_cross`` here). ``cross_mean`` compares each relation only with itself
in the other language: it asks whether the translation of a relation points the same way,
which the pooled forms blur with how alike different relations are. (4) Only the cosine form;
the original's optional normalised-Euclidean RA is not provided.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from semanscope.data.validation import listing
from semanscope.metrics.affinity import unit_rows

ZERO_NORM = 1e-8
"""Relation vectors shorter than this (on unit word vectors) are zero: excluded and counted."""
GRAM_ENTRIES = 2**22
"""Most pairwise cosines held at once when a category's std/min/max are accumulated (32 MiB)."""


@dataclass(frozen=True)
class CosineSummary:
    """Summary of a set of cosines: how many vectors (``n``) and values (``pairs``), their mean,
    population std, min, max and the number of negative values (NaN / 0 when there are none)."""

    n: int
    pairs: int
    mean: float
    std: float
    min: float
    max: float
    negatives: int

    @classmethod
    def empty(cls, n: int = 0) -> CosineSummary:
        nan = float("nan")
        return cls(n, 0, nan, nan, nan, nan, 0)

    @classmethod
    def of_values(cls, values: np.ndarray) -> CosineSummary:
        """Summary of given cosines (``n = pairs = len(values)``), e.g. one per relation."""
        values = np.asarray(values, dtype=np.float64)
        if values.size == 0:
            return cls.empty()
        return cls(
            values.size,
            values.size,
            float(values.mean()),
            float(values.std()),
            float(values.min()),
            float(values.max()),
            int((values < 0).sum()),
        )


def relation_vectors(
    first: np.ndarray, second: np.ndarray, zero_norm: float = ZERO_NORM
) -> tuple[np.ndarray, np.ndarray]:
    """Unit relation vectors ``r^ = r / |r|``, ``r = u(second) - u(first)``, ``u(x) = x / |x|`` ->
    (``R`` (n, d) float64, ``usable`` (n,) bool). Rows with ``|r| < zero_norm`` or a zero word
    embedding are not usable; their rows of ``R`` are 0."""
    first, second = np.asarray(first), np.asarray(second)
    if first.shape != second.shape or first.ndim != 2:
        raise ValueError(f"first and second must be (n, d) arrays of one shape, got {first.shape} and {second.shape}")
    nonzero = (np.abs(first).max(axis=1, initial=0) > 0) & (np.abs(second).max(axis=1, initial=0) > 0)
    r = unit_rows(second) - unit_rows(first)
    norm = np.sqrt(np.einsum("ij,ij->i", r, r))
    usable = nonzero & (norm >= zero_norm)
    r[~usable] = 0.0
    r[usable] /= norm[usable, None]
    return r, usable


def pairwise_cosine_summary(R: np.ndarray, entries: int = GRAM_ENTRIES) -> CosineSummary:
    """:class:`CosineSummary` of the n(n-1)/2 pairwise cosines of the unit rows of ``R`` (n, d).

    Mean exact in O(n d): ``(|sum_k r_k|^2 - n) / (n (n - 1))``. Std (population, around that
    mean), min, max and negatives over row blocks of ``R R^T`` of at most ``entries`` values.
    """
    R = np.asarray(R, dtype=np.float64)
    n = len(R)
    if n < 2:
        return CosineSummary.empty(n)
    total = R.sum(axis=0)
    pairs = n * (n - 1) // 2
    mean = (float(total @ total) - n) / (n * (n - 1))
    squares, low, high, negatives = 0.0, np.inf, -np.inf, 0
    rows = max(1, entries // n)
    for start in range(0, n - 1, rows):
        stop = min(start + rows, n - 1)
        gram = R[start:stop] @ R[start:].T  # (rows, n - start): row i against columns i..n-1
        upper = np.arange(n - start)[None, :] > np.arange(stop - start)[:, None]
        values = gram[upper]
        squares += float(np.square(values - mean).sum())
        low, high = min(low, float(values.min())), max(high, float(values.max()))
        negatives += int((values < 0).sum())
    return CosineSummary(n, pairs, mean, float(np.sqrt(squares / pairs)), low, high, negatives)


@dataclass(frozen=True, eq=False)
class RAResult:
    """Relational Affinity of one model on one relation set (formulas in the module docstring).

    Per category c and language l (C, L): ``within_n`` usable relation vectors, ``within_pairs``,
    ``within_mean``/``within_std``/``within_min``/``within_max`` of their pairwise cosines,
    ``within_negatives`` (cosines < 0), ``zero`` (zero relation vectors excluded). ``missing`` (L,):
    relations without both words in l. Per language pair (L, L, symmetric, NaN/0 diagonal):
    ``cross_n`` relations usable in both, ``cross_mean``/``std``/``min``/``max``/``negatives`` of
    their matched cosines, ``cross_all_pairs`` (the original page's unmatched mean); per category
    ``category_cross_mean``/``category_cross_n`` (C, L, L). Per relation (n,): ``relation_category``
    (index into ``categories``), ``relation_cross`` (mean matched cosine over language pairs, NaN
    when none) and ``relation_cross_pairs``; ``usable`` (L, n).
    """

    languages: tuple[str, ...]
    categories: tuple[str, ...]
    relation_ids: tuple[str, ...]
    relation_category: np.ndarray
    usable: np.ndarray
    missing: np.ndarray
    zero: np.ndarray
    within_n: np.ndarray
    within_pairs: np.ndarray
    within_mean: np.ndarray
    within_std: np.ndarray
    within_min: np.ndarray
    within_max: np.ndarray
    within_negatives: np.ndarray
    cross_n: np.ndarray
    cross_mean: np.ndarray
    cross_std: np.ndarray
    cross_min: np.ndarray
    cross_max: np.ndarray
    cross_negatives: np.ndarray
    cross_all_pairs: np.ndarray
    category_cross_mean: np.ndarray
    category_cross_n: np.ndarray
    relation_cross: np.ndarray
    relation_cross_pairs: np.ndarray
    zero_norm: float
    messages: tuple[str, ...]

    @property
    def n_relations(self) -> int:
        return len(self.relation_ids)


def relational_affinity(
    first: Sequence[np.ndarray],
    second: Sequence[np.ndarray],
    present: np.ndarray,
    category: np.ndarray,
    *,
    languages: Sequence[str],
    categories: Sequence[str],
    relation_ids: Sequence[str],
    zero_norm: float = ZERO_NORM,
    entries: int = GRAM_ENTRIES,
) -> RAResult:
    """RA within each category and language and across languages (see the module docstring).

    ``first[l]``, ``second[l]``: (n, d) embeddings of word1 / word2 of every relation in language
    ``languages[l]`` (rows where ``present[l]`` is False are ignored); ``present`` (L, n) bool;
    ``category`` (n,) ints indexing ``categories``; ``relation_ids`` (n,).
    """
    n_lang, n_cat, n = len(languages), len(categories), len(relation_ids)
    present = np.asarray(present, dtype=bool)
    category = np.asarray(category, dtype=np.int64)
    if len(first) != n_lang or len(second) != n_lang or present.shape != (n_lang, n) or category.shape != (n,):
        raise ValueError(
            f"need first/second with one (n, d) array per language and present (L, n), category (n,): "
            f"L={n_lang}, n={n}, got {len(first)}/{len(second)} arrays, present {present.shape}, "
            f"category {category.shape}"
        )
    if n and (category.min() < 0 or category.max() >= n_cat):
        raise ValueError(f"category indices must lie in [0, {n_cat})")
    units, usable = [], np.zeros((n_lang, n), dtype=bool)
    zero = np.zeros((n_cat, n_lang), dtype=np.int64)
    messages: list[str] = []
    for j in range(n_lang):
        if np.shape(first[j]) != np.shape(second[j]) or len(first[j]) != n:
            raise ValueError(f"{languages[j]}: first and second must both be ({n}, d)")
        R, ok = relation_vectors(first[j], second[j], zero_norm)
        usable[j] = ok & present[j]
        zeros = present[j] & ~ok
        zero[:, j] = np.bincount(category[zeros], minlength=n_cat)
        if zeros.any():
            ids = [relation_ids[int(k)] for k in np.flatnonzero(zeros)]
            messages.append(f"{languages[j]}: {len(ids)} zero relation vector(s) excluded: {listing(ids)}")
        units.append(R)

    nan = np.full((n_cat, n_lang), np.nan)
    within = {k: nan.copy() for k in ("mean", "std", "min", "max")}
    within_n = np.zeros((n_cat, n_lang), dtype=np.int64)
    within_pairs = np.zeros_like(within_n)
    within_negatives = np.zeros_like(within_n)
    for c in range(n_cat):
        for j in range(n_lang):
            s = pairwise_cosine_summary(units[j][usable[j] & (category == c)], entries)
            within_n[c, j], within_pairs[c, j], within_negatives[c, j] = s.n, s.pairs, s.negatives
            for key in within:
                within[key][c, j] = getattr(s, key)
            if s.n < 2:
                messages.append(
                    f"category {categories[c]!r}, {languages[j]}: {s.n} usable relation vector(s), "
                    "no within-language RA"
                )

    square = np.full((n_lang, n_lang), np.nan)
    cross = {k: square.copy() for k in ("mean", "std", "min", "max", "all_pairs")}
    cross_n = np.zeros((n_lang, n_lang), dtype=np.int64)
    cross_negatives = np.zeros_like(cross_n)
    category_mean = np.full((n_cat, n_lang, n_lang), np.nan)
    category_n = np.zeros((n_cat, n_lang, n_lang), dtype=np.int64)
    relation_sum = np.zeros(n)
    relation_pairs = np.zeros(n, dtype=np.int64)
    sums = [units[j].sum(axis=0) for j in range(n_lang)]
    counts = usable.sum(axis=1)
    for a in range(n_lang):
        for b in range(a + 1, n_lang):
            both = usable[a] & usable[b]
            values = np.einsum("ij,ij->i", units[a][both], units[b][both])
            s = CosineSummary.of_values(values)
            for i, j in ((a, b), (b, a)):
                cross_n[i, j], cross_negatives[i, j] = s.n, s.negatives
                for key in ("mean", "std", "min", "max"):
                    cross[key][i, j] = getattr(s, key)
                if counts[a] and counts[b]:
                    cross["all_pairs"][i, j] = float(sums[a] @ sums[b]) / (counts[a] * counts[b])
            relation_sum[both] += values
            relation_pairs[both] += 1
            per_category_n = np.bincount(category[both], minlength=n_cat)
            per_category_sum = np.bincount(category[both], weights=values, minlength=n_cat)
            with np.errstate(invalid="ignore", divide="ignore"):
                means = np.where(per_category_n > 0, per_category_sum / per_category_n, np.nan)
            category_mean[:, a, b] = category_mean[:, b, a] = means
            category_n[:, a, b] = category_n[:, b, a] = per_category_n
    with np.errstate(invalid="ignore", divide="ignore"):
        relation_cross = np.where(relation_pairs > 0, relation_sum / np.maximum(relation_pairs, 1), np.nan)
    return RAResult(
        languages=tuple(languages),
        categories=tuple(categories),
        relation_ids=tuple(relation_ids),
        relation_category=category,
        usable=usable,
        missing=(~present).sum(axis=1).astype(np.int64),
        zero=zero,
        within_n=within_n,
        within_pairs=within_pairs,
        within_mean=within["mean"],
        within_std=within["std"],
        within_min=within["min"],
        within_max=within["max"],
        within_negatives=within_negatives,
        cross_n=cross_n,
        cross_mean=cross["mean"],
        cross_std=cross["std"],
        cross_min=cross["min"],
        cross_max=cross["max"],
        cross_negatives=cross_negatives,
        cross_all_pairs=cross["all_pairs"],
        category_cross_mean=category_mean,
        category_cross_n=category_n,
        relation_cross=relation_cross,
        relation_cross_pairs=relation_pairs,
        zero_norm=float(zero_norm),
        messages=tuple(messages),
    )
