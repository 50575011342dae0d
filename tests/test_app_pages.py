"""Every Streamlit page under ``streamlit.testing.v1.AppTest``: loads cleanly, recomputes its
scores when the language selection changes, and shows errors as messages.

Fast settings: 12 concepts per view (``SEMANSCOPE_MAX_CONCEPTS``), a fresh cache folder, the
default models (tokenlearn-static and e5-small-nano, no setup needed). Models and scores are
cached in-process, so only the first page pays for loading them.
"""

from __future__ import annotations

import json
import re

import pytest

pytest.importorskip("streamlit")
from app_pages import ROOT, clean, fast_app, run_page  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402

from semanscope import appcore  # noqa: E402
from semanscope.models.base import ModelUnavailable  # noqa: E402
from semanscope.ui import runs, state  # noqa: E402

PAGES = (
    "app.py",
    "pages/1_Explore.py",
    "pages/2_Compare.py",
    "pages/3_Affinity.py",
    "pages/4_Data.py",
    "pages/6_Relational.py",
)


@pytest.fixture(scope="module", autouse=True)
def fast_settings(tmp_path_factory):
    with fast_app(tmp_path_factory.mktemp("semanscope-cache")):
        yield


def metrics(at: AppTest) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for m in at.metric:
        out.setdefault(m.label, []).append(m.value)
    return out


def choose_languages(at: AppTest, languages: list[str]) -> AppTest:
    return at.sidebar.multiselect(key=f"w:{state.LANGUAGES}").set_value(languages).run()


@pytest.mark.parametrize("page", PAGES)
def test_page_loads_without_errors(page: str) -> None:
    at = run_page(page)
    clean(at)
    assert at.title or at.header


def test_home_runs_the_study() -> None:
    at = run_page("app.py")
    at.button[0].click().run()
    clean(at)
    scores = at.dataframe[1].value
    assert list(scores["model"]) == ["tokenlearn-static", "e5-small-nano"]
    assert scores["SA"].between(0, 1).all() and (scores["concepts"] == 12).all()
    assert any("finds the translation first (P@1)" in m.value for m in at.markdown)  # the answer leads with P@1


def test_explore_scores_follow_the_language_selection() -> None:
    at = run_page("pages/1_Explore.py")
    before = metrics(at)
    assert before["Concepts x languages"] == ["12 x 6"]
    choose_languages(at, ["en", "de", "zh"])
    clean(at)
    after = metrics(at)
    assert after["Concepts x languages"] == ["12 x 3"]
    scores = ("Semantic Affinity", "P@1", "MRR")
    assert [after[k] for k in scores] != [before[k] for k in scores]
    assert len(at.get("plotly_chart")) == 2  # 3D view and the linked 2D view


def test_compare_shows_both_models_and_recomputes() -> None:
    at = run_page("pages/2_Compare.py")
    before = metrics(at)["Semantic Affinity"]
    assert len(before) == 2
    assert len(at.get("plotly_chart")) == 2
    choose_languages(at, ["en", "de"])
    clean(at)
    after = metrics(at)["Semantic Affinity"]
    assert len(after) == 2 and all(a != b for a, b in zip(after, before, strict=True))


def figures(at: AppTest) -> list[dict]:
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def test_compare_uses_one_camera_for_every_model() -> None:
    at = run_page("pages/2_Compare.py")
    at.selectbox(key="w:camera_preset").set_value("top (x-y plane)").run()
    clean(at)
    expected = appcore.camera_from_view(*appcore.CAMERA_PRESETS["top (x-y plane)"])
    eyes = [fig["layout"]["scene"]["camera"]["eye"] for fig in figures(at)]
    assert len(eyes) == 2
    for eye in eyes:
        assert eye == pytest.approx(expected["eye"], abs=0.05)


def test_explore_with_pca() -> None:
    at = run_page("pages/1_Explore.py")
    at.selectbox(key="w:proj_method").set_value("pca").run()
    clean(at)
    titles = [fig["layout"].get("title", {}).get("text", "") for fig in figures(at)]
    assert titles[0].endswith("(PCA)") and len(titles) == 2  # the 3D view, then the linked 2D view


def test_affinity_tables_follow_the_language_selection() -> None:
    at = run_page("pages/3_Affinity.py")
    before = at.dataframe[0].value.set_index("model")["SA"]
    choose_languages(at, ["en", "es", "hi"])
    clean(at)
    after = at.dataframe[0].value.set_index("model")["SA"]
    assert list(after.index) == ["tokenlearn-static", "e5-small-nano"]
    assert (after != before).all()
    assert any("finds the translation first (P@1)" in m.value for m in at.markdown)  # the answer leads with P@1


def test_affinity_switches_to_euclidean_sa() -> None:
    at = run_page("pages/3_Affinity.py")
    cosine = at.dataframe[0].value.set_index("model")
    at.sidebar.radio(key=f"w:{state.SA_METRIC}").set_value("euclidean").run()
    clean(at)
    euclid = at.dataframe[0].value.set_index("model")
    assert at.session_state[state.SA_METRIC] == "euclidean"
    assert (euclid["SA"] != cosine["SA"]).all() and euclid["P@1"].equals(cosine["P@1"])  # retrieval stays cosine


def test_data_page_bad_upload_shows_an_error_and_stays_usable() -> None:
    at = run_page("pages/4_Data.py", **{state.UPLOAD: [("broken.csv", b"id,en,de\nq1,caf\xe9,x\n")]})
    at.button(key="load-upload").click().run()
    assert not at.exception
    assert len(at.error) == 1 and "broken.csv" in at.error[0].value
    assert at.header[0].value == "Current set: faq"
    # the session goes on: a good upload replaces the data set everywhere
    at.session_state[state.UPLOAD] = [("mine.csv", b"id,en,fr\na,one,un\nb,two,deux\nc,three,trois\n")]
    at.button(key="load-upload").click().run()
    clean(at)
    assert at.header[0].value == "Current set: mine"
    assert at.sidebar.multiselect(key=f"w:{state.LANGUAGES}").value == ["en", "fr"]


def test_model_that_fails_to_load_is_a_message(monkeypatch) -> None:
    def unavailable(key: str):
        raise ModelUnavailable(f"{key} is not available: run `semanscope setup`")

    monkeypatch.setattr(runs, "load_embedder", unavailable)
    at = run_page("pages/1_Explore.py")
    assert not at.exception
    assert "semanscope setup" in at.error[0].value


def test_sessions_do_not_share_choices() -> None:
    first, second = run_page("pages/4_Data.py"), run_page("pages/4_Data.py")
    choose_languages(first, ["en", "de"])
    second.run()
    assert first.sidebar.multiselect(key=f"w:{state.LANGUAGES}").value == ["en", "de"]
    assert second.sidebar.multiselect(key=f"w:{state.LANGUAGES}").value == ["en", "de", "es", "zh", "ar", "hi"]


def test_page_icons_are_emoji_not_cdn_fonts() -> None:
    """A ``:material/...:`` page icon becomes a favicon fetched from fonts.gstatic.com (offline: none)."""
    sources = [ROOT / "app.py", *(ROOT / "pages").glob("*.py"), *(ROOT / "semanscope" / "ui").glob("*.py")]
    for path in sources:
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"page_icon=\":material|\bpage\([^)]*:material", text), path
        assert not re.search(r"def page\([^)]*:material", text), path
