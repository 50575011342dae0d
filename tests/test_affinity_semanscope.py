"""Parity with the original Semanscope (digital-duck/semanscope, MIT): ``weighting="expanded"`` SA
and the propagated SEM equal an independent re-implementation of its algorithm to 1e-9.

The reference below follows the original step by step, with plain loops and scipy's ``pdist``
(``components/semantic_affinity.py`` and ``cli/batch_benchmark_sa.py``):

1. every row's ``a|b`` cells are expanded into their cross product, one text per language;
2. vertical spread of an expanded row: mean of ``pdist(cosine)`` over its L vectors, or the RMS
   of ``pdist(euclidean)``;
3. H_l: the unique words of language l (cells split on ``|``, stripped, ``set``), each with the
   embedding of the FIRST alternative of the first row it appears in (the original maps the row's
   first word to the row), then the mean (cosine) or RMS (euclidean) of their ``pdist``; H = mean_l H_l;
4. SR = mean over expanded rows of v / H, SA = 1 / (1 + SR);
5. SEM: ``sem_V = std(v, ddof=1) / sqrt(rows)``, ``sem_H = std(H_l, ddof=1) / sqrt(L)``,
   ``sem_SR = SR sqrt((sem_V / V)^2 + (sem_H / H)^2)``, ``sem_SA = sem_SR / (1 + SR)^2``.
"""

from __future__ import annotations

import csv
import itertools
from pathlib import Path

import numpy as np
import pytest
from fake_embedder import FakeEmbedder
from scipy.spatial.distance import pdist

from semanscope.data.queryset import QuerySet
from semanscope.embeddings import embed_queryset, text_ids
from semanscope.metrics.affinity import MAX_EXPANDED_ROWS, semantic_affinity

SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "data" / "semanscope-samples"
SA_FILES = sorted(SAMPLES.glob("*-SA.csv")) if SAMPLES.is_dir() else []
NAMES = {"english": "en", "chinese": "zh", "spanish": "es", "french": "fr", "german": "de", "russian": "ru"}
NAMES |= {"korean": "ko", "arabic": "ar", "turkish": "tr"}
CLOSE = dict(rel=1e-9, abs=1e-12)


def original(rows: list[list[list[str]]], vector, metric: str) -> dict[str, float]:
    """The original algorithm on ``rows[i][l]`` = alternatives of row i in language l."""
    L = len(rows[0])

    def spread(E: np.ndarray) -> float:
        if metric == "cosine":
            return float(np.mean(pdist(E, "cosine")))
        return float(np.sqrt(np.mean(pdist(E, "euclidean") ** 2)))

    v = np.array([spread(np.stack([vector(w) for w in combo])) for row in rows for combo in itertools.product(*row)])
    h_lang = []
    for lang in range(L):
        word_vector: dict[str, np.ndarray] = {}
        for row in rows:
            for word in row[lang]:
                word_vector.setdefault(word, vector(row[lang][0]))
        h_lang.append(spread(np.stack(list(word_vector.values()))))
    h_lang_arr = np.array(h_lang)
    h = h_lang_arr.mean()
    sr = float(np.mean(v / h))
    sem_v = np.std(v / h, ddof=1) / np.sqrt(len(v)) * h
    sem_h = np.std(h_lang_arr, ddof=1) / np.sqrt(L)
    sem_sr = sr * np.sqrt((sem_v / (sr * h)) ** 2 + (sem_h / h) ** 2)
    return {"sa": 1 / (1 + sr), "sr": sr, "h": h, "sem_sr": sem_sr, "sem": sem_sr / (1 + sr) ** 2, "rows": len(v)}


def ours(qs: QuerySet, model: FakeEmbedder, metric: str, weighting: str = "expanded"):
    items = qs.items()
    X = embed_queryset(qs, model)
    return semantic_affinity(
        X, items.concept, items.lang, text_ids=text_ids(qs), metric=metric, weighting=weighting, n_boot=0
    )


def read_sample(path: Path) -> tuple[list[str], list[list[list[str]]]]:
    """Language columns and split cells of an original ``*-SA.csv`` (``#`` lines and other columns skipped)."""
    with path.open(encoding="utf-8", newline="") as f:
        lines = [r for r in csv.reader(f) if r and not r[0].startswith("#")]
    header, data = lines[0], lines[1:]
    columns = [k for k, name in enumerate(header) if name.strip().lower() in NAMES]
    langs = [NAMES[header[k].strip().lower()] for k in columns]
    return langs, [[[w.strip() for w in r[k].split("|")] for k in columns] for r in data]


def check(qs: QuerySet, rows: list[list[list[str]]], metric: str) -> None:
    model = FakeEmbedder(dim=24)
    got = ours(qs, model, metric)
    want = original(rows, lambda w: model.expected(w).astype(np.float64), metric)
    for name in ("sa", "sr", "h", "sem_sr", "sem"):
        assert getattr(got, name) == pytest.approx(want[name], **CLOSE), name
    assert got.n_rows == want["rows"] and got.weighting == "expanded"
    assert got.sem == pytest.approx(np.hypot(got.sem_vertical, got.sem_horizontal), **CLOSE)


@pytest.mark.skipif(not SA_FILES, reason="Semanscope sample files not available")
@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
@pytest.mark.parametrize("path", SA_FILES, ids=lambda p: p.name)
def test_expanded_equals_the_original_on_its_sample_files(path, metric):
    langs, rows = read_sample(path)
    qs = QuerySet.from_rows(
        path.stem, langs, ((f"r{i}", ["|".join(c) for c in row], None) for i, row in enumerate(rows))
    )
    assert qs.n_concepts == len(rows)
    check(qs, rows, metric)


def random_rows(seed: int, n: int, L: int) -> list[list[list[str]]]:
    """Words with 1-3 alternatives per cell, repeated across rows of a language (also as a non-first alternative)."""
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(n):
        row = []
        for lang in range(L):
            k = int(rng.integers(1, 4))
            pool = [f"w{lang}-{int(rng.integers(0, n))}" for _ in range(k)]
            row.append(list(dict.fromkeys(pool)))
        rows.append(row)
    return rows


@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_expanded_equals_the_original_on_random_alternatives(seed, metric):
    rows = random_rows(seed, 25, 4)
    qs = QuerySet.from_rows(
        "r", ["a", "b", "c", "d"], ((f"c{i}", ["|".join(c) for c in row], None) for i, row in enumerate(rows))
    )
    check(qs, rows, metric)


@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
def test_both_weightings_coincide_without_alternatives(metric):
    rows = [[[f"w{lang}-{i}"] for lang in range(3)] for i in range(12)]
    qs = QuerySet.from_rows("r", ["a", "b", "c"], ((f"c{i}", [c[0] for c in row], None) for i, row in enumerate(rows)))
    model = FakeEmbedder(dim=16)
    a, b = ours(qs, model, metric, "concept"), ours(qs, model, metric, "expanded")
    for name in ("sa", "sr", "h", "sem", "sem_sr", "sem_vertical", "sem_horizontal"):
        assert getattr(a, name) == pytest.approx(getattr(b, name), **CLOSE), name
    np.testing.assert_allclose(a.pair_sa, b.pair_sa, rtol=1e-9)


def test_expanded_pair_matrix_is_the_two_language_study():
    """SA_lm under expanded weighting = the expanded SA of the set restricted to languages l, m
    (rows = the cross product of the two cells), with H_lm = (H_l + H_m) / 2 from the full set."""
    rows = random_rows(5, 20, 3)
    langs = ["a", "b", "c"]
    qs = QuerySet.from_rows("r", langs, ((f"c{i}", ["|".join(c) for c in row], None) for i, row in enumerate(rows)))
    model = FakeEmbedder(dim=16)
    full = ours(qs, model, "cosine")
    for a_lang, b_lang in itertools.combinations(range(3), 2):
        pair_rows = [[row[a_lang], row[b_lang]] for row in rows]
        vec = lambda w: model.expected(w).astype(np.float64)  # noqa: E731
        dist = [
            float(pdist(np.stack([vec(a), vec(b)]), "cosine")[0])
            for row in pair_rows
            for a, b in itertools.product(*row)
        ]
        h_lm = (full.h_per_language[a_lang] + full.h_per_language[b_lang]) / 2
        assert full.pair_sa[a_lang, b_lang] == pytest.approx(1 / (1 + np.mean(dist) / h_lm), **CLOSE)


def test_expanded_bootstrap_resamples_concepts_with_their_rows():
    rows = random_rows(3, 30, 3)
    qs = QuerySet.from_rows(
        "r", ["a", "b", "c"], ((f"c{i}", ["|".join(c) for c in row], None) for i, row in enumerate(rows))
    )
    items, model = qs.items(), FakeEmbedder(dim=16)
    X = embed_queryset(qs, model)
    res = semantic_affinity(X, items.concept, items.lang, text_ids=text_ids(qs), weighting="expanded", n_boot=400)
    assert res.ci_low < res.sa < res.ci_high
    assert np.all(res.pair_ci_low[np.triu_indices(3, 1)] < res.pair_sa[np.triu_indices(3, 1)])


def test_expanded_refuses_an_exploding_cross_product_and_unknown_weighting():
    k = 2
    while k**3 <= MAX_EXPANDED_ROWS:
        k *= 2
    big = ["|".join(f"{lang}{j}" for j in range(k)) for lang in "xyz"]
    rows = [*((f"c{i}", [f"a{i}", f"b{i}", f"c{i}"], None) for i in range(3)), ("big", big, None)]
    qs = QuerySet.from_rows("r", ["a", "b", "c"], rows)
    items = qs.items()
    X = np.random.default_rng(0).standard_normal((len(items.texts), 4))
    with pytest.raises(ValueError, match="concept 'big' expands to"):
        semantic_affinity(X, items.concept, items.lang, weighting="expanded", n_boot=0, concept_ids=qs.ids)
    with pytest.raises(ValueError, match="unknown weighting 'rows'"):
        semantic_affinity(X, items.concept, items.lang, weighting="rows", n_boot=0)
