"""Benchmark retrieval counting: float32 tiles + float64 re-check vs the previous float64 tiles
and a plain numpy float64 product. Run as ``python3 bench/bench_retrieval.py`` (not by pytest).

Data: N concepts x L languages of cell-mean unit vectors (d = 384, float64), translations =
a shared random vector plus per-language noise (``--noise``, relative to the signal), every
unordered language pair counted in both directions. Methods, each timed ``--runs`` times (min
and median of wall and process-CPU seconds, peak new memory from tracemalloc), ratios taken
within this one run:

* ``new``: :func:`semanscope.metrics.retrieval.count_tensors` (float32 sgemm tiles, exact float64
  re-check of near-ties, worker threads);
* ``new+hubness``: the same with CSLS and ratio margin (one more top-k pass per pair);
* ``previous``: the float64-tile ``pair_ranks`` this project used before (copied below, only here);
* ``float64 GEMM`` / ``float32 GEMM``: the bare products in the same tiles, nothing counted (a
  floor for any float64 / float32 approach: ``previous / float32 GEMM`` bounds what an exact method
  built on float32 products can gain over ``previous``).

Every method's counts are checked against ``new`` (``previous`` counts no ties: above only).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # runnable from a checkout without installing
sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_metrics import load, machine

from semanscope.metrics.retrieval import count_tensors

PREVIOUS_TIE_TOL = 1e-12
PREVIOUS_TILE_ENTRIES = 2**22


def previous_pair_ranks(A: np.ndarray, B: np.ndarray, block: int = 512) -> tuple[np.ndarray, np.ndarray]:
    """The previous implementation (float64 tiles, ties counted as hits), kept only as the baseline."""
    n = len(A)
    true = np.einsum("ij,ij->i", A, B)
    above_ab = np.zeros(n, dtype=np.int64)
    above_ba = np.zeros(n, dtype=np.int64)
    cblock = max(1, PREVIOUS_TILE_ENTRIES // block)
    for q0 in range(0, n, block):
        q1 = min(n, q0 + block)
        for c0 in range(0, n, cblock):
            c1 = min(n, c0 + cblock)
            sims = A[q0:q1] @ B[c0:c1].T
            diag = np.arange(max(q0, c0), min(q1, c1))
            sims[diag - q0, diag - c0] = -np.inf
            above_ab[q0:q1] += np.count_nonzero(sims > true[q0:q1, None] + PREVIOUS_TIE_TOL, axis=1)
            above_ba[c0:c1] += np.count_nonzero(sims > true[None, c0:c1] + PREVIOUS_TIE_TOL, axis=0)
    return above_ab + 1, above_ba + 1


def previous(cells: np.ndarray) -> np.ndarray:
    L, n, _ = cells.shape
    ranks = np.zeros((L, L, n), dtype=np.int64)
    for s in range(L):
        for t in range(s + 1, L):
            ranks[s, t], ranks[t, s] = previous_pair_ranks(cells[s], cells[t])
    return ranks


def bare_gemm(cells: np.ndarray, dtype: type[np.floating], block: int = 512) -> None:
    """Only the products of every unordered pair in ``dtype``, in the previous tiles, nothing counted."""
    L, n, _ = cells.shape
    cells = cells.astype(dtype, copy=False)
    cblock = PREVIOUS_TILE_ENTRIES // block
    for s in range(L):
        for t in range(s + 1, L):
            for q0 in range(0, n, block):
                for c0 in range(0, n, cblock):
                    cells[s, q0 : q0 + block] @ cells[t, c0 : c0 + cblock].T


def cell_vectors(N: int, L: int, d: int, noise: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    base = rng.standard_normal((1, N, d))
    X = base + noise * rng.standard_normal((L, N, d))
    return X / np.linalg.norm(X, axis=2, keepdims=True)


def measure(fn: Callable[[], object], runs: int) -> tuple[list[float], list[float], float, object]:
    """Wall and CPU seconds of each run, peak new memory (MB, first run) and the last result."""
    walls, cpus, peak, out = [], [], 0.0, None
    for k in range(runs):
        if k == 0:
            tracemalloc.start()
        t0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
        if k == 0:
            peak = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
    return walls, cpus, peak, out


def bench_case(N: int, L: int, d: int, noise: float, runs: int, methods: list[str]) -> None:
    cells = cell_vectors(N, L, d, noise)
    pairs = L * (L - 1) // 2
    print(f"\nN={N:,} L={L} ({2 * pairs} ordered pairs) d={d} noise={noise}; {runs} runs; {load()}")
    print(f"{'method':<14} {'wall min':>9} {'median':>8} {'cpu min':>8} {'median':>8} {'peak MB':>8}  check")
    fns: dict[str, Callable[[], object]] = {
        "new": lambda: count_tensors(cells),
        "new+hubness": lambda: count_tensors(cells, hubness=True),
        "previous": lambda: previous(cells),
        "float64 GEMM": lambda: bare_gemm(cells, np.float64),
        "float32 GEMM": lambda: bare_gemm(cells, np.float32),
    }
    times: dict[str, tuple[float, float, float, float]] = {}
    reference = None
    for name in methods:
        walls, cpus, peak, out = measure(fns[name], runs)
        check = ""
        if name == "new":
            reference = out["cosine"]  # type: ignore[index]
            check = f"mean P@1 {np.nanmean(reference.hit):.3f}, queries with ties {(reference.tied > 0).sum()}"
        elif name == "new+hubness" and reference is not None:
            counts = out["cosine"]  # type: ignore[index]
            same = np.array_equal(counts.above, reference.above) and np.array_equal(counts.tied, reference.tied)
            csls, margin = out["csls"].hit, out["margin"].hit  # type: ignore[index]
            check = f"cosine counts equal: {same}; P@1 csls {np.nanmean(csls):.3f} margin {np.nanmean(margin):.3f}"
        elif name == "previous" and reference is not None:
            off = ~np.eye(L, dtype=bool)
            same = np.array_equal(out[off] - 1, reference.above[off])  # type: ignore[index]
            check = f"above counts equal: {same}"
        times[name] = (min(walls), statistics.median(walls), min(cpus), statistics.median(cpus))
        w, wm, c, cm = times[name]
        print(f"{name:<14} {w:>9.2f} {wm:>8.2f} {c:>8.2f} {cm:>8.2f} {peak:>8.0f}  {check}", flush=True)
    if "new" in times:
        w, wm, c, cm = times["new"]
        for name in ("previous", "float64 GEMM", "float32 GEMM", "new+hubness"):
            if name in times:
                o = times[name]
                print(
                    f"  {name} / new: wall {o[0] / w:.2f}x (median {o[1] / wm:.2f}x), "
                    f"cpu {o[2] / c:.2f}x (median {o[3] / cm:.2f}x)"
                )
    if "previous" in times and "float32 GEMM" in times:
        p, f = times["previous"], times["float32 GEMM"]
        print(f"  previous / float32 GEMM (the most any method doing these products can gain): wall {p[0] / f[0]:.2f}x")
    print(f"  {load()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", nargs="+", default=["10000x8", "100000x2"], help="N x L cases")
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--noise", type=float, default=2.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--methods",
        nargs="+",
        default=["new", "new+hubness", "previous", "float64 GEMM", "float32 GEMM"],
        help="methods to time",
    )
    args = parser.parse_args()
    print(machine())
    for case in args.cases:
        N, L = (int(x) for x in case.split("x"))
        bench_case(N, L, args.dim, args.noise, args.runs, args.methods)


if __name__ == "__main__":
    main()
