"""Tests for semanscope.embeddings: alignment with QuerySet.items(), de-duplication, text ids."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from fake_embedder import FakeEmbedder

from semanscope.cache import EmbeddingCache
from semanscope.data.queryset import QuerySet
from semanscope.embeddings import cached_count, embed_by_language, embed_queryset, text_ids

XQUAD = Path(__file__).resolve().parents[2] / "shared" / "data" / "xquad" / "questions.csv"


@pytest.fixture
def qs() -> QuerySet:
    # duplicates inside a language ("car" twice in en), across languages ("Taxi" in en and de),
    # alternatives ("a|b"), and one concept missing French
    return QuerySet.from_rows(
        "toy",
        ["en", "de", "fr"],
        [
            ("c1", ["car|automobile", "Auto", "voiture"], None),
            ("c2", ["Taxi", "Taxi", "taxi"], None),
            ("c3", ["car", "Wagen|Auto", ""], None),
            ("c4", ["house", "Haus", "maison|logis"], None),
        ],
    )


def brute_force(emb: FakeEmbedder, qs: QuerySet) -> np.ndarray:
    items = qs.items()
    return np.stack([emb.expected(t, qs.languages[j]) for t, j in zip(items.texts, items.lang, strict=True)])


@pytest.mark.parametrize("language_aware", [False, True])
def test_rows_align_with_items(qs, language_aware):
    emb = FakeEmbedder(language_aware=language_aware)
    X = embed_queryset(qs, emb, batch_size=2)
    assert X.dtype == np.float32 and X.shape == (len(qs.items().texts), emb.dim)
    np.testing.assert_array_equal(X, brute_force(emb, qs))


def test_language_agnostic_encodes_each_unique_text_once(qs):
    emb = FakeEmbedder(language_aware=False)
    embed_queryset(qs, emb)
    texts = [t for _, t in emb.encoded]
    assert emb.calls == 1
    assert len(texts) == len(set(texts)) == len(set(qs.items().texts))
    assert {lang for lang, _ in emb.encoded} == {None}


def test_language_aware_called_once_per_language_on_its_unique_texts(qs):
    emb = FakeEmbedder(language_aware=True)
    embed_queryset(qs, emb)
    assert emb.calls == len(qs.languages)
    items = qs.items()
    pairs = {(qs.languages[j], t) for t, j in zip(items.texts, items.lang, strict=True)}
    assert len(emb.encoded) == len(set(emb.encoded)) == len(pairs)
    assert set(emb.encoded) == pairs
    by_lang = qs.texts_by_language()
    for code in qs.languages:  # each language's texts in one request, shortest first (ties in first-seen order)
        assert [t for lang, t in emb.encoded if lang == code] == sorted(by_lang[code], key=len)


@pytest.mark.parametrize("language_aware", [False, True])
def test_cached_second_run_encodes_nothing(qs, tmp_path, language_aware):
    emb = FakeEmbedder(language_aware=language_aware)
    with EmbeddingCache(tmp_path / "emb") as cache:
        first = embed_queryset(qs, emb, cache)
        emb.calls = 0
        second = embed_queryset(qs, emb, cache)
    assert emb.calls == 0
    np.testing.assert_array_equal(first, second)


@pytest.mark.parametrize("language_aware, total", [(False, 11), (True, 12)])
def test_cached_count_before_and_after_a_partial_run(qs, tmp_path, language_aware, total):
    # unique texts as the model receives them: "Taxi" once overall (11), or once in en and once in de (12)
    emb = FakeEmbedder(language_aware=language_aware)
    with EmbeddingCache(tmp_path / "emb") as cache:
        assert cached_count(qs, emb, cache) == (0, total)
        embed_queryset(qs.subset(languages=["en", "de"]), emb, cache)
        emb.calls = 0
        done, _ = cached_count(qs, emb, cache)
        assert emb.calls == 0  # counting encodes nothing
        fr_only = {"voiture", "taxi", "maison", "logis"}
        assert done == total - len(fr_only)
        embed_queryset(qs, emb, cache)
        assert cached_count(qs, emb, cache) == (total, total)


@pytest.mark.parametrize("language_aware", [False, True])
def test_progress_counts_unique_texts(qs, language_aware):
    emb = FakeEmbedder(language_aware=language_aware)
    calls: list[tuple[int, int]] = []
    embed_queryset(qs, emb, batch_size=1, progress=lambda d, t: calls.append((d, t)))
    total = len(emb.encoded)
    assert {t for _, t in calls} == {total}
    done = [d for d, _ in calls]
    assert done == sorted(done) and done[-1] == total


@pytest.mark.parametrize("language_aware", [False, True])
def test_embed_by_language_aligns_rows_and_shares_texts_across_languages(language_aware):
    emb = FakeEmbedder(language_aware=language_aware)
    texts = {"en": ["taxi", "car"], "de": ["Taxi", "taxi", "Auto"], "fr": []}
    out = embed_by_language(texts, emb, batch_size=2)
    assert list(out) == ["en", "de", "fr"] and out["fr"].shape == (0, emb.dim)
    for code, group in texts.items():
        assert out[code].dtype == np.float32
        for k, text in enumerate(group):
            np.testing.assert_array_equal(out[code][k], emb.expected(text, code))
    encoded = [t for _, t in emb.encoded]
    assert len(encoded) == (5 if language_aware else 4)  # "taxi" is encoded once without a language


def test_text_ids_match_language_and_text(qs):
    ids = text_ids(qs)
    items = qs.items()
    keys = list(zip(items.lang.tolist(), items.texts, strict=True))
    assert ids.dtype == np.int64 and ids.shape == (len(keys),)
    for a in range(len(keys)):
        for b in range(len(keys)):
            assert (ids[a] == ids[b]) == (keys[a] == keys[b])
    first_seen = list(dict.fromkeys(ids.tolist()))
    assert first_seen == list(range(len(set(keys))))  # ids 0..K-1 in first-seen order


def test_empty_queryset():
    empty = QuerySet("empty", ("en",), (), ())
    emb = FakeEmbedder(language_aware=True)
    assert embed_queryset(empty, emb).shape == (0, emb.dim)
    assert text_ids(empty).shape == (0,)
    assert emb.calls == 0


@pytest.mark.skipif(not XQUAD.exists(), reason="shared XQuAD questions not available")
def test_xquad_alignment(tmp_path):
    import pandas as pd

    frame = pd.read_csv(XQUAD, nrows=40, dtype=str)
    langs = ["en", "de", "zh", "hi"]
    qs = QuerySet.from_rows("xquad", langs, ((r["id"], [r[code] for code in langs], None) for _, r in frame.iterrows()))
    emb = FakeEmbedder(language_aware=True)
    with EmbeddingCache(tmp_path / "emb") as cache:
        X = embed_queryset(qs, emb, cache)
    np.testing.assert_array_equal(X, brute_force(emb, qs))
    assert len(emb.encoded) == len(set(emb.encoded))
