"""PHATE 3D time with Semanscope's defaults at N = 1k, 5k, 10k points (d = 384).

    python3 bench/bench_reduce.py [--sizes 1000 5000 10000] [--native-threads N] [--compare-spectral]

Data: N/12 concepts x 12 languages (concept-major, like QuerySet.items()), each row = concept
centre + language offset + noise, float32, so there are clusters of translations as in real
embeddings. For each N it prints wall and process-CPU seconds of ``project(X, "phate", 3)``,
seconds per 1k points, the ratio to the smallest N, and the 1-min load average before the run
(the timing is only comparable between runs at similar load). ``--compare-spectral`` also
times PHATE's own spectral-clustering landmarks (``random_landmarking=False``) and prints the
ratio. ``--native-threads`` is passed to ``project`` (default 1; 0 = the libraries' own
default of one BLAS/OpenMP thread per core) to see the cost of thread-pool oversubscription.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # runnable from a checkout without installing
from semanscope.reduce import project


def clustered(n: int, d: int = 384, n_langs: int = 12, seed: int = 0) -> np.ndarray:
    """n rows: (n / n_langs) concept centres + per-language offsets + noise (concept-major)."""
    rng = np.random.default_rng(seed)
    n_concepts = -(-n // n_langs)
    centres = rng.standard_normal((n_concepts, d))
    offsets = 0.6 * rng.standard_normal((n_langs, d))
    X = np.repeat(centres, n_langs, axis=0) + np.tile(offsets, (n_concepts, 1))
    return (X + 0.5 * rng.standard_normal(X.shape))[:n].astype(np.float32)


def timed(X: np.ndarray, native_threads: int | None, **settings) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    Y = project(X, "phate", n_components=3, seed=0, native_threads=native_threads, **settings)
    assert Y.shape == (X.shape[0], 3) and np.isfinite(Y).all()
    return time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000, 10000])
    parser.add_argument("--native-threads", type=int, default=1)
    parser.add_argument("--compare-spectral", action="store_true")
    args = parser.parse_args()

    threads = args.native_threads or None
    print(
        f"PHATE 3D, d=384, defaults (knn=5, decay=40, t=auto, n_landmark=2000 random, sgd MDS, n_jobs=2); "
        f"nproc={os.cpu_count()}, native threads={threads or 'library default'}"
    )
    header = f"{'N':>6} {'wall s':>8} {'cpu s':>8} {'s/1k pts':>9} {'x N0':>6} {'load':>5}"
    if args.compare_spectral:
        header += f" {'spectral s':>11} {'spectral/random':>16}"
    print(header)
    project(clustered(200, 384), "phate", t=5)  # warm-up: imports, numba/JIT caches
    first = None
    for n in args.sizes:
        X = clustered(n)
        load = os.getloadavg()[0]
        wall, cpu = timed(X, threads)
        first = first or wall
        line = f"{n:>6} {wall:>8.1f} {cpu:>8.1f} {1000 * wall / n:>9.2f} {wall / first:>6.1f} {load:>5.1f}"
        if args.compare_spectral:
            spectral, _ = timed(X, threads, random_landmarking=False)
            line += f" {spectral:>11.1f} {spectral / wall:>16.1f}"
        print(line, flush=True)


if __name__ == "__main__":
    main()
