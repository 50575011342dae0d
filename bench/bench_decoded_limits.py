"""Benchmark the decoded-size limits: a Parquet decompression bomb, and what counting costs on a normal file.

Run as ``python3 bench/bench_decoded_limits.py`` (not by pytest). Two generated Parquet files:

* ``bomb``: ``--bomb-rows`` rows x 3 language columns of one 1,000,000-byte text each (one
  dictionary value per column, zstd): about 2 kB on disk, ``3 x rows`` MB of text;
* ``normal``: ``--rows`` rows x (id, en, de, fr) of distinct ~40-character texts.

Each is loaded with :func:`semanscope.data.loaders.load_queryset` in a fresh subprocess (so
``ru_maxrss`` is its own) with this checkout's code and, with ``--before ROOT``, with the code of
another checkout (e.g. ``git archive <commit> semanscope | tar -x -C ROOT``). Min and median wall
time and peak RSS of ``--repeats`` runs; the load average is printed.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

HERE = Path(__file__).resolve().parents[1]
CELL = 1_000_000  # bytes per bomb cell: under the 1 MiB cell limit, so the file limit is what refuses it

CHILD = """
import json, resource, sys, time
from semanscope.data.loaders import QuerySetError, load_queryset
t0 = time.perf_counter()
try:
    qs = load_queryset(sys.argv[1]).queryset
    outcome = f"loaded {qs.n_concepts} concepts"
except QuerySetError as exc:
    outcome = "refused: " + str(exc).split(": ", 1)[1][:60]
seconds = time.perf_counter() - t0
rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"s": seconds, "rss_mb": rss_mb, "outcome": outcome}))
"""


def load() -> str:
    return "load average {:.1f} {:.1f} {:.1f}".format(*os.getloadavg())


def bomb(path: Path, rows: int) -> None:
    """Written from dictionary arrays, so this process never holds the text (child processes
    inherit its peak RSS)."""
    table = {"id": pa.array([f"q{i}" for i in range(rows)])}
    for k, column in enumerate(("en", "de", "fr")):
        indices = pa.array([0] * rows, pa.int32())
        table[column] = pa.DictionaryArray.from_arrays(indices, pa.array([chr(ord("a") + k) * CELL]))
    pq.write_table(pa.table(table), path, compression="zstd", compression_level=19)


def normal(path: Path, rows: int) -> None:
    table = {"id": [f"q{i}" for i in range(rows)]}
    for column, word in (("en", "question"), ("de", "Frage"), ("fr", "question fr")):
        table[column] = [f"{word} number {i} about topic {i % 97}" for i in range(rows)]
    pq.write_table(pa.table(table), path)


def run(root: Path, path: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": str(root), "HF_HUB_OFFLINE": "1"}
    done = subprocess.run(  # run in root: ``python -c`` puts the working folder first on sys.path
        [sys.executable, "-c", CHILD, str(path)], env=env, cwd=root, capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bomb-rows", type=int, default=400, help="bomb rows (3 MB of text each)")
    parser.add_argument("--rows", type=int, default=200_000, help="rows of the normal file")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--before", type=Path, help="root of another checkout to compare with")
    args = parser.parse_args(argv)
    trees = [("this checkout", HERE)] + ([("before", args.before.resolve())] if args.before else [])
    with tempfile.TemporaryDirectory(prefix="semanscope-bench-") as tmp:
        files = {"bomb": Path(tmp) / "bomb.parquet", "normal": Path(tmp) / "normal.parquet"}
        bomb(files["bomb"], args.bomb_rows)
        normal(files["normal"], args.rows)
        print(load())
        text_mb = 3 * args.bomb_rows * CELL / 1e6
        print(f"bomb: {files['bomb'].stat().st_size:,} bytes on disk, {text_mb:,.0f} MB of text")
        print(f"normal: {files['normal'].stat().st_size:,} bytes on disk, {args.rows:,} rows")
        print(f"{'file':8} {'code':14} {'min s':>7} {'median s':>9} {'peak RSS MB':>12}  outcome")
        for file, path in files.items():
            for label, root in trees:
                runs = [run(root, path) for _ in range(args.repeats)]
                seconds = [r["s"] for r in runs]
                rss = max(r["rss_mb"] for r in runs)
                print(
                    f"{file:8} {label:14} {min(seconds):7.2f} {statistics.median(seconds):9.2f} {rss:12,.0f}  "
                    f"{runs[0]['outcome']}"
                )
        print(load())


if __name__ == "__main__":
    main()
