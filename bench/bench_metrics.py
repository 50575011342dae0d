"""Benchmark semanscope.metrics on random data: exact O(N d) SA vs a naive scipy implementation,
and blocked retrieval time / peak memory. Run as ``python3 bench/bench_metrics.py`` (not by pytest).

SA: N concepts x L languages, one text per cell, d dimensions (float32, like model output).
The naive reference evaluates the same definition with ``scipy.spatial.distance.pdist`` per
language (H) and per concept (v_i and the pair distances); it is O(N^2 d) and is only run up to
``--naive-max`` concepts (its time grows ~N^2, so larger N would take hours).
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import sys
import time
import tracemalloc
from functools import partial
from pathlib import Path

import numpy as np
from scipy.spatial.distance import pdist

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # runnable from a checkout without installing
from semanscope.metrics import retrieval_metrics, semantic_affinity


def machine() -> str:
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            model = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"{model}, nproc={cores}, python {platform.python_version()}, numpy {np.__version__}, {load()}"


def load() -> str:
    return "load average {:.1f} {:.1f} {:.1f}".format(*os.getloadavg())


def random_parallel(N: int, L: int, d: int, noise: float, seed: int = 0):
    """Concept vectors plus per-language noise; rows ordered like QuerySet.items() (concept-major)."""
    rng = np.random.default_rng(seed)
    base = rng.standard_normal((N, 1, d), dtype=np.float32)
    X = (base + noise * rng.standard_normal((N, L, d), dtype=np.float32)).reshape(N * L, d)
    return X, np.repeat(np.arange(N), L), np.tile(np.arange(L), N)


def naive_sa(X: np.ndarray, N: int, L: int) -> dict:
    """SA by definition with scipy pdist (cosine); X concept-major with one text per cell."""
    X64 = X.astype(np.float64).reshape(N, L, -1)
    h_lang = np.array([pdist(X64[:, j], "cosine").mean() for j in range(L)])
    pair = np.array([pdist(X64[i], "cosine") for i in range(N)])  # (N, L(L-1)/2) in l<m order
    v = pair.mean(axis=1)
    h_pair = (h_lang[:, None] + h_lang[None, :]) / 2
    iu = np.triu_indices(L, 1)
    return {"sa": 1 / (1 + v.mean() / h_lang.mean()), "v": v, "pair": 1 / (1 + pair.mean(axis=0) / h_pair[iu])}


def best_time(fn, repeat: int):
    """(wall s, CPU s of this process, result), each time the best of ``repeat`` runs."""
    wall = cpu = float("inf")
    out = None
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        wall, cpu = min(wall, time.perf_counter() - t0), min(cpu, time.process_time() - c0)
    return wall, cpu, out


def bench_sa(sizes: list[int], L: int, d: int, naive_max: int) -> None:
    print(f"\nSemantic Affinity (cosine, joint + {L}x{L} pair matrix), L={L}, d={d}")
    print(
        f"{'N':>7} {'fast s':>8} {'cpu s':>6} {'+boot s':>8} {'cpu s':>6} {'naive s':>8} {'cpu s':>7} "
        f"{'speed-up':>8}  agreement"
    )
    for N in sizes:
        X, concept, lang = random_parallel(N, L, d, noise=1.0)
        repeat = 3 if N <= 10_000 else 1
        t_fast, c_fast, res = best_time(partial(semantic_affinity, X, concept, lang, n_boot=0), repeat)
        t_boot, c_boot, res_b = best_time(partial(semantic_affinity, X, concept, lang), repeat)  # n_boot=1000
        assert res_b.sa == res.sa and res_b.ci_low < res.sa < res_b.ci_high
        fast = f"{N:>7} {t_fast:>8.3f} {c_fast:>6.3f} {t_boot:>8.3f} {c_boot:>6.3f}"
        if N <= naive_max:
            t_naive, c_naive, ref = best_time(partial(naive_sa, X, N, L), 1)
            iu = np.triu_indices(L, 1)
            err = max(abs(res.sa - ref["sa"]), np.abs(res.v - ref["v"]).max())
            err = max(err, np.abs(res.pair_sa[iu] - ref["pair"]).max())
            assert err < 1e-9, f"fast and naive SA disagree by {err:.2e} at N={N}"
            print(f"{fast} {t_naive:>8.1f} {c_naive:>7.1f} {c_naive / c_fast:>7.0f}x  max |diff| {err:.1e}")
        else:
            print(f"{fast} {'skipped':>8} {'':>7} {'':>8}  (naive is O(N^2): not run)")
    print("  fast = joint SA + pair matrix without bootstrap; +boot = with the default 1000 resamples;")
    print("  speed-up = naive CPU / fast CPU (wall times are inflated when the machine is shared)")


def bench_retrieval(cases: list[tuple[int, int]], d: int) -> None:
    print(f"\nRetrieval (P@1 / MRR, all ordered pairs, block=512), d={d}")
    print(
        f"{'N':>7} {'L':>3} {'pairs':>6} {'time s':>8} {'cpu s':>8} {'cpu s/pair':>10} {'peak MB':>8} "
        f"{'input MB':>9}  mean P@1"
    )
    for N, L in cases:
        X, concept, lang = random_parallel(N, L, d, noise=2.0, seed=1)
        tracemalloc.start()
        wall, cpu, res = best_time(partial(retrieval_metrics, X, concept, lang, n_boot=0), 1)
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        pairs = L * (L - 1)
        print(
            f"{N:>7} {L:>3} {pairs:>6} {wall:>8.1f} {cpu:>8.1f} {cpu / (pairs / 2):>10.2f} {peak:>8.0f} "
            f"{X.nbytes / 2**20:>9.0f}  {res.mean_p_at_1:.3f}"
        )
    print("  peak MB = new allocations during the call (tracemalloc);")
    print("  cpu s/pair = per unordered pair (one tile pass serves both directions)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sa-sizes", type=int, nargs="+", default=[1_000, 10_000, 50_000])
    parser.add_argument("--naive-max", type=int, default=10_000, help="largest N for the naive pdist reference")
    parser.add_argument("--languages", type=int, default=8)
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--retrieval", nargs="+", default=["10000x2", "10000x8", "100000x2"], help="N x L cases")
    args = parser.parse_args()
    print(machine())
    bench_sa(args.sa_sizes, args.languages, args.dim, args.naive_max)
    bench_retrieval([tuple(int(x) for x in case.split("x")) for case in args.retrieval], args.dim)
    print(f"\nmax RSS of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB; {load()}")


if __name__ == "__main__":
    main()
