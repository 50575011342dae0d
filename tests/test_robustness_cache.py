"""Robustness of the embedding cache beyond tests/test_cache.py: values replaced by pickles that
run code, a damaged database file, a filled read-only directory, a really full disk (as root),
an encode interrupted half-way, and two app sessions plus a CLI run writing one cache at once in
separate processes. In every case the vectors returned are the model's own and nothing crashes."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from cache_tamper import garble_database, pickle_payload, read_only, sqlite_files, update_values
from fake_embedder import FakeEmbedder
from quick_study import quick_study_argv

from semanscope.cache import CacheRepairedWarning, CacheUnavailableWarning, EmbeddingCache, encode_cached

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


# --------------------------------------------------------------------------- unusable directories, as root
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


# --------------------------------------------------------------------------- issue 12 reproductions
def test_pickled_values_never_run_code(tmp_path):
    """A cache folder from elsewhere whose every value is a pickle that runs a command."""
    directory, marker = tmp_path / "emb", tmp_path / "pwned"
    model = FakeEmbedder(dim=16)
    fill(directory, model)
    assert update_values(directory, "?", (pickle_payload(marker),)) == len(TEXTS)
    model.encoded.clear()
    out, caught = encode_again(directory, model)
    assert not marker.exists()
    np.testing.assert_array_equal(out, expected(model, TEXTS))
    assert sorted(t for _, t in model.encoded) == sorted(TEXTS)  # every tampered value was recomputed once
    assert any("damaged" in str(w.message) for w in caught)


def test_cli_rerun_on_a_tampered_cache_runs_no_code_and_says_so(tmp_path, capsys):
    """The report of issue 12: every cached value replaced by a pickle running a command, then
    ``semanscope study`` again: no command runs, the scores are the same, stderr says what happened."""
    from semanscope import cli

    cache, marker = tmp_path / "cache", tmp_path / "pwned"
    args = ["study", "--models", "tokenlearn-static", "--langs", "en,de,zh", "--max-concepts", "5"]
    args += ["--n-boot", "0", "--no-figures", "--xquad", "none", "--cache", str(cache)]
    assert cli.main([*args, "--out", str(tmp_path / "first")]) == 0
    capsys.readouterr()
    assert update_values(cache, "?", (pickle_payload(marker),)) > 0
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    rerun = subprocess.run(
        [sys.executable, "-m", "semanscope", *args, "--out", str(tmp_path / "second")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": path},
        timeout=600,
    )
    assert rerun.returncode == 0, rerun.stderr
    assert not marker.exists()
    assert "CacheRepairedWarning" in rerun.stderr and "damaged entries in the embedding cache" in rerun.stderr
    first, second = (json.loads((tmp_path / d / "results.json").read_text()) for d in ("first", "second"))
    assert [m["record"]["affinity"] for m in first["datasets"]["main"]["models"]] == [
        m["record"]["affinity"] for m in second["datasets"]["main"]["models"]
    ]


@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty"])
def test_corrupt_database_is_moved_aside_and_rebuilt(tmp_path, damage):
    directory = tmp_path / "emb"
    model = FakeEmbedder(dim=16)
    fill(directory, model)
    if damage == "garbage":
        db = garble_database(directory)
    else:
        (db,) = sqlite_files(directory)
        db.write_bytes(db.read_bytes()[: db.stat().st_size // 3] if damage == "truncated" else b"")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with EmbeddingCache(directory) as cache:
            out = encode_cached(model, TEXTS, cache)
            assert cache.persistent
            problems = cache.problems()
    np.testing.assert_array_equal(out, expected(model, TEXTS))
    if damage == "empty":  # SQLite takes an empty file for a new database: nothing to move aside
        assert not list(directory.glob("*.corrupt-*")) and not problems
    else:
        (aside,) = directory.glob("*.corrupt-*")
        assert re.fullmatch(re.escape(db.name) + r"\.corrupt-\d{8}T\d{6}Z", aside.name)
        assert [p.kind for p in problems] == ["repaired"] and "moved aside" in problems[0].message
        assert [w.category for w in caught] == [CacheRepairedWarning]
    model.calls = 0
    out, _ = encode_again(directory, model)  # the rebuilt database serves the second run
    assert model.calls == 0
    np.testing.assert_array_equal(out, expected(model, TEXTS))


@pytest.mark.parametrize("name", ["emb", "odd ?#% name"])  # the read-only open goes through a file: URI
def test_filled_read_only_cache_serves_hits(tmp_path, name):
    directory = tmp_path / name
    model = FakeEmbedder(dim=16)
    with EmbeddingCache(directory) as cache:
        encode_cached(model, TEXTS[:20], cache)
    model.encoded.clear()
    with read_only(directory):
        out, caught = encode_again(directory, model)
    np.testing.assert_array_equal(out, expected(model, TEXTS))
    assert [t for _, t in model.encoded] == TEXTS[20:]  # the 20 cached texts were read, not recomputed
    assert any(issubclass(w.category, CacheUnavailableWarning) for w in caught)


def test_interrupted_encode_keeps_its_finished_batches(tmp_path):
    """An encode that dies after 600 of 1,000 texts: a second process already sees the batches
    written during the run (and the finished rest once it has stopped)."""
    directory = tmp_path / "emb"
    texts = [f"text {i}" for i in range(1000)]

    now = [0.0]

    class Dying(FakeEmbedder):
        seen_by_another_process = -1

        def _encode(self, batch, lang, batch_size, progress):
            if len(self.encoded) + len(batch) > 600:
                with EmbeddingCache(directory) as other:
                    self.seen_by_another_process = int(other.get_many(self, texts)[1].sum())
                raise KeyboardInterrupt
            now[0] += 0.5  # per batch of 64 texts: not fast enough for larger calls
            return super()._encode(batch, lang, batch_size, progress)

    model = Dying(dim=16)
    with EmbeddingCache(directory, clock=lambda: now[0]) as cache, pytest.raises(KeyboardInterrupt):
        encode_cached(model, texts, cache)  # batches of 64 texts
    assert model.seen_by_another_process == 512  # two write batches of 256 texts
    with EmbeddingCache(directory) as cache:
        vectors, hit = cache.get_many(model, texts)
    assert hit.sum() == len(model.encoded) == 576  # and the 64 encoded since, stored when it stopped
    np.testing.assert_array_equal(vectors[hit], expected(model, [t for _, t in model.encoded]))
