"""Robustness of the embedding cache beyond tests/test_cache.py: a damaged database file or
value file, a read-only or really full directory (as root, where chmod does not stop writes),
and two app sessions plus a CLI run writing one cache at once in separate processes. In every
case the vectors returned are the model's own and nothing crashes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from fake_embedder import FakeEmbedder
from quick_study import quick_study_argv

from semanscope.cache import CacheUnavailableWarning, EmbeddingCache, encode_cached

ROOT = Path(__file__).resolve().parents[1]
TEXTS = [f"text {i}" for i in range(40)]
IS_ROOT = os.name == "posix" and os.geteuid() == 0


def expected(model: FakeEmbedder, texts: list[str]) -> np.ndarray:
    return np.stack([model.expected(t) for t in texts])


def fill(directory: Path, model: FakeEmbedder) -> None:
    with EmbeddingCache(directory) as cache:
        encode_cached(model, TEXTS, cache)


def encode_again(directory: Path, model: FakeEmbedder) -> tuple[np.ndarray, list[warnings.WarningMessage]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with EmbeddingCache(directory) as cache:
            out = encode_cached(model, TEXTS, cache)
            again = encode_cached(model, TEXTS, cache)
    np.testing.assert_array_equal(again, out)
    return out, caught


# --------------------------------------------------------------------------- damaged files
@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty"])
def test_damaged_database_file_falls_back_and_returns_the_models_vectors(tmp_path, damage):
    directory = tmp_path / "emb"
    model = FakeEmbedder(dim=16)
    fill(directory, model)
    db = directory / "cache.db"
    data = db.read_bytes()
    db.write_bytes({"garbage": os.urandom(len(data)), "truncated": data[: len(data) // 3], "empty": b""}[damage])
    for extra in directory.glob("cache.db-*"):  # the WAL and shared-memory files of the old database
        extra.unlink()
    out, caught = encode_again(directory, model)
    np.testing.assert_array_equal(out, expected(model, TEXTS))
    if damage != "empty":  # SQLite turns an empty file into a new database
        assert any(issubclass(w.category, CacheUnavailableWarning) for w in caught)


def test_truncated_value_file_is_recomputed(tmp_path):
    directory = tmp_path / "emb"
    model = FakeEmbedder(dim=9000)  # 36 kB per vector: diskcache keeps each in its own .val file
    with EmbeddingCache(directory) as cache:
        encode_cached(model, TEXTS[:3], cache)
    files = sorted(directory.rglob("*.val"))
    assert len(files) == 3
    files[0].write_bytes(files[0].read_bytes()[:100])
    files[1].unlink()
    model.calls = 0
    model.encoded.clear()
    with EmbeddingCache(directory) as cache:
        out = encode_cached(model, TEXTS[:3], cache)
    np.testing.assert_array_equal(out, expected(model, TEXTS[:3]))
    assert model.calls == 1 and len(model.encoded) == 2  # the two damaged entries, nothing else


# --------------------------------------------------------------------------- unusable directories, as root
def chattr(flag: str, paths: list[Path]) -> bool:
    chattr_bin = shutil.which("chattr")
    if chattr_bin is None:
        return False
    return subprocess.run([chattr_bin, flag, *map(str, paths)], capture_output=True).returncode == 0


@pytest.mark.skipif(not IS_ROOT, reason="tests/test_cache.py::test_read_only_directory covers non-root users")
def test_read_only_directory_even_for_root(tmp_path):
    directory = tmp_path / "emb"
    model = FakeEmbedder(dim=16)
    with EmbeddingCache(directory) as cache:
        encode_cached(model, TEXTS[:20], cache)  # half of the texts are cached
    locked = [directory, *directory.iterdir()]
    if not chattr("+i", locked):
        pytest.skip("chattr +i is not supported here")
    try:
        out, caught = encode_again(directory, model)
    finally:
        chattr("-i", locked)
    np.testing.assert_array_equal(out, expected(model, TEXTS))
    assert any(issubclass(w.category, CacheUnavailableWarning) for w in caught)


@pytest.mark.skipif(not IS_ROOT, reason="mounting a small tmpfs needs root")
def test_really_full_disk(tmp_path):
    mount = tmp_path / "small"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=160k", "tmpfs", str(mount)], capture_output=True).returncode:
        pytest.skip("cannot mount a tmpfs here")
    model = FakeEmbedder(dim=512)  # 2 kB per vector: 400 vectors need ~1 MB
    texts = [f"text {i}" for i in range(400)]
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with EmbeddingCache(mount / "emb") as cache:
                out = encode_cached(model, texts, cache)
                model.calls = 0
                again = encode_cached(model, texts, cache)
                stats = cache.stats()
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)
    np.testing.assert_array_equal(out, expected(model, texts))
    np.testing.assert_array_equal(again, out)
    assert model.calls == 0  # what did not fit on disk was kept in memory
    assert not stats.persistent and "full" in stats.problem
    assert sum(issubclass(w.category, CacheUnavailableWarning) for w in caught) == 1


# --------------------------------------------------------------------------- app sessions and a CLI run at once
def test_two_app_sessions_and_a_cli_run_write_one_cache_at_once(tmp_path):
    """Real processes on one cache folder: ``semanscope study`` and an app server process whose
    two sessions embed other language views of the same FAQ set (overlapping texts), all with
    tokenlearn-static, started together. The app worker then checks the cache (one valid entry
    per text, equal to the model's vector): see tests/robustness_workers.py."""
    cache_dir = tmp_path / "cache"
    job = {
        "cache": str(cache_dir),
        "start": str(tmp_path / "start"),
        "done": str(tmp_path / "cli-done"),
        "views": ["en,de,es,zh", "en,de,ar,hi"],
        "cli": quick_study_argv(
            "builtin", tmp_path / "out", cache_dir, "--langs", "en,de,es,zh", "--max-concepts", "20"
        ),
    }
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "SEMANSCOPE_CACHE": str(cache_dir), "HF_HUB_OFFLINE": "1", "PYTHONPATH": path}
    worker = str(ROOT / "tests" / "robustness_workers.py")
    procs = [
        subprocess.Popen(
            [sys.executable, worker, role, json.dumps(job)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        for role in ("app", "cli")
    ]
    Path(job["start"]).touch()
    logs = [p.communicate(timeout=600)[0].decode(errors="replace") for p in procs]
    assert [p.returncode for p in procs] == [0, 0], logs
    assert "Traceback" not in logs[0] + logs[1]
    assert (tmp_path / "out" / "results.json").is_file()
