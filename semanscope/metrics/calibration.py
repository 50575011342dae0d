"""Calibrating Semantic Affinity: its chance floor, SA without the language offset, and anisotropy.

SA alone does not separate a good retriever from a poor one: an anisotropic space (every vector
in a narrow cone) or a strong per-language offset moves SA for reasons unrelated to whether
translations sit together. These quantities put SA in context (all O(M d) per evaluation, no
M x M matrix):

* **chance floor**: the SA of the same embeddings after permuting the concept labels within each
  language (each language's texts, hence H, stay the same; only which texts count as
  translations changes), averaged over ``n_perm`` seeded permutations; the **normalised** score
  ``(SA - floor) / (1 - floor)`` is 0 at chance and 1 for coinciding translations. Joint and per
  language pair; its interval is SA's bootstrap interval mapped through the same formula with the
  floor held fixed.
* **language-centred SA**: the SA of ``x - mean_l`` where ``mean_l`` is the mean raw vector of
  language l's unique texts (removes the language-identity offset, Libovický et al. 2020,
  "On the language neutrality of pre-trained multilingual representations").
* **anisotropy**: the mean cosine similarity of texts of different concepts,
  ``(|sum u|^2 - sum_c |S_c|^2) / (M^2 - sum_c M_c^2)`` over the M rows (unit vectors u, S_c the
  sum over the M_c rows of concept c), overall and within each language.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from semanscope.metrics.affinity import (
    SAResult,
    first_occurrence,
    segment_sum,
    semantic_affinity,
    unit_rows,
)

N_PERM = 5


def normalized_affinity(sa: np.ndarray | float, floor: np.ndarray | float) -> np.ndarray:
    """``(SA - floor) / (1 - floor)`` elementwise; NaN where the floor is 1 (nothing to normalise by)."""
    sa, floor = np.asarray(sa, dtype=np.float64), np.asarray(floor, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(floor < 1.0, (sa - floor) / (1.0 - floor), np.nan)


def language_centered(X: np.ndarray, lang: np.ndarray, text_ids: np.ndarray | None = None) -> np.ndarray:
    """``x_k - mean_{lang_k}`` as float64 (M, d), ``mean_l`` the mean raw vector of language l's
    unique texts (the first row of each (language, text id); every row without ids)."""
    X = np.asarray(X, dtype=np.float64)
    lang = np.asarray(lang, dtype=np.int64)
    L = int(lang.max()) + 1 if lang.size else 0
    first = first_occurrence(lang, None if text_ids is None else np.asarray(text_ids, dtype=np.int64))
    means = segment_sum(X[first], lang[first], L) / np.maximum(np.bincount(lang[first], minlength=L), 1)[:, None]
    return X - means[lang]


def permuted_concepts(concept: np.ndarray, lang: np.ndarray, n_perm: int, seed: int) -> list[np.ndarray]:
    """``n_perm`` relabellings of ``concept``: in permutation p, the rows of language l get
    ``pi_pl[concept]`` with ``pi_pl = rng.permutation(N)`` drawn from ``np.random.default_rng(seed)``
    in the order p = 0.., l = 0.. (N = max(concept) + 1). Each language's cells move whole."""
    concept = np.asarray(concept, dtype=np.int64)
    lang = np.asarray(lang, dtype=np.int64)
    n, L = int(concept.max()) + 1, int(lang.max()) + 1
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n_perm):
        table = np.stack([rng.permutation(n) for _ in range(L)])  # (L, N)
        out.append(table[lang, concept])
    return out


def chance_floor(
    X: np.ndarray,
    concept: np.ndarray,
    lang: np.ndarray,
    *,
    text_ids: np.ndarray | None = None,
    metric: str = "cosine",
    weighting: str = "concept",
    n_perm: int = N_PERM,
    seed: int = 0,
    languages: Sequence[str] | None = None,
) -> tuple[float, np.ndarray]:
    """Mean joint SA and mean (L, L) pair SA over the :func:`permuted_concepts` relabellings
    (:func:`~semanscope.metrics.affinity.semantic_affinity` with the same settings, no bootstrap)."""
    if n_perm < 1:
        raise ValueError(f"n_perm must be at least 1, got {n_perm}")
    joint, pairs = [], []
    for permuted in permuted_concepts(concept, lang, n_perm, seed):
        res = semantic_affinity(
            X, permuted, lang, text_ids=text_ids, metric=metric, weighting=weighting, n_boot=0, languages=languages
        )
        joint.append(res.sa)
        pairs.append(res.pair_sa)
    return float(np.mean(joint)), np.mean(pairs, axis=0)


def anisotropy(X: np.ndarray, concept: np.ndarray, lang: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean cosine similarity of pairs of rows of different concepts: overall (any languages) and
    within each language, ``(|sum u|^2 - sum_c |S_c|^2) / (M^2 - sum_c M_c^2)`` over the rows
    with a finite, non-zero vector (NaN when no such pair exists)."""
    X = np.asarray(X)
    concept = np.asarray(concept, dtype=np.int64)
    lang = np.asarray(lang, dtype=np.int64)
    peak = np.abs(X).max(axis=1) if X.size else np.zeros(0)
    ok = np.isfinite(peak) & (peak > 0)
    U, concept, lang = unit_rows(X[ok], peak[ok]), concept[ok], lang[ok]
    N, L = int(concept.max(initial=-1)) + 1, int(lang.max(initial=-1)) + 1

    def mean_cross_concept(rows: np.ndarray) -> float:
        by_concept = segment_sum(U[rows], concept[rows], N)
        sizes = np.bincount(concept[rows], minlength=N).astype(np.float64)
        total = U[rows].sum(axis=0)
        pairs = sizes.sum() ** 2 - np.sum(sizes**2)
        if pairs == 0:
            return float("nan")
        return float((total @ total - np.einsum("ij,ij->", by_concept, by_concept)) / pairs)

    every = np.arange(len(U))
    return mean_cross_concept(every), np.array([mean_cross_concept(np.flatnonzero(lang == j)) for j in range(L)])


@dataclass(frozen=True, eq=False)
class Calibration:
    """SA of one model put in context (module docstring), for one metric and weighting.

    ``floor`` / ``pair_floor`` (L, L): the chance floor; ``normalized`` (+ ``normalized_ci_*``) and
    ``pair_normalized`` (+ ``pair_normalized_ci_*``): ``(SA - floor) / (1 - floor)`` of the
    calibrated :class:`SAResult` and of its bootstrap interval; ``centered_*``: the
    language-centred SA, its bootstrap interval and pair matrix (same settings as the SA);
    ``anisotropy`` and ``anisotropy_per_language`` (L,). Matrices are symmetric with a NaN diagonal.
    """

    metric: str
    weighting: str
    languages: tuple[str, ...]
    n_perm: int
    seed: int
    floor: float
    pair_floor: np.ndarray
    normalized: float
    normalized_ci_low: float
    normalized_ci_high: float
    pair_normalized: np.ndarray
    pair_normalized_ci_low: np.ndarray
    pair_normalized_ci_high: np.ndarray
    centered_sa: float
    centered_ci_low: float
    centered_ci_high: float
    centered_pair_sa: np.ndarray
    centered_status: str
    anisotropy: float
    anisotropy_per_language: np.ndarray


def calibrate(
    X: np.ndarray,
    concept: np.ndarray,
    lang: np.ndarray,
    sa: SAResult,
    *,
    text_ids: np.ndarray | None = None,
    languages: Sequence[str] | None = None,
    concept_ids: Sequence[str] | None = None,
    n_perm: int = N_PERM,
    seed: int | None = None,
) -> Calibration:
    """:class:`Calibration` of ``sa`` = ``semantic_affinity(X, concept, lang, ...)`` (its metric,
    weighting, bootstrap settings and seed are reused; ``seed`` overrides the permutations' seed)."""
    seed = sa.seed if seed is None else seed
    floor, pair_floor = chance_floor(
        X,
        concept,
        lang,
        text_ids=text_ids,
        metric=sa.metric,
        weighting=sa.weighting,
        n_perm=n_perm,
        seed=seed,
        languages=languages,
    )
    centered = semantic_affinity(
        language_centered(X, lang, text_ids),
        concept,
        lang,
        text_ids=text_ids,
        metric=sa.metric,
        weighting=sa.weighting,
        n_boot=sa.n_boot,
        ci=sa.ci,
        seed=sa.seed,
        languages=languages,
        concept_ids=concept_ids,
    )
    overall, per_language = anisotropy(X, concept, lang)
    return Calibration(
        metric=sa.metric,
        weighting=sa.weighting,
        languages=sa.languages,
        n_perm=n_perm,
        seed=seed,
        floor=floor,
        pair_floor=pair_floor,
        normalized=float(normalized_affinity(sa.sa, floor)),
        normalized_ci_low=float(normalized_affinity(sa.ci_low, floor)),
        normalized_ci_high=float(normalized_affinity(sa.ci_high, floor)),
        pair_normalized=normalized_affinity(sa.pair_sa, pair_floor),
        pair_normalized_ci_low=normalized_affinity(sa.pair_ci_low, pair_floor),
        pair_normalized_ci_high=normalized_affinity(sa.pair_ci_high, pair_floor),
        centered_sa=centered.sa,
        centered_ci_low=centered.ci_low,
        centered_ci_high=centered.ci_high,
        centered_pair_sa=centered.pair_sa,
        centered_status=centered.status,
        anisotropy=overall,
        anisotropy_per_language=per_language,
    )
