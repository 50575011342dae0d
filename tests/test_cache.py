"""Tests for semanscope.cache: value codec, keys, encode_cached, corruption, fallbacks, concurrency."""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import sqlite3
import threading
import warnings

import diskcache
import numpy as np
import pytest
from fake_embedder import FakeEmbedder, write_range
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from semanscope.cache import CacheUnavailableWarning, EmbeddingCache, encode_cached, store
from semanscope.cache.store import fingerprint_tag, key_function, pack_vector, unpack_vector


def expected_matrix(emb: FakeEmbedder, texts: list[str], lang: str | None = None) -> np.ndarray:
    return np.stack([emb.expected(t, lang) for t in texts])


@pytest.fixture
def cache(tmp_path):
    with EmbeddingCache(tmp_path / "emb") as c:
        yield c


# --------------------------------------------------------------------------- codec and keys
@settings(max_examples=50, deadline=None)
@given(hnp.arrays(np.float32, st.integers(0, 40)))
def test_pack_unpack_roundtrip_is_bitwise(vec):
    out = unpack_vector(pack_vector(vec), vec.shape[0])
    assert out is not None and out.dtype == np.float32
    assert out.tobytes() == vec.tobytes()


def test_pack_rejects_non_vector():
    with pytest.raises(ValueError, match="1-D"):
        pack_vector(np.zeros((2, 3)))


def test_unpack_rejects_every_kind_of_damage():
    vec = np.arange(6, dtype=np.float32)
    blob = pack_vector(vec)
    header = store._HEADER.size
    flipped = bytearray(blob)
    flipped[header + 5] ^= 0xFF
    bad_dtype = blob[:4] + b"<f8" + blob[7:]
    bad_magic = b"XXXX" + blob[4:]
    assert unpack_vector(blob, 6) is not None
    assert unpack_vector(blob[:-1], 6) is None  # truncated
    assert unpack_vector(blob + b"\0", 6) is None  # too long
    assert unpack_vector(bytes(flipped), 6) is None  # checksum
    assert unpack_vector(bad_dtype, 6) is None
    assert unpack_vector(bad_magic, 6) is None
    assert unpack_vector(pack_vector(vec[:5]), 6) is None  # wrong shape
    assert unpack_vector(pack_vector(vec), 5) is None
    assert unpack_vector(vec.tobytes(), 6) is None  # raw vector without header
    assert unpack_vector("not bytes", 6) is None
    assert unpack_vector(None, 6) is None


def entry_key(fingerprint: str, lang: str, text: str) -> str:
    return key_function(fingerprint, lang)(text)


def test_keys_separate_fields():
    keys = {
        entry_key("fp", "", "abc"),
        entry_key("fp", "a", "bc"),
        entry_key("fpa", "", "bc"),
        entry_key("fp", "en", "abc"),
        entry_key("fp2", "", "abc"),
        entry_key("fp", "", "abc\ud800"),  # lone surrogate: still a key
    }
    assert len(keys) == 6
    assert entry_key("fp", "en", "abc") == entry_key("fp", "en", "abc")
    assert fingerprint_tag("a") != fingerprint_tag("b")


def test_key_matches_its_definition():
    payload = b'[1, "fp", "en"]\n' + "h\u00e9".encode()
    assert entry_key("fp", "en", "h\u00e9") == hashlib.blake2b(payload, digest_size=20).hexdigest()


# --------------------------------------------------------------------------- encode_cached
def test_second_call_computes_nothing_and_is_identical(tmp_path):
    emb = FakeEmbedder()
    texts = ["b", "a", "b", "c", "a", "d"]
    with EmbeddingCache(tmp_path / "emb") as c:
        first = encode_cached(emb, texts, c)
        assert emb.calls == 1
        assert sorted(t for _, t in emb.encoded) == ["a", "b", "c", "d"]  # duplicates encoded once
        np.testing.assert_array_equal(first, expected_matrix(emb, texts))
        assert first.dtype == np.float32 and first.shape == (6, emb.dim)
        s = c.stats()
        assert (s.last_hits, s.last_misses) == (0, 4)
        emb.calls = 0
        second = encode_cached(emb, texts, c)
        assert emb.calls == 0
        np.testing.assert_array_equal(second, first)
        s = c.stats()
        assert (s.last_hits, s.last_misses, s.total_hits, s.total_misses) == (4, 0, 4, 4)
        assert s.entries == 4 and s.volume_bytes > 0 and s.persistent and s.problem is None
        c.reset_stats()
        assert (c.stats().total_hits, c.stats().total_misses) == (0, 0)
    # a new cache object on the same directory (a new session) finds everything
    with EmbeddingCache(tmp_path / "emb") as c2:
        np.testing.assert_array_equal(encode_cached(emb, texts, c2), first)
        assert emb.calls == 0


def test_only_misses_are_encoded_in_input_order(cache):
    emb = FakeEmbedder()
    encode_cached(emb, ["x", "y"], cache)
    emb.encoded.clear()
    texts = ["z", "y", "w", "x", "z"]
    out = encode_cached(emb, texts, cache)
    assert emb.encoded == [(None, "z"), (None, "w")]
    np.testing.assert_array_equal(out, expected_matrix(emb, texts))


def test_no_cache_still_deduplicates():
    emb = FakeEmbedder()
    texts = ["a", "a", "b"]
    out = encode_cached(emb, texts, None)
    assert emb.encoded == [(None, "a"), (None, "b")]
    np.testing.assert_array_equal(out, expected_matrix(emb, texts))
    assert encode_cached(emb, [], None).shape == (0, emb.dim)


def test_language_aware_keys_differ_by_language(cache):
    emb = FakeEmbedder(language_aware=True)
    en = encode_cached(emb, ["Taxi"], cache, lang="en")
    de = encode_cached(emb, ["Taxi"], cache, lang="de")
    assert emb.calls == 2
    assert not np.array_equal(en, de)
    np.testing.assert_array_equal(de[0], emb.expected("Taxi", "de"))
    np.testing.assert_array_equal(encode_cached(emb, ["Taxi"], cache, lang="en"), en)
    assert emb.calls == 2


def test_language_agnostic_ignores_language(cache):
    emb = FakeEmbedder(language_aware=False)
    en = encode_cached(emb, ["Taxi"], cache, lang="en")
    de = encode_cached(emb, ["Taxi"], cache, lang="de")
    assert emb.calls == 1
    np.testing.assert_array_equal(en, de)


def test_changed_fingerprint_misses(cache):
    old, new = FakeEmbedder(salt="v1"), FakeEmbedder(salt="v2")
    a = encode_cached(old, ["t"], cache)
    b = encode_cached(new, ["t"], cache)
    assert new.calls == 1
    np.testing.assert_array_equal(b[0], new.expected("t"))
    assert not np.array_equal(a, b)


@pytest.mark.parametrize(
    "damage",
    [
        lambda blob: blob[:-3],  # truncated
        lambda blob: blob[:-1] + bytes([blob[-1] ^ 1]),  # overwritten byte
        lambda blob: pack_vector(np.ones(9, dtype=np.float32)),  # wrong shape
        lambda blob: b"garbage",
        lambda blob: 12345,  # not bytes at all
    ],
    ids=["truncated", "flipped", "wrong-shape", "garbage", "not-bytes"],
)
def test_corrupted_entry_is_recomputed_never_returned(tmp_path, damage):
    emb = FakeEmbedder(dim=8)
    directory = tmp_path / "emb"
    with EmbeddingCache(directory) as c:
        encode_cached(emb, ["good", "bad"], c)
    key = entry_key(emb.fingerprint, "", "bad")
    with diskcache.Cache(str(directory)) as raw:
        raw.set(key, damage(raw.get(key)))
    emb.encoded.clear()
    with EmbeddingCache(directory) as c:
        out = encode_cached(emb, ["good", "bad"], c)
        np.testing.assert_array_equal(out, expected_matrix(emb, ["good", "bad"]))
        assert emb.encoded == [(None, "bad")]
        _, hit = c.get_many(emb, ["good", "bad"])
        assert hit.all()  # the repaired entry was stored again
    with diskcache.Cache(str(directory)) as raw:
        assert unpack_vector(raw.get(key), 8) is not None


def test_large_vectors_stored_in_files_round_trip(tmp_path):
    emb = FakeEmbedder(dim=9000)  # 36 kB per value: diskcache keeps it in a file, not in SQLite
    texts = ["a", "b", "a"]
    with EmbeddingCache(tmp_path / "emb") as c:
        first = encode_cached(emb, texts, c)
        emb.calls = 0
        np.testing.assert_array_equal(encode_cached(emb, texts, c), first)
        assert emb.calls == 0
    np.testing.assert_array_equal(first, expected_matrix(emb, texts))
    assert len([p for p in (tmp_path / "emb").rglob("*.val")]) == 2


def test_duplicate_texts_in_get_many(cache):
    emb = FakeEmbedder()
    encode_cached(emb, ["a"], cache)
    vectors, hit = cache.get_many(emb, ["a", "b", "a"])
    assert hit.tolist() == [True, False, True]
    np.testing.assert_array_equal(vectors[[0, 2]], expected_matrix(emb, ["a", "a"]))
    assert not vectors[1].any()
    assert (cache.stats().last_hits, cache.stats().last_misses) == (2, 1)


def test_progress_counts_texts_and_reports_hits_first(cache, monkeypatch):
    monkeypatch.setattr(store, "_STORE_EVERY", 3)
    emb = FakeEmbedder()
    encode_cached(emb, ["h1", "h2"], cache)
    texts = ["h1", "m1", "h2", "m2", "m1", "m3", "m4", "h1"]  # 3 hit rows; 4 unique misses in 5 rows
    calls: list[tuple[int, int]] = []
    encode_cached(emb, texts, cache, batch_size=1, progress=lambda d, t: calls.append((d, t)))
    assert calls[0] == (3, 8)
    assert calls[-1] == (8, 8)
    assert all(t == 8 for _, t in calls)
    done = [d for d, _ in calls]
    assert done == sorted(done)


def test_chunks_are_stored_as_they_finish(cache, monkeypatch):
    monkeypatch.setattr(store, "_STORE_EVERY", 2)

    class Crashing(FakeEmbedder):
        def _encode(self, texts, lang, batch_size, progress):
            if self.calls == 2:
                raise KeyboardInterrupt
            return super()._encode(texts, lang, batch_size, progress)

    emb = Crashing()
    texts = [f"t{i}" for i in range(6)]
    with pytest.raises(KeyboardInterrupt):
        encode_cached(emb, texts, cache)
    _, hit = cache.get_many(emb, texts)
    assert hit.tolist() == [True, True, True, True, False, False]


def test_non_string_text_is_a_clear_error(cache):
    with pytest.raises(TypeError, match=r"item 1 is float nan"):
        encode_cached(FakeEmbedder(), ["ok", float("nan")], cache)


def test_put_many_checks_shape(cache):
    emb = FakeEmbedder(dim=4)
    with pytest.raises(ValueError, match=r"expected vectors of shape \(2, 4\)"):
        cache.put_many(emb, ["a", "b"], np.zeros((2, 5), np.float32))


@pytest.mark.parametrize("bad", [0, -1, 1.5, "4GB", True])
def test_size_limit_must_be_positive_int(tmp_path, bad):
    with pytest.raises(ValueError, match="size_limit"):
        EmbeddingCache(tmp_path / "emb", size_limit=bad)


# --------------------------------------------------------------------------- maintenance
def test_clear_one_fingerprint_or_all(cache):
    a, b = FakeEmbedder(salt="a"), FakeEmbedder(salt="b")
    encode_cached(a, ["x", "y"], cache)
    encode_cached(b, ["x"], cache)
    assert cache.clear(a.fingerprint) == 2
    assert not cache.get_many(a, ["x", "y"])[1].any()
    assert cache.get_many(b, ["x"])[1].all()
    assert cache.clear() == 1
    assert cache.stats().entries == 0


def test_size_limit_evicts_oldest_stored(tmp_path):
    emb = FakeEmbedder(dim=64)
    texts = [f"t{i}" for i in range(1500)]
    with EmbeddingCache(tmp_path / "emb", size_limit=150_000) as c:
        for start in range(0, len(texts), 100):
            chunk = texts[start : start + 100]
            c.put_many(emb, chunk, expected_matrix(emb, chunk))
        _, hit = c.get_many(emb, texts)
        assert c.stats().entries < len(texts) and c.stats().volume_bytes <= 150_000
        assert not hit[:100].any()  # the first stored went first
        assert hit[-100:].all()


def test_memory_store_is_bounded_and_evicts_oldest():
    mem = store._MemoryStore(size_limit=25)
    mem.set_many([("a", b"x" * 10), ("b", b"x" * 10)], tag="t")
    mem.set_many([("c", b"x" * 10)], tag="u")
    assert set(mem.get_many(["a", "b", "c"])) == {"b", "c"}
    assert mem.volume == 20 and len(mem) == 2
    assert mem.evict("u") == 1 and mem.volume == 10


# --------------------------------------------------------------------------- unusable directories
def test_directory_under_a_file_falls_back_to_memory(tmp_path):
    blocker = tmp_path / "not_a_dir"
    blocker.write_text("x")
    emb = FakeEmbedder()
    with pytest.warns(CacheUnavailableWarning, match="cannot open"):
        c = EmbeddingCache(blocker / "emb")
    assert not c.persistent
    out = encode_cached(emb, ["a", "b"], c)
    np.testing.assert_array_equal(out, expected_matrix(emb, ["a", "b"]))
    emb.calls = 0
    np.testing.assert_array_equal(encode_cached(emb, ["a", "b"], c), out)
    assert emb.calls == 0  # served from the in-memory fallback
    s = c.stats()
    assert s.entries == 2 and not s.persistent and "cannot open" in s.problem
    assert c.clear() == 2


def test_full_disk_on_write_falls_back_to_memory(cache, monkeypatch):
    emb = FakeEmbedder()
    encode_cached(emb, ["old"], cache)

    def full(*args, **kwargs):
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(diskcache.Cache, "set", full)
    with pytest.warns(CacheUnavailableWarning, match="disk is full"):
        out = encode_cached(emb, ["old", "new"], cache)
    np.testing.assert_array_equal(out, expected_matrix(emb, ["old", "new"]))
    assert not cache.persistent
    emb.calls = 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # warned once, not on every call
        np.testing.assert_array_equal(encode_cached(emb, ["old", "new"], cache), out)
    assert emb.calls == 0  # "old" from disk, "new" from memory


def test_read_error_falls_back_to_computing(cache, monkeypatch):
    emb = FakeEmbedder()
    encode_cached(emb, ["a"], cache)

    def broken(*args, **kwargs):
        raise sqlite3.DatabaseError("database disk image is malformed")

    monkeypatch.setattr(diskcache.Cache, "_sql", property(lambda self: broken))
    with pytest.warns(CacheUnavailableWarning, match="malformed"):
        out = encode_cached(emb, ["a", "b"], cache)
    np.testing.assert_array_equal(out, expected_matrix(emb, ["a", "b"]))
    assert cache.stats().problem is not None


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root ignores directory permissions")
def test_read_only_directory(tmp_path):
    emb = FakeEmbedder()
    directory = tmp_path / "emb"
    with EmbeddingCache(directory) as c:
        encode_cached(emb, ["a"], c)
    for p in [directory, *directory.iterdir()]:
        p.chmod(0o555 if p.is_dir() else 0o444)
    try:
        with pytest.warns(CacheUnavailableWarning):
            c = EmbeddingCache(directory)
            out = encode_cached(emb, ["a", "b"], c)
        np.testing.assert_array_equal(out, expected_matrix(emb, ["a", "b"]))
        c.close()
    finally:
        for p in [directory, *directory.iterdir()]:
            p.chmod(0o755 if p.is_dir() else 0o644)


# --------------------------------------------------------------------------- concurrency
def test_two_processes_writing_overlapping_keys(tmp_path):
    directory = str(tmp_path / "emb")
    EmbeddingCache(directory).close()  # create the schema once
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(2)
    procs = [ctx.Process(target=write_range, args=(directory, lo, hi, barrier)) for lo, hi in [(0, 600), (300, 900)]]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
        assert p.exitcode == 0
    emb = FakeEmbedder(dim=16)
    texts = [f"t{i}" for i in range(900)]
    with EmbeddingCache(directory) as c:
        vectors, hit = c.get_many(emb, texts)
        assert hit.all()
        np.testing.assert_array_equal(vectors, expected_matrix(emb, texts))
        assert c.stats().entries == 900


def test_threads_sharing_one_cache(cache):
    emb = FakeEmbedder(dim=16)
    errors: list[BaseException] = []

    def work(offset: int) -> None:
        try:
            texts = [f"t{i}" for i in range(offset, offset + 200)]
            out = encode_cached(emb, texts, cache)
            np.testing.assert_array_equal(out, expected_matrix(emb, texts))
        except BaseException as exc:  # surfaced in the main thread below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k * 100,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    texts = [f"t{i}" for i in range(500)]
    vectors, hit = cache.get_many(emb, texts)
    assert hit.all()
    np.testing.assert_array_equal(vectors, expected_matrix(emb, texts))
