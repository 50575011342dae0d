"""Deterministic fake Embedder for the cache / embedding tests (no model weights).

Kept free of pytest/hypothesis imports so spawned worker processes start fast.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

from semanscope.models.base import Embedder, Progress


def fake_vector(text: str, lang: str | None, dim: int, salt: str = "") -> np.ndarray:
    """float32 (dim,) drawn from a generator seeded by blake2b(salt, lang, text)."""
    seed = hashlib.blake2b(f"{salt}\0{lang or ''}\0{text}".encode(), digest_size=8).digest()
    return np.random.default_rng(int.from_bytes(seed, "little")).standard_normal(dim).astype(np.float32)


class FakeEmbedder(Embedder):
    """Vectors from a hash of (salt, lang if language-aware, text); counts calls and encoded texts.

    Reports progress after every ``batch_size`` texts, like a real model.
    """

    family = "static"

    def __init__(self, dim: int = 8, language_aware: bool = False, salt: str = "v1") -> None:
        self.name = f"fake-{salt}"
        self.dim = dim
        self.language_aware = language_aware
        self.salt = salt
        self.calls = 0
        self.encoded: list[tuple[str | None, str]] = []

    @property
    def fingerprint(self) -> str:
        return f"fake:{self.salt}:{self.dim}"

    def expected(self, text: str, lang: str | None = None) -> np.ndarray:
        return fake_vector(text, lang if self.language_aware else None, self.dim, self.salt)

    def _encode(self, texts: Sequence[str], lang: str | None, batch_size: int, progress: Progress | None) -> np.ndarray:
        self.calls += 1
        self.encoded.extend((lang, t) for t in texts)
        out = np.stack([self.expected(t, lang) for t in texts])
        for done in range(batch_size, len(texts) + batch_size, batch_size):
            if progress is not None:
                progress(min(done, len(texts)), len(texts))
        return out


def write_range(directory: str, lo: int, hi: int, barrier) -> None:
    """Multiprocess worker: after ``barrier``, cache texts ``t{lo}..t{hi-1}`` of a 16-d fake model."""
    from semanscope.cache import EmbeddingCache, encode_cached

    emb = FakeEmbedder(dim=16)
    barrier.wait()
    with EmbeddingCache(directory, write_every=20) as cache:  # many short transactions so writers interleave
        encode_cached(emb, [f"t{i}" for i in range(lo, hi)], cache)
