"""Retrieval ranks as sums of per-stripe counts, so queries can be sharded.

For one unordered language pair (s, t) with cell-mean unit vectors ``A`` (queries in s) and
``B`` (queries in t), concept i's ranks are (as :func:`~semanscope.metrics.retrieval.pair_ranks`)

    rank_st[i] = 1 + #{j != i : A_i . B_j > A_i . B_i + TIE_TOL}
    rank_ts[j] = 1 + #{i != j : A_i . B_j > A_j . B_j + TIE_TOL}.

Both are counts over the entries of the N x N similarity matrix, so they split over any
partition of its rows: a *stripe* of query rows ``Q`` (global indices) against all candidates,
read in blocks, gives the complete ``rank_st`` of its rows and, for every column j, the part of
``rank_ts[j] - 1`` contributed by its rows. Summing those parts over the stripes is exact
(integer addition), whatever the stripe sizes, block sizes and order.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from semanscope.metrics.retrieval import TIE_TOL


def stripe_counts(
    A: np.ndarray,
    B: np.ndarray,
    index: np.ndarray,
    blocks: Iterable[tuple[np.ndarray, np.ndarray, np.ndarray]],
    n: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Counts of one stripe of queries of the pair (s, t), candidates streamed in blocks.

    ``A``, ``B`` (q, d): the stripe's concepts in languages s and t, global indices ``index`` (q,);
    ``blocks`` yields ``(index_b, A_b, B_b)`` for blocks of concepts that together cover all n
    concepts once. Returns ``above_st`` (q,) = ``#{j != i : A_i . B_j > A_i . B_i + TIE_TOL}``
    (complete for the stripe) and ``above_ts`` (n,) = ``#{i in stripe, i != j : A_i . B_j > A_j . B_j
    + TIE_TOL}`` (the stripe's part of every column). One (q, b) similarity tile at a time.
    """
    above_st = np.zeros(len(index), dtype=np.int64)
    above_ts = np.zeros(n, dtype=np.int64)
    true_rows = np.einsum("ij,ij->i", A, B)
    for index_b, A_b, B_b in blocks:
        sims = A @ B_b.T
        sims[index[:, None] == index_b[None, :]] = -np.inf
        true_cols = np.einsum("ij,ij->i", A_b, B_b)
        above_st += np.count_nonzero(sims > true_rows[:, None] + TIE_TOL, axis=1)
        above_ts[index_b] += np.count_nonzero(sims > true_cols[None, :] + TIE_TOL, axis=0)
    return above_st, above_ts


def stripe_ranks(cells: np.ndarray, stripe_rows: int = 512, block_rows: int = 4096) -> np.ndarray:
    """The whole decomposition without Ray: rank tensor (L, L, n) of cell-mean unit vectors
    ``cells`` (L, n, d) from stripes of ``stripe_rows`` queries and candidate blocks of
    ``block_rows``, summed; equals :func:`~semanscope.metrics.retrieval.rank_tensor`."""
    L, n, _ = cells.shape
    ranks = np.zeros((L, L, n), dtype=np.int64)
    for s in range(L):
        for t in range(s + 1, L):
            ranks[s, t], ranks[t, s] = 1, 1
            for q0 in range(0, n, stripe_rows):
                q = np.arange(q0, min(n, q0 + stripe_rows))
                blocks = (
                    (
                        np.arange(b0, min(n, b0 + block_rows)),
                        cells[s, b0 : b0 + block_rows],
                        cells[t, b0 : b0 + block_rows],
                    )
                    for b0 in range(0, n, block_rows)
                )
                above_st, above_ts = stripe_counts(cells[s, q], cells[t, q], q, blocks, n)
                ranks[s, t, q] += above_st
                ranks[t, s] += above_ts
    return ranks
