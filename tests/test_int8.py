"""e5-small-int8: the ONNX encoder, its build (export + int8 quantisation + verification) and its
setup step, on a tiny locally built sentence-transformers model (the real build takes minutes)."""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from semanscope.models import quantize_e5, registry, setup
from semanscope.models.onnx_encoder import OnnxEmbedder, mean_pool
from semanscope.models.sentence_transformer import STEmbedder

WORDS = "query : cat dog house tree the a big small red green runs sleeps".split()
TEXTS = ["cat", "the big dog runs", "red house " * 20, "a small green tree sleeps", "zebra", "dog " * 3]
MAX_SEQ = 16


@pytest.fixture(autouse=True)
def _tmp_hash_store(tmp_path, monkeypatch):
    monkeypatch.setenv("SEMANSCOPE_CACHE", str(tmp_path / "home"))


@pytest.fixture(scope="module")
def tiny_st(tmp_path_factory) -> Path:
    """A 2-layer, 32-d BERT with a word-level tokenizer as a sentence-transformers folder
    (Transformer -> mean Pooling -> Normalize, prompt ``query: ``, max_seq_length 16)."""
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers import models as st
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

    root = tmp_path_factory.mktemp("tiny-st")
    vocab = {t: i for i, t in enumerate(["[PAD]", "[UNK]", "[CLS]", "[SEP]", *WORDS])}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", 2), ("[SEP]", 3)]
    )
    specials = {"unk_token": "[UNK]", "pad_token": "[PAD]", "cls_token": "[CLS]", "sep_token": "[SEP]"}
    PreTrainedTokenizerFast(tokenizer_object=tok, model_max_length=MAX_SEQ, **specials).save_pretrained(root / "raw")
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=len(vocab),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=64,
    )
    BertModel(config, add_pooling_layer=False).save_pretrained(root / "raw")
    modules = [st.Transformer(str(root / "raw"), max_seq_length=MAX_SEQ), st.Pooling(32, "mean"), st.Normalize()]
    model = SentenceTransformer(modules=modules, prompts={"query": "query: "}, default_prompt_name="query")
    model.save(str(root / "st"))
    return root / "st"


def test_mean_pool_by_hand():
    hidden = np.array([[[3.0, 0.0], [1.0, 4.0], [100.0, 100.0]]], dtype=np.float32)
    mask = np.array([[1, 1, 0]])
    np.testing.assert_allclose(mean_pool(hidden, mask), [[2 / np.sqrt(8), 2 / np.sqrt(8)]], rtol=1e-6)


def test_fp32_export_reproduces_sentence_transformers(tiny_st, tmp_path):
    """Without quantisation the ONNX encoder gives the torch model's vectors: prompt, special
    tokens, truncation at max_seq_length, padding and mean pooling all match, in any batch."""
    folder = tmp_path / "fp32"
    folder.mkdir()
    quantize_e5.export_onnx(tiny_st, folder / "model.onnx")
    shutil.copyfile(tiny_st / "tokenizer.json", folder / "tokenizer.json")
    config = {"prompt": "query: ", "max_tokens": MAX_SEQ, "dim": 32}
    (folder / "encoder_config.json").write_text(json.dumps(config), encoding="utf-8")
    onnx, torch_model = OnnxEmbedder(folder), STEmbedder(tiny_st)
    want = torch_model.encode(TEXTS)
    np.testing.assert_allclose(onnx.encode(TEXTS, batch_size=2), want, atol=2e-5)
    np.testing.assert_allclose(onnx.encode(TEXTS[::-1], batch_size=64), want[::-1], atol=2e-5)
    assert onnx.truncated(TEXTS).tolist() == torch_model.truncated(TEXTS).tolist() == [0, 0, 1, 0, 0, 0]
    assert onnx.token_counts(["cat dog"]).tolist() == [6]  # [CLS] query : cat dog [SEP]
    assert onnx._session is not None and OnnxEmbedder(folder).fingerprint == onnx.fingerprint


def test_build_quantises_matmul_weights_and_records_the_cosines(tiny_st, tmp_path):
    import onnx

    out = quantize_e5.build_e5_int8(tiny_st, tmp_path / "int8", texts=TEXTS)
    assert sorted(p.name for p in out.iterdir()) == [
        "encoder_config.json",
        "model.onnx",
        "semanscope_meta.json",
        "tokenizer.json",
    ]
    graph = onnx.load(str(out / "model.onnx")).graph
    weights = {i.name for i in graph.initializer}
    assert any(n.op_type == "MatMulInteger" for n in graph.node)
    # every MatMul left multiplies two activations (attention): no float32 MatMul weight remains
    assert not [n.name for n in graph.node if n.op_type == "MatMul" and set(n.input) & weights]
    table = next(i for i in graph.initializer if i.name.endswith("word_embeddings.weight"))
    assert table.data_type == onnx.TensorProto.FLOAT  # the embedding table stays float32
    meta = json.loads((out / "semanscope_meta.json").read_text(encoding="utf-8"))["verification"]
    cos = quantize_e5.cosines(STEmbedder(tiny_st), OnnxEmbedder(out), TEXTS)
    assert meta["n_texts"] == len(TEXTS) and meta["passed"]
    assert meta["mean_cosine"] == pytest.approx(cos.mean(), abs=1e-6) and meta["min_cosine"] >= 0.99
    with pytest.raises(quantize_e5.QuantizationError, match="already exists"):
        quantize_e5.build_e5_int8(tiny_st, out, texts=TEXTS)


def test_a_build_below_the_thresholds_says_so(tiny_st, tmp_path):
    out = quantize_e5.build_e5_int8(tiny_st, tmp_path / "int8", texts=TEXTS, min_mean=1.1)
    meta = json.loads((out / "semanscope_meta.json").read_text(encoding="utf-8"))["verification"]
    assert meta["thresholds"] == {"mean": 1.1, "min": quantize_e5.MIN_COSINE} and not meta["passed"]


def test_setup_builds_e5_small_int8_after_e5_small_st(tiny_st, tmp_path, monkeypatch):
    def copy_tiny(out, cache, progress):
        shutil.copytree(tiny_st, out)
        (out / registry.META_FILE).write_text("{}", encoding="utf-8")

    monkeypatch.setitem(setup._BUILDERS, "e5-small-st", copy_tiny)
    monkeypatch.setattr(quantize_e5, "verification_texts", lambda: TEXTS)
    assert setup.plan(["e5-small-int8"]) == ["e5-small-st", "e5-small-int8"]
    results = setup.run_setup(tmp_path, only=["e5-small-int8"])
    assert [(r.key, r.status) for r in results] == [("e5-small-st", "built"), ("e5-small-int8", "built")]
    assert registry.get_info("e5-small-int8", tmp_path).available
    model = registry.load_model("e5-small-int8", tmp_path)
    assert isinstance(model, OnnxEmbedder) and model.family == "contextual" and model.dim == 32
    np.testing.assert_allclose(np.linalg.norm(model.encode(TEXTS), axis=1), 1.0, rtol=1e-5)


def test_verification_texts_are_the_faq_set_and_xquad(tmp_path):
    from semanscope.data.builtin import load_builtin

    xquad = tmp_path / "questions.csv"
    xquad.write_text("id,en,de\nq1,How?,Wie?\nq2,Why?,\n", encoding="utf-8")
    faq = list(dict.fromkeys(load_builtin("faq").items().texts))
    assert quantize_e5.verification_texts(xquad) == [*faq, "How?", "Wie?", "Why?"]
    assert quantize_e5.verification_texts(None) == faq
