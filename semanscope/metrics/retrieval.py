"""Cross-lingual retrieval: P@1 and MRR for every ordered language pair.

For the ordered pair (s, t) the queries are the concepts' cell-mean unit vectors in language s
(mean of the cell's unit vectors, renormalised) and the candidates are those of all N concepts in
language t. The rank of the true translation is ``rank_i = 1 + #{j != i : s_ij > s_ii + TIE_TOL}``
with ``s_ij`` the cosine similarity (optimistic on ties: equally similar candidates do not push the
true one down; ``TIE_TOL`` absorbs float64 rounding so exact duplicates tie).
``P@1 = mean_i [rank_i == 1]``, ``MRR = mean_i 1 / rank_i``.

Similarities are computed in (query block x candidate block) float64 tiles, each shared by both
directions (s -> t counts along rows, t -> s along columns), so no N x N matrix is ever held.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from semanscope.metrics.affinity import (
    PreparedInputs,
    bootstrap_means,
    check_bootstrap_args,
    percentile_ci,
    prepare_inputs,
    segment_sum,
    unit_rows,
)
from semanscope.metrics.result_base import ResultBase

TIE_TOL = 1e-12
TILE_ENTRIES = 2**22  # similarities held at a time (32 MB of float64)


def cell_unit_means(prep: PreparedInputs) -> np.ndarray:
    """(L, N, d) float64: for each language and concept the renormalised mean of the cell's unit vectors."""
    L, n, d = prep.n_languages, prep.n_concepts, prep.X.shape[1]
    out = np.empty((L, n, d))
    for c0, c1, part in prep.blocks():
        nb = c1 - c0
        sums = segment_sum(unit_rows(prep.load(part)), prep.lang[part] * nb + prep.concept[part] - c0, L * nb)
        out[:, c0:c1] = unit_rows(sums).reshape(L, nb, d)
    return out


def pair_ranks(
    A: np.ndarray, B: np.ndarray, *, block: int = 512, tile_entries: int = TILE_ENTRIES
) -> tuple[np.ndarray, np.ndarray]:
    """Ranks of the true translations in both directions between two aligned sets of unit vectors.

    ``A``, ``B`` (N, d); row i of A and row i of B are translations. Returns ``(rank_ab, rank_ba)``:
    ``rank_ab[i] = 1 + #{j != i : A_i . B_j > A_i . B_i + TIE_TOL}`` and symmetrically for B -> A.
    Tiles of ``block`` queries x ``tile_entries // block`` candidates: O(N^2 d) time, O(N d) memory.
    """
    n = len(A)
    true = np.einsum("ij,ij->i", A, B)
    above_ab = np.zeros(n, dtype=np.int64)
    above_ba = np.zeros(n, dtype=np.int64)
    cblock = max(1, tile_entries // block)
    for q0 in range(0, n, block):
        q1 = min(n, q0 + block)
        for c0 in range(0, n, cblock):
            c1 = min(n, c0 + cblock)
            sims = A[q0:q1] @ B[c0:c1].T
            diag = np.arange(max(q0, c0), min(q1, c1))
            sims[diag - q0, diag - c0] = -np.inf
            above_ab[q0:q1] += np.count_nonzero(sims > true[q0:q1, None] + TIE_TOL, axis=1)
            above_ba[c0:c1] += np.count_nonzero(sims > true[None, c0:c1] + TIE_TOL, axis=0)
    return above_ab + 1, above_ba + 1


def rank_tensor(prep: PreparedInputs, block: int = 512) -> np.ndarray:
    """(L, L, n) int64: ``[s, t, i]`` = rank of concept i's true translation among language t's
    candidates for the query in language s (:func:`pair_ranks`); 0 on the diagonal ``s == t``."""
    L, n = prep.n_languages, prep.n_concepts
    Q = cell_unit_means(prep)
    ranks = np.zeros((L, L, n), dtype=np.int64)
    for s in range(L):
        for t in range(s + 1, L):
            ranks[s, t], ranks[t, s] = pair_ranks(Q[s], Q[t], block=block)
    return ranks


def retrieval_ranks(
    X: np.ndarray,
    concept: np.ndarray,
    lang: np.ndarray,
    *,
    block: int = 512,
    languages: Sequence[str] | None = None,
    concept_ids: Sequence[str] | None = None,
) -> tuple[np.ndarray, tuple[str, ...]]:
    """Per-query ranks for every ordered pair, :func:`rank_tensor` (L, L, n), and the ids of the
    n concepts used (inputs validated and rows dropped as in :func:`retrieval_metrics`; an empty
    (L, L, 0) array and no ids when fewer than 3 concepts are usable). ``mean(ranks[s, t] == 1)`` is
    ``retrieval_metrics(...).p_at_1[s, t]``; the per-query values allow paired resampling."""
    _check_block(block)
    prep = prepare_inputs(X, concept, lang, languages=languages, concept_ids=concept_ids)
    if not prep.usable:
        return np.zeros((prep.n_languages, prep.n_languages, 0), dtype=np.int64), ()
    return rank_tensor(prep, block), prep.concept_ids


def _check_block(block: int) -> None:
    if isinstance(block, bool) or not isinstance(block, (int, np.integer)) or block < 1:
        raise ValueError(f"block must be a positive integer, got {block!r}")


@dataclass(frozen=True, eq=False)
class RetrievalResult(ResultBase):
    """P@1 / MRR per ordered language pair: row = query language, column = candidate language.

    Diagonals are NaN (``n`` is 0 there). ``mean_*`` average over the L(L-1) ordered pairs, with
    percentile bootstrap intervals over concepts (NaN when n_boot == 0). ``*_per_concept`` average
    each concept's hit / reciprocal rank over the ordered pairs, following ``concept_ids``.
    ``status``: "ok", "warning" (rows dropped, see messages) or "invalid" (fewer than 3 usable
    concepts; every score NaN).
    """

    p_at_1: np.ndarray
    mrr: np.ndarray
    n: np.ndarray
    mean_p_at_1: float
    mean_mrr: float
    p_at_1_ci_low: float
    p_at_1_ci_high: float
    mrr_ci_low: float
    mrr_ci_high: float
    p_at_1_per_concept: np.ndarray
    mrr_per_concept: np.ndarray


def retrieval_metrics(
    X: np.ndarray,
    concept: np.ndarray,
    lang: np.ndarray,
    *,
    block: int = 512,
    languages: Sequence[str] | None = None,
    concept_ids: Sequence[str] | None = None,
    n_boot: int = 1000,
    ci: float = 0.95,
    seed: int = 0,
) -> RetrievalResult:
    """P@1 and MRR for every ordered language pair (definitions in the module docstring).

    Inputs are validated like :func:`semantic_affinity` (ValueError for bad shapes, < 2 languages,
    < 3 concepts or incomplete concepts; zero / non-finite rows dropped with a message). Each
    unordered pair costs one N x N x d product, computed in ``block``-row query tiles.
    """
    _check_block(block)
    check_bootstrap_args(n_boot, ci)
    prep = prepare_inputs(X, concept, lang, languages=languages, concept_ids=concept_ids)
    L, n = prep.n_languages, prep.n_concepts
    off = ~np.eye(L, dtype=bool)
    p1, mrr = np.full((L, L), np.nan), np.full((L, L), np.nan)
    counts = np.zeros((L, L), dtype=np.int64)
    hit_i, rr_i = np.full(n, np.nan), np.full(n, np.nan)
    ci_bounds = np.full((2, 2), np.nan)
    if prep.usable:
        ranks = rank_tensor(prep, block)[off]  # (L(L-1), n) over ordered pairs
        hits, recip = ranks == 1, 1.0 / ranks
        p1[off], mrr[off], counts[off] = hits.mean(axis=1), recip.mean(axis=1), n
        hit_i, rr_i = hits.mean(axis=0), recip.mean(axis=0)
        if n_boot:
            ci_bounds = np.array(percentile_ci(bootstrap_means(np.column_stack([hit_i, rr_i]), n_boot, seed), ci))
    return RetrievalResult(
        p_at_1=p1,
        mrr=mrr,
        n=counts,
        mean_p_at_1=float(p1[off].mean()),
        mean_mrr=float(mrr[off].mean()),
        p_at_1_ci_low=float(ci_bounds[0, 0]),
        p_at_1_ci_high=float(ci_bounds[1, 0]),
        mrr_ci_low=float(ci_bounds[0, 1]),
        mrr_ci_high=float(ci_bounds[1, 1]),
        p_at_1_per_concept=hit_i,
        mrr_per_concept=rr_i,
        status=prep.status,
        messages=prep.messages,
        languages=prep.languages,
        concept_ids=prep.concept_ids,
        dropped_concepts=prep.dropped_concepts,
        n_dropped_rows=prep.n_dropped_rows,
        seed=seed,
        n_boot=int(n_boot),
        ci=ci,
    )
