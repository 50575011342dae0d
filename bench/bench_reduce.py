"""Projection times with Semanscope's defaults: PHATE 3D at N = 1k, 5k, 10k points (d = 384), or
any methods at any sizes.

    python3 bench/bench_reduce.py [--methods phate ...] [--sizes 1000 5000 10000] [--dim 3]
                                  [--repeats 3] [--native-threads N] [--compare-spectral]
    python3 bench/bench_reduce.py --methods pca tsne pacmap trimap isomap mds kpca spectral lle --sizes 1000 3600

Data: N/12 concepts x 12 languages (concept-major, like QuerySet.items()), each row = concept
centre + language offset + noise, float32, so there are clusters of translations as in real
embeddings. For each method and N it prints the min and median wall seconds and the median
process-CPU seconds of ``--repeats`` runs of ``project(X, method, dim)``, seconds per 1k
points, the ratio to the method's smallest N, and the 1-min load average before the runs (the
timing is only comparable between runs at similar load). Each method is warmed up first on 200
points (imports, numba/JIT caches). Methods not installed, and runs refused with a ValueError
(a size limit, a disconnected neighbour graph), are reported as skipped. ``--compare-spectral``
(PHATE only) also times PHATE's own spectral-clustering landmarks (``random_landmarking=False``)
and prints the ratio.
``--native-threads`` is passed to ``project`` (default 1; 0 = the libraries' own default of
one BLAS/OpenMP thread per core) to see the cost of thread-pool oversubscription.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # runnable from a checkout without installing
from semanscope.reduce import METHODS, available_methods, project


def clustered(n: int, d: int = 384, n_langs: int = 12, seed: int = 0) -> np.ndarray:
    """n rows: (n / n_langs) concept centres + per-language offsets + noise (concept-major)."""
    rng = np.random.default_rng(seed)
    n_concepts = -(-n // n_langs)
    centres = rng.standard_normal((n_concepts, d))
    offsets = 0.6 * rng.standard_normal((n_langs, d))
    X = np.repeat(centres, n_langs, axis=0) + np.tile(offsets, (n_concepts, 1))
    return (X + 0.5 * rng.standard_normal(X.shape))[:n].astype(np.float32)


def timed(X: np.ndarray, method: str, dim: int, native_threads: int | None, **settings) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    Y = project(X, method, n_components=dim, seed=0, native_threads=native_threads, **settings)
    assert Y.shape == (X.shape[0], dim) and np.isfinite(Y).all()
    return time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--methods", nargs="+", default=["phate"], choices=METHODS)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000, 10000])
    parser.add_argument("--dim", type=int, default=3, choices=(2, 3))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--native-threads", type=int, default=1)
    parser.add_argument("--compare-spectral", action="store_true")
    args = parser.parse_args()

    threads = args.native_threads or None
    print(
        f"{args.dim}D projections, d=384, library defaults (PHATE: knn=5, decay=40, t=auto, n_landmark=2000 random, "
        f"sgd MDS, n_jobs=2); min / median of {args.repeats} runs; nproc={os.cpu_count()}, "
        f"native threads={threads or 'library default'}"
    )
    header = f"{'method':>8} {'N':>6} {'min s':>8} {'median s':>9} {'cpu s':>8} {'s/1k pts':>9} {'x N0':>6} {'load':>5}"
    if args.compare_spectral:
        header += f" {'spectral s':>11} {'spectral/random':>16}"
    print(header)
    for method in args.methods:
        if method not in available_methods():
            print(f"{method:>8} skipped: its package is not installed", flush=True)
            continue
        project(clustered(200, 384), method, args.dim, **({"t": 5} if method == "phate" else {}))  # warm-up
        first = None
        for n in args.sizes:
            X = clustered(n)
            load = os.getloadavg()[0]
            try:
                walls, cpus = zip(*(timed(X, method, args.dim, threads) for _ in range(args.repeats)), strict=True)
            except ValueError as exc:  # over a method's size limit, a disconnected neighbour graph, ...
                print(f"{method:>8} {n:>6} skipped: {exc}", flush=True)
                continue
            best, median, cpu = min(walls), float(np.median(walls)), float(np.median(cpus))
            first = first or best
            line = (
                f"{method:>8} {n:>6} {best:>8.2f} {median:>9.2f} {cpu:>8.2f} {1000 * best / n:>9.2f} "
                f"{best / first:>6.1f} {load:>5.1f}"
            )
            if args.compare_spectral and method == "phate":
                spectral, _ = timed(X, method, args.dim, threads, random_landmarking=False)
                line += f" {spectral:>11.1f} {spectral / best:>16.1f}"
            print(line, flush=True)


if __name__ == "__main__":
    main()
