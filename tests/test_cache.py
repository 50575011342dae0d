"""Tests for semanscope.cache: value codec, keys, encode_cached, corruption, fallbacks, concurrency."""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import sqlite3
import threading
import warnings
from contextlib import closing

import numpy as np
import pytest
from fake_embedder import FakeEmbedder, write_range
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from semanscope.cache import (
    CacheRepairedWarning,
    CacheUnavailableWarning,
    EmbeddingCache,
    encode_cached,
    key_language,
    store,
)
from semanscope.cache.codec import HEADER, pack_array, unpack_array
from semanscope.cache.sqlite_store import FILE_NAME
from semanscope.cache.store import fingerprint_tag, key_function

F4, F8 = np.dtype("<f4"), np.dtype("<f8")


def expected_matrix(emb: FakeEmbedder, texts: list[str], lang: str | None = None) -> np.ndarray:
    return np.stack([emb.expected(t, lang) for t in texts])


@pytest.fixture
def cache(tmp_path):
    with EmbeddingCache(tmp_path / "emb") as c:
        yield c


# --------------------------------------------------------------------------- codec and keys
@settings(max_examples=50, deadline=None)
@given(
    hnp.arrays(st.sampled_from([F4, F8]), hnp.array_shapes(min_dims=1, max_dims=2, min_side=0, max_side=12)),
    st.text(max_size=8),
)
def test_pack_unpack_roundtrip_is_bitwise(arr, key):
    blob = pack_array(key, arr, arr.dtype)
    assert len(blob) == HEADER.size + arr.nbytes
    out = unpack_array(key, blob, arr.dtype, arr.ndim, arr.shape)
    assert out is not None and out.dtype == arr.dtype and out.shape == arr.shape
    assert out.tobytes() == arr.tobytes()
    assert unpack_array(key, blob, arr.dtype, arr.ndim) is not None  # shape left open


def test_header_layout_and_checksum_definition():
    vec = np.array([1.5, -2.0], dtype=F4)
    blob = pack_array("k", vec, F4)
    magic, dtype, ndim, rows, cols, digest = HEADER.unpack_from(blob)
    assert (magic, dtype, ndim, rows, cols) == (b"SNA1", b"<f4", 1, 2, 0)
    assert blob[HEADER.size :] == b"\x00\x00\xc0\x3f\x00\x00\x00\xc0"  # little-endian float32
    assert digest == hashlib.blake2b(b"k\0" + blob[:16] + blob[HEADER.size :], digest_size=8).digest()


def test_pack_rejects_other_shapes_and_dtypes():
    with pytest.raises(ValueError, match="1-D or 2-D"):
        pack_array("k", np.zeros((2, 3, 4)), F4)
    with pytest.raises(ValueError, match="dtype"):
        pack_array("k", np.zeros(3), np.dtype("<i4"))


def test_unpack_rejects_every_kind_of_damage():
    vec = np.arange(6, dtype=F4)
    blob = pack_array("k", vec, F4)
    flipped = bytearray(blob)
    flipped[HEADER.size + 5] ^= 0xFF
    reshaped = bytearray(blob)
    reshaped[7], reshaped[8], reshaped[12] = 2, 3, 2  # header says (3, 2): same length, checksum differs
    assert unpack_array("k", blob, F4, 1, (6,)) is not None
    assert unpack_array("k", blob[:-1], F4, 1, (6,)) is None  # truncated
    assert unpack_array("k", blob + b"\0", F4, 1, (6,)) is None  # too long
    assert unpack_array("k", bytes(flipped), F4, 1, (6,)) is None  # checksum
    assert unpack_array("k", bytes(reshaped), F4, 2) is None
    assert unpack_array("other", blob, F4, 1, (6,)) is None  # an intact value under another key
    assert unpack_array("k", blob[:4] + b"<f8" + blob[7:], F4, 1, (6,)) is None
    assert unpack_array("k", b"XXXX" + blob[4:], F4, 1, (6,)) is None
    assert unpack_array("k", pack_array("k", vec[:5], F4), F4, 1, (6,)) is None  # wrong shape
    assert unpack_array("k", blob, F4, 1, (5,)) is None
    assert unpack_array("k", blob, F8, 1, (6,)) is None  # wrong dtype
    assert unpack_array("k", blob, F4, 2) is None  # wrong ndim
    assert unpack_array("k", pack_array("k", vec.reshape(2, 3), F4), F4, 1) is None
    assert unpack_array("k", vec.tobytes(), F4, 1, (6,)) is None  # raw vector without header
    assert unpack_array("k", b"", F4, 1) is None
    assert unpack_array("k", "not bytes", F4, 1) is None
    assert unpack_array("k", None, F4, 1) is None
    assert unpack_array("k", 12345, F4, 1) is None


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


def test_only_misses_are_encoded_shortest_first_across_calls(cache):
    """Misses go to the model sorted by length over the whole request (equal lengths in
    first-seen order), in calls of ``batch_size``; the result is in input order."""
    emb = FakeEmbedder()
    encode_cached(emb, ["x", "y"], cache)
    emb.encoded.clear()
    emb.calls = 0
    texts = ["zzzz", "y", "w", "x", "vvv", "zzzz", "uu", "t"]
    out = encode_cached(emb, texts, cache, batch_size=2)
    assert [t for _, t in emb.encoded] == ["w", "t", "uu", "vvv", "zzzz"] and emb.calls == 2  # sizes 2, then 4
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


def set_stored_value(directory, key: str, value) -> None:
    """Overwrite the stored value of ``key`` in the cache file, as a damaged disk or a hand would."""
    with closing(sqlite3.connect(directory / FILE_NAME)) as con:
        assert con.execute("UPDATE entries SET value = ? WHERE key = ?", (value, key)).rowcount == 1
        con.commit()


def stored_value(directory, key: str):
    with closing(sqlite3.connect(directory / FILE_NAME)) as con:
        return con.execute("SELECT value FROM entries WHERE key = ?", (key,)).fetchone()[0]


@pytest.mark.parametrize(
    "damage",
    [
        lambda blob, good: blob[:-3],  # truncated
        lambda blob, good: blob[:-1] + bytes([blob[-1] ^ 1]),  # overwritten byte
        lambda blob, good: pack_array(entry_key("fake:v1:8", "", "bad"), np.ones(9, dtype=F4), F4),  # wrong shape
        lambda blob, good: good,  # an intact value of another key
        lambda blob, good: b"garbage",
        lambda blob, good: 12345,  # not bytes at all
        lambda blob, good: "text",
        lambda blob, good: b"\0" * 10**6,  # far too long: never read
    ],
    ids=["truncated", "flipped", "wrong-shape", "other-key", "garbage", "integer", "text", "huge"],
)
def test_corrupted_entry_is_recomputed_never_returned(tmp_path, damage):
    emb = FakeEmbedder(dim=8)
    directory = tmp_path / "emb"
    with EmbeddingCache(directory) as c:
        encode_cached(emb, ["good", "bad"], c)
    key = entry_key(emb.fingerprint, "", "bad")
    set_stored_value(
        directory,
        key,
        damage(stored_value(directory, key), stored_value(directory, entry_key(emb.fingerprint, "", "good"))),
    )
    emb.encoded.clear()
    with EmbeddingCache(directory) as c:
        with pytest.warns(CacheRepairedWarning, match="1 damaged entry in the embedding cache"):
            out = encode_cached(emb, ["good", "bad"], c)
        np.testing.assert_array_equal(out, expected_matrix(emb, ["good", "bad"]))
        assert emb.encoded == [(None, "bad")]
        (problem,) = c.problems()
        assert (problem.seq, problem.kind) == (1, "repaired") and "damaged" in problem.message
        assert c.problems(after=1) == []
        _, hit = c.get_many(emb, ["good", "bad"])
        assert hit.all()  # the repaired entry was stored again
    assert unpack_array(key, stored_value(directory, key), F4, 1, (8,)) is not None


def test_large_vectors_round_trip_in_one_file(tmp_path):
    emb = FakeEmbedder(dim=9000)  # 36 kB per value
    texts = ["a", "b", "a"]
    with EmbeddingCache(tmp_path / "emb") as c:
        first = encode_cached(emb, texts, c)
        emb.calls = 0
        np.testing.assert_array_equal(encode_cached(emb, texts, c), first)
        assert emb.calls == 0
    np.testing.assert_array_equal(first, expected_matrix(emb, texts))
    assert [p.name for p in (tmp_path / "emb").iterdir()] == [FILE_NAME]


def test_duplicate_texts_in_get_many(cache):
    emb = FakeEmbedder()
    encode_cached(emb, ["a"], cache)
    vectors, hit = cache.get_many(emb, ["a", "b", "a"])
    assert hit.tolist() == [True, False, True]
    np.testing.assert_array_equal(vectors[[0, 2]], expected_matrix(emb, ["a", "a"]))
    assert not vectors[1].any()
    assert (cache.stats().last_hits, cache.stats().last_misses) == (2, 1)


def test_progress_counts_texts_and_reports_hits_first(cache):
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


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def written(directory, emb: FakeEmbedder, texts: list[str]) -> list[bool]:
    """Which ``texts`` another process would find in the cache at ``directory`` now."""
    with EmbeddingCache(directory) as other:
        return other.get_many(emb, texts)[1].tolist()


def test_writes_every_n_texts_and_when_stopped(tmp_path):
    directory = tmp_path / "emb"
    texts = [f"t{i}" for i in range(7)]
    seen: list[list[bool]] = []

    clock = FakeClock()

    class Watched(FakeEmbedder):
        def _encode(self, batch, lang, batch_size, progress):
            seen.append(written(directory, self, texts))
            if len(self.encoded) == 6:
                raise KeyboardInterrupt
            clock.now += 30.0  # slow enough to keep batches of 2, too fast for a write by time
            return super()._encode(batch, lang, batch_size, progress)

    emb = Watched()
    cache = EmbeddingCache(directory, write_every=3, write_seconds=100.0, clock=clock)
    with cache, pytest.raises(KeyboardInterrupt):
        encode_cached(emb, texts, cache, batch_size=2)
    # pieces of 2 texts: written after 4 texts (>= 3 pending), the next 2 only when the run stopped
    assert seen == [[False] * 7, [False] * 7, [True] * 4 + [False] * 3, [True] * 4 + [False] * 3]
    assert written(directory, emb, texts) == [True] * 6 + [False]


def test_writes_after_write_seconds_with_few_texts(tmp_path):
    directory = tmp_path / "emb"
    clock = FakeClock()
    texts = [f"t{i}" for i in range(4)]
    seen: list[list[bool]] = []

    class Slow(FakeEmbedder):
        def _encode(self, batch, lang, batch_size, progress):
            seen.append(written(directory, self, texts))
            clock.now += 1.5  # each text takes 1.5 s
            return super()._encode(batch, lang, batch_size, progress)

    emb = Slow()
    with EmbeddingCache(directory, write_every=100, write_seconds=2.0, clock=clock) as cache:
        encode_cached(emb, texts, cache, batch_size=1)
    # t0 at 1.5 s (wait), t1 at 3.0 s (write t0, t1), t2 at 4.5 s (wait), t3 at 6.0 s (write)
    assert seen == [[False] * 4, [False] * 4, [True, True, False, False], [True, True, False, False]]
    assert written(directory, emb, texts) == [True] * 4


@pytest.mark.parametrize("seconds_per_call, sizes", [(0.0, [2, 4, 8, 8, 8, 3]), (0.5, [2] * 16 + [1])])
def test_fast_models_get_larger_calls(tmp_path, seconds_per_call, sizes):
    clock = FakeClock()
    calls: list[int] = []

    class Timed(FakeEmbedder):
        def _encode(self, batch, lang, batch_size, progress):
            calls.append(len(batch))
            clock.now += seconds_per_call
            return super()._encode(batch, lang, batch_size, progress)

    emb = Timed()
    texts = [f"t{i}" for i in range(33)]
    with EmbeddingCache(tmp_path / "emb", write_every=8, write_seconds=2.0, clock=clock) as cache:
        np.testing.assert_array_equal(encode_cached(emb, texts, cache, batch_size=2), expected_matrix(emb, texts))
        assert cache.get_many(emb, texts)[1].all()
    assert calls == sizes and emb.encoded == [(None, t) for t in texts]


def test_count_cached_needs_no_model(cache):
    emb = FakeEmbedder(dim=8, language_aware=True)
    encode_cached(emb, ["a", "b"], cache, lang="de")
    assert cache.count_cached(emb.fingerprint, 8, ["a", "b", "c", "a"], key_lang="de") == 2
    assert cache.count_cached(emb.fingerprint, 8, ["a", "b"], key_lang="en") == 0
    assert cache.count_cached(emb.fingerprint, 16, ["a", "b"], key_lang="de") == 0  # another dim
    assert cache.count_cached("fake:other", 8, ["a"], key_lang="de") == 0
    assert cache.stats().total_hits == 0  # counting is not a lookup
    vectors, hit = cache.get_vectors(emb.fingerprint, 8, ["b", "c"], key_lang=key_language(True, "de"))
    assert hit.tolist() == [True, False]
    np.testing.assert_array_equal(vectors[0], emb.expected("b", "de"))
    assert key_language(False, "de") == "" and key_language(True, None) == ""


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


def test_clear_gives_the_space_back(tmp_path):
    emb = FakeEmbedder(dim=384)
    texts = [f"t{i}" for i in range(2000)]
    with EmbeddingCache(tmp_path / "emb") as c:
        encode_cached(emb, texts, c)
        assert c.stats().volume_bytes == 2000 * (40 + HEADER.size + 384 * 4)  # keys + values
        c.clear()
    assert (tmp_path / "emb" / FILE_NAME).stat().st_size < 200_000  # from about 3.9 MB


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
    mem = store._MemoryStore(size_limit=25)  # keys + values: 11 bytes per entry below
    mem.set_many([("a", b"x" * 10), ("b", b"x" * 10)], tag="t")
    mem.set_many([("c", b"x" * 10)], tag="u")
    assert set(mem.get_many(["a", "b", "c"])) == {"b", "c"}
    assert mem.volume == 22 and len(mem) == 2
    assert mem.evict("u") == 1 and mem.volume == 11


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


def test_full_disk_on_write_falls_back_to_memory(cache):
    emb = FakeEmbedder()
    encode_cached(emb, ["old"], cache)
    con = cache._disk._con
    con.execute(f"PRAGMA max_page_count = {con.execute('PRAGMA page_count').fetchone()[0]}")  # no room to grow
    texts = ["old"] + [f"new {i}" for i in range(500)]
    with pytest.warns(CacheUnavailableWarning, match="disk is full"):
        out = encode_cached(emb, texts, cache)
    np.testing.assert_array_equal(out, expected_matrix(emb, texts))
    assert not cache.persistent and "disk is full" in cache.stats().problem
    assert [p.kind for p in cache.problems()] == ["unavailable"]
    emb.calls = 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # warned once, not on every call
        np.testing.assert_array_equal(encode_cached(emb, texts, cache), out)
    assert emb.calls == 0  # "old" from disk, the new texts from memory


class BrokenConnection:
    """Stands in for the store's SQLite connection when the disk fails under it."""

    in_transaction = False

    def execute(self, *args):
        raise sqlite3.OperationalError("disk I/O error")

    def close(self) -> None:
        pass


def test_read_error_falls_back_to_computing(cache):
    emb = FakeEmbedder()
    encode_cached(emb, ["a"], cache)
    cache._disk._con.close()
    cache._disk._con = BrokenConnection()
    with pytest.warns(CacheUnavailableWarning, match="cannot read the embedding cache .*disk I/O error"):
        out = encode_cached(emb, ["a", "b"], cache)
    np.testing.assert_array_equal(out, expected_matrix(emb, ["a", "b"]))
    assert cache.stats().problem is not None and not cache.persistent
    emb.calls = 0
    np.testing.assert_array_equal(encode_cached(emb, ["a", "b"], cache), out)
    assert emb.calls == 0  # kept in memory


@pytest.mark.parametrize(
    "schema",
    [
        "CREATE TABLE entries (key TEXT, value BLOB, tag TEXT)",  # another program's, or an older format
        "CREATE TABLE Cache (rowid INTEGER PRIMARY KEY, key BLOB, raw INTEGER, mode INTEGER, value BLOB)",
    ],
)
def test_a_database_of_another_schema_is_moved_aside(tmp_path, schema):
    directory = tmp_path / "emb"
    directory.mkdir()
    with closing(sqlite3.connect(directory / FILE_NAME)) as con:
        con.execute(schema)
        con.commit()
    emb = FakeEmbedder()
    with pytest.warns(CacheRepairedWarning, match="not a Semanscope cache"):
        cache = EmbeddingCache(directory)
    with cache:
        encode_cached(emb, ["a"], cache)
        assert cache.persistent and cache.get_many(emb, ["a"])[1].all()
    assert len(list(directory.glob(FILE_NAME + ".corrupt-*"))) == 1


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


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="no fork here")
def test_a_forked_child_opens_its_own_connection(cache):
    emb = FakeEmbedder()
    encode_cached(emb, ["parent"], cache)

    def child() -> None:
        out = encode_cached(emb, ["parent", "child"], cache)  # the parent's connection is not used
        os._exit(0 if np.array_equal(out, expected_matrix(emb, ["parent", "child"])) and cache.persistent else 1)

    proc = multiprocessing.get_context("fork").Process(target=child)
    proc.start()
    proc.join(timeout=120)
    assert proc.exitcode == 0
    vectors, hit = cache.get_many(emb, ["parent", "child"])  # the parent's connection still works
    assert hit.all()
    np.testing.assert_array_equal(vectors, expected_matrix(emb, ["parent", "child"]))


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
