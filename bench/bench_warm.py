"""Warm ``semanscope study`` (every embedding cached): this tree vs a base commit (not run by CI).

Both versions run the same command in fresh processes with the same cache folder, interleaved,
after one untimed run of each (which fills the cache and the file-digest memo)::

    python3 -m semanscope study --data builtin --models MODELS --n-boot 200 --no-figures --out TMP

The base commit's tree is taken with ``git archive`` into a temporary folder and put first on
``PYTHONPATH``. Prints min and median wall seconds of each over ``--repeats`` runs, their ratio
and the load average. ``--cache`` must hold the setup-built models (e.g. a copy of a cache that
``semanscope setup`` filled; it is written to). Usage::

    cp -r ~/.cache/semanscope /tmp/benchcache
    python3 bench/bench_warm.py --cache /tmp/benchcache [--base a959753] [--models e5-small-st,tokenlearn-static]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def load() -> str:
    return "load average {:.1f} {:.1f} {:.1f}".format(*os.getloadavg())


def export_tree(commit: str, into: Path) -> Path:
    """The files of ``commit`` (``git archive``) under ``into``."""
    into.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", commit], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def study_seconds(
    tree: Path, cache: Path, models: str, out: Path, *, figures: bool = False, n_boot: int = 200
) -> tuple[float, float]:
    """Wall and CPU seconds (the child process's user + system) of one ``semanscope study`` with
    ``tree`` first on the path."""
    env = {
        **os.environ,
        "PYTHONPATH": str(tree),
        "SEMANSCOPE_CACHE": str(cache),
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
    }
    command = [sys.executable, "-m", "semanscope", "study", "--data", "builtin", "--models", models]
    command += ["--n-boot", str(n_boot), "--out", str(out)] + ([] if figures else ["--no-figures"])
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(command, env=env, cwd=tree, check=True, capture_output=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cache", type=Path, required=True, help="SEMANSCOPE_CACHE folder with the built models")
    ap.add_argument("--base", default="a959753", help="commit to compare with (default: a959753)")
    ap.add_argument("--models", default="e5-small-st,tokenlearn-static")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        trees = {"base": export_tree(args.base, Path(tmp) / "base"), "this tree": ROOT}
        out = Path(tmp) / "out"
        for tree in trees.values():  # fills the cache and the digest memo
            study_seconds(tree, args.cache, args.models, out)
        times: dict[str, list[float]] = {name: [] for name in trees}
        print(f"warm study --data builtin --models {args.models}; {load()}")
        for _ in range(args.repeats):
            for name, tree in trees.items():
                times[name].append(study_seconds(tree, args.cache, args.models, out)[0])
    for name, seconds in times.items():
        print(f"{name:10s} min {min(seconds):6.2f} s  median {statistics.median(seconds):6.2f} s")
    base, new = times["base"], times["this tree"]
    by_min, by_median = min(base) / min(new), statistics.median(base) / statistics.median(new)
    print(f"base / this tree: min {by_min:.2f}x, median {by_median:.2f}x")
    print(load())


if __name__ == "__main__":
    main()
