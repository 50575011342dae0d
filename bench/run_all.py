"""Run every benchmark in bench/ and print one summary table (not run by CI).

    python3 bench/run_all.py [--only metrics,cache,models,reduce]

Each ``bench/bench_<name>.py`` is imported and its ``main()`` called with its default
arguments; its own output is printed as it runs. The summary table gives, per benchmark, the
status, wall and process-CPU seconds (wall/CPU > 1 means the machine was shared or the
benchmark waited), and its last output line. The machine (nproc, CPU model, RAM, load) is
printed first so numbers can be compared between runs.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import io
import os
import platform
import sys
import time
import traceback
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR.parent))  # the checkout's semanscope, installed or not
NAMES = ("metrics", "cache", "models", "reduce")


def machine() -> str:
    """``nproc``, CPU model, RAM and the 1/5/15-min load average."""
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = "unknown RAM"
    try:
        kib = int(
            next(
                line for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")
            ).split()[1]
        )
        ram = f"{kib / 2**20:.0f} GiB RAM"
    except (OSError, StopIteration, ValueError):
        pass
    load = "load {:.1f} {:.1f} {:.1f}".format(*os.getloadavg())
    return f"nproc={os.cpu_count()}, {cpu}, {ram}, python {platform.python_version()}, {load}"


class Tee(io.TextIOBase):
    """Write to the real stdout and remember the text."""

    def __init__(self, out) -> None:
        self.out, self.parts = out, []

    def write(self, text: str) -> int:
        self.parts.append(text)
        return self.out.write(text)

    def flush(self) -> None:
        self.out.flush()

    def last_line(self) -> str:
        lines = [line.strip() for line in "".join(self.parts).splitlines() if line.strip()]
        return lines[-1] if lines else ""


def run_one(name: str) -> tuple[str, float, float, str]:
    """Import ``bench_<name>.py`` and call ``main()`` with default arguments -> (status, wall, cpu, last line)."""
    path = BENCH_DIR / f"bench_{name}.py"
    if not path.is_file():
        return "missing", 0.0, 0.0, f"{path.name} not found"
    spec = importlib.util.spec_from_file_location(f"bench_{name}", path)
    module = importlib.util.module_from_spec(spec)
    tee = Tee(sys.stdout)
    argv = sys.argv
    sys.argv = [str(path)]
    wall, cpu = time.perf_counter(), time.process_time()
    status = "ok"
    try:
        with contextlib.redirect_stdout(tee):
            spec.loader.exec_module(module)
            module.main()
    except SystemExit as exc:
        status = "ok" if exc.code in (0, None) else f"exit {exc.code}"
    except Exception as exc:  # noqa: BLE001 - one broken benchmark must not stop the others
        traceback.print_exc()
        status, tee.parts = "failed", [f"{type(exc).__name__}: {exc}"]
    finally:
        sys.argv = argv
    return status, time.perf_counter() - wall, time.process_time() - cpu, tee.last_line()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help=f"comma-separated subset of {','.join(NAMES)}")
    args = parser.parse_args()
    names = NAMES if args.only is None else tuple(n.strip() for n in args.only.split(",") if n.strip())
    unknown = [n for n in names if n not in NAMES]
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(unknown)}; choose from {', '.join(NAMES)}")
    print(machine())
    rows = []
    for name in names:
        print(f"\n=== bench_{name}.py " + "=" * 50, flush=True)
        rows.append((name, *run_one(name)))
    print(f"\n=== summary ({machine()})")
    print(f"{'benchmark':10s} {'status':8s} {'wall s':>8s} {'cpu s':>8s} {'wall/cpu':>8s}  last line")
    for name, status, wall, cpu, last in rows:
        ratio = f"{wall / cpu:8.2f}" if cpu > 0 else f"{'-':>8s}"
        print(f"{name:10s} {status:8s} {wall:8.1f} {cpu:8.1f} {ratio}  {last[:100]}")


if __name__ == "__main__":
    main()
