"""Cold vs warm ``semanscope study --data builtin`` as a user runs it (figures on, 1000 bootstrap
resamples), for ``--models default`` and ``--models all`` (not run by CI).

* cold: a fresh cache folder whose ``models`` links to ``<--cache>/models`` (the setup-built
  models are reused, nothing else: every embedding is computed, every file digest and every
  projection too);
* warm: the same command again on that folder (every embedding and projection cached).

Each run is a fresh process (:func:`bench_warm.study_seconds`); prints wall and CPU seconds (the
child's user + system) of every run, min and median per kind, cold / warm and the load average
before and after. ``--cache`` must hold the models ``semanscope setup`` built. Usage::

    python3 bench/bench_study.py --cache ~/.cache/semanscope [--models default,all] [--cold-runs 1] [--warm-runs 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_warm import ROOT, load, study_seconds


def summary(name: str, runs: list[tuple[float, float]]) -> str:
    walls, cpus = [w for w, _ in runs], [c for _, c in runs]
    return (
        f"{name:6s} n={len(runs)}  wall min {min(walls):7.1f} s  median {statistics.median(walls):7.1f} s  "
        f"CPU min {min(cpus):7.1f} s"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cache", type=Path, required=True, help="SEMANSCOPE_CACHE folder with the built models")
    ap.add_argument("--models", default="default,all", help="comma-separated --models values to time")
    ap.add_argument("--cold-runs", type=int, default=1)
    ap.add_argument("--warm-runs", type=int, default=3)
    args = ap.parse_args()
    if args.cold_runs < 1 or args.warm_runs < 1:
        raise SystemExit("--cold-runs and --warm-runs must be >= 1 (the warm runs reuse the last cold run's cache)")
    models_dir = (args.cache / "models").resolve()
    if not models_dir.is_dir():
        raise SystemExit(f"{models_dir} is missing: run `semanscope setup` with SEMANSCOPE_CACHE={args.cache}")
    for models in args.models.split(","):
        print(f"study --data builtin --models {models} (figures, n_boot 1000); {load()}", flush=True)
        cold: list[tuple[float, float]] = []
        warm: list[tuple[float, float]] = []
        with tempfile.TemporaryDirectory(prefix="semanscope-bench-study-") as tmp:
            for i in range(args.cold_runs):
                cache = Path(tmp) / f"cache{i}"
                cache.mkdir()
                (cache / "models").symlink_to(models_dir)
                cold.append(study_seconds(ROOT, cache, models, Path(tmp) / "out", figures=True, n_boot=1000))
                print(f"  cold run {i + 1}: {cold[-1][0]:.1f} s wall, {cold[-1][1]:.1f} s CPU; {load()}", flush=True)
            for i in range(args.warm_runs):
                warm.append(study_seconds(ROOT, cache, models, Path(tmp) / "out", figures=True, n_boot=1000))
                print(f"  warm run {i + 1}: {warm[-1][0]:.1f} s wall, {warm[-1][1]:.1f} s CPU; {load()}", flush=True)
        print(summary("cold", cold))
        print(summary("warm", warm))
        ratio = min(w for w, _ in cold) / min(w for w, _ in warm)
        print(f"cold / warm (min wall): {ratio:.1f}x; {load()}", flush=True)


if __name__ == "__main__":
    main()
