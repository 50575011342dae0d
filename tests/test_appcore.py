"""semanscope.appcore: the app's Streamlit-free logic, checked against hand-computed values."""

from __future__ import annotations

import io
import math

import numpy as np
import pandas as pd
import pytest
from fake_embedder import FakeEmbedder

from semanscope import appcore
from semanscope.data.queryset import QuerySet
from semanscope.degradation import Gap
from semanscope.metrics import semantic_affinity
from semanscope.models.registry import ModelInfo
from semanscope.plots import camera_to_view
from semanscope.study import ModelSpec, not_run, run_model, select_queryset

LANGS = ("fr", "en", "de", "zh")


def small_set() -> QuerySet:
    rows = [
        ("c1", ["bonjour", "hello|hi", "hallo", "你好"], "greet"),
        ("c2", ["merci", "thanks", "danke", "谢谢"], "greet"),
        ("c3", ["chat", "cat", "Katze", ""], "animal"),  # no zh
        ("c4", ["chien", "dog", "Hund", "狗"], "animal"),
        ("c5", ["eau", "water", "Wasser", "水"], "nature"),
    ]
    return QuerySet.from_rows("tiny", LANGS, rows, provenance={"source": "test"})


def info(key: str, family: str = "static", status: str = "installed", english_only: bool = False) -> ModelInfo:
    fix = "" if status == "installed" else "run `semanscope setup`"
    return ModelInfo(key, key.upper(), family, 8, english_only, "test", False, "", status=status, fix=fix)


# --------------------------------------------------------------------------- data
def test_default_languages_prefers_the_default_six_in_set_order() -> None:
    assert appcore.default_languages(small_set()) == ["en", "de", "zh"]
    other = QuerySet.from_rows("x", ("fr", "it", "pt"), [("a", ["1", "2", "3"], None)])
    assert appcore.default_languages(other) == ["fr", "it", "pt"]
    assert appcore.default_languages(other, count=2) == ["fr", "it"]


def test_default_max_concepts_reads_the_environment() -> None:
    assert appcore.default_max_concepts({}) is None
    assert appcore.default_max_concepts({appcore.MAX_CONCEPTS_ENV: " 12 "}) == 12
    for bad in ("x", "2", "-5"):
        with pytest.raises(appcore.AppError, match=appcore.MAX_CONCEPTS_ENV):
            appcore.default_max_concepts({appcore.MAX_CONCEPTS_ENV: bad})


def test_select_languages_topics_and_concepts() -> None:
    qs = small_set()
    view = appcore.select(qs, ["zh", "en"])
    assert view.languages == ("en", "zh")  # set order
    assert view.ids == ("c1", "c2", "c4", "c5")  # c3 has no zh
    assert view.cells[0] == (("hello", "hi"), ("你好",))
    assert appcore.select(qs, ["en", "de"], topics=["animal", "nature"]).ids == ("c3", "c4", "c5")
    assert appcore.select(qs, ["en", "de"], concept_ids=["c5", "c1", "c2"]).ids == ("c1", "c2", "c5")
    # the cap samples like the CLI does (same seed, same concepts)
    capped = appcore.select(qs, ["en", "de"], max_concepts=3, seed=4)
    assert capped.ids == select_queryset(qs, languages=["en", "de"], max_concepts=3, seed=4).ids
    assert len(capped.ids) == 3


@pytest.mark.parametrize(
    "languages, kwargs, message",
    [
        ([], {}, "at least 1 language"),
        (["en", "de"], {"concept_ids": ["nope"]}, "only 0 complete concept"),
        (["en", "de"], {"topics": ["space"]}, "unknown topic"),
        (["en", "xx"], {}, "unknown language"),
    ],
)
def test_select_errors_are_app_errors(languages, kwargs, message) -> None:
    with pytest.raises(appcore.AppError, match=message):
        appcore.select(small_set(), languages, **kwargs)


def test_small_views_are_drawn_and_say_which_scores_need_what() -> None:
    qs = small_set()
    assert appcore.scores_note(appcore.select(qs, ["en", "de"])) == ""
    two = appcore.select(qs, ["en", "de"], concept_ids=["c1", "c2"])
    assert two.ids == ("c1", "c2")
    note = appcore.scores_note(two)
    assert "at least 3 concepts (this view has 2)." in note and "2 languages" not in note
    one_language = appcore.select(qs, ["zh"])
    assert one_language.languages == ("zh",) and one_language.ids == ("c1", "c2", "c4", "c5")
    assert "at least 2 languages (this view has 1)" in appcore.scores_note(one_language)
    single = appcore.select(qs, ["de"], concept_ids=["c3"])
    assert "3 concepts (this view has 1) and at least 2 languages" in appcore.scores_note(single)


def test_plot_sample_is_seeded_and_adds_search_matches() -> None:
    qs = small_set().subset(["en", "de"])  # 5 concepts, c1 has two English texts
    everything = appcore.plot_sample(qs, 0)
    assert everything.view.ids == qs.ids and everything.rows.tolist() == list(range(11)) and everything.added == 0
    assert appcore.plot_sample(qs, 9).view.ids == qs.ids  # fewer concepts than n: all
    sample = appcore.plot_sample(qs, 2, seed=3)
    expected = sorted(np.random.default_rng(3).choice(5, 2, replace=False).tolist())
    assert sample.view.ids == tuple(qs.ids[i] for i in expected)
    again = appcore.plot_sample(qs, 2, seed=3)
    assert again.view == sample.view and again.rows.tolist() == sample.rows.tolist()
    # rows index the selection's items, in the sample's own items() order
    items, sub = qs.items(), sample.view.items()
    assert [items.texts[r] for r in sample.rows] == sub.texts
    missing = next(c for c in qs.ids if c not in sample.view.ids)
    grown = appcore.plot_sample(qs, 2, seed=3, include=[missing, sample.view.ids[0]])
    assert grown.added == 1 and set(grown.view.ids) == {*sample.view.ids, missing}
    assert grown.view.ids == tuple(c for c in qs.ids if c in grown.view.ids)  # selection order
    with pytest.raises(appcore.AppError, match=">= 0"):
        appcore.plot_sample(qs, -1)
    assert appcore.sample_note(qs, everything) == "Plots: all 5 concepts of the view."
    assert appcore.sample_note(qs, sample) == "Plots: 2 of 5 concepts (a seeded sample); scores use all 5."
    assert appcore.sample_note(qs, grown, 2).endswith(
        "2 concept(s) match the search (ringed), 1 of them added to the sample."
    )


def test_search_matches_ids_and_texts_case_insensitively() -> None:
    qs = small_set()
    assert appcore.search_concepts(qs, "  ") == ()
    assert appcore.search_concepts(qs, "HI") == ("c1", "c4")  # an English alternative ("hi"), "cHIen"
    assert appcore.search_concepts(qs, "c4") == ("c4",)  # the id
    assert appcore.search_concepts(qs, "katze") == ("c3",)
    assert appcore.search_concepts(qs, "a") == ("c1", "c2", "c3", "c5")  # hallo, danke, cat, water
    assert appcore.search_concepts(qs, "谢") == ("c2",)
    view = qs.subset(["en", "de"])
    assert appcore.search_rows(view, ["c2"]).tolist() == [3, 4]  # c1 has hello, hi, hallo
    assert appcore.search_rows(view, []).tolist() == []


def test_colourings_by_language_concept_topic_and_metadata() -> None:
    rows = [("a", ["one", "eins"], "n"), ("b", ["two", "zwei"], None), ("c", ["three", "drei"], "n")]
    qs = QuerySet.from_rows("m", ("en", "de"), rows, metadata={"domain2": ["x", None, "y"]})
    assert appcore.colour_options(qs) == ["language", "concept", "topic", "domain2"]
    assert appcore.colour_options(small_set().subset(topics=None)) == ["language", "concept", "topic"]
    by_lang = appcore.colouring(qs, "language")
    assert list(by_lang.labels) == ["en", "de"] * 3 and by_lang.names["de"] == "de - German"
    assert by_lang.colors["en"] == appcore.language_color("en")
    by_topic = appcore.colouring(qs, "topic")
    assert list(by_topic.labels) == ["n", "n", "(none)", "(none)", "n", "n"]
    assert list(by_topic.colors) == ["n", "(none)"]
    by_meta = appcore.colouring(qs, "domain2")
    assert list(by_meta.labels) == ["x", "x", "(none)", "(none)", "y", "y"] and by_meta.title == "domain2"
    assert list(appcore.colouring(qs, "concept").labels) == ["a", "a", "b", "b", "c", "c"]
    with pytest.raises(appcore.AppError, match="cannot colour by 'size'"):
        appcore.colouring(qs, "size")


def test_distinct_rows_equal_the_radius_graph_components_by_brute_force() -> None:
    """The sort along one direction finds exactly the components of the full radius graph."""
    from scipy.sparse.csgraph import connected_components
    from sklearn.neighbors import radius_neighbors_graph

    rng = np.random.default_rng(1)
    for _ in range(20):
        base = rng.normal(size=(int(rng.integers(5, 60)), int(rng.integers(2, 20))))
        noise = rng.choice([0.0, 1e-9, 3e-7, 1e-3], size=(200, 1)) * rng.normal(size=(200, base.shape[1]))
        X = base[rng.integers(0, len(base), 200)] + noise
        graph = radius_neighbors_graph(X, appcore.DISTINCT_TOLERANCE * np.abs(X).max(), mode="connectivity")
        _, component = connected_components(graph, directed=False)
        keep, inverse = appcore.distinct_rows(X)
        assert np.array_equal(component[keep][inverse], component)  # same group as its kept row
        assert len(set(component[keep].tolist())) == keep.size == len(set(component.tolist()))


def test_distinct_rows_keep_first_occurrences_in_order() -> None:
    X = np.array([[3.0, 1.0], [1.0, 2.0], [3.0, 1.0], [0.0, 0.0], [1.0, 2.0]])
    keep, inverse = appcore.distinct_rows(X)
    assert keep.tolist() == [0, 1, 3] and inverse.tolist() == [0, 1, 0, 2, 1]
    np.testing.assert_array_equal(X[keep][inverse], X)
    assert appcore.distinct_rows(np.zeros((3, 2)))[0].tolist() == [0]
    near = X + np.array([[0.0, 0.0], [0.0, 0.0], [2e-8, 0.0], [0.0, 0.0], [0.0, 0.0]])  # within 1e-6 * max|X|
    assert [a.tolist() for a in appcore.distinct_rows(near)] == [[0, 1, 3], [0, 1, 0, 2, 1]]
    plain = np.arange(6.0).reshape(3, 2)
    assert [a.tolist() for a in appcore.distinct_rows(plain)] == [[0, 1, 2], [0, 1, 2]]
    # two rows 2e-12 apart on either side of a rounding boundary (1.5 bins of 3e-6): still one point
    edge = np.array([[3.0, 4.5e-6 - 1e-12], [3.0, 4.5e-6 + 1e-12], [0.0, 1.0]])
    assert [a.tolist() for a in appcore.distinct_rows(edge)] == [[0, 2], [0, 0, 1]]


def test_fit_settings_lowers_phate_knn_for_tiny_views() -> None:
    settings = appcore.projection_settings("phate", knn=5, t=None, n_landmark=500)
    assert appcore.fit_settings("phate", settings, 5) == {**settings, "knn": 4}
    assert appcore.fit_settings("phate", settings, 6) == settings
    assert appcore.fit_settings("pca", {}, 5) == {}


def test_projection_note_below_five_points() -> None:
    assert appcore.projection_note(5) == ""
    assert "needs at least 5 points and this view has 3" in appcore.projection_note(3)


def test_language_label_and_ci_text() -> None:
    assert appcore.language_label("de") == "de - German" and appcore.language_label("qqq") == "qqq"
    assert appcore.ci_text(0.41249, 0.5) == "95% CI [0.412, 0.500]"
    assert appcore.ci_text(float("nan"), 0.5) == "no CI"


def test_queryset_key_follows_content() -> None:
    qs = small_set()
    assert appcore.queryset_key(qs) == appcore.queryset_key(small_set())
    last = (("eau",), ("Water",), ("Wasser",), ("水",))  # one capital letter differs
    changed = QuerySet(qs.name, qs.languages, qs.ids, (*qs.cells[:-1], last))
    assert appcore.queryset_key(changed) != appcore.queryset_key(qs)
    assert appcore.queryset_key(qs.subset(["en", "de"])) != appcore.queryset_key(qs.subset(["en", "fr"]))
    assert appcore.view_id(qs, "phate", 1) != appcore.view_id(qs, "phate", 2)
    assert appcore.view_id(qs, "phate", 1) == appcore.view_id(small_set(), "phate", 1)


def test_language_coverage_counts() -> None:
    table = appcore.language_coverage(small_set())
    assert list(table["language"]) == list(LANGS)
    assert list(table["concepts"]) == [5, 5, 5, 4]
    assert list(table["missing"]) == [0, 0, 0, 1]
    assert list(table["texts"]) == [5, 6, 5, 4]
    en = ["hello", "hi", "thanks", "cat", "dog", "water"]
    assert table["mean chars"][1] == pytest.approx(np.mean([len(t) for t in en]))


def test_points_label_every_item_row() -> None:
    qs = small_set().subset(["en", "zh"])
    pts = appcore.points(qs)
    assert pts.texts[:4] == ["hello", "hi", "你好", "thanks"]
    assert pts.languages[:4] == ["en", "en", "zh", "en"]
    assert pts.concept_ids[:4] == ["c1", "c1", "c1", "c2"]
    assert len(pts.texts) == len(qs.items().texts) == 9


# --------------------------------------------------------------------------- uploads
def test_load_upload_reads_a_csv() -> None:
    data = b"id,topic,en,de\nq1,a,one,eins\nq2,a,two,zwei\nq3,b,three|3,drei\n"
    result = appcore.load_upload([("../../sets/my set.csv", data)])
    qs = result.queryset
    assert qs.languages == ("en", "de")
    assert qs.ids == ("q1", "q2", "q3")
    assert qs.cells[2] == (("three", "3"), ("drei",))
    assert qs.provenance["source"] == "my set.csv"  # path parts dropped


@pytest.mark.parametrize(
    "files, message",
    [
        ([], "no file uploaded"),
        ([("bad.csv", b"id,en,de\nq1,caf\xe9,x\nq2,a,b\nq3,c,d\n")], "bad.csv"),  # cp1252 byte, not UTF-8
        ([("empty.csv", b"")], "empty"),
        ([("book.csv", b"PK\x03\x04" + b"\x00" * 64)], "zip"),
        ([("broken.parquet", b"PAR1 this is not parquet PAR1")], "broken.parquet"),
        ([("one.csv", b"id,en\nq1,a\nq2,b\nq3,c\n")], "at least 2 languages|language"),
    ],
)
def test_load_upload_bad_input_is_an_app_error(files, message) -> None:
    with pytest.raises(appcore.AppError, match=message):
        appcore.load_upload(files)


def test_load_upload_parquet_bytes() -> None:
    frame = pd.DataFrame({"id": ["a", "b", "c"], "en": ["x", "y", "z"], "es": ["xx", "yy", "zz"]})
    buffer = io.BytesIO()
    frame.to_parquet(buffer)
    qs = appcore.load_upload([("set.parquet", buffer.getvalue())]).queryset
    assert qs.languages == ("en", "es")
    assert qs.cells[1] == (("y",), ("yy",))


# --------------------------------------------------------------------------- models
def test_split_and_default_models() -> None:
    infos = [
        info("e5-small-st", "contextual", "needs-setup"),
        info("tokenlearn-static", "static"),
        info("minilm-en", "contextual", english_only=True),
        info("e5-small-nano", "contextual"),
    ]
    available, unavailable = appcore.split_models(infos)
    assert [i.key for i in available] == ["tokenlearn-static", "minilm-en", "e5-small-nano"]
    assert [i.key for i in unavailable] == ["e5-small-st"]
    assert appcore.default_models(infos) == ["tokenlearn-static", "e5-small-nano"]
    # preferred contextual missing: first static + first multilingual contextual
    no_nano = [i for i in infos if i.key != "e5-small-nano"] + [info("use-m3", "contextual")]
    assert appcore.default_models(no_nano) == ["tokenlearn-static", "use-m3"]
    assert appcore.default_models([info("only", "static")]) == ["only"]
    assert appcore.default_models([]) == []
    note = appcore.unavailable_note(infos[0])
    assert "E5-SMALL-ST" in note and "needs setup" in note and "semanscope setup" in note


# --------------------------------------------------------------------------- projection + camera
def test_projection_settings() -> None:
    auto = appcore.projection_settings("phate", knn=7, t=None, n_landmark=None)
    assert auto == {"knn": 7, "t": "auto", "n_landmark": None}
    assert appcore.projection_settings("phate", knn=5, t=12, n_landmark=300) == {"knn": 5, "t": 12, "n_landmark": 300}
    assert appcore.projection_settings("pca", knn=5, t=12, n_landmark=300) == {}


@pytest.mark.parametrize("elevation, azimuth, distance", [(0, 0, 2), (30, 45, 1.5), (-20, 135, 3), (60, -100, 2.2)])
def test_camera_round_trip(elevation, azimuth, distance) -> None:
    camera = appcore.camera_from_view(elevation, azimuth, distance)
    eye = camera["eye"]
    assert math.hypot(eye["x"], eye["y"], eye["z"]) == pytest.approx(distance)
    assert camera_to_view(camera) == pytest.approx((elevation, azimuth), abs=1e-9)
    assert camera["up"] == {"x": 0.0, "y": 0.0, "z": 1.0}


def test_default_camera_is_plotlys() -> None:
    eye = appcore.camera_from_view(*appcore.CAMERA_PRESETS["plotly default"])["eye"]
    assert [eye[k] for k in "xyz"] == pytest.approx([1.25, 1.25, 1.25])
    with pytest.raises(appcore.AppError):
        appcore.camera_from_view(10, 10, 0)


# --------------------------------------------------------------------------- selection
def test_selected_rows_from_plotly_state() -> None:
    state = {
        "points": [
            {"customdata": 7, "curve_number": 1},
            {"customdata": [3, "extra"]},
            {"customdata": 7.0},
            {"point_index": 4},  # a link line: no customdata
            {"customdata": 99},  # stale (outside the view)
            {"customdata": True},
            {"customdata": "5"},
        ],
        "box": [{}],
    }
    assert appcore.selected_rows(state, n_rows=10).tolist() == [3, 7]
    assert appcore.selected_rows(None, 10).tolist() == []
    assert appcore.selected_rows({"points": []}, 10).tolist() == []


def test_describe_selection() -> None:
    qs = small_set().subset(["en", "de", "zh"])  # c3 dropped; rows: c1 en en de zh, c2 en de zh, ...
    items = qs.items()
    rows = np.array([5, 1, 3, 3])
    sel = appcore.describe_selection(qs, rows)
    assert sel.rows.tolist() == [1, 3, 5]
    assert sel.concept_ids == tuple(sorted({qs.ids[items.concept[r]] for r in (1, 3, 5)}, key=qs.ids.index))
    assert sel.concept_ids == ("c1", "c2")
    assert sel.languages == ("en", "de", "zh")
    assert appcore.describe_selection(qs, np.zeros(0, dtype=int)).empty
    with pytest.raises(appcore.AppError):
        appcore.describe_selection(qs, np.array([len(items.texts)]))


# --------------------------------------------------------------------------- tables
@pytest.fixture(scope="module")
def runs() -> list:
    qs = small_set().subset(["en", "de", "zh"])
    static = FakeEmbedder(16, salt="s")
    run = run_model(qs, static, n_boot=50)
    spec = ModelSpec("ctx", "Ctx", "contextual", False, lambda: None)
    missing = not_run(spec, "unavailable", "run `semanscope setup`")
    return [qs, run, missing]


def test_score_table(runs) -> None:
    qs, run, missing = runs
    table = appcore.score_table([run, missing])
    sa = run.record.affinity[0]
    first = table.iloc[0]
    assert first["model"] == "fake-s" and first["status"] == "ok" and first["role"] == "static"
    assert first["SA"] == sa.sa and (first["SA low"], first["SA high"]) == (sa.ci_low, sa.ci_high)
    assert first["P@1"] == run.record.retrieval.mean_p_at_1
    ret = run.record.retrieval
    assert (first["MRR"], first["MRR low"], first["MRR high"]) == (ret.mean_mrr, ret.mrr_ci_low, ret.mrr_ci_high)
    assert (first["concepts"], first["languages"]) == (4, 3)
    second = table.iloc[1]
    assert second["status"] == "unavailable" and math.isnan(second["SA"]) and "setup" in second["note"]
    euclid = appcore.score_table([run, missing], "euclidean").iloc[0]
    e_sa = run.affinity_for("euclidean")
    assert e_sa.metric == "euclidean" and euclid["SA"] == e_sa.sa and euclid["SA low"] == e_sa.ci_low
    cal = run.record.calibration[1]
    assert (euclid["SA floor"], euclid["SA normalised"]) == (cal.floor, cal.normalized)
    assert euclid["P@1"] == first["P@1"] and first["P@1 CSLS"] == run.record.retrieval.mean_p_at_1_csls
    with pytest.raises(ValueError, match="has no manhattan SA"):
        run.affinity_for("manhattan")


def test_concept_table_is_sorted_worst_first(runs) -> None:
    qs, run, missing = runs
    table = appcore.concept_table(run, qs)
    items = qs.items()
    reference = semantic_affinity(run.embeddings, items.concept, items.lang, n_boot=0, concept_ids=qs.ids)
    by_id = dict(zip(reference.concept_ids, reference.sa_per_concept, strict=True))
    assert list(table["SA_i"]) == sorted(by_id.values())
    for _, row in table.iterrows():
        assert row["SA_i"] == pytest.approx(by_id[row["concept"]])
    assert table.columns[-1] == "text (en)"
    assert table.set_index("concept").loc["c1", "text (en)"] == "hello|hi"
    assert table.set_index("concept").loc["c4", "topic"] == "animal"
    with pytest.raises(appcore.AppError, match="unavailable"):
        appcore.concept_table(missing, qs)


def test_matrix_frame() -> None:
    m = np.array([[np.nan, 0.5], [0.5, np.nan]])
    frame = appcore.matrix_frame(m, ["en", "de"])
    assert list(frame.columns) == ["language", "en", "de"]
    assert frame.iloc[1, 1] == 0.5 and math.isnan(frame.iloc[0, 1])
    with pytest.raises(ValueError):
        appcore.matrix_frame(m, ["en"])


def test_gap_matrix_places_pairs_symmetrically() -> None:
    labels = ("all", "en-de", "en-zh", "de-zh", "Han-Latin")
    values = np.array([0.1, 0.2, 0.3, 0.4, 0.35])
    nan = np.full(5, np.nan)
    gap = Gap(labels, values, values, values, nan, nan, nan, nan, nan, 10, 0, 0, 0.95)
    z = appcore.gap_matrix(gap, ["en", "de", "zh"])
    expected = np.array([[np.nan, 0.2, 0.3], [0.2, np.nan, 0.4], [0.3, 0.4, np.nan]])
    np.testing.assert_array_equal(z, expected)
    # a language the gap does not cover stays NaN
    assert np.isnan(appcore.gap_matrix(gap, ["en", "fr"])[0, 1])


def test_preview_frame_cuts_long_cells_and_keeps_the_rest() -> None:
    frame = pd.DataFrame({"en": ["x" * 400, "short", None], "n": [1, 2, 3]})
    shown = appcore.preview_frame(frame, 2, max_chars=10)
    assert shown["en"].tolist() == ["xxxxxxxxxx … (400 chars)", "short"]
    assert shown["n"].tolist() == [1, 2]
    assert frame["en"][0] == "x" * 400  # the query set's frame is untouched
