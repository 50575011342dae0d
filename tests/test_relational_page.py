"""The Relational Affinity page under ``AppTest``: renders offline with the built-in relation set
and the built-in models, every control changes what it should, uploads are validated, and the
numbers shown equal a brute-force computation on a tiny set.

Fast settings (:mod:`app_pages`): a fresh cache folder; PCA for the projection (PHATE is covered
by the first test only).
"""

from __future__ import annotations

import base64
import json
import os

import numpy as np
import pytest

pytest.importorskip("streamlit")
from app_pages import clean, fast_app, run_page  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402

from semanscope.models.base import ModelUnavailable  # noqa: E402
from semanscope.models.registry import load_model  # noqa: E402
from semanscope.ui import relational, runs, state  # noqa: E402

PAGE = "pages/6_Relational.py"
FAST = {"proj_method": "pca"}
TINY = (
    "relation_id,category,word1_en,word2_en,word1_de,word2_de,verified\n"
    "g1,gender,king,queen,König,Königin,yes\n"
    "g2,gender,uncle,aunt,Onkel,Tante,\n"
    "g3,gender,actor,actress,Schauspieler,Schauspielerin,\n"
    "a1,antonym,hot,cold,heiß,kalt,\n"
    "a2,antonym,fast,slow,schnell,langsam,\n"
    "a3,antonym,rich,poor,reich,reich,\n"  # same word in German: a zero relation vector there
).encode()


@pytest.fixture(scope="module", autouse=True)
def fast_settings(tmp_path_factory):
    with fast_app(tmp_path_factory.mktemp("semanscope-cache")):
        yield


def frames(at: AppTest) -> dict[str, object]:
    """The page's tables by their first distinguishing column: within (has 'zero vectors'), cross ('pair')."""
    out = {}
    for df in at.dataframe:
        value = df.value
        if "zero vectors" in value.columns:
            out["within"] = value
        elif "pair" in value.columns:
            out["cross"] = value
        elif "relation" in value.columns:
            out["relations"] = value
    return out


def arrows_figure(at: AppTest) -> dict:
    specs = [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]
    return next(s for s in specs if any(t.get("type") == "cone" for t in s["data"]))


def arrow_count(fig: dict) -> int:
    return sum(len(t["x"]) // 3 for t in fig["data"] if t.get("type") == "scatter3d")


def upload(at: AppTest, name: str, data: bytes) -> AppTest:
    at.session_state[relational.RELATIONS_UPLOAD] = (name, data)  # what the uploader's on_change stores
    at.run()
    return at.button(key="ra-load").click().run()


def test_page_renders_offline_with_the_builtin_set_and_models():
    assert os.environ["HF_HUB_OFFLINE"] == "1"
    at = run_page(PAGE)  # the app's default projection (PHATE)
    clean(at)
    assert at.title[0].value == "Relational Affinity"
    tables = frames(at)
    within, cross = tables["within"], tables["cross"]
    assert list(dict.fromkeys(within["model"])) == ["tokenlearn-static", "e5-small-nano"]
    assert len(within) == 2 * 4 * 6 and (within["relations"] == 8).all() and (within["zero vectors"] == 0).all()
    assert within["RA"].between(-1, 1).all() and (within["pairs"] == 28).all()
    assert set(cross.loc[cross["category"] == "all", "pair"]) == {
        f"{a}-{b}"
        for i, a in enumerate(["en", "de", "es", "fr", "ru", "zh"])
        for b in ["en", "de", "es", "fr", "ru", "zh"][i + 1 :]
    }
    fig = arrows_figure(at)
    assert arrow_count(fig) == 2 * 32  # the first two languages drawn, one arrow per relation
    assert [t["name"] for t in fig["data"] if t["type"] == "scatter3d"] == ["gender", "capital", "plural", "antonym"]
    assert len(at.get("plotly_chart")) == 3  # two cross-language heatmaps and the arrows


def test_languages_and_categories_controls_restrict_every_table():
    at = run_page(PAGE, **FAST)
    at.sidebar.multiselect(key=f"w:{relational.RA_LANGUAGES}").set_value(["en", "zh"]).run()
    clean(at)
    tables = frames(at)
    assert set(tables["within"]["language"]) == {"en", "zh"} and len(tables["within"]) == 2 * 4 * 2
    assert set(tables["cross"]["pair"]) == {"en-zh"}
    at.sidebar.multiselect(key=f"w:{relational.RA_CATEGORIES}").set_value(["antonym"]).run()
    clean(at)
    tables = frames(at)
    assert set(tables["within"]["category"]) == {"antonym"} and len(tables["relations"]) == 8
    at.sidebar.multiselect(key=f"w:{relational.RA_LANGUAGES}").set_value(["de"]).run()
    clean(at)
    assert "cross" not in frames(at)
    assert any("2 or more languages" in i.value for i in at.info)
    at.sidebar.multiselect(key=f"w:{relational.RA_LANGUAGES}").set_value([]).run()
    assert not at.exception and "at least 1 language" in at.error[0].value


def test_model_and_projection_controls():
    at = run_page(PAGE, **FAST)
    at.sidebar.multiselect(key=f"w:{state.MODELS}").set_value(["e5-small-nano"]).run()
    clean(at)
    assert set(frames(at)["within"]["model"]) == {"e5-small-nano"}
    assert len(at.get("plotly_chart")) == 2  # one heatmap and the arrows
    at.sidebar.multiselect(key=f"w:{state.MODELS}").set_value(["tokenlearn-static", "e5-small-nano"]).run()
    at.selectbox(key=f"w:{relational.PROJECTION_MODEL}").set_value("e5-small-nano").run()
    clean(at)
    assert arrows_figure(at)["layout"]["title"]["text"].startswith("e5-small-nano")
    at.multiselect(key=f"w:{relational.PROJECTION_LANGUAGES}").set_value(["en", "de", "zh"]).run()
    clean(at)
    assert arrow_count(arrows_figure(at)) == 3 * 32
    at.multiselect(key=f"w:{relational.PROJECTION_LANGUAGES}").set_value([]).run()
    clean(at)
    assert any("at least 1 language to draw" in i.value for i in at.info)
    at.sidebar.multiselect(key=f"w:{state.MODELS}").set_value([]).run()
    clean(at)
    assert any("Choose one or more models" in i.value for i in at.info)


def test_upload_replaces_the_set_a_bad_one_is_a_message_and_builtin_comes_back():
    at = run_page(PAGE, **FAST)
    assert at.button(key="ra-load").disabled  # nothing uploaded yet
    at = upload(at, "bad<b>.csv", b"id,en,de\nq1,a,b\n")
    assert not at.exception
    assert "no word columns" in at.error[0].value and "<b>" not in at.error[0].value
    assert len(frames(at)["within"]) == 2 * 4 * 6  # the built-in set still shows
    at = upload(at, "tiny-RA.csv", TINY)
    clean(at)
    assert any("kept column(s) 'verified'" in w.value for w in at.warning)
    assert set(frames(at)["within"]["category"]) == {"gender", "antonym"}
    at.button(key="ra-use-builtin").click().run()
    clean(at)
    assert len(frames(at)["within"]) == 2 * 4 * 6


def test_model_that_fails_to_load_is_a_message(monkeypatch):
    def unavailable(key: str):
        raise ModelUnavailable(f"{key} is not available: run `semanscope setup`")

    monkeypatch.setattr(runs, "load_embedder", unavailable)  # every page loads models through ui.runs
    at = run_page(PAGE, **FAST)
    assert not at.exception
    assert "semanscope setup" in at.error[0].value


def brute_force(words1: list[str], words2: list[str]) -> np.ndarray:
    """Unit relation vectors r / |r|, r = u(e(word2)) - u(e(word1)), one text at a time; NaN rows for zero vectors."""
    model = load_model("tokenlearn-static")
    rows = []
    for w1, w2 in zip(words1, words2, strict=True):
        a, b = (model.encode([w])[0].astype(np.float64) for w in (w1, w2))
        r = b / np.linalg.norm(b) - a / np.linalg.norm(a)
        norm = np.linalg.norm(r)
        rows.append(r / norm if norm >= 1e-8 else np.full_like(r, np.nan))
    return np.array(rows)


def test_page_numbers_equal_brute_force_on_a_tiny_set():
    at = run_page(PAGE, **FAST, **{state.MODELS: ["tokenlearn-static"]})
    at = upload(at, "tiny-RA.csv", TINY)
    clean(at)
    tables = frames(at)
    within, cross = tables["within"].set_index(["category", "language"]), tables["cross"].set_index(["category"])
    en = brute_force(
        ["king", "uncle", "actor", "hot", "fast", "rich"], ["queen", "aunt", "actress", "cold", "slow", "poor"]
    )
    de = brute_force(
        ["König", "Onkel", "Schauspieler", "heiß", "schnell", "reich"],
        ["Königin", "Tante", "Schauspielerin", "kalt", "langsam", "reich"],
    )
    for lang, R in (("en", en), ("de", de)):
        for category, rows in (("gender", [0, 1, 2]), ("antonym", [3, 4, 5])):
            usable = [k for k in rows if np.isfinite(R[k]).all()]
            cosines = np.array([R[i] @ R[j] for n, i in enumerate(usable) for j in usable[n + 1 :]])
            row = within.loc[(category, lang)]
            assert row["relations"] == len(usable) and row["zero vectors"] == len(rows) - len(usable)
            assert row["pairs"] == len(cosines) and row["negative pairs"] == int((cosines < 0).sum())
            expected = [cosines.mean(), cosines.std(), cosines.min(), cosines.max()]
            np.testing.assert_allclose(row[["RA", "std", "min", "max"]].to_numpy(float), expected, atol=1e-5)
    assert within.loc[("antonym", "de"), "zero vectors"] == 1  # reich -> reich
    matched = np.array([en[k] @ de[k] for k in range(5)])  # a3 is unusable in German
    overall = cross.loc["all"]
    assert overall["relations"] == 5
    np.testing.assert_allclose(
        overall[["RA", "std", "min", "max"]].to_numpy(float),
        [matched.mean(), matched.std(), matched.min(), matched.max()],
        atol=1e-5,
    )
    np.testing.assert_allclose(cross.loc["gender", "RA"], matched[:3].mean(), atol=1e-5)
    np.testing.assert_allclose(cross.loc["antonym", "RA"], matched[3:].mean(), atol=1e-5)
    z = next(
        spec["data"][0]["z"]
        for spec in map(json.loads, (c.proto.spec for c in at.get("plotly_chart")))
        if spec["data"][0]["type"] == "heatmap"
    )
    cells = np.frombuffer(base64.b64decode(z["bdata"]), dtype=z["dtype"]).reshape(2, 2)  # plotly's typed array
    np.testing.assert_allclose(cells[0, 1], matched.mean(), atol=1e-5)  # the en-de cell
