"""Every Streamlit page under ``streamlit.testing.v1.AppTest``: loads cleanly, recomputes its
scores when the language selection changes, and shows errors as messages.

Fast settings: 12 concepts per view (``SEMANSCOPE_MAX_CONCEPTS``), a fresh cache folder, the
default models (tokenlearn-static and e5-small-nano, no setup needed). Models and scores are
cached in-process, so only the first page pays for loading them.
"""

from __future__ import annotations

import base64
import json
import re

import numpy as np
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
    assert len(at.get("plotly_chart")) == 4  # a 3D view and a linked 2D view per model
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
    eyes = [fig["layout"]["scene"]["camera"]["eye"] for fig in figures(at) if "scene" in fig["layout"]]
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


# --------------------------------------------------------------------------- readable views
def marker_traces(fig: dict) -> list[dict]:
    return [t for t in fig["data"] if t.get("name") not in ("links", "search matches")]


def values(data: list | dict) -> list:
    """A plotly JSON array: a list, or a typed array ``{"dtype", "bdata"}`` (base64 of numpy bytes)."""
    if isinstance(data, dict):
        return np.frombuffer(base64.b64decode(data["bdata"]), dtype=np.dtype(data["dtype"])).tolist()
    return list(data)


def n_points(fig: dict) -> int:
    return sum(len(values(t["customdata"])) for t in marker_traces(fig))


def captions(at: AppTest) -> str:
    return " ".join(c.value for c in at.caption)


def test_tiles_show_their_95_ci() -> None:
    at = run_page("pages/1_Explore.py")
    clean(at)
    cis = [c.value for c in at.caption if re.fullmatch(r"95% CI \[\d\.\d{3}, \d\.\d{3}\]", c.value)]
    assert len(cis) == 3  # SA, P@1, MRR
    compare = run_page("pages/2_Compare.py")
    assert len([c for c in compare.caption if c.value.startswith("95% CI [")]) == 4  # SA and P@1 per model


def test_sample_draws_fewer_concepts_but_scores_use_all() -> None:
    at = run_page("pages/1_Explore.py")
    assert n_points(figures(at)[0]) == 12 * 6 and "Plots: all 12 concepts" in captions(at)
    before = metrics(at)
    at.sidebar.number_input(key="w:plot_sample").set_value(4).run()
    clean(at)
    figs = figures(at)
    assert [n_points(f) for f in figs] == [4 * 6, 4 * 6]  # the same sample in the 3D and the 2D view
    assert {c for f in figs for t in marker_traces(f) for c in values(t["customdata"])} == set(range(24))
    assert metrics(at) == before  # scores use the whole selection
    assert "Plots: 4 of 12 concepts (a seeded sample); scores use all 12." in captions(at)
    compare = run_page("pages/2_Compare.py", plot_sample=4)
    assert [n_points(f) for f in figures(compare)] == [24] * 4


def test_text_labels_toggle_length_and_font_size() -> None:
    at = run_page("pages/1_Explore.py")
    assert all(t["mode"] == "markers" for f in figures(at) for t in marker_traces(f))
    at.sidebar.checkbox(key="w:labels").check().run()
    at.sidebar.slider(key="w:label_chars").set_value(6).run()
    at.sidebar.slider(key="w:label_size").set_value(15).run()
    clean(at)
    for fig in figures(at):
        for trace in marker_traces(fig):
            assert trace["mode"] == "markers+text" and trace["textfont"]["size"] == 15
            assert all(len(label) <= 6 for label in trace["text"])
            assert all(h.startswith("<b>") for h in trace["hovertext"])  # hover keeps the whole text


def test_links_are_on_by_default() -> None:
    at = run_page("pages/1_Explore.py")
    assert all(any(t.get("name") == "links" for t in f["data"]) for f in figures(at))


def test_colour_by_concept_and_language_names_in_the_legend() -> None:
    at = run_page("pages/1_Explore.py")
    fig = figures(at)[0]
    assert [t["name"] for t in marker_traces(fig)][:2] == ["en - English", "de - German"]
    assert fig["layout"]["legend"]["orientation"] == "h"  # below the plot, clear of the mode bar
    assert at.sidebar.selectbox(key="w:colour_by").options == ["language", "concept", "topic"]
    at.sidebar.selectbox(key="w:colour_by").set_value("concept").run()
    clean(at)
    fig = figures(at)[0]
    assert fig["layout"]["legend"]["title"]["text"] == "concept" and len(marker_traces(fig)) == 12


def test_search_rings_the_matching_concept_in_every_view() -> None:
    at = run_page("pages/2_Compare.py", plot_sample=3)
    at.sidebar.text_input(key="w:search").input("zzzz-nothing").run()
    assert "0 concept(s) match" in " ".join(c.value for c in at.sidebar.caption)
    trace = next(t for t in marker_traces(figures(at)[0]))
    hover = trace["hovertext"][0]
    concept = hover.split("concept: ")[1]
    at.sidebar.text_input(key="w:search").input(concept).run()
    clean(at)
    assert f"1 concept(s) match: {concept}" in " ".join(c.value for c in at.sidebar.caption)
    figs = figures(at)
    for fig in figs:  # every model's 3D and 2D view rings the concept's 6 points
        (rings,) = [t for t in fig["data"] if t.get("name") == "search matches"]
        assert len(values(rings["x"])) == 6


def test_one_concept_or_one_language_is_drawn_without_scores() -> None:
    at = run_page("pages/1_Explore.py")
    concept = figures(at)[0]["data"][1]["hovertext"][0].split("concept: ")[1]
    at.session_state["concept_filter"] = (concept,)
    at.run()
    clean(at)
    assert not at.metric  # no tiles ...
    assert any("need at least 3 concepts (this view has 1)" in i.value for i in at.info)  # ... but a note
    assert [n_points(f) for f in figures(at)] == [6, 6]
    compare = run_page("pages/2_Compare.py", languages=["de"])
    clean(compare)
    assert not compare.metric and any("at least 2 languages (this view has 1)" in i.value for i in compare.info)
    assert [n_points(f) for f in figures(compare)] == [12] * 4
    table = compare.dataframe[0].value
    assert list(table["status"]) == ["unscored", "unscored"]
    affinity = run_page("pages/3_Affinity.py", languages=["de"])
    clean(affinity)
    assert any("at least 2 languages (this view has 1)" in i.value for i in affinity.info)


def _selection_buttons(rows: list[int]) -> None:
    import numpy as np

    from semanscope import appcore
    from semanscope.data.queryset import QuerySet
    from semanscope.ui.scores import selection_actions

    qs = QuerySet.from_rows("t", ("en", "de"), [(f"c{i}", [f"e{i}", f"d{i}"], None) for i in range(4)])
    selection_actions(appcore.describe_selection(qs, np.asarray(rows)), qs)


@pytest.mark.parametrize(
    "rows, concepts, languages",
    [
        ([0], (False, "Show only these 1 concept(s)"), (False, "Show only these 1 language(s)")),
        ([0, 3, 5, 7], (True, "covers all 4 concepts"), (True, "covers all 2 languages")),
    ],
)
def test_selection_buttons_say_why(rows, concepts, languages) -> None:
    at = AppTest.from_function(_selection_buttons, args=(rows,)).run()
    clean(at)
    for key, (disabled, help_text) in (("keep-concepts", concepts), ("keep-languages", languages)):
        button = at.button(key=key)
        assert button.disabled is disabled and help_text in button.help
        assert "Scores need at least 3 concepts" in button.help or disabled


def test_every_page_is_in_the_navigation() -> None:
    """``app.py`` lists its pages with ``st.navigation``: a page file it does not name is unreachable."""
    app = (ROOT / "app.py").read_text(encoding="utf-8")
    missing = [p.name for p in sorted((ROOT / "pages").glob("*.py")) if f'"pages/{p.name}"' not in app]
    assert missing == []
