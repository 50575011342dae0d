"""Benchmark the out-of-core WebFAQ pivot join: time and peak RSS as the bitext grows.

Run as ``python3 bench/bench_webfaq.py`` (not by pytest). For each size, a WebFAQ-like bitext
Parquet file is generated (eng paired with deu/fra/spa, both column orders, ~3 rows per pivot
question, 200-character answers that the join never reads) and, each in a fresh subprocess so
``ru_maxrss`` is its own:

* ``pivot``: :func:`semanscope.data.webfaq.pivot_webfaq` (rows streamed into hash buckets on
  disk, one bucket joined at a time, concept shards written), with ``n_buckets`` = rows /
  ``--rows-per-bucket`` (at least 16), so its memory should not grow with the data;
* ``load``: :func:`semanscope.data.webfaq.load_webfaq` (the same join, then the in-memory
  :class:`QuerySet` every local metric needs, whose size grows with the data).

Min of ``--repeats`` runs; the load average is printed.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # runnable from a checkout without installing


def load() -> str:
    return "load average {:.1f} {:.1f} {:.1f}".format(*os.getloadavg())


def generate(path: Path, rows: int, seed: int = 0) -> None:
    """A bitext file of ``rows`` rows over ``rows // 3`` pivot questions (written in 100k-row groups)."""
    rng = np.random.default_rng(seed)
    answer = "x" * 200
    with pq.ParquetWriter(
        path, pa.schema([(c, pa.string()) for c in COLUMNS] + [("labse_similarity", pa.float64())])
    ) as out:
        for r0 in range(0, rows, 100_000):
            m = min(100_000, rows - r0)
            key = rng.integers(0, rows // 3, m)
            lang = np.array(["deu", "fra", "spa"])[rng.integers(0, 3, m)]
            flip = rng.random(m) < 0.5
            pivot = [f"Question number {k}?" for k in key]
            other = [f"{g} question {k} v{v}" for g, k, v in zip(lang, key, rng.integers(0, 2, m), strict=True)]
            columns = {
                "language1": np.where(flip, lang, "eng").tolist(),
                "language2": np.where(flip, "eng", lang).tolist(),
                "origin": [f"https://site{k % 97}.example/faq" for k in key],
                "question1": [o if f else p for p, o, f in zip(pivot, other, flip, strict=True)],
                "question2": [p if f else o for p, o, f in zip(pivot, other, flip, strict=True)],
                "answer1": [answer] * m,
                "answer2": [answer] * m,
                "labse_similarity": rng.random(m),
            }
            out.write_table(pa.table(columns, schema=out.schema))


COLUMNS = ["language1", "language2", "origin", "question1", "question2", "answer1", "answer2"]


def measure(mode: str, path: Path, n_buckets: int) -> dict:
    from semanscope.data import validation
    from semanscope.data.webfaq import load_webfaq, pivot_webfaq

    validation.MAX_FILE_MB = 10_000  # a benchmark file, not an upload
    validation.MAX_CONCEPTS = 10_000_000
    t0 = time.perf_counter()
    if mode == "pivot":
        with tempfile.TemporaryDirectory() as tmp:
            n = pivot_webfaq(path, tmp, min_languages=2, n_buckets=n_buckets).n_concepts
    else:
        n = load_webfaq(path, min_languages=2).queryset.n_concepts
    return {
        "seconds": time.perf_counter() - t0,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "concepts": n,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", default="100000,400000,1600000", help="comma-separated bitext sizes")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--work", type=Path, default=Path("/tmp/semanscope-bench-webfaq"))
    parser.add_argument("--rows-per-bucket", type=int, default=25_000)
    parser.add_argument("--measure", nargs=3, help=argparse.SUPPRESS)  # subprocess: mode path n_buckets
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure[0], Path(args.measure[1]), int(args.measure[2]))))
        return
    args.work.mkdir(parents=True, exist_ok=True)
    print(f"before: {load()}")
    print(
        f"{'rows':>10} {'file MB':>8} {'concepts':>9} | {'pivot s':>8} {'pivot RSS MB':>12} | "
        f"{'load s':>7} {'load RSS MB':>11}"
    )
    for rows in (int(r) for r in args.rows.split(",")):
        path = args.work / f"bitext-{rows}.parquet"
        if not path.exists():
            generate(path, rows)
        result = {}
        for mode in ("pivot", "load"):
            runs = [
                json.loads(
                    subprocess.run(
                        [
                            sys.executable,
                            __file__,
                            "--measure",
                            mode,
                            str(path),
                            str(max(16, rows // args.rows_per_bucket)),
                        ],
                        capture_output=True,
                        text=True,
                        check=True,
                    )
                    .stdout.strip()
                    .splitlines()[-1]
                )
                for _ in range(args.repeats)
            ]
            result[mode] = (min(r["seconds"] for r in runs), max(r["peak_rss_mb"] for r in runs), runs[0]["concepts"])
        size = path.stat().st_size / 2**20
        (ps, pr, n), (ls, lr, _) = result["pivot"], result["load"]
        print(f"{rows:>10,} {size:>8.0f} {n:>9,} | {ps:>8.1f} {pr:>12,.0f} | {ls:>7.1f} {lr:>11,.0f}")
    print(f"after: {load()}")


if __name__ == "__main__":
    main()
