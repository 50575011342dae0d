"""Benchmark the Ray engine against the single-process SA on a synthetic set of embeddings.

Run as ``python3 bench/bench_ray.py`` (1M concepts x 2 languages) or ``--quick`` (20k concepts);
not run by pytest. The set imitates a static model: a vocabulary of random token vectors, each
text the mean of its tokens (4 of the concept's 5 "meaning" tokens and 2 tokens of its
language), float32, written once as the engine's embedding shards (Parquet, 50k concepts a file).

Each measurement runs in a fresh subprocess, so its peak RSS (``ru_maxrss``) is the driver's:

* ``local``: read every shard into one (M, d) array, then ``semantic_affinity`` (cosine);
* ``ray``: a local Ray (``ray.init(num_cpus=2)``, not timed) and
  :func:`semanscope.engine.ray_engine.engine_metrics` on the shards (SA only, no retrieval).

Both use the same ``--n-boot`` and seed, so SA, its CI and the pair SA must agree (to 1e-9).
Times are min / median of ``--repeats`` runs of each, alternating; the load average is printed.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # runnable from a checkout without installing
from semanscope.data.queryset import QuerySet
from semanscope.engine.shards import embedding_table, read_embedding_shard

LANGUAGES = ("en", "de")
PER_FILE = 50_000
VOCAB = 8192


def load() -> str:
    return "load average {:.1f} {:.1f} {:.1f}".format(*os.getloadavg())


def generate(folder: Path, n: int, dim: int, seed: int = 0) -> list[Path]:
    """Write the synthetic embedding shards (once per (n, dim, seed)); returns the files."""
    done = folder / "done.json"
    if done.exists() and json.loads(done.read_text()) == {"n": n, "dim": dim, "seed": seed}:
        return sorted(folder.glob("shard-*.parquet"))
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("shard-*.parquet"):
        old.unlink()
    rng = np.random.default_rng(seed)
    vocab = rng.standard_normal((VOCAB, dim), dtype=np.float32)
    for c0 in range(0, n, PER_FILE):
        m = min(PER_FILE, n - c0)
        meaning = rng.integers(0, VOCAB // 2, size=(m, 5))
        X = np.empty((m, len(LANGUAGES), dim), dtype=np.float32)
        for j in range(len(LANGUAGES)):
            keep = meaning[np.arange(m)[:, None], np.argsort(rng.random((m, 5)), axis=1)[:, :4]]
            own = VOCAB // 2 + j * (VOCAB // 4) + rng.integers(0, VOCAB // 4, size=(m, 2))
            X[:, j] = vocab[np.concatenate([keep, own], axis=1)].mean(axis=1)
        ids = tuple(f"c{c0 + i}" for i in range(m))
        cells = tuple(tuple((f"{code} text {c0 + i}",) for code in LANGUAGES) for i in range(m))
        qs = QuerySet("synthetic", LANGUAGES, ids, cells)
        table = embedding_table(np.arange(c0, c0 + m), qs, X.reshape(m * len(LANGUAGES), dim))
        pq.write_table(table, folder / f"shard-{c0:012d}.parquet")
    done.write_text(json.dumps({"n": n, "dim": dim, "seed": seed}))
    return sorted(folder.glob("shard-*.parquet"))


def measure(mode: str, files: list[Path], work: Path, n_boot: int) -> dict:
    """One measurement in this process (called in a subprocess by :func:`main`)."""
    t0 = time.perf_counter()
    if mode == "local":
        from semanscope.metrics.affinity import semantic_affinity

        parts = [read_embedding_shard(f) for f in files]
        X = np.concatenate([p.X for p in parts])
        concept = np.concatenate([p.concept + p.position[0] for p in parts])  # positions are 0..N-1
        lang = np.concatenate([p.lang for p in parts])
        del parts
        t1 = time.perf_counter()
        result = semantic_affinity(X, concept, lang, n_boot=n_boot, seed=0, languages=LANGUAGES)
        setup = t1 - t0
    else:
        import ray

        from semanscope.engine.ray_engine import engine_metrics

        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
        ray.data.DataContext.get_current().enable_progress_bars = False
        t1 = time.perf_counter()
        result = engine_metrics(files, work / "run", retrieval=False, n_boot=n_boot, seed=0).affinity["cosine"]
        setup = t1 - t0
    seconds = time.perf_counter() - t1
    out = {
        "seconds": seconds,
        "setup_seconds": setup,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "sa": result.sa,
        "ci": [result.ci_low, result.ci_high],
        "pair_sa": float(result.pair_sa[0, 1]),
        "h": result.h,
        "n": result.n_concepts,
    }
    if mode == "ray":
        import ray

        ray.shutdown()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="20k concepts, 1 repeat (smoke run)")
    parser.add_argument("--concepts", type=int, default=1_000_000)
    parser.add_argument("--dim", type=int, default=64)
    parser.add_argument("--n-boot", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--work", type=Path, default=Path("/tmp/semanscope-bench-ray"))
    parser.add_argument("--measure", choices=("local", "ray"), help=argparse.SUPPRESS)  # subprocess mode
    args = parser.parse_args()
    if args.quick:
        args.concepts, args.repeats = 20_000, 1
    data = args.work / f"data-{args.concepts}-{args.dim}"
    if args.measure:
        print(json.dumps(measure(args.measure, sorted(data.glob("shard-*.parquet")), args.work, args.n_boot)))
        return

    t = time.perf_counter()
    files = generate(data, args.concepts, args.dim)
    size = sum(f.stat().st_size for f in files) / 2**20
    print(
        f"data: {args.concepts:,} concepts x {len(LANGUAGES)} languages, d={args.dim}, float32, {len(files)} "
        f"Parquet files, {size:,.0f} MB (ready in {time.perf_counter() - t:.1f} s); n_boot={args.n_boot}"
    )
    print(f"before: {load()}")
    runs: dict[str, list[dict]] = {"local": [], "ray": []}
    for _ in range(args.repeats):
        for mode in runs:
            command = [
                sys.executable,
                __file__,
                "--measure",
                mode,
                "--concepts",
                str(args.concepts),
                "--dim",
                str(args.dim),
                "--n-boot",
                str(args.n_boot),
                "--work",
                str(args.work),
            ]
            done = subprocess.run(command, capture_output=True, text=True, check=True)
            runs[mode].append(json.loads(done.stdout.strip().splitlines()[-1]))
    print(f"after:  {load()}")
    for mode, rs in runs.items():
        secs = [r["seconds"] for r in rs]
        setup = "reading the shards" if mode == "local" else "ray.init"
        print(
            f"{mode:5s}: {min(secs):7.1f} s min, {statistics.median(secs):7.1f} s median "
            f"(+ {rs[0]['setup_seconds']:.1f} s {setup}); peak driver RSS "
            f"{max(r['peak_rss_mb'] for r in rs):,.0f} MB; SA {rs[0]['sa']:.12f} CI [{rs[0]['ci'][0]:.6f}, "
            f"{rs[0]['ci'][1]:.6f}]"
        )
    a, b = runs["local"][0], runs["ray"][0]
    diff = max(
        abs(a["sa"] - b["sa"]),
        abs(a["pair_sa"] - b["pair_sa"]),
        abs(a["h"] - b["h"]),
        *(abs(x - y) for x, y in zip(a["ci"], b["ci"], strict=True)),
    )
    ratio = min(r["seconds"] for r in runs["ray"]) / min(r["seconds"] for r in runs["local"])
    print(
        f"ray / local time (min): {ratio:.2f}; driver RSS ray / local: "
        f"{max(r['peak_rss_mb'] for r in runs['ray']) / max(r['peak_rss_mb'] for r in runs['local']):.2f}"
    )
    print(f"largest |difference| of SA, pair SA, H, CI bounds: {diff:.2e} ({'agree' if diff <= 1e-9 else 'DISAGREE'})")


if __name__ == "__main__":
    main()
