"""Hubness-aware retrieval scores: CSLS (Conneau et al. 2018) and the ratio margin (Artetxe & Schwenk 2019).

Aligned unit vectors ``A`` (n, d) (language s) and ``B`` (n, d) (language t), cosines
``s_ij = A_i . B_j``. The neighbourhood terms are means over the k nearest candidates in the other
language, all n of them (the true translation included), as in both papers:

    a_k(i) = mean of the k largest s_ij over j (A_i's k nearest B),
    b_k(j) = mean of the k largest s_ij over i (B_j's k nearest A).

* CSLS (Conneau et al. 2018, "Word translation without parallel data", eq. 6; ``r_T(x)`` is the
  mean cosine of x to its K nearest target words, ``r_S(y)`` likewise in the source; K = 10):
  ``csls_ij = 2 s_ij - a_k(i) - b_k(j)``, k = 10.
* Ratio margin (Artetxe & Schwenk 2019, "Margin-based parallel corpus mining with multilingual
  sentence embeddings", eqs. 1-2 with the "ratio" margin; ``NN_k(x)`` the k nearest neighbours of x
  in the other language; k = 4): ``margin_ij = s_ij / (sum_{z in NN_k(A_i)} s/(2k) + sum_{v in
  NN_k(B_j)} s/(2k)) = 2 s_ij / (a_k(i) + b_k(j))``; defined when every denominator is positive,
  ``min_i a_k(i) + min_j b_k(j) > 0``.

k is ``min(k, n - 1)``. Both scores are symmetric in the pair, so one tile serves both directions:
query ``A_i`` ranks the ``B_j`` by row i, query ``B_j`` ranks the ``A_i`` by column j (in CSLS the
query's own term is the same for all its candidates). Ranks, ties and the float32 tiles with a
float64 re-check are those of :mod:`semanscope.metrics.tiles`; each score bounds its float32 error.

The neighbourhood means need one blocked top-k pass (:func:`top_cosines`), exact in float64 and
O(n^2 d) time, O(n k) memory (plus the tiles).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from semanscope.metrics.tiles import TILE_ENTRIES, U32, exact_cosines, pair_error, sweep, worker_count

K_CSLS = 10
K_MARGIN = 4
SAMPLE = 1024  # candidates whose k-th largest float32 cosine seeds each query's threshold
POOL_LIMIT = 2**18  # candidates a worker's column pool holds before it is pruned
DENSE_KEY = 512  # candidates of one query within 2 err of its k-th largest: recompute it in float64


class CSLS:
    """``csls_ij = 2 s_ij - a_i - b_j`` (module docstring); float32 error ``<= 2 e + 16 u32``
    (rounding of ``a``, ``b`` and of two subtractions of values of magnitude <= 4)."""

    name = "csls"

    def __init__(self, a: np.ndarray, b: np.ndarray) -> None:
        self.a, self.b = a, b
        self.a32, self.b32 = a.astype(np.float32), b.astype(np.float32)

    def tile(self, S: np.ndarray, rows: np.ndarray, cols: np.ndarray, out: np.ndarray) -> np.ndarray:
        np.multiply(S, np.float32(2), out=out)
        out -= self.a32[rows][:, None]
        out -= self.b32[cols]
        return out

    def exact(self, s: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        return 2.0 * s - self.a[rows] - self.b[cols]

    def error(self, e: float) -> float:
        return 2.0 * e + 16 * U32


class Margin:
    """``margin_ij = s_ij / h_ij`` with ``h_ij = (a_i + b_j) / 2`` (module docstring).

    Float32 error: with ``h >= h_min > 0`` and ``|h32 - h| <= 2.1 u`` (``|a|, |b| <= 1``),
    ``|S32/h32 - s/h| <= e/h32 + |s| |h - h32| / (h h32)`` plus one rounding, at most
    ``(2 e + 8 u) / h_min^2`` while ``h_min >= 8.4 u``.
    """

    name = "margin"

    def __init__(self, a: np.ndarray, b: np.ndarray) -> None:
        self.a, self.b = a, b
        self.ha32, self.hb32 = (a / 2).astype(np.float32), (b / 2).astype(np.float32)
        self.h_min = float(a.min() + b.min()) / 2

    @property
    def defined(self) -> bool:
        """Every denominator positive (and far enough from 0 for the float32 bound)."""
        return self.h_min >= 8.4 * U32

    def tile(self, S: np.ndarray, rows: np.ndarray, cols: np.ndarray, out: np.ndarray) -> np.ndarray:
        np.add(self.ha32[rows][:, None], self.hb32[cols], out=out)
        return np.divide(S, out, out=out)

    def exact(self, s: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        return 2.0 * s / (self.a[rows] + self.b[cols])

    def error(self, e: float) -> float:
        return (2.0 * e + 8 * U32) / self.h_min**2


class _Pool:
    """Float32 candidates ``(key, other, value)`` for the k largest cosines of each of n keys.

    ``theta[key]`` (float32) only grows and stays ``<= v_k - 2 err`` with ``v_k`` the key's k-th
    largest float32 value seen: every candidate whose float64 cosine could be among the key's k
    largest has ``value >= theta`` (its float32 value is within ``err`` of it, and the k-th largest
    float64 value is ``>= v_k - err``), so keeping those is exact. A key with more than
    ``DENSE_KEY`` candidates left (near-ties, e.g. coinciding vectors) stops collecting and is
    recomputed in float64 at the end.
    """

    def __init__(self, k: int, err: float, theta: np.ndarray) -> None:
        self.k, self.err, self.theta = k, err, theta.astype(np.float32)
        self.dense = np.zeros(len(theta), dtype=bool)
        self.parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self.size = 0

    def add(self, keys: np.ndarray, others: np.ndarray, values: np.ndarray) -> None:
        if keys.size:
            self.parts.append((keys, others, values))
            self.size += keys.size

    def merge(self, other: _Pool) -> None:
        np.maximum(self.theta, other.theta, out=self.theta)
        self.dense |= other.dense
        for part in other.parts:
            self.add(*part)

    def compact(self) -> tuple[np.ndarray, np.ndarray]:
        """Raise ``theta``, drop what falls below it; returns the kept ``(keys, others)``."""
        if not self.parts:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        keys, others, values = (np.concatenate(p) for p in zip(*self.parts, strict=True))
        order = _by_key_descending(keys, values)
        keys, others, values = keys[order], others[order], values[order]
        n = len(self.theta)
        counts = np.bincount(keys, minlength=n)
        starts = np.cumsum(counts) - counts
        full = np.flatnonzero(counts >= self.k)
        kth = values[starts[full] + self.k - 1].astype(np.float64)
        floor = np.nextafter((kth - 2 * self.err).astype(np.float32), np.float32(-np.inf))
        self.theta[full] = np.maximum(self.theta[full], floor)
        keep = (values >= self.theta[keys]) & ~self.dense[keys]
        crowded = np.bincount(keys[keep], minlength=n) > DENSE_KEY
        if crowded.any():
            self.dense |= crowded
            self.theta[crowded] = np.inf
            keep &= ~crowded[keys]
        self.parts = [(keys[keep], others[keep], values[keep])]
        self.size = int(keep.sum())
        return keys[keep], others[keep]

    def top(
        self, exact: Callable[[np.ndarray, np.ndarray], np.ndarray], dense: Callable[[np.ndarray], np.ndarray]
    ) -> np.ndarray:
        """(n, k) float64 k largest cosines of every key, descending: the kept candidates in
        float64 (``exact(keys, others)``), the dense keys by ``dense(keys) -> (len, k)``."""
        keys, others = self.compact()  # grouped by key
        values = exact(keys, others)
        n = len(self.theta)
        counts = np.bincount(keys, minlength=n)
        starts = np.cumsum(counts) - counts
        width = int(counts.max(initial=0))
        pad = np.full((n, width), -np.inf)
        pad[keys, np.arange(len(keys)) - starts[keys]] = values
        out = np.empty((n, self.k))
        done = ~self.dense
        out[done] = -np.sort(-pad[done], axis=1)[:, : self.k]
        if self.dense.any():
            out[self.dense] = dense(np.flatnonzero(self.dense))
        return out


def _by_key_descending(keys: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Order grouping ``keys`` ascending, float32 ``values`` descending within a key: one sort of
    the 64-bit words ``key << 32 | ~v`` with ``v`` the float32 bits mapped to an ascending uint32."""
    bits = values.view(np.uint32)
    ascending = np.where(bits >> 31, ~bits, bits | np.uint32(0x80000000))
    return np.argsort((keys.astype(np.uint64) << np.uint64(32)) | (~ascending).astype(np.uint64))


def _sample_thresholds(Q32: np.ndarray, C32: np.ndarray, k: int, err: float) -> np.ndarray:
    """float32 ``v_k - 2 err`` per row of ``Q32``, ``v_k`` its k-th largest float32 cosine with an
    evenly spaced sample of ``max(SAMPLE, k)`` rows of ``C32``: a valid starting threshold (:class:`_Pool`)."""
    size = min(len(C32), max(SAMPLE, k))
    sample = C32[np.round(np.linspace(0, len(C32) - 1, size)).astype(np.int64)]
    out = np.empty(len(Q32), dtype=np.float32)
    step = max(1, TILE_ENTRIES // len(sample))
    for r0 in range(0, len(Q32), step):
        S = Q32[r0 : r0 + step] @ sample.T
        kth = np.partition(S, S.shape[1] - k, axis=1)[:, S.shape[1] - k].astype(np.float64)
        out[r0 : r0 + step] = np.nextafter((kth - 2 * err).astype(np.float32), np.float32(-np.inf))
    return out


def _dense_top(Q: np.ndarray, C: np.ndarray, k: int) -> np.ndarray:
    """(len(Q), k) float64 k largest of ``Q @ C.T`` per row, descending, in row blocks."""
    out = np.empty((len(Q), k))
    step = max(1, TILE_ENTRIES // max(1, len(C)))
    for r0 in range(0, len(Q), step):
        S = Q[r0 : r0 + step] @ C.T
        out[r0 : r0 + step] = -np.sort(-np.partition(S, S.shape[1] - k, axis=1)[:, S.shape[1] - k :], axis=1)
    return out


def top_cosines(
    A: np.ndarray,
    B: np.ndarray,
    k: int,
    *,
    block: int = 512,
    tile_entries: int = TILE_ENTRIES,
    workers: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The k largest cosines (float64, descending) of every ``A_i`` over all ``B_j`` (n, k) and of
    every ``B_j`` over all ``A_i`` (n, k), exactly as a float64 evaluation would give them.

    One sweep of float32 tiles (:func:`~semanscope.metrics.tiles.sweep`) collects, per query, the
    candidates whose float32 cosine may be among its k largest (:class:`_Pool`, thresholds seeded
    from a sample); those few are recomputed in float64. O(n^2 d) time, O(n k) memory.
    """
    n, d = A.shape
    if not 1 <= k <= len(B):
        raise ValueError(f"k must be in [1, {len(B)}], got {k}")
    A32, B32 = A.astype(np.float32), B.astype(np.float32)
    err = pair_error(A, B)
    theta_rows = _sample_thresholds(A32, B32, k, err)
    theta_cols = _sample_thresholds(B32, A32, k, err)
    n_workers = worker_count(workers, n, block)
    col_pools = [_Pool(k, err, theta_cols.copy()) for _ in range(n_workers)]
    row_pools: dict[int, _Pool] = {}
    top_rows = np.empty((n, k))

    def visit(w: int, S: np.ndarray, q0: int, q1: int, c0: int, c1: int) -> None:
        rows = row_pools.setdefault(q0, _Pool(k, err, theta_rows[q0:q1]))
        ii, jj = np.divmod(np.flatnonzero(S >= rows.theta[:, None]), S.shape[1])
        rows.add(ii, jj + c0, S[ii, jj])
        if c1 < len(B):  # more tiles to come: tighten the stripe's thresholds
            rows.compact()
        cols = col_pools[w]
        ii, jj = np.divmod(np.flatnonzero(S >= cols.theta[c0:c1]), S.shape[1])
        cols.add(jj + c0, ii + q0, S[ii, jj])
        if cols.size > POOL_LIMIT:
            cols.compact()
        if c1 == len(B):  # the stripe is complete
            top_rows[q0:q1] = row_pools.pop(q0).top(
                lambda key, other: exact_cosines(A, B, key + q0, other),
                lambda key: _dense_top(A[key + q0], B, k),
            )

    sweep(A32, B32, visit, block=block, tile_entries=tile_entries, workers=n_workers)
    pool = col_pools[0]
    for other in col_pools[1:]:
        pool.merge(other)
    top_cols = pool.top(lambda key, other: exact_cosines(A, B, other, key), lambda key: _dense_top(B[key], A, k))
    return top_rows, top_cols
