"""Persistent embedding cache: one float32 vector per (model fingerprint, language, text).

Storage is a :mod:`diskcache` directory (SQLite in WAL mode: safe for concurrent threads and
processes) with an explicit ``size_limit`` and least-recently-stored eviction.

* key   = blake2b-160 hex of JSON ``[KEY_VERSION, fingerprint, language]`` + newline + text;
  language is the code for language-aware embedders and ``""`` for all others.
* value = 20-byte header (magic ``SEV1``, dtype ``<f4``, ndim 1, dim, blake2b-64 of the
  payload) followed by the ``dim`` float32 values. A value whose type, length, header, dim or
  checksum does not match is deleted and reported as a miss, never returned.
* tag   = hash of the fingerprint, so :meth:`EmbeddingCache.clear` can drop one model.

Lookups read diskcache's SQLite table directly with batched ``SELECT ... IN (...)`` on its
(thread- and fork-aware) connection, and decode values with its public ``Disk.fetch``.
Measured for 10k warm texts on the shared 2-core box under load: per-key ``Cache.get``
0.48 s, batched select 0.20 s -- per-key gets alone would take most of the "well under a
second" budget. This relies on diskcache's schema, hence the exact pin in requirements.txt;
the tests exercise it. Writes use the public API, grouped into transactions of
``_WRITE_CHUNK`` entries (4x faster than one by one) so the cross-process
writer lock is held only briefly. diskcache's per-``set`` culling is switched off
(``cull_limit=0``) because inside a transaction the volume only shrinks at commit, so it
would evict ten entries per ``set`` -- including the ones just written; instead
``Cache.cull()`` runs after each committed chunk and evicts the oldest-stored entries until
the volume is under the limit.

When the directory cannot be opened, read or written (read-only, a path under a file, disk
full, lock timeout) a :class:`CacheUnavailableWarning` is issued and the cache carries on in
memory (bounded by the same size limit): callers never crash because of the cache.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import struct
import threading
import warnings
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import diskcache
import numpy as np

from semanscope.models.base import Embedder
from semanscope.progress import Progress, span

DEFAULT_SIZE_LIMIT = 4 * 2**30  # bytes
KEY_VERSION = 1

_MAGIC = b"SEV1"
_DTYPE = np.dtype("<f4")
_HEADER = struct.Struct("<4s3sBI8s")  # magic, dtype str, ndim, dim, checksum
_WRITE_CHUNK = 500  # entries per write transaction
_READ_CHUNK = 500  # keys per SELECT (below SQLite's oldest bound of 999 parameters)
# diskcache's table (pinned diskcache==5.6.3); str keys are stored with raw = 1, no expiry is used
_SELECT = "SELECT key, mode, filename, value FROM Cache WHERE raw = 1 AND key IN (%s)"
_STORE_EVERY = 2048  # unique misses encoded between two writes in encode_cached
_STORE_ERRORS = (OSError, sqlite3.Error, diskcache.Timeout)


class CacheUnavailableWarning(UserWarning):
    """The cache directory cannot be used; embeddings are kept in memory only."""


@dataclass(frozen=True)
class CacheStats:
    """Counters of an :class:`EmbeddingCache`.

    ``last_*`` count the texts of the latest :meth:`EmbeddingCache.get_many` call
    (``encode_cached`` looks up each unique text once, in one call); ``total_*`` accumulate since creation or ``reset_stats()``.
    ``entries``/``volume_bytes`` cover the disk store (SQLite file + value files) plus the
    in-memory fallback. ``persistent`` is False once the disk cannot be written; ``problem``
    then says why.
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


def _checksum(payload: bytes | memoryview) -> bytes:
    return hashlib.blake2b(payload, digest_size=8).digest()


def pack_vector(vector: np.ndarray) -> bytes:
    """Serialise a 1-D vector as header + little-endian float32 bytes."""
    vec = np.ascontiguousarray(vector, dtype=_DTYPE)
    if vec.ndim != 1:
        raise ValueError(f"expected a 1-D vector, got shape {vec.shape}")
    payload = vec.tobytes()
    return _HEADER.pack(_MAGIC, _DTYPE.str.encode("ascii"), 1, vec.shape[0], _checksum(payload)) + payload


def unpack_vector(blob: object, dim: int) -> np.ndarray | None:
    """Inverse of :func:`pack_vector`; ``None`` unless ``blob`` is an intact float32 vector of ``dim``."""
    if not isinstance(blob, bytes) or len(blob) != _HEADER.size + dim * _DTYPE.itemsize:
        return None
    magic, dtype, ndim, stored_dim, digest = _HEADER.unpack_from(blob)
    payload = memoryview(blob)[_HEADER.size :]
    if (magic, dtype, ndim, stored_dim) != (_MAGIC, _DTYPE.str.encode("ascii"), 1, dim):
        return None
    if _checksum(payload) != digest:
        return None
    return np.frombuffer(payload, dtype=_DTYPE)


def _lang_key(embedder: Embedder, lang: str | None) -> str:
    return (lang or "") if embedder.language_aware else ""


# --------------------------------------------------------------------------- stores
class _MemoryStore:
    """In-memory fallback: key -> (tag, blob), evicting the least recently stored beyond a byte limit."""

    def __init__(self, size_limit: int) -> None:
        self._items: OrderedDict[str, tuple[str, bytes]] = OrderedDict()
        self._limit = size_limit
        self.volume = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._items)

    def get_many(self, keys: Sequence[str]) -> dict[str, bytes]:
        items = self._items
        return {k: items[k][1] for k in keys if k in items} if items else {}

    def set_many(self, entries: Sequence[tuple[str, bytes]], tag: str) -> None:
        with self._lock:
            for key, blob in entries:
                self._pop(key)
                self._items[key] = (tag, blob)
                self.volume += len(blob)
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
            self.volume -= len(item[1])


class EmbeddingCache:
    """Vectors keyed by (embedder fingerprint, language if language-aware, text).

    ``directory`` is created if needed; ``size_limit`` (bytes, default 4 GiB) bounds the disk
    store, oldest-stored entries are evicted first. Usable as a context manager (closes the
    SQLite connections). Thread- and process-safe.
    """

    def __init__(self, directory: str | os.PathLike, size_limit: int = DEFAULT_SIZE_LIMIT) -> None:
        if isinstance(size_limit, bool) or not isinstance(size_limit, int) or size_limit <= 0:
            raise ValueError(f"size_limit must be a positive number of bytes, got {size_limit!r}")
        self.directory = Path(directory)
        self.size_limit = size_limit
        self._memory = _MemoryStore(size_limit)
        self._lock = threading.Lock()
        self._last = (0, 0)
        self._total = (0, 0)
        self._problem: str | None = None
        self._writable = True
        self._disk: diskcache.Cache | None = None
        try:
            self._disk = diskcache.Cache(
                str(self.directory),
                size_limit=size_limit,
                eviction_policy="least-recently-stored",
                tag_index=True,
                statistics=False,
                cull_limit=0,  # no eviction inside write transactions; put_many calls cull()
            )
        except _STORE_ERRORS as exc:
            self._degrade(f"cannot open the embedding cache at {self.directory} ({exc})", keep_reads=False)

    # ------------------------------------------------------------------ lookups
    def get_many(
        self, embedder: Embedder, texts: Sequence[str], lang: str | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Look up ``texts`` -> (vectors float32 (n, dim) with zero rows for misses, hit mask (n,)).

        ``lang`` is part of the key only when ``embedder.language_aware``. Entries that fail
        validation are deleted and count as misses.
        """
        key_of, dim = key_function(embedder.fingerprint, _lang_key(embedder, lang)), embedder.dim
        keys = [key_of(t) for t in texts]
        unique = list(dict.fromkeys(keys))
        blobs: dict[str, object] = {**self._memory.get_many(unique)}  # disk values are checked when unpacked
        blobs.update(self._disk_get_many([k for k in unique if k not in blobs]))
        valid: dict[str, np.ndarray] = {}
        for key, blob in blobs.items():
            vector = unpack_vector(blob, dim)
            if vector is None:
                self._discard(key)
            else:
                valid[key] = vector
        vectors = np.zeros((len(texts), dim), dtype=np.float32)
        hit = np.zeros(len(texts), dtype=bool)
        for i, key in enumerate(keys):
            vector = valid.get(key)
            if vector is not None:
                vectors[i] = vector
                hit[i] = True
        n_hits = int(hit.sum())
        with self._lock:
            self._last = (n_hits, len(texts) - n_hits)
            self._total = (self._total[0] + n_hits, self._total[1] + len(texts) - n_hits)
        return vectors, hit

    def put_many(
        self, embedder: Embedder, texts: Sequence[str], vectors: np.ndarray, lang: str | None = None
    ) -> None:
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
        key_of = key_function(fingerprint, _lang_key(embedder, lang))
        finite = np.isfinite(vectors).all(axis=1)
        entries = [(key_of(t), pack_vector(v)) for t, v, ok in zip(texts, vectors, finite) if ok]
        tag = fingerprint_tag(fingerprint)
        if self._disk is not None and self._writable:
            try:
                for start in range(0, len(entries), _WRITE_CHUNK):
                    with self._disk.transact():
                        for key, blob in entries[start : start + _WRITE_CHUNK]:
                            self._disk.set(key, blob, tag=tag)
                    self._disk.cull()
                return
            except _STORE_ERRORS as exc:
                self._degrade(f"cannot write to the embedding cache at {self.directory} ({exc})", keep_reads=True)
        self._memory.set_many(entries, tag)

    # ------------------------------------------------------------------ maintenance
    def clear(self, fingerprint: str | None = None) -> int:
        """Delete the entries of one model fingerprint (all entries when ``None``); returns how many."""
        tag = None if fingerprint is None else fingerprint_tag(fingerprint)
        removed = self._memory.evict(tag)
        if self._disk is not None:
            try:
                removed += self._disk.clear() if tag is None else self._disk.evict(tag)
            except _STORE_ERRORS as exc:
                self._degrade(f"cannot clear the embedding cache at {self.directory} ({exc})", keep_reads=True)
        return removed

    def stats(self) -> CacheStats:
        """Hit/miss counters and current size (see :class:`CacheStats`)."""
        entries, volume = len(self._memory), self._memory.volume
        if self._disk is not None:
            try:
                entries += len(self._disk)
                volume += self._disk.volume()
            except _STORE_ERRORS as exc:
                self._degrade(f"cannot read the embedding cache at {self.directory} ({exc})", keep_reads=False)
        with self._lock:
            last, total = self._last, self._total
        return CacheStats(
            last_hits=last[0],
            last_misses=last[1],
            total_hits=total[0],
            total_misses=total[1],
            entries=entries,
            volume_bytes=volume,
            persistent=self.persistent,
            problem=self._problem,
        )

    def reset_stats(self) -> None:
        """Zero the hit/miss counters."""
        with self._lock:
            self._last = self._total = (0, 0)

    @property
    def persistent(self) -> bool:
        """True while new vectors go to disk."""
        return self._disk is not None and self._writable

    def close(self) -> None:
        if self._disk is not None:
            self._disk.close()

    def __enter__(self) -> "EmbeddingCache":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ internals
    def _disk_get_many(self, keys: Sequence[str]) -> dict[str, object]:
        """Stored values of ``keys`` (absent keys left out), read with batched ``IN (...)`` selects."""
        if self._disk is None or not keys:
            return {}
        found: dict[str, object] = {}
        try:
            sql, fetch = self._disk._sql, self._disk.disk.fetch
            for start in range(0, len(keys), _READ_CHUNK):
                chunk = keys[start : start + _READ_CHUNK]
                for key, mode, filename, value in sql(_SELECT % ",".join("?" * len(chunk)), chunk).fetchall():
                    try:
                        found[key] = fetch(mode, filename, value, False)
                    except OSError:  # value file removed by a concurrent eviction: a miss
                        continue
        except _STORE_ERRORS as exc:
            self._degrade(f"cannot read the embedding cache at {self.directory} ({exc})", keep_reads=False)
        return found

    def _discard(self, key: str) -> None:
        """Delete an invalid entry (it is then recomputed and stored again by the caller)."""
        self._memory.delete(key)
        if self._disk is not None and self._writable:
            try:
                self._disk.delete(key)
            except _STORE_ERRORS as exc:
                self._degrade(f"cannot write to the embedding cache at {self.directory} ({exc})", keep_reads=True)

    def _degrade(self, problem: str, *, keep_reads: bool) -> None:
        """Stop writing to disk (and reading, unless ``keep_reads``); warn once per downgrade."""
        with self._lock:
            self._problem = problem
            self._writable = False
            disk, self._disk = self._disk, (self._disk if keep_reads else None)
        if disk is not None and not keep_reads:
            disk.close()
        warnings.warn(
            f"{problem}; embeddings computed from now on are kept in memory only",
            CacheUnavailableWarning,
            stacklevel=3,
        )


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
    ``lang``), in chunks of ``_STORE_EVERY`` stored as they finish, so an interrupted run keeps
    its work. ``cache=None`` encodes every unique text once without storing.
    ``progress(done, total)`` counts input texts: cache hits are reported done at once.
    """
    texts = list(texts)
    n = len(texts)
    bad = next((i for i, t in enumerate(texts) if not isinstance(t, str)), None)
    if bad is not None:
        raise TypeError(f"texts must be strings; item {bad} is {type(texts[bad]).__name__} {texts[bad]!r}")
    if n == 0:
        return np.zeros((0, embedder.dim), dtype=np.float32)
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
    for start in range(0, len(missing), _STORE_EVERY):
        chunk = missing[start : start + _STORE_EVERY]
        chunk_texts = [unique[i] for i in chunk]
        chunk_rows = int(rows_per_unique[chunk].sum())
        encoded = embedder.encode(
            chunk_texts, batch_size=batch_size, progress=span(progress, done, chunk_rows, n), lang=lang
        )
        vectors[chunk] = encoded
        if cache is not None:
            cache.put_many(embedder, chunk_texts, encoded, lang=lang)
        done += chunk_rows
        if progress is not None:
            progress(done, n)
    return vectors[inverse]
