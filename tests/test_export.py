"""Exports: HTML, kaleido images (skipped without a browser), matplotlib vectors, CSV/Markdown/LaTeX tables."""

from __future__ import annotations

import io
import struct
import xml.etree.ElementTree as ET
from dataclasses import replace

import kaleido
import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from semanscope.plots.export import ExportUnavailable, figure_to_html, figure_to_image, figure_to_images, find_browser
from semanscope.plots.mpl import camera_to_view, scatter_to_vector
from semanscope.plots.palette import language_color
from semanscope.plots.scatter import scatter3d
from semanscope.plots.tables import (
    escape_formula,
    format_ci,
    latex_escape,
    markdown_escape,
    to_csv,
    to_latex,
    to_markdown,
)

SVG_NS = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def fig3d() -> go.Figure:
    rng = np.random.default_rng(0)
    coords = rng.normal(size=(12, 3))
    labels = ["en", "de", "zh"] * 4
    return scatter3d(coords, labels, [f"t{i}" for i in range(12)], np.repeat(np.arange(4), 3), links=True)


# ---------------------------------------------------------------------- HTML
def test_html_is_self_contained(fig3d):
    page = figure_to_html(fig3d)
    assert page.lstrip().lower().startswith("<!doctype html>") and 'class="plotly-graph-div"' in page
    assert "Plotly.newPlot" in page and '<script src="https://cdn.plot.ly' not in page
    assert len(page) > 1_000_000  # plotly.js is inlined


# ---------------------------------------------------------------------- kaleido
requires_browser = pytest.mark.skipif(
    find_browser() is None,
    reason="no Chrome/Chromium for kaleido (apt-get install chromium or set BROWSER_PATH)",
)


@requires_browser
def test_kaleido_png_svg_pdf(fig3d):
    images = figure_to_images(fig3d, width=300, height=200, scale=2)  # one browser start for all three
    png = images["png"]
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert struct.unpack(">II", png[16:24]) == (600, 400)  # IHDR width, height = layout px x scale
    assert ET.fromstring(images["svg"]).tag == SVG_NS + "svg"
    assert images["pdf"].startswith(b"%PDF")


def test_camera_and_size_are_passed_to_kaleido(fig3d, monkeypatch):
    seen = {}

    def fake_write(jobs, kopts, cancel_on_error):
        seen["jobs"], seen["kopts"] = list(jobs), kopts
        for job in seen["jobs"]:
            job["path"].write_bytes(job["opts"]["format"].encode())

    monkeypatch.setenv("BROWSER_PATH", "/bin/sh")
    monkeypatch.setattr(kaleido, "write_fig_from_object_sync", fake_write)
    camera = {"eye": {"x": 0.2, "y": -1.9, "z": 0.6}, "up": {"x": 0, "y": 0, "z": 1}}
    assert figure_to_image(fig3d, "svg", width=640, height=480, scale=1.5, camera=camera) == b"svg"
    (job,) = seen["jobs"]
    assert job["fig"].layout.scene.camera.eye.y == -1.9
    assert job["opts"] == {"format": "svg", "width": 640, "height": 480, "scale": 1.5}
    assert seen["kopts"] == {"path": "/bin/sh"}
    assert fig3d.layout.scene.camera.eye.y is None  # the user's figure is not modified


def test_no_browser_raises_export_unavailable(fig3d, monkeypatch, tmp_path):
    monkeypatch.setenv("BROWSER_PATH", str(tmp_path / "no-such-chrome"))
    assert find_browser() is None
    with pytest.raises(ExportUnavailable, match="apt-get install chromium.*matplotlib"):
        figure_to_image(fig3d, "png")


def test_browser_that_fails_to_start_raises_export_unavailable(fig3d, monkeypatch, tmp_path):
    fake = tmp_path / "chrome"
    fake.write_text("#!/bin/sh\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setenv("BROWSER_PATH", str(fake))
    with pytest.raises(ExportUnavailable, match="could not be started"):
        figure_to_image(fig3d, "png")


def test_image_argument_validation(fig3d):
    with pytest.raises(ValueError, match="unknown image format 'jpg'"):
        figure_to_image(fig3d, "jpg")
    with pytest.raises(ValueError, match="must be > 0"):
        figure_to_image(fig3d, "png", width=0)


# ---------------------------------------------------------------------- matplotlib vectors
@pytest.mark.parametrize(
    "eye, view",
    [
        ({"x": 1.25, "y": 1.25, "z": 1.25}, (35.26438968, 45.0)),
        ({"x": 2.0, "y": 0.0, "z": 0.0}, (0.0, 0.0)),
        ({"x": 0.0, "y": -1.0, "z": 1.0}, (45.0, -90.0)),
        ({"x": 0.0, "y": 0.0, "z": 3.0}, (90.0, 0.0)),
    ],
)
def test_camera_to_view(eye, view):
    np.testing.assert_allclose(camera_to_view({"eye": eye}), view, atol=1e-6)


def test_camera_to_view_defaults_to_plotly_default_eye():
    np.testing.assert_allclose(camera_to_view(None), (35.26438968, 45.0))


def test_vector_svg_is_xml_with_vector_paths_and_palette_colours():
    rng = np.random.default_rng(1)
    svg = scatter_to_vector(
        rng.normal(size=(9, 2)),
        ["en", "de", "zh"] * 3,
        "svg",
        links=True,
        concept_ids=np.repeat(np.arange(3), 3),
        title="2D",
    )
    root = ET.fromstring(svg)
    assert root.tag == SVG_NS + "svg"
    assert root.find(f".//{SVG_NS}image") is None  # nothing rasterised
    text = svg.decode()
    for lang in ("en", "de", "zh"):
        assert language_color(lang) in text
        assert f">{lang}<" in text  # legend labels stay text (svg.fonttype none)


def test_vector_pdf_3d_with_camera_and_reproducible():
    rng = np.random.default_rng(2)
    coords, labels = rng.normal(size=(12, 3)), ["en", "de", "zh", "ar"] * 3
    kw = dict(
        fmt="pdf", camera={"eye": {"x": 0.5, "y": 2.0, "z": 0.3}}, links=True, concept_ids=np.repeat(np.arange(3), 4)
    )
    pdf = scatter_to_vector(coords, labels, **kw)
    assert pdf.startswith(b"%PDF") and b"/Subtype /Image" not in pdf
    assert pdf == scatter_to_vector(coords, labels, **kw)


def test_vector_validation():
    with pytest.raises(ValueError, match="unknown format 'jpg'"):
        scatter_to_vector(np.zeros((3, 2)), ["en"] * 3, "jpg")
    with pytest.raises(ValueError, match="text_labels has 1 entries"):
        scatter_to_vector(np.zeros((3, 2)), ["en"] * 3, "svg", text_labels=["a"])
    with pytest.raises(ValueError, match="needs concept_ids"):
        scatter_to_vector(np.zeros((3, 2)), ["en"] * 3, "svg", links=True)
    with pytest.raises(ValueError, match="\\(M, 2\\) or \\(M, 3\\)"):
        scatter_to_vector(np.zeros((3, 4)), ["en"] * 3, "svg")


# ---------------------------------------------------------------------- tables
@pytest.fixture
def results() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "model": ['=HYPERLINK("x")', "+cmd", "-2+3", "@SUM(A1)", "\tTab", "\rCR", "plain-name", "a|b"],
            "delta": [-0.5, -1.25, 0.0, 1.0, np.nan, 2.0, -3.0, 0.126],
            "n": [1, 2, 3, 4, 5, 6, 7, 8],
        }
    )


def test_csv_escapes_formulas_but_not_numbers(results):
    back = pd.read_csv(io.BytesIO(to_csv(results)), keep_default_na=False)
    assert back["model"].tolist() == [
        '\'=HYPERLINK("x")',
        "'+cmd",
        "'-2+3",
        "'@SUM(A1)",
        "'\tTab",
        "'\rCR",
        "plain-name",
        "a|b",
    ]
    assert to_csv(results).decode().split("\r\n")[1].split(",")[1] == "-0.5"  # numeric cell untouched
    assert back["n"].tolist() == list(range(1, 9))


def test_csv_escapes_headers_and_object_columns_keep_numbers():
    df = pd.DataFrame({"=bad": ["x"], "mixed": [-3.5]}).astype({"mixed": object})
    assert to_csv(df).decode() == "'=bad,mixed\r\nx,-3.5\r\n"
    assert escape_formula(-2) == -2 and escape_formula("-2") == "'-2"


def test_markdown_table_format(results):
    md = to_markdown(results.iloc[[0, 4, 7]], digits=2)
    assert md == (
        "| model           | delta |   n |\n"
        "| --------------- | ----: | --: |\n"
        '| =HYPERLINK("x") | -0.50 |   1 |\n'
        "|  Tab            |       |   5 |\n"  # tab -> space, NaN -> empty
        "| a&#124;b        |  0.13 |   8 |\n"  # pipe escaped
    )


def test_markdown_escape_neutralises_markup_in_text_and_tables():
    text = "<img src=x onerror=alert(1)> *b* _i_ [l](javascript:x) `c` a|b \\ & ~s~\nnext"
    escaped = markdown_escape(text)
    assert escaped == (
        "&#60;img src=x onerror=alert(1)&#62; &#42;b&#42; &#95;i&#95; &#91;l&#93;(javascript:x) &#96;c&#96; "
        "a&#124;b &#92; &#38; &#126;s&#126; next"
    )
    assert not set(escaped) & set("<>*_[]`|\\~\n")
    table = to_markdown(pd.DataFrame({"name": ["a|b<i>"], "v": [1]}))
    assert "a&#124;b&#60;i&#62;" in table and table.count("|") == 9  # only the table's own pipes
    assert markdown_escape("plain text, 1.5 (ok)") == "plain text, 1.5 (ok)"


def test_latex_escaping_and_booktabs():
    assert latex_escape(r"a&b%c$d#e_f{g}h~i^j\k") == (
        r"a\&b\%c\$d\#e\_f\{g\}h\textasciitilde{}i\textasciicircum{}j\textbackslash{}k"
    )
    df = pd.DataFrame({"model_name": ["E5 & co", "50%"], "SA": [0.6234, -0.1]})
    tex = to_latex(df, caption="SA per model_family", label="tab:sa", digits=2)
    assert tex.splitlines() == [
        r"\begin{table}[ht]",
        r"\centering",
        r"\caption{SA per model\_family}",
        r"\label{tab:sa}",
        r"\begin{tabular}{lr}",
        r"\toprule",
        r"model\_name & SA \\",
        r"\midrule",
        r"E5 \& co & 0.62 \\",
        r"50\% & -0.10 \\",
        r"\bottomrule",
        r"\end{tabular}",
        r"\end{table}",
    ]
    with pytest.raises(ValueError, match="LaTeX label"):
        to_latex(df, label="tab:{x}")


def test_format_ci():
    assert format_ci(0.62, 0.58, 0.66, digits=2) == "0.62 [0.58, 0.66]"
    assert format_ci(0.6234, 0.5811, 0.6672) == "0.623 [0.581, 0.667]"
    assert format_ci(0.5, float("nan"), 0.6) == "0.500"
    assert format_ci(float("nan"), 0.1, 0.2) == ""


def test_presets_size_the_figure_and_colour_blind_palette_styles_each_language():
    import matplotlib.image

    from semanscope.plots.mpl import PRESETS, label_styles
    from semanscope.plots.palette import OKABE_ITO

    rng = np.random.default_rng(3)
    labels = [f"l{k}" for k in range(10)] * 2
    single = replace(PRESETS["single column (3.5 in)"], dpi=100)
    png = scatter_to_vector(rng.normal(size=(20, 2)), labels, "png", preset=single)
    height, width = matplotlib.image.imread(io.BytesIO(png)).shape[:2]
    assert png.startswith(b"\x89PNG") and width < 3.5 * 100 * 1.4  # legend beside the axes: tight bbox
    svg = scatter_to_vector(rng.normal(size=(20, 2)), labels, "svg", preset=single, text_labels=["word"] + [""] * 19)
    text = svg.decode()
    for colour in OKABE_ITO:
        assert colour.lower() in text.lower()
    assert text.count(">word<") == 1
    styles = label_styles(labels, "colour-blind safe")
    assert len(set(styles.values())) == 10 and styles["l8"] == (OKABE_ITO[0], "square")
    assert label_styles(["en"], "language") == {"en": (language_color("en"), "circle")}
    with pytest.raises(ValueError, match="unknown palette"):
        label_styles(["en"], "rainbow")


def test_embedding_plots_have_no_coordinate_ticks():
    svg = scatter_to_vector(np.arange(12.0).reshape(4, 3), ["en", "de"] * 2, "svg").decode()
    assert "xtick" not in svg and "ytick" not in svg
