"""Retrieval counts as sums of per-stripe counts, so queries can be sharded.

For one unordered language pair (s, t) with cell-mean unit vectors ``A`` (queries in s) and
``B`` (queries in t), concept i's counts are (as :func:`~semanscope.metrics.tiles.pair_counts`,
``tol`` from :func:`~semanscope.metrics.tiles.tie_tolerance`)

    above_st[i] = #{j != i : A_i . B_j > A_i . B_i + tol},  tied_st[i] = #{j != i : |A_i . B_j - A_i . B_i| <= tol}
    above_ts[j] = #{i != j : A_i . B_j > A_j . B_j + tol},  tied_ts[j] likewise.

All are counts over the entries of the N x N similarity matrix, so they split over any partition
of its rows: a *stripe* of query rows ``Q`` (global indices) against all candidates, read in
blocks, gives the complete ``above_st`` / ``tied_st`` of its rows and, for every column j, the
part of ``above_ts[j]`` / ``tied_ts[j]`` contributed by its rows. Summing those parts over the
stripes is exact (integer addition), whatever the stripe sizes, block sizes and order; each tile
is classified by the same float32 / float64 re-check code as the single-process metrics
(:class:`~semanscope.metrics.tiles.TileCounter`), so the counts are identical.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from semanscope.metrics.retrieval import QueryCounts
from semanscope.metrics.tiles import Cosine, Counts, Side, TileCounter, dot_error, tie_tolerance


def stripe_counts(
    A: np.ndarray,
    B: np.ndarray,
    index: np.ndarray,
    blocks: Iterable[tuple[np.ndarray, np.ndarray, np.ndarray]],
    n: int,
) -> tuple[Counts, Counts]:
    """Counts of one stripe of queries of the pair (s, t), candidates streamed in blocks.

    ``A``, ``B`` (q, d) float64 unit vectors: the stripe's concepts in languages s and t, global
    indices ``index`` (q,); ``blocks`` yields ``(index_b, A_b, B_b)`` for blocks of concepts that
    together cover all n concepts once. Returns the stripe's complete counts (q,) as queries in s
    and its part (n,) of every column's counts as queries in t (module docstring). One float32
    (q, b) tile at a time.
    """
    d = A.shape[1]
    counter, tol = TileCounter([Cosine()]), tie_tolerance(d)
    err = dot_error(d)
    rows = Side.of(index, np.einsum("ij,ij->i", A, B), err, tol)
    A32 = A.astype(np.float32)
    st, ts = Counts.zeros(len(index)), Counts.zeros(n)
    for index_b, A_b, B_b in blocks:
        cols = Side.of(index_b, np.einsum("ij,ij->i", A_b, B_b), err, tol)
        S = A32 @ B_b.astype(np.float32).T
        ((r, c),) = counter.count(S, A, B_b, [rows], [cols])
        st.above += r.above
        st.tied += r.tied
        ts.above[index_b] += c.above
        ts.tied[index_b] += c.tied
    return st, ts


def stripe_count_tensor(cells: np.ndarray, stripe_rows: int = 512, block_rows: int = 4096) -> QueryCounts:
    """The whole decomposition without Ray: counts (L, L, n) of cell-mean unit vectors ``cells``
    (L, n, d) from stripes of ``stripe_rows`` queries and candidate blocks of ``block_rows``,
    summed; equals ``count_tensors(cells)["cosine"]`` (:func:`~semanscope.metrics.retrieval.count_tensors`)."""
    L, n, _ = cells.shape
    out = QueryCounts.empty(L, n)
    for s in range(L):
        for t in range(s + 1, L):
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
                st, ts = stripe_counts(cells[s, q], cells[t, q], q, blocks, n)
                out.above[s, t, q], out.tied[s, t, q] = st.above, st.tied
                out.above[t, s] += ts.above
                out.tied[t, s] += ts.tied
    return out
