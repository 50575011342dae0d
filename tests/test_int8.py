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
KEEP = (1,)  # the tiny model has 2 layers: its layer-1 FFN output MatMul stays float32


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

    reports: list[tuple[int, int]] = []
    out = quantize_e5.build_e5_int8(
        tiny_st, tmp_path / "int8", texts=TEXTS, fp32_layers=KEEP, progress=lambda d, t: reports.append((d, t))
    )
    total = 2 * len(TEXTS) + 3  # export, quantise, one unit per text and model, save
    assert reports[:2] == [(1, total), (2, total)] and reports[-1] == (total, total)
    assert {t for _, t in reports} == {total} and [d for d, _ in reports] == sorted(d for d, _ in reports)
    assert sorted(p.name for p in out.iterdir()) == [
        "encoder_config.json",
        "model.onnx",
        "semanscope_meta.json",
        "tokenizer.json",
    ]
    graph = onnx.load(str(out / "model.onnx")).graph
    weights = {i.name for i in graph.initializer}
    assert any(n.op_type == "MatMulInteger" for n in graph.node)
    # the MatMuls left multiply two activations (attention), except the one kept float32
    kept = ["/model/encoder/layer.1/output/dense/MatMul"]
    assert [n.name for n in graph.node if n.op_type == "MatMul" and set(n.input) & weights] == kept
    table = next(i for i in graph.initializer if i.name.endswith("word_embeddings.weight"))
    assert table.data_type == onnx.TensorProto.FLOAT  # the embedding table stays float32
    record = json.loads((out / "semanscope_meta.json").read_text(encoding="utf-8"))
    assert record["recipe"]["nodes_to_exclude"] == kept and record["recipe"]["float32_ffn_output_layers"] == [1]
    meta = record["verification"]
    cos = quantize_e5.cosines(STEmbedder(tiny_st), OnnxEmbedder(out), TEXTS)
    assert meta["n_texts"] == len(TEXTS) and meta["passed"] and registry.verified(out)
    assert meta["mean_cosine"] == pytest.approx(cos.mean(), abs=1e-6) and meta["min_cosine"] >= 0.99
    assert quantize_e5.verification_summary(out).startswith(f"verified on {len(TEXTS)} texts in ")
    with pytest.raises(quantize_e5.QuantizationError, match="already exists"):
        quantize_e5.build_e5_int8(tiny_st, out, texts=TEXTS, fp32_layers=KEEP)


def test_cosines_are_per_text_in_input_order():
    """Encoded in length order, reported in input order: the brute-force cosine of each text's two vectors."""
    from fake_embedder import FakeEmbedder

    a, b = FakeEmbedder(salt="a"), FakeEmbedder(salt="b")
    want = [
        float(x @ y / (np.linalg.norm(x) * np.linalg.norm(y)))
        for x, y in zip(map(a.expected, TEXTS), map(b.expected, TEXTS), strict=True)
    ]
    reports: list[tuple[int, int]] = []
    got = quantize_e5.cosines(a, b, TEXTS, progress=lambda d, t: reports.append((d, t)))
    np.testing.assert_allclose(got, want, rtol=1e-6)
    assert [t for _, t in a.encoded] == sorted(TEXTS, key=len)  # the model saw them shortest first
    assert reports[-1] == (2 * len(TEXTS), 2 * len(TEXTS))


def test_the_kept_layers_must_exist(tiny_st, tmp_path):
    quantize_e5.export_onnx(tiny_st, tmp_path / "model.onnx")
    assert quantize_e5.ffn_output_matmuls(tmp_path / "model.onnx", [0]) == [
        "/model/encoder/layer.0/output/dense/MatMul"
    ]
    with pytest.raises(quantize_e5.QuantizationError, match="layer.4/output/dense/MatMul"):
        quantize_e5.ffn_output_matmuls(tmp_path / "model.onnx", quantize_e5.FP32_FFN_OUTPUT_LAYERS)


def test_a_build_below_the_thresholds_says_so(tiny_st, tmp_path):
    out = quantize_e5.build_e5_int8(tiny_st, tmp_path / "int8", texts=TEXTS, min_mean=1.1, fp32_layers=KEEP)
    meta = json.loads((out / "semanscope_meta.json").read_text(encoding="utf-8"))["verification"]
    assert meta["thresholds"] == {"mean": 1.1, "min": quantize_e5.MIN_COSINE} and not meta["passed"]
    assert not registry.verified(out) and "below the bar mean >= 1.1" in quantize_e5.verification_summary(out)


def test_setup_builds_e5_small_int8_after_e5_small_st(tiny_st, tmp_path, monkeypatch):
    def copy_tiny(out, cache, progress):
        shutil.copytree(tiny_st, out)
        (out / registry.META_FILE).write_text("{}", encoding="utf-8")

    monkeypatch.setitem(setup._BUILDERS, "e5-small-st", copy_tiny)
    monkeypatch.setattr(quantize_e5, "verification_texts", lambda: TEXTS)
    monkeypatch.setattr(quantize_e5, "FP32_FFN_OUTPUT_LAYERS", KEEP)
    assert setup.plan(["e5-small-int8"]) == ["e5-small-st", "e5-small-int8"]
    assert registry.default_comparison(tmp_path) == ("tokenlearn-static", "e5-small-nano")  # not built yet
    lines: list[str] = []
    results = setup.run_setup(tmp_path, only=["e5-small-int8"], log=lines.append)
    assert [(r.key, r.status) for r in results] == [("e5-small-st", "built"), ("e5-small-int8", "built")]
    assert lines[-1].startswith("e5-small-int8: built in ") and f"; verified on {len(TEXTS)} texts in " in lines[-1]
    assert registry.default_comparison(tmp_path) == ("tokenlearn-static", "e5-small-int8")  # built and verified
    assert registry.get_info("e5-small-int8", tmp_path).available
    model = registry.load_model("e5-small-int8", tmp_path)
    assert isinstance(model, OnnxEmbedder) and model.family == "contextual" and model.dim == 32
    np.testing.assert_allclose(np.linalg.norm(model.encode(TEXTS), axis=1), 1.0, rtol=1e-5)


@pytest.mark.parametrize(
    ("meta", "contextual"),
    [
        ('{"verification": {"passed": true}}', "e5-small-int8"),
        ('{"verification": {"passed": false}}', "e5-small-nano"),  # e.g. built by the earlier all-int8 recipe
        ('{"verification": "yes"}', "e5-small-nano"),
        ("[1, 2", "e5-small-nano"),  # a damaged record is not a verified model
    ],
)
def test_the_default_contextual_model_is_e5_small_int8_only_when_verified(tmp_path, meta, contextual):
    folder = registry.model_folder("e5-small-int8", tmp_path)
    folder.mkdir(parents=True)
    (folder / registry.META_FILE).write_text(meta, encoding="utf-8")
    assert registry.default_comparison(tmp_path) == ("tokenlearn-static", contextual)


def test_verification_texts_are_the_faq_set_and_xquad(tmp_path):
    from semanscope.data.builtin import load_builtin

    xquad = tmp_path / "questions.csv"
    xquad.write_text("id,en,de\nq1,How?,Wie?\nq2,Why?,\n", encoding="utf-8")
    faq = list(dict.fromkeys(load_builtin("faq").items().texts))
    assert quantize_e5.verification_texts(xquad) == [*faq, "How?", "Wie?", "Why?"]
    assert quantize_e5.verification_texts(None) == faq
