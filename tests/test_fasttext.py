"""fastText embedder: tiny trained .bin model and hand-written .vec files, no downloads."""

import numpy as np
import pytest
from fasttext_bin import write_fasttext_bin

from semanscope.models import registry
from semanscope.models.base import ModelUnavailable
from semanscope.models.fasttext_model import FastTextEmbedder, mean_vectors, read_dim, read_vec
from semanscope.models.tokenize import tokenize

WORDS_EN = "the cat dog sat on mat house river city water tree green small big red blue run walk".split()
WORDS_ZH = list("猫狗坐在垫子上房子河城市水树绿小大红蓝跑走")
WORDS_TH = ["แมว", "หมา", "นั่ง", "บ้าน", "แม่น้ำ", "เมือง", "น้ำ", "ต้นไม้"]


pytestmark = pytest.mark.usefixtures("tmp_hash_store")


@pytest.fixture(scope="module")
def ft_bin(tmp_path_factory):
    """A 16-d skipgram ``.bin`` (2,000 subword buckets) over the test words, written without training."""
    return write_fasttext_bin(tmp_path_factory.mktemp("ft") / "tiny.bin", WORDS_EN + WORDS_ZH + WORDS_TH)


def write_vec(path, rows, header=True):
    dim = len(next(iter(rows.values())))
    lines = [f"{len(rows)} {dim}"] if header else []
    lines += [w + " " + " ".join(f"{x:.6f}" for x in v) + " " for w, v in rows.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_read_dim_and_read_vec(tmp_path, ft_bin):
    import fasttext

    assert read_dim(ft_bin) == 16
    vec = write_vec(tmp_path / "a.vec", {"cat": [1, 2, 3], "dog": [4, 5, 6], "cat ": [0, 0, 1]})
    assert read_dim(vec) == 3
    words, m = read_vec(vec)
    assert words == ["cat", "dog", "cat "]  # a word may contain a space: numbers are split from the right
    np.testing.assert_array_equal(m, [[1, 2, 3], [4, 5, 6], [0, 0, 1]])
    words, m = read_vec(vec, max_words=1)
    assert words == ["cat"] and m.shape == (1, 3)
    no_header = write_vec(tmp_path / "b.vec", {"x": [1, 2], "x ": [3, 4], "y": [5, 6]}, header=False)
    words, m = read_vec(no_header)
    assert words == ["x", "x ", "y"] and m.shape == (3, 2)
    bad = tmp_path / "bad.vec"
    bad.write_text("2 3\ncat 1 2 3\ndog 1 2\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad.vec:3: expected a word and 3 numbers"):
        read_vec(bad)
    not_bin = tmp_path / "x.bin"
    not_bin.write_bytes(b"\0" * 16)
    with pytest.raises(ValueError, match="not a fastText .bin"):
        read_dim(not_bin)
    assert fasttext.load_model(str(ft_bin)).get_dimension() == 16


def test_bin_sentence_vector_is_mean_of_word_vectors(ft_bin):
    import fasttext

    ref = fasttext.load_model(str(ft_bin))
    emb = FastTextEmbedder(ft_bin)
    assert emb.family == "static" and emb.language_aware and emb.dim == 16
    texts = ["The cat sat on the MAT.", "猫坐在垫子上", "แมวนั่งบ้าน", "unseenword zzz", "?!"]
    langs = ["en", "zh", "th", "en", "en"]
    for text, lang in zip(texts, langs, strict=True):
        got = emb.encode([text], lang=lang)[0]
        tokens = tokenize(text, lang)
        if tokens:
            want = np.mean([ref.get_word_vector(w) for w in tokens], axis=0)
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
            assert np.linalg.norm(got) > 0  # OOV words still have subword vectors
        else:
            assert not got.any()
    assert len(tokenize(texts[1], "zh")) == 6 and len(tokenize(texts[2], "th")) > 2
    out = emb.encode(texts, lang="en")
    assert emb.last_empty == [4]
    assert not out[4].any()


def test_vec_skips_oov_and_matches_bin_on_known_words(tmp_path, ft_bin):
    import fasttext

    ref = fasttext.load_model(str(ft_bin))
    rows = {w: ref.get_word_vector(w) for w in ref.words}
    vec = write_vec(tmp_path / "tiny.vec", rows)
    emb_vec, emb_bin = FastTextEmbedder(vec), FastTextEmbedder(ft_bin)
    known = ["the cat sat on the mat", "the red tree on the river"]
    np.testing.assert_allclose(emb_vec.encode(known, lang="en"), emb_bin.encode(known, lang="en"), atol=1e-5)
    got = emb_vec.encode(["cat qqqq", "qqqq rrrr"], lang="en")
    np.testing.assert_allclose(got[0], rows["cat"], atol=1e-5)  # the OOV word is skipped
    assert not got[1].any() and emb_vec.last_empty == [1]


def test_mean_vectors_reference():
    class Table:
        dim = 2
        table = {"a": np.array([1.0, 0.0]), "b": np.array([0.0, 3.0])}

        def lookup(self, words):
            return np.array([self.table[w] for w in words if w in self.table]).reshape(-1, 2)

    x, empty = mean_vectors([["a", "b", "b"], ["c"], ["a"]], Table())
    np.testing.assert_allclose(x, [[1 / 3, 2.0], [0, 0], [1, 0]])
    assert empty.tolist() == [False, True, False]


def test_per_language_mapping_routes_by_language(tmp_path):
    en = write_vec(tmp_path / "wiki.en.align.vec", {"cat": [1, 0], "dog": [0, 1]})
    de = write_vec(tmp_path / "wiki.de.align.vec", {"katze": [0.9, 0.1], "hund": [0.1, 0.9]})
    emb = FastTextEmbedder({"en": en, "de": de})
    assert emb.languages == ["de", "en"]
    np.testing.assert_allclose(emb.encode(["Cat dog"], lang="en"), [[0.5, 0.5]])
    np.testing.assert_allclose(emb.encode(["Katze"], lang="de"), [[0.9, 0.1]])
    assert not emb.encode(["cat"], lang="de").any()  # English word is unknown in German vectors
    with pytest.raises(ValueError, match=r"has vectors for languages \['de', 'en'\]; got lang='fr'"):
        emb.encode(["chat"], lang="fr")
    with pytest.raises(ValueError, match="got lang=None"):
        emb.encode(["cat"])
    three = write_vec(tmp_path / "three.vec", {"x": [1, 2, 3]})
    with pytest.raises(ValueError, match="different dimensions"):
        FastTextEmbedder({"en": en, "xx": three})


def test_fingerprint_depends_on_file_and_settings(tmp_path):
    vec = write_vec(tmp_path / "v.vec", {"cat": [1, 0], "dog": [0, 1]})
    a = FastTextEmbedder(vec).fingerprint
    assert FastTextEmbedder(vec).fingerprint == a
    assert FastTextEmbedder(vec, max_words=1).fingerprint != a
    assert FastTextEmbedder(vec, cjk="bigram").fingerprint != a
    write_vec(vec, {"cat": [1, 0], "dog": [0, 2]})
    assert FastTextEmbedder(vec).fingerprint != a


def test_registry_user_fasttext(tmp_path, ft_bin):
    vec = write_vec(tmp_path / "wiki.en.align.vec", {"cat": [1, 0], "dog": [0, 1]})
    info = registry.user_model("fasttext", {"en": vec, "de": vec})
    assert info.family == "static" and info.dim == 2 and info.language_aware and info.available
    key = registry.register_user_model("fasttext", ft_bin, key="my-ft").key
    try:
        assert "my-ft" in [m.key for m in registry.list_models()]
        emb = registry.load_model("my-ft")
        assert emb.name == "my-ft" and emb.dim == 16
        assert emb.encode(["cat"], lang="en").shape == (1, 16)
    finally:
        registry.unregister_user_model(key)
    missing = registry.user_model("fasttext", tmp_path / "nope.bin")
    assert missing.status == "missing-files" and "nope.bin" in missing.fix
    with pytest.raises(ValueError, match=r"\.bin or \.vec"):
        registry.user_model("fasttext", tmp_path / "model.txt")
    key = registry.register_user_model("fasttext", tmp_path / "gone.vec").key
    try:
        with pytest.raises(ModelUnavailable, match="gone.vec"):
            registry.load_model(key)
    finally:
        registry.unregister_user_model(key)
