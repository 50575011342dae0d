"""The reducers in the app and the Compare methods page under ``AppTest``: every method in the
projection picker, methods side by side with cost and quality, failures as one-line errors, and
the KMeans clustering overlay. Fast settings as in ``test_app_pages.py`` (12 concepts x 6 languages)."""

from __future__ import annotations

import html
import re

import numpy as np
import pytest

pytest.importorskip("streamlit")
from app_pages import CONCEPTS, fast_app, run_page  # noqa: E402
from test_app_pages import clean, figures  # noqa: E402

from semanscope import appcore  # noqa: E402
from semanscope.metrics.clustering import purity  # noqa: E402
from semanscope.plots.scatter import group_colors  # noqa: E402
from semanscope.reduce import available_methods, unavailable_methods  # noqa: E402
from semanscope.ui import clustering, state  # noqa: E402
from semanscope.ui.clustering import cluster_colouring, cluster_labels  # noqa: E402
from semanscope.ui.methods import default_methods  # noqa: E402
from semanscope.ui.views import method_choice_label  # noqa: E402

PAGE = "pages/5_Methods.py"
TINY = b"id,en,fr\na,one,un\nb,two,deux\nc,three,trois\nd,house,maison\n"  # 4 concepts x 2 languages = 8 points


@pytest.fixture(scope="module", autouse=True)
def fast_settings(tmp_path_factory):
    with fast_app(tmp_path_factory.mktemp("semanscope-cache")):
        yield


@pytest.fixture(scope="module")
def tiny():
    return appcore.load_upload([("tiny.csv", TINY)]).queryset


def point_traces(fig: dict) -> list[dict]:
    return [t for t in fig["data"] if t.get("name") != "links"]


# ---------------------------------------------------------------------- without Streamlit
def test_default_methods_take_the_first_available_of_each_slot():
    assert default_methods(["phate", "pca", "tsne", "umap", "pacmap"]) == ["phate", "pca", "umap"]
    assert default_methods(["phate", "pca", "tsne", "pacmap"]) == ["phate", "pca", "pacmap"]
    assert default_methods(["pca", "tsne"]) == ["pca", "tsne"]


def test_cluster_labels_name_each_point_and_score_against_the_concepts():
    rng = np.random.default_rng(0)
    concept = np.repeat(np.arange(6), 4)
    X = np.repeat(rng.normal(size=(6, 16)), 4, axis=0) + 0.01 * rng.normal(size=(24, 16))
    ids = [f"q{c}" for c in concept]
    labels, caption = cluster_labels(X, ids, 6)
    assert labels[0] == "cluster 1" and set(labels) == {f"cluster {i}" for i in range(1, 7)}
    assert purity(labels, ids) == 1.0
    assert caption == "k-means, k = 6, on the embeddings (cosine): purity 1.000, inverse purity 1.000, ARI 1.000"
    labels, caption = cluster_labels(X[:, :3], ids, 2, cosine=False)
    assert set(labels) == {"cluster 1", "cluster 2"} and "projected coordinates" in caption
    colouring = cluster_colouring(labels)
    assert colouring.title == "KMeans cluster" and list(colouring.labels) == list(labels)
    assert colouring.colors["cluster 1"] != colouring.colors["cluster 2"]


# ---------------------------------------------------------------------- projection picker (Explore)
def test_projection_picker_offers_every_available_method_and_names_the_missing():
    at = run_page("pages/1_Explore.py")
    clean(at)
    picker = at.sidebar.selectbox(key="w:proj_method")
    assert list(picker.options) == [method_choice_label(m) for m in available_methods()]
    assert {"PaCMAP", "Isomap", "MDS", "kernel PCA", "spectral embedding", "LLE"} <= set(picker.options)
    notes = " ".join(c.value for c in at.sidebar.caption)
    for method, why in unavailable_methods().items():
        assert why in notes, method


@pytest.mark.parametrize("method", ["isomap", "spectral", "lle", "kpca", "mds"])
def test_explore_with_each_added_method(method: str) -> None:
    at = run_page("pages/1_Explore.py", proj_method=method)
    clean(at)
    assert len(at.get("plotly_chart")) == 2


def test_a_method_that_cannot_run_on_the_view_is_a_one_line_error(tiny) -> None:
    at = run_page("pages/1_Explore.py", **{state.DATASET: tiny, "proj_method": "lle"})
    assert not at.exception
    assert len(at.error) == 1
    message = html.unescape(at.error[0].value)  # markdown-escaped: n&#95;neighbors
    assert re.match(r"LLE projection failed: lle: n_neighbors must be an integer between 4 and \d+ \(fewer", message)
    assert "\n" not in message and "Traceback" not in message


# ---------------------------------------------------------------------- Compare methods
def test_methods_page_shows_the_default_methods_with_cost_and_quality() -> None:
    at = run_page(PAGE)
    clean(at)
    expected = default_methods(available_methods())
    assert at.sidebar.multiselect(key="w:compare_methods").value == expected
    assert [h.value for h in at.subheader][: len(expected)] == [
        {"phate": "PHATE", "pca": "PCA", "pacmap": "PaCMAP", "umap": "UMAP", "tsne": "t-SNE"}[m] for m in expected
    ]
    assert len(figures(at)) == len(expected)
    table = at.dataframe[0].value
    assert list(table["status"]) == ["ok"] * len(expected)
    assert table["kNN kept"].between(0, 1).all() and (table["seconds"] >= 0).all()
    pca = table.set_index("method").loc["PCA", "kNN kept"]
    assert pca > 10 / (CONCEPTS * 6 - 1)  # better than a random layout


def test_methods_page_uses_one_camera_for_every_method() -> None:
    view = {"cam_elev": 30.0, "cam_azim": -60.0, "cam_dist": 2.5}  # the sidebar camera, as Explore left it
    at = run_page(PAGE, compare_methods=["pca", "spectral"], **view)
    clean(at)
    expected = appcore.camera_from_view(*view.values())["eye"]
    cameras = [fig["layout"]["scene"]["camera"]["eye"] for fig in figures(at)]
    assert len(cameras) == 2 and all(eye == pytest.approx(expected, abs=1e-6) for eye in cameras)


def test_methods_page_failure_of_one_method_is_one_line_and_the_others_show(tiny) -> None:
    at = run_page(PAGE, **{state.DATASET: tiny, "compare_methods": ["pca", "lle"]})
    assert not at.exception
    assert len(at.error) == 1
    assert html.unescape(at.error[0].value).startswith("LLE projection failed: lle: n_neighbors")
    assert len(figures(at)) == 1
    table = at.dataframe[0].value
    assert list(table["status"]) == ["ok", "failed"] and "n_neighbors" in table["error"].iloc[1]


def test_methods_page_without_methods_says_what_to_do() -> None:
    at = run_page(PAGE, compare_methods=["pca"])
    at.sidebar.multiselect(key="w:compare_methods").set_value([]).run()
    clean(at)
    assert any("Choose one or more projection methods" in i.value for i in at.info)


def test_kmeans_overlay_colours_by_cluster_with_purity_and_ari() -> None:
    at = run_page(PAGE, compare_methods=["pca", "spectral"])
    at.sidebar.checkbox(key="w:kmeans_on").check().run()
    clean(at)
    text = " ".join(m.value for m in at.markdown)
    assert f"k-means, k = {CONCEPTS}, on the embeddings (cosine): purity" in text and "ARI" in text
    assert any("ARI: agreement of clusters with concepts" in c.value for c in at.caption)
    figs = figures(at)
    names = [[t["name"] for t in point_traces(fig)] for fig in figs]
    assert names[0] == names[1] and sorted(names[0]) == sorted(f"cluster {i}" for i in range(1, CONCEPTS + 1))
    assert figs[0]["layout"]["legend"]["title"]["text"] == "KMeans cluster"
    first = point_traces(figs[0])[0]
    assert first["marker"]["color"] == group_colors([first["name"]])[first["name"]]  # the first group's colour
    # k chosen by the user, clusters of each projection as drawn
    at.sidebar.number_input(key="w:kmeans_k").set_value(3).run()
    at.sidebar.radio(key="w:kmeans_space").set_value("projection").run()
    clean(at)
    assert [len(point_traces(fig)) for fig in figures(at)] == [3, 3]
    captions = [c.value for c in at.caption if c.value.startswith("k-means, k = 3, on the projected coordinates")]
    assert len(captions) == 2


def test_kmeans_failure_is_a_message_and_the_views_stay(monkeypatch) -> None:
    def broken(*args, **kwargs):
        raise ValueError("k-means broke")

    monkeypatch.setattr(clustering, "cluster_concepts", broken)
    at = run_page(PAGE, compare_methods=["pca"], kmeans_on=True, kmeans_k=7)  # k not cached by another test
    assert not at.exception
    assert [e.value for e in at.error] == ["KMeans clustering failed: k-means broke"]
    assert [t["name"] for t in point_traces(figures(at)[0])][0] == "en - English"  # coloured by language instead
