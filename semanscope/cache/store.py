"""Persistent embedding cache: one float32 vector per (model fingerprint, language, text).

Storage: :class:`~semanscope.cache.sqlite_store.SQLiteStore` (one SQLite file in WAL mode,
thread- and process-safe, least-recently-stored eviction under ``size_limit``).

* key   = blake2b-160 hex of JSON ``[KEY_VERSION, fingerprint, language]`` + newline + text;
  language is the code for language-aware embedders and ``""`` for all others.
* value = :mod:`~semanscope.cache.codec` header + ``dim`` little-endian float32 values; the
  checksum (over key, header and payload) is verified before decoding; nothing is unpickled.
  A value that is not exactly an intact vector of the expected ``dim`` for its key is deleted,
  reported (:class:`~semanscope.cache.problems.CacheRepairedWarning` and :meth:`EmbeddingCache.problems`)
  and counted as a miss, so :func:`encode_cached` recomputes it.
* tag   = hash of the fingerprint, so :meth:`EmbeddingCache.clear` can drop one model.

:func:`encode_cached` writes new vectors in batches (every :data:`WRITE_EVERY` texts or
:data:`WRITE_SECONDS` seconds, whichever comes first, and when it stops, even by an
exception), so an interrupted run or a user leaving the page keeps what was computed.

When the directory cannot be written (read-only, disk full, lock timeout) cached vectors are
still read and new ones are kept in memory (bounded by the same size limit); when it cannot be
read at all everything is kept in memory. Either way a
:class:`~semanscope.cache.problems.CacheUnavailableWarning` is issued once and
:attr:`CacheStats.problem` says why: callers never crash because of the cache.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from semanscope.cache.codec import pack_array, packed_size, unpack_rows
from semanscope.cache.problems import CacheProblem, ProblemLog
from semanscope.cache.sqlite_store import SQLiteStore
from semanscope.models.base import Embedder
from semanscope.progress import Progress, span

DEFAULT_SIZE_LIMIT = 4 * 2**30  # bytes
KEY_VERSION = 1
WRITE_EVERY = 256  # texts encoded between two writes in encode_cached ...
WRITE_SECONDS = 2.0  # ... or seconds since the last write, whichever comes first
_DTYPE = np.dtype("<f4")


@dataclass(frozen=True)
class CacheStats:
    """Counters of an :class:`EmbeddingCache`.

    ``last_*`` count the texts of the latest :meth:`EmbeddingCache.get_many` call
    (``encode_cached`` looks up each unique text once, in one call); ``total_*`` accumulate
    since creation or ``reset_stats()``. ``entries``/``volume_bytes`` (keys + values) cover the
    disk store plus the in-memory fallback. ``persistent`` is False once the disk cannot be
    written; ``problem`` then says why.
    """

    last_hits: int
    last_misses: int
    total_hits: int
    total_misses: int
    entries: int
    volume_bytes: int
    persistent: bool
    problem: str | None


# --------------------------------------------------------------------------- keys and values
def key_function(fingerprint: str, lang: str) -> Callable[[str], str]:
    """``text -> key`` for one (fingerprint, language): blake2b-160 hex of the UTF-8 bytes of
    ``json([KEY_VERSION, fingerprint, lang]) + "\\n" + text`` (the JSON prefix delimits itself,
    so keys are unambiguous). The prefix is hashed once and the hasher copied per text.
    """
    prefix = hashlib.blake2b(digest_size=20)
    prefix.update(json.dumps([KEY_VERSION, fingerprint, lang]).encode("ascii") + b"\n")

    def key(text: str) -> str:
        h = prefix.copy()
        h.update(text.encode("utf-8", "surrogatepass"))
        return h.hexdigest()

    return key


def fingerprint_tag(fingerprint: str) -> str:
    """Tag shared by all entries of one model fingerprint (blake2b-64 hex)."""
    return "fp-" + hashlib.blake2b(json.dumps(fingerprint).encode("ascii"), digest_size=8).hexdigest()


def key_language(language_aware: bool, lang: str | None) -> str:
    """The language part of a key: ``lang`` for a language-aware model, ``""`` otherwise."""
    return (lang or "") if language_aware else ""


# --------------------------------------------------------------------------- stores
class _MemoryStore:
    """In-memory fallback: key -> (tag, blob), evicting the least recently stored beyond a byte
    limit on keys + values (as the disk store counts them)."""

    def __init__(self, size_limit: int) -> None:
        self._items: OrderedDict[str, tuple[str, bytes]] = OrderedDict()
        self._limit = size_limit
        self.volume = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._items)

    def get_many(self, keys: Sequence[str]) -> dict[str, bytes]:
        if not self._items:
            return {}
        with self._lock:
            items = self._items
            return {k: items[k][1] for k in keys if k in items}

    def set_many(self, entries: Sequence[tuple[str, bytes]], tag: str) -> None:
        with self._lock:
            for key, blob in entries:
                self._pop(key)
                self._items[key] = (tag, blob)
                self.volume += len(key) + len(blob)
            while self.volume > self._limit and self._items:
                self._pop(next(iter(self._items)))

    def delete(self, key: str) -> None:
        with self._lock:
            self._pop(key)

    def evict(self, tag: str | None) -> int:
        """Remove the entries with ``tag`` (all when ``None``); returns how many."""
        with self._lock:
            keys = [k for k, (t, _) in self._items.items() if tag is None or t == tag]
            for key in keys:
                self._pop(key)
            return len(keys)

    def _pop(self, key: str) -> None:
        item = self._items.pop(key, None)
        if item is not None:
            self.volume -= len(key) + len(item[1])


class EmbeddingCache:
    """Vectors keyed by (embedder fingerprint, language if language-aware, text).

    ``directory`` is created if needed; ``size_limit`` (bytes of keys + values, default 4 GiB)
    bounds the disk store, oldest-stored entries are evicted first. :func:`encode_cached`
    writes every ``write_every`` texts or ``write_seconds`` (measured with ``clock``),
    whichever comes first. Usable as a context manager (closes the SQLite connection).
    Thread- and process-safe.
    """

    def __init__(
        self,
        directory: str | os.PathLike,
        size_limit: int = DEFAULT_SIZE_LIMIT,
        *,
        write_every: int = WRITE_EVERY,
        write_seconds: float = WRITE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if isinstance(size_limit, bool) or not isinstance(size_limit, int) or size_limit <= 0:
            raise ValueError(f"size_limit must be a positive number of bytes, got {size_limit!r}")
        if write_every < 1:
            raise ValueError(f"write_every must be >= 1, got {write_every!r}")
        self.directory = Path(directory)
        self.size_limit = size_limit
        self.write_every, self.write_seconds, self.clock = write_every, write_seconds, clock
        self._memory = _MemoryStore(size_limit)
        self._lock = threading.Lock()
        self._last = (0, 0)
        self._total = (0, 0)
        self._problems = ProblemLog()
        self._disk = SQLiteStore(self.directory, size_limit, self._problems, "embedding cache")

    # ------------------------------------------------------------------ lookups
    def get_vectors(
        self, fingerprint: str, dim: int, texts: Sequence[str], key_lang: str = ""
    ) -> tuple[np.ndarray, np.ndarray]:
        """Look up ``texts`` of the model with ``fingerprint`` and ``dim`` -> (vectors float32
        (n, dim) with zero rows for misses, hit mask (n,)); no model needed. ``key_lang``: see
        :func:`key_language`. Damaged entries are deleted, reported and count as misses.
        """
        key_of = key_function(fingerprint, key_lang)
        keys = [key_of(t) for t in texts]
        unique = list(dict.fromkeys(keys))
        blobs: dict[str, bytes | None] = dict(self._memory.get_many(unique))
        blobs.update(self._disk.get_many([k for k in unique if k not in blobs], packed_size(_DTYPE, (dim,))))
        good, rows, damaged = unpack_rows(blobs, _DTYPE, (dim,))
        if damaged:
            self._discard(damaged)
        row_of = {key: row for row, key in enumerate(good)}
        index = np.fromiter((row_of.get(k, -1) for k in keys), dtype=np.int64, count=len(keys))
        hit = index >= 0
        vectors = np.zeros((len(texts), dim), dtype=np.float32)
        vectors[hit] = rows[index[hit]]
        n_hits = int(hit.sum())
        with self._lock:
            self._last = (n_hits, len(texts) - n_hits)
            self._total = (self._total[0] + n_hits, self._total[1] + len(texts) - n_hits)
        return vectors, hit

    def get_many(
        self, embedder: Embedder, texts: Sequence[str], lang: str | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`get_vectors` for ``embedder``; ``lang`` is part of the key only when
        ``embedder.language_aware``."""
        return self.get_vectors(embedder.fingerprint, embedder.dim, texts, key_language(embedder.language_aware, lang))

    def count_cached(self, fingerprint: str, dim: int, texts: Sequence[str], key_lang: str = "") -> int:
        """How many distinct texts of ``texts`` have a vector of ``dim`` cached for ``fingerprint``
        (the app's "n of m cached" before a run; no model needed, values are not read, so an
        entry found damaged later is still counted here). Hit/miss counters are not changed."""
        key_of = key_function(fingerprint, key_lang)
        unique = list(dict.fromkeys(key_of(t) for t in texts))
        in_memory = self._memory.get_many(unique)
        rest = [k for k in unique if k not in in_memory]
        return len(in_memory) + self._disk.count_present(rest, packed_size(_DTYPE, (dim,)))

    def put_many(self, embedder: Embedder, texts: Sequence[str], vectors: np.ndarray, lang: str | None = None) -> None:
        """Store ``vectors[i]`` (shape (n, embedder.dim)) as the embedding of ``texts[i]``.

        Vectors with a NaN or infinite entry are not stored (a model's numerical failure is
        recomputed next time instead of being served from the cache).
        """
        vectors = np.asarray(vectors)
        if vectors.shape != (len(texts), embedder.dim):
            raise ValueError(
                f"{embedder.name}: expected vectors of shape {(len(texts), embedder.dim)}, got {vectors.shape}"
            )
        fingerprint = embedder.fingerprint
        key_of = key_function(fingerprint, key_language(embedder.language_aware, lang))
        finite = np.isfinite(vectors).all(axis=1)
        entries = []
        for text, vector, ok in zip(texts, vectors, finite, strict=True):
            if ok:
                key = key_of(text)
                entries.append((key, pack_array(key, vector, _DTYPE)))
        tag = fingerprint_tag(fingerprint)
        if not self._disk.put_many(entries, tag):
            self._memory.set_many(entries, tag)

    def writer(self, embedder: Embedder, lang: str | None = None) -> BatchWriter:
        """A :class:`BatchWriter` storing ``embedder``'s vectors with this cache's write policy."""
        return BatchWriter(self, embedder, lang)

    # ------------------------------------------------------------------ maintenance
    def clear(self, fingerprint: str | None = None) -> int:
        """Delete the entries of one model fingerprint (all entries when ``None``); returns how many."""
        tag = None if fingerprint is None else fingerprint_tag(fingerprint)
        return self._memory.evict(tag) + self._disk.evict(tag)

    def stats(self) -> CacheStats:
        """Hit/miss counters and current size (see :class:`CacheStats`)."""
        entries, volume = self._disk.totals()
        with self._lock:
            last, total = self._last, self._total
        return CacheStats(
            last_hits=last[0],
            last_misses=last[1],
            total_hits=total[0],
            total_misses=total[1],
            entries=entries + len(self._memory),
            volume_bytes=volume + self._memory.volume,
            persistent=self.persistent,
            problem=self._disk.problem,
        )

    def problems(self, after: int = 0) -> list[CacheProblem]:
        """What went wrong since problem number ``after`` (damage repaired, disk unavailable), for
        the app to show; each was also issued as a warning."""
        return self._problems.since(after)

    def reset_stats(self) -> None:
        """Zero the hit/miss counters."""
        with self._lock:
            self._last = self._total = (0, 0)

    @property
    def persistent(self) -> bool:
        """True while new vectors go to disk."""
        return self._disk.writable

    def close(self) -> None:
        self._disk.close()

    def __enter__(self) -> EmbeddingCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ internals
    def _discard(self, keys: Sequence[str]) -> None:
        """Delete damaged entries (the caller recomputes and stores them again) and report them."""
        for key in keys:
            self._memory.delete(key)
        self._disk.delete_many(keys)
        done = "deleted" if self._disk.writable else "ignored (the cache is read-only)"
        self._problems.report(
            "repaired",
            f"{len(keys)} damaged {'entry' if len(keys) == 1 else 'entries'} in the {self._disk.what} {done};"
            " they are recomputed",
        )


class BatchWriter:
    """Collects the vectors :func:`encode_cached` computes and stores them when
    ``cache.write_every`` texts are pending or ``cache.write_seconds`` have passed since the last
    write (``cache.clock``), whichever comes first, and on :meth:`close` (a ``with`` block's
    end, also by an exception): an interrupted run keeps what it computed."""

    def __init__(self, cache: EmbeddingCache, embedder: Embedder, lang: str | None) -> None:
        self.cache, self.embedder, self.lang = cache, embedder, lang
        self._texts: list[str] = []
        self._vectors: list[np.ndarray] = []
        self._last_write = cache.clock()

    def add(self, texts: Sequence[str], vectors: np.ndarray) -> None:
        """Queue ``vectors`` (n, dim) of ``texts``; write when the batch is full or old enough."""
        self._texts.extend(texts)
        self._vectors.append(vectors)
        cache = self.cache
        if len(self._texts) >= cache.write_every or cache.clock() - self._last_write >= cache.write_seconds:
            self.flush()

    def flush(self) -> None:
        """Store what is queued."""
        if self._texts:
            texts, vectors = self._texts, np.concatenate(self._vectors)
            self._texts, self._vectors = [], []
            self.cache.put_many(self.embedder, texts, vectors, lang=self.lang)
        self._last_write = self.cache.clock()

    close = flush

    def __enter__(self) -> BatchWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# --------------------------------------------------------------------------- encode step
def encode_cached(
    embedder: Embedder,
    texts: Sequence[str],
    cache: EmbeddingCache | None,
    *,
    lang: str | None = None,
    batch_size: int = 64,
    progress: Progress | None = None,
) -> np.ndarray:
    """Embed ``texts`` through ``cache`` -> float32 (len(texts), dim) in input order.

    Unique texts are looked up once; only the misses are encoded (``embedder.encode`` with
    ``lang``), shortest first (by characters, across the whole request, so each call and each of
    the model's batches pads little), and stored through :meth:`EmbeddingCache.writer` (every 256 texts or 2 s, and
    when the run stops), so an interrupted run keeps its work. Each ``encode`` call gets
    ``batch_size`` texts at first; while a call takes under a quarter of the cache's
    ``write_seconds`` the next one gets twice as many, up to ``write_every`` (a static model's
    per-call overhead stays small; a slow model's work is written after every batch once
    ``write_seconds`` have passed).
    ``cache=None`` encodes every unique text once without storing.
    ``progress(done, total)`` counts input texts: cache hits are reported done at once.
    """
    texts = list(texts)
    n = len(texts)
    bad = next((i for i, t in enumerate(texts) if not isinstance(t, str)), None)
    if bad is not None:
        raise TypeError(f"texts must be strings; item {bad} is {type(texts[bad]).__name__} {texts[bad]!r}")
    if n == 0:
        return np.zeros((0, embedder.dim), dtype=np.float32)
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    first: dict[str, int] = {}
    inverse = np.fromiter((first.setdefault(t, len(first)) for t in texts), dtype=np.int64, count=n)
    unique = list(first)
    rows_per_unique = np.bincount(inverse, minlength=len(unique))
    if cache is None:
        vectors = np.zeros((len(unique), embedder.dim), dtype=np.float32)
        hit = np.zeros(len(unique), dtype=bool)
    else:
        vectors, hit = cache.get_many(embedder, unique, lang=lang)
    done = int(rows_per_unique[hit].sum())
    if progress is not None:
        progress(done, n)
    missing = np.flatnonzero(~hit)
    missing = missing[np.argsort(np.fromiter((len(unique[i]) for i in missing), np.int64, len(missing)), kind="stable")]
    if cache is None:
        every, seconds, clock = WRITE_EVERY, WRITE_SECONDS, time.monotonic
    else:
        every, seconds, clock = cache.write_every, cache.write_seconds, cache.clock
    size, start = batch_size, 0
    with cache.writer(embedder, lang) if cache is not None else nullcontext() as writer:
        while start < len(missing):
            piece = missing[start : start + size]
            piece_texts = [unique[i] for i in piece]
            piece_rows = int(rows_per_unique[piece].sum())
            began = clock()
            encoded = embedder.encode(
                piece_texts, batch_size=batch_size, progress=span(progress, done, piece_rows, n), lang=lang
            )
            if clock() - began < seconds / 4:  # a fast model: fewer, larger calls (up to one write batch)
                size = max(size, min(2 * size, every))
            vectors[piece] = encoded
            if writer is not None:
                writer.add(piece_texts, encoded)
            start += len(piece)
            done += piece_rows
            if progress is not None:
                progress(done, n)
    return vectors[inverse]
