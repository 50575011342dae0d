"""Retrieval counts through faiss (optional: ``pip install faiss-cpu``): exact flat and approximate HNSW.

Both search, for every query, the ``k_search`` best candidates by float32 inner product (cosine
of the unit cell means), one index per direction, and classify the returned candidates like the
tiles (:mod:`semanscope.metrics.tiles`): surely above / below the true score in float32, float64
re-check in the narrow band around it.

* ``"faiss-flat"`` (``faiss.IndexFlatIP``, exact): when a query's last returned score is below its
  band, every candidate not returned is surely below, so its counts are complete; the other
  queries (true translation ranked beyond ``k_search``) are counted against all candidates with
  the float32 tiles. Same counts as ``search="exact"``.
* ``"faiss-hnsw"`` (``faiss.IndexHNSWFlat``, **approximate**): counts only among the candidates the
  graph search returns, so a candidate it misses is not counted (the rank is a lower bound, a
  true translation not found within ``k_search`` counts as rank >= ``k_search``). Its recall - the
  fraction of the exact ``k_search`` best candidates it returns - is measured on up to
  ``RECALL_QUERIES`` evenly spaced queries per direction against ``IndexFlatIP``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from semanscope.metrics.tiles import TILE_ENTRIES, Cosine, Counts, Side, TileCounter, pair_error, tie_tolerance

SEARCHES = ("exact", "faiss-flat", "faiss-hnsw")
K_SEARCH = 100  # candidates returned per query
HNSW_M = 32  # graph degree
HNSW_EF_CONSTRUCTION = 200
HNSW_EF_SEARCH = 256
RECALL_QUERIES = 1000


def load_faiss() -> Any:
    """The faiss module, or ImportError saying how to install it."""
    try:
        import faiss
    except ImportError as exc:
        raise ImportError("search='faiss-flat' / 'faiss-hnsw' needs faiss: pip install faiss-cpu==1.15.1") from exc
    return faiss


def _index(C32: np.ndarray, approximate: bool) -> Any:
    faiss = load_faiss()
    d = C32.shape[1]
    if approximate:
        index = faiss.IndexHNSWFlat(d, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        index.hnsw.efSearch = max(HNSW_EF_SEARCH, K_SEARCH)
    else:
        index = faiss.IndexFlatIP(d)
    index.add(C32)
    return index


def _tile_counts(Q: np.ndarray, C: np.ndarray, rows: Side, cols: Side) -> Counts:
    """Counts of the queries ``rows`` (a subset of ``Q``'s) against all candidates, with the float32 tiles."""
    out = Counts.zeros(len(rows.index))
    counter = TileCounter([Cosine()])
    Qr, C32 = Q[rows.index], C.astype(np.float32)
    Qr32, step = Qr.astype(np.float32), max(1, TILE_ENTRIES // max(1, len(Qr)))
    for c0 in range(0, len(C), step):
        tile = slice(c0, c0 + step)
        ((r, _),) = counter.count(Qr32 @ C32[tile].T, Qr, C[tile], [rows], [cols[tile]])
        out.above += r.above
        out.tied += r.tied
    return out


def direction_counts(Q: np.ndarray, C: np.ndarray, approximate: bool, k_search: int = K_SEARCH) -> tuple[Counts, float]:
    """Counts of the queries ``Q`` (n, d) among the candidates ``C`` (n, d) (``C_i`` is ``Q_i``'s
    translation), and the search's measured recall (NaN when exact). Module docstring."""
    if isinstance(k_search, bool) or not isinstance(k_search, (int, np.integer)) or k_search < 1:
        raise ValueError(f"k_search must be a positive integer, got {k_search!r}")
    n, d = Q.shape
    Q32, C32 = Q.astype(np.float32), C.astype(np.float32)
    err, tol, index = pair_error(Q, C), tie_tolerance(d), np.arange(n)
    side = Side.of(index, np.einsum("ij,ij->i", Q, C), err, tol)
    k = min(n, int(k_search))
    D, ids = _index(C32, approximate).search(Q32, k)
    returned = (ids >= 0) & (ids != index[:, None])
    counts = Counts(np.count_nonzero(returned & (D > side.hi[:, None]), axis=1), np.zeros(n, dtype=np.int64))
    ii, kk = np.nonzero(returned & (D >= side.lo[:, None]) & (D <= side.hi[:, None]))
    diff = np.einsum("ij,ij->i", Q[ii], C[ids[ii, kk]]) - side.true[ii]
    counts.above += np.bincount(ii[diff > side.tol[ii]], minlength=n)
    counts.tied += np.bincount(ii[np.abs(diff) <= side.tol[ii]], minlength=n)
    if approximate:
        sample = np.unique(np.linspace(0, n - 1, min(n, RECALL_QUERIES)).astype(np.int64))
        _, exact_ids = _index(C32, approximate=False).search(Q32[sample], k)
        found = [np.intersect1d(a[a >= 0], b).size / k for a, b in zip(ids[sample], exact_ids, strict=True)]
        return counts, float(np.mean(found))
    incomplete = np.flatnonzero(D[:, -1] >= side.lo) if k < n else np.zeros(0, dtype=np.int64)
    if incomplete.size:
        cols = Side.of(index, np.einsum("ij,ij->i", C, Q), err, tol)
        full = _tile_counts(Q, C, side[incomplete], cols)
        counts.above[incomplete], counts.tied[incomplete] = full.above, full.tied
    return counts, float("nan")
