"""Exact rank counts from float32 similarity tiles, re-checked in float64 where float32 cannot decide.

Setting: aligned unit vectors ``A`` (n, d) (language s) and ``B`` (n, d) (language t), row i of both
being translations, and a pair score ``f_ij = f(s_ij, i, j)`` of ``A_i`` and ``B_j`` with
``s_ij = A_i . B_j`` (:class:`Cosine`: ``f = s``; CSLS and ratio margin:
:mod:`semanscope.metrics.hubness`). For the query ``A_i`` (direction s -> t) the true score is
``f_ii`` and, everything evaluated in float64,

    above_i = #{j != i : f_ij > f_ii + tol_i},     tied_i = #{j != i : |f_ij - f_ii| <= tol_i},

with ``tol_i = tie_tolerance(d) * max(1, |f_ii|)``; for the query ``B_j`` (t -> s) the same over
column j of the same tile: ``#{i != j : f_ij > f_jj + tol_j}`` and the ties. One tile serves both
directions, so no N x N matrix is ever held.

Float32 tiles, float64 re-check. Tiles ``A32 @ B32.T`` run in float32 BLAS (sgemm, about twice
the speed of float64). For unit vectors, ``|fl32(A32_i . B32_j) - s_ij| <= gamma_{d+2}`` with
``gamma_m = m u / (1 - m u)`` and ``u = 2^-24`` (Higham, *Accuracy and Stability of Numerical
Algorithms*, 2nd ed., eq. 3.5: rounding each vector to float32 adds at most ``2u + u^2`` relative to
``sum_k |a_k b_k| <= |a| |b| = 1``, and a float32 dot product of d terms in any summation order,
with or without FMA, adds at most ``gamma_d``). :func:`dot_error` scales that bound by the
largest row norms and adds the float64 error ``gamma_d(u64)`` and ``d`` float32 underflows; each
score turns it into a bound ``err`` on its own float32 evaluation. A tile entry then falls in one of three classes:

* ``F32 > f_ii + tol_i + err``: surely above (counted from float32 alone);
* ``F32 < f_ii - tol_i - err``: surely below (neither above nor tied);
* otherwise (a narrow band, about ``2 err`` wide, around the true score): recomputed in float64
  and classified exactly.

So the counts are those of float64 evaluation; the band holds a handful of candidates per query
(every tie among them). Band entries are recomputed from gathered rows, or (when a chunk's band
is dense, e.g. a collapsed model whose texts all coincide) by one float64 product of the chunk.
Float64 values from different summation orders may differ by a few ulps, so only a score within
about 1e-15 of ``f_ii +- tol_i`` could be classified differently by another tiling.

``tie_tolerance(d) = max(1e-12, 4 d u64)``: dot products of identical float64 unit vectors
computed in different orders differ by at most ``2 gamma_d(u64)``, so exact duplicates always
tie; the float32 error (~1e-5) never reaches a tie decision.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Protocol

import numpy as np

U32 = 2.0**-24  # unit roundoff of float32
U64 = 2.0**-53  # unit roundoff of float64
TIE_TOL = 1e-12
TILE_ENTRIES = 2**22  # similarities held per tile and worker (16 MB of float32)
CHUNK_ENTRIES = 2**18  # tile entries classified at a time (about 1 MB: stays in cache)
DENSE_FRACTION = 1 / 64  # band entries above this fraction of a chunk: one float64 product of the chunk
GATHER_ROWS = 4096  # band entries recomputed from gathered rows at a time


def tie_tolerance(d: int) -> float:
    """``max(TIE_TOL, 4 d u64)``: ties are scores within this distance (relative to max(1, |f|))."""
    return max(TIE_TOL, 4 * d * U64)


def pair_error(A: np.ndarray, B: np.ndarray) -> float:
    """:func:`dot_error` for every product of a row of ``A`` with a row of ``B`` (largest row norms)."""
    norm = np.sqrt(np.einsum("ij,ij->i", A, A).max() * np.einsum("ij,ij->i", B, B).max())
    return dot_error(A.shape[1], float(norm))


def dot_error(d: int, norm: float = 1.0) -> float:
    """Bound on ``|fl32(a32 . b32) - fl64(a . b)|`` for d-dimensional vectors with ``|a| |b| <= norm``:
    ``gamma_{d+2}(u32) norm + 2 d u64 + d 2^-126`` (float32 rounding and summation, float64
    summation, products flushed to zero; module docstring)."""
    g = (d + 2) * U32
    return g / (1.0 - g) * norm + 2 * d * U64 + d * 2.0**-126


def worker_count(workers: int | None, n: int, block: int) -> int:
    """Threads for a sweep of n queries in stripes of ``block``: ``workers`` (default: the CPUs this
    process may use), at most one per stripe."""
    if workers is None:
        workers = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, min(workers, -(-n // block)))


class Score(Protocol):
    """A pair score ``f_ij = f(s_ij, i, j)`` evaluated on tiles of cosines ``s``.

    ``rows`` / ``cols`` are the global indices of the tile's A rows and B rows. ``tile`` evaluates
    in float32 (may return ``S`` itself, modified or not); ``exact`` in float64 on matching 1-D
    arrays; ``error(e)`` bounds ``|tile - exact|`` when every float32 cosine is within ``e``.
    """

    name: str

    def tile(self, S: np.ndarray, rows: np.ndarray, cols: np.ndarray, out: np.ndarray) -> np.ndarray: ...

    def exact(self, s: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray: ...

    def error(self, e: float) -> float: ...


class Cosine:
    """``f_ij = s_ij``."""

    name = "cosine"

    def tile(self, S: np.ndarray, rows: np.ndarray, cols: np.ndarray, out: np.ndarray) -> np.ndarray:
        return S

    def exact(self, s: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        return s

    def error(self, e: float) -> float:
        return e


@dataclass(frozen=True)
class Side:
    """The queries along one side of a tile: global indices, true scores ``f_ii`` (float64), tie
    tolerances, and the float32 band ``[lo, hi]`` outside which float32 decides."""

    index: np.ndarray
    true: np.ndarray
    tol: np.ndarray
    lo: np.ndarray
    hi: np.ndarray

    @classmethod
    def of(cls, index: np.ndarray, true: np.ndarray, err: float, tie_tol: float) -> Side:
        """``lo <= f_ii - tol - err`` and ``hi >= f_ii + tol + err``, rounded outwards to float32."""
        tol = tie_tol * np.maximum(1.0, np.abs(true))
        hi = np.nextafter((true + tol + err).astype(np.float32), np.float32(np.inf))
        lo = np.nextafter((true - tol - err).astype(np.float32), np.float32(-np.inf))
        return cls(np.asarray(index), true, tol, lo, hi)

    def __getitem__(self, key: slice | np.ndarray) -> Side:
        """The queries ``key`` (a slice or index array) of this side."""
        return Side(self.index[key], self.true[key], self.tol[key], self.lo[key], self.hi[key])


@dataclass
class Counts:
    """``above`` / ``tied`` counts (int64) of a set of queries."""

    above: np.ndarray
    tied: np.ndarray

    @classmethod
    def zeros(cls, n: int) -> Counts:
        return cls(np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64))


def _count_dtype(n: int) -> type[np.unsignedinteger]:
    """Smallest accumulator for counts up to n (narrow sums of booleans are much faster)."""
    return np.uint16 if n < 2**16 else np.uint32


def exact_cosines(Aq: np.ndarray, Bc: np.ndarray, ii: np.ndarray, jj: np.ndarray) -> np.ndarray:
    """Float64 ``Aq[ii] . Bc[jj]`` from gathered rows, ``GATHER_ROWS`` pairs at a time."""
    out = np.empty(len(ii))
    for k in range(0, len(ii), GATHER_ROWS):
        sl = slice(k, k + GATHER_ROWS)
        out[sl] = np.einsum("ij,ij->i", Aq[ii[sl]], Bc[jj[sl]])
    return out


class TileCounter:
    """Counts of one tile for several scores at once, with reusable buffers (one per thread)."""

    def __init__(self, scores: Sequence[Score]) -> None:
        self.scores = tuple(scores)
        self._buffers: dict[int, tuple[np.ndarray, ...]] = {}

    def _buffer(self, rows: int, cols: int) -> tuple[np.ndarray, ...]:
        size = rows * cols
        bufs = self._buffers.get(size)
        if bufs is None:
            self._buffers = {size: (np.empty(size, np.float32), *(np.empty(size, bool) for _ in range(3)))}
            bufs = self._buffers[size]
        f, *masks = bufs
        return f.reshape(rows, cols), *(m.reshape(rows, cols) for m in masks)

    def count(
        self,
        S: np.ndarray,
        Aq: np.ndarray,
        Bc: np.ndarray,
        rows: Sequence[Side],
        cols: Sequence[Side],
    ) -> list[tuple[Counts, Counts]]:
        """Per score: counts of the tile's row queries ``A_i`` over its columns and of its column
        queries ``B_j`` over its rows. ``S`` (q, c) float32 cosines ``Aq32 @ Bc32.T``; ``Aq`` (q, d)
        and ``Bc`` (c, d) the float64 vectors; ``rows[k]`` / ``cols[k]`` the sides for score k."""
        q, c = S.shape
        out = [(Counts.zeros(q), Counts.zeros(c)) for _ in self.scores]
        step = max(1, CHUNK_ENTRIES // max(c, 1))
        for r0 in range(0, q, step):
            r1 = min(q, r0 + step)
            f_buf, gt, band, tmp = self._buffer(r1 - r0, c)
            dense: list[np.ndarray] = []  # the chunk's float64 cosines, once needed
            for score, row, col, (acc_r, acc_c) in zip(self.scores, rows, cols, out, strict=True):
                row_part = row[r0:r1]
                F = score.tile(S[r0:r1], row_part.index, col.index, f_buf)
                np.greater(F, row_part.hi[:, None], out=gt)
                acc_r.above[r0:r1] += np.add.reduce(gt.view(np.uint8), axis=1, dtype=_count_dtype(c))
                np.greater_equal(F, row_part.lo[:, None], out=band)
                band ^= gt
                np.greater(F, col.hi, out=gt)
                acc_c.above += np.add.reduce(gt.view(np.uint8), axis=0, dtype=_count_dtype(r1 - r0))
                np.greater_equal(F, col.lo, out=tmp)
                tmp ^= gt
                band |= tmp
                flat = np.flatnonzero(band)
                if flat.size:
                    self._recheck(score, F, flat, Aq, Bc, r0, r1, row_part, col, acc_r, acc_c, dense)
        return out

    @staticmethod
    def _recheck(
        score: Score,
        F: np.ndarray,
        flat: np.ndarray,
        Aq: np.ndarray,
        Bc: np.ndarray,
        r0: int,
        r1: int,
        row: Side,
        col: Side,
        acc_r: Counts,
        acc_c: Counts,
        dense: list[np.ndarray],
    ) -> None:
        """Exact float64 classification of the band entries ``flat`` (flat positions in the chunk)."""
        ii, jj = np.divmod(flat, F.shape[1])
        keep = row.index[ii] != col.index[jj]  # a query is not its own candidate
        if not keep.all():
            flat, ii, jj = flat[keep], ii[keep], jj[keep]
        if not flat.size:
            return
        if flat.size > DENSE_FRACTION * F.size:
            if not dense:
                dense.append(Aq[r0:r1] @ Bc.T)
            s = dense[0][ii, jj]
        else:
            s = exact_cosines(Aq, Bc, ii + r0, jj)
        f = score.exact(s, row.index[ii], col.index[jj])
        v = F.ravel()[flat]
        for side, acc, k, n in ((row, acc_r, ii, r0), (col, acc_c, jj, 0)):
            inside = (v >= side.lo[k]) & (v <= side.hi[k])
            diff = f - side.true[k]
            size = len(side.index)
            acc.above[n : n + size] += np.bincount(k[inside & (diff > side.tol[k])], minlength=size)
            acc.tied[n : n + size] += np.bincount(k[inside & (np.abs(diff) <= side.tol[k])], minlength=size)


def sweep(
    A32: np.ndarray,
    B32: np.ndarray,
    visit: Callable[[int, np.ndarray, int, int, int, int], None],
    *,
    block: int,
    tile_entries: int = TILE_ENTRIES,
    workers: int | None = None,
) -> None:
    """Every float32 tile ``S = A32[q0:q1] @ B32[c0:c1].T`` once: ``visit(worker, S, q0, q1, c0, c1)``.

    Stripes of ``block`` query rows against candidate blocks of ``tile_entries // block`` rows;
    ``workers`` threads (default: the CPUs available) take stripes in turn, each with one tile
    buffer and BLAS limited to one thread, so both the products and the classification run in
    parallel. ``visit`` of one worker is never called concurrently.
    """
    n, m = len(A32), len(B32)
    cblock = max(1, tile_entries // block)
    stripes = [(q0, min(n, q0 + block)) for q0 in range(0, n, block)]
    n_workers = worker_count(workers, n, block)

    def work(w: int) -> None:
        buf = np.empty(min(block, n) * min(cblock, m), dtype=np.float32)
        for q0, q1 in stripes[w::n_workers]:
            for c0 in range(0, m, cblock):
                c1 = min(m, c0 + cblock)
                S = buf[: (q1 - q0) * (c1 - c0)].reshape(q1 - q0, c1 - c0)
                np.matmul(A32[q0:q1], B32[c0:c1].T, out=S)
                visit(w, S, q0, q1, c0, c1)

    if n_workers == 1:
        work(0)
        return
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1, user_api="blas"), ThreadPoolExecutor(n_workers) as pool:
        for future in [pool.submit(work, w) for w in range(n_workers)]:
            future.result()


def pair_counts(
    A: np.ndarray,
    B: np.ndarray,
    scores: Sequence[Score] = (Cosine(),),
    *,
    block: int = 512,
    tile_entries: int = TILE_ENTRIES,
    workers: int | None = None,
) -> list[tuple[Counts, Counts]]:
    """Counts of both directions between aligned unit vectors ``A``, ``B`` (n, d) float64, per score:
    ``[(counts of queries A_i over B, counts of queries B_j over A), ...]`` (module docstring).

    O(n^2 d) time in float32 tiles (:func:`sweep`), O(n d + workers * tile_entries) memory.
    """
    n, d = A.shape
    A32, B32 = A.astype(np.float32), B.astype(np.float32)
    e, tie_tol = pair_error(A, B), tie_tolerance(d)
    index = np.arange(n)
    cos_true = np.einsum("ij,ij->i", A, B)
    sides = [Side.of(index, score.exact(cos_true, index, index), score.error(e), tie_tol) for score in scores]
    n_workers = worker_count(workers, n, block)
    counters = [TileCounter(scores) for _ in range(n_workers)]
    rows = [Counts.zeros(n) for _ in scores]
    cols = [[Counts.zeros(n) for _ in scores] for _ in range(n_workers)]

    def visit(w: int, S: np.ndarray, q0: int, q1: int, c0: int, c1: int) -> None:
        parts = counters[w].count(S, A[q0:q1], B[c0:c1], [s[q0:q1] for s in sides], [s[c0:c1] for s in sides])
        for k, (r, c) in enumerate(parts):
            rows[k].above[q0:q1] += r.above
            rows[k].tied[q0:q1] += r.tied
            cols[w][k].above[c0:c1] += c.above
            cols[w][k].tied[c0:c1] += c.tied

    sweep(A32, B32, visit, block=block, tile_entries=tile_entries, workers=n_workers)
    return [
        (rows[k], Counts(np.sum([c[k].above for c in cols], axis=0), np.sum([c[k].tied for c in cols], axis=0)))
        for k in range(len(scores))
    ]
