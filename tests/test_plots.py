"""Plotly figures (semanscope.plots.scatter / charts): traces, ids, links, highlight, heatmaps, bars."""

from __future__ import annotations

import html
from math import comb

import numpy as np
import pytest

from semanscope.plots.charts import degradation_heatmap, retrieval_heatmap, sa_bars, sa_heatmap, sa_vs_p_at_1
from semanscope.plots.links import link_pairs
from semanscope.plots.palette import EXTRA, LANGUAGE_COLORS, language_color, with_alpha
from semanscope.plots.scatter import (
    FADED_ALPHA,
    GROUP_PALETTE,
    HIGHLIGHT_SCALE,
    MARKED_NAME,
    MODEBAR_MARGIN,
    UIREVISION,
    Colouring,
    group_colors,
    highlight_mask,
    scatter2d,
    scatter3d,
    short_label,
)

LANGS = ["en", "de", "zh", "xx"]


def points(dim: int, seed: int = 0):
    """Concept-major rows as QuerySet.items() gives them; concept 'c2' has an extra German alternative."""
    rng = np.random.default_rng(seed)
    labels, concepts = [], []
    for c in range(5):
        for lang in LANGS:
            labels.append(lang)
            concepts.append(f"c{c}")
            if c == 2 and lang == "de":
                labels.append(lang)
                concepts.append(f"c{c}")
    texts = [f"text {i} <{labels[i]}>" for i in range(len(labels))]
    return rng.normal(size=(len(labels), dim)), labels, texts, concepts


def marker_traces(fig):
    return [t for t in fig.data if t.name not in ("links", MARKED_NAME)]


# ---------------------------------------------------------------------- palette / links
def test_language_colour_is_stable_and_case_insensitive():
    assert language_color("en") == LANGUAGE_COLORS["en"] == language_color(" EN ")
    assert language_color("xx") == language_color("xx") and language_color("xx") in EXTRA
    assert len(set(LANGUAGE_COLORS.values())) == len(LANGUAGE_COLORS)
    assert with_alpha("#ff8000", 0.5) == "rgba(255,128,0,0.5)"


def test_link_pairs_form_a_chain_per_concept():
    concepts = ["a", "b", "a", "c", "a", "b"]
    pairs = link_pairs(concepts)
    assert pairs.tolist() == [[0, 2], [2, 4], [1, 5]]  # a: 0-2-4, b: 1-5, c: none
    # brute force: each concept with k points contributes k - 1 links, and they connect it
    for cid in set(concepts):
        rows = {i for i, c in enumerate(concepts) if c == cid}
        mine = [p for p in pairs.tolist() if p[0] in rows]
        assert len(mine) == len(rows) - 1 and all(b in rows for _, b in mine)


# ---------------------------------------------------------------------- scatter
@pytest.mark.parametrize("make, dim", [(scatter3d, 3), (scatter2d, 2)])
def test_one_trace_per_language_with_global_row_ids(make, dim):
    coords, labels, texts, concepts = points(dim)
    fig = make(coords, labels, texts, concepts)
    traces = marker_traces(fig)
    assert [t.name for t in traces] == LANGS
    ids = np.concatenate([np.asarray(t.customdata) for t in traces])
    assert sorted(ids.tolist()) == list(range(len(labels)))
    for t in traces:
        rows = np.asarray(t.customdata)
        assert all(labels[i] == t.name for i in rows)
        np.testing.assert_array_equal(np.asarray(t.x), coords[rows, 0])
        np.testing.assert_array_equal(np.asarray(t.y), coords[rows, 1])
        if dim == 3:
            np.testing.assert_array_equal(np.asarray(t.z), coords[rows, 2])
        assert t.text is None and t.mode == "markers"  # no text labels unless asked for
        escaped = [texts[i].replace("<", "&lt;").replace(">", "&gt;") for i in rows]
        assert list(t.hovertext) == [
            f"<b>{e}</b><br>language: {t.name}<br>concept: {concepts[i]}" for e, i in zip(escaped, rows, strict=True)
        ]
        assert t.marker.color == language_color(t.name)
        assert "%{hovertext}" in t.hovertemplate
    assert fig.layout.uirevision == UIREVISION


def test_scatter3d_layout_camera_and_uirevision():
    coords, labels, texts, concepts = points(3)
    camera = {"eye": {"x": 0.1, "y": 2.0, "z": 0.4}}
    fig = scatter3d(coords, labels, texts, concepts, camera=camera, title="T")
    assert fig.layout.scene.camera.eye.y == 2.0
    assert fig.layout.scene.uirevision == UIREVISION
    assert fig.layout.title.text == "T"


def test_scatter2d_lasso_selection_enabled():
    coords, labels, texts, concepts = points(2)
    fig = scatter2d(coords, labels, texts, concepts)
    assert fig.layout.dragmode == "lasso" and "select" in fig.layout.clickmode
    assert all(t.type == "scatter" for t in fig.data)


@pytest.mark.parametrize("make, dim", [(scatter3d, 3), (scatter2d, 2)])
def test_links_trace_has_one_segment_per_chain_edge(make, dim):
    coords, labels, texts, concepts = points(dim)
    fig = make(coords, labels, texts, concepts, links=True)
    link = [t for t in fig.data if t.name == "links"]
    assert len(link) == 1 and len(fig.data) == len(LANGS) + 1
    xs = list(link[0].x)
    n_concepts, m = len(set(concepts)), len(labels)
    # chain: a concept with k points has k - 1 segments -> M - n_concepts in all
    # (fewer than the sum of k choose 2 that all-pairs links would draw)
    expected = m - n_concepts
    assert expected < sum(comb(concepts.count(c), 2) for c in set(concepts))
    assert len(xs) == 3 * expected and xs[2::3] == [None] * expected
    pairs = link_pairs(concepts)
    for axis, values in enumerate((link[0].x, link[0].y) + ((link[0].z,) if dim == 3 else ())):
        v = list(values)
        assert v[0::3] == coords[pairs[:, 0], axis].tolist() and v[1::3] == coords[pairs[:, 1], axis].tolist()


def test_highlight_3d_enlarges_and_fades():
    coords, labels, texts, concepts = points(3)
    chosen = {0, 5, 6}
    fig = scatter3d(coords, labels, texts, concepts, highlight=chosen, marker_size=4.0)
    for t in marker_traces(fig):
        rows = list(t.customdata)
        on = [r in chosen for r in rows]
        assert on == sorted(on, reverse=True)  # highlighted first, so the legend shows the opaque colour
        base = language_color(t.name)
        for r, size, color in zip(rows, t.marker.size, t.marker.color, strict=True):
            if r in chosen:
                assert size == 4.0 * HIGHLIGHT_SCALE and color == with_alpha(base, 1.0)
            else:
                assert size == 4.0 and color == with_alpha(base, FADED_ALPHA)


def test_highlight_2d_uses_selected_points_and_mask_equals_ids():
    coords, labels, texts, concepts = points(2)
    mask = np.zeros(len(labels), dtype=bool)
    mask[[1, 2, 7]] = True
    for hl in (mask, [1, 2, 7], {7, 1, 2}):
        fig = scatter2d(coords, labels, texts, concepts, highlight=hl)
        selected = [int(t.customdata[k]) for t in marker_traces(fig) for k in t.selectedpoints]
        assert sorted(selected) == [1, 2, 7]
        assert fig.data[0].unselected.marker.opacity == FADED_ALPHA


@pytest.mark.parametrize("make, dim", [(scatter3d, 3), (scatter2d, 2)])
def test_text_labels_are_cut_escaped_and_sized(make, dim):
    coords, labels, texts, concepts = points(dim)
    long = [f"a rather long label <{i}>   with  spaces" for i in range(len(labels))]
    fig = make(coords, labels, texts, concepts, text_labels=long, label_chars=10, label_size=14)
    for t in marker_traces(fig):
        assert t.mode == "markers+text" and t.textfont.size == 14 and t.textfont.color == t.marker.color
        assert list(t.text) == [short_label(long[i], 10) for i in t.customdata]
        assert all(len(x) == 10 and x.endswith("\u2026") for x in t.text)
        full = [f"<b>{html.escape(texts[i], quote=False)}</b>" for i in t.customdata]
        assert [h.split("<br>")[0] for h in t.hovertext] == full  # the hover keeps the whole text
    assert short_label("a <b>  c", 20) == "a &lt;b&gt; c"  # one line, escaped, full when short


@pytest.mark.parametrize("make, dim", [(scatter3d, 3), (scatter2d, 2)])
def test_colouring_groups_points_by_any_labels(make, dim):
    coords, labels, texts, concepts = points(dim)
    colouring = Colouring("concept", concepts, group_colors(concepts), {"c0": "first concept"})
    fig = make(coords, labels, texts, concepts, colouring=colouring)
    traces = marker_traces(fig)
    assert [t.name for t in traces] == ["first concept", "c1", "c2", "c3", "c4"]
    assert [t.marker.color for t in traces] == list(GROUP_PALETTE[:5])
    for t in traces:
        assert len({concepts[i] for i in t.customdata}) == 1  # one concept per trace, all its languages
    assert fig.layout.legend.title.text == "concept" and fig.layout.legend.orientation == "h"
    assert fig.layout.modebar.orientation == "v" and fig.layout.margin.r == MODEBAR_MARGIN
    unsafe = Colouring("topic", ["<a href='x'>t</a>"] * len(labels), {"<a href='x'>t</a>": "#000000"})
    assert (
        marker_traces(make(coords, labels, texts, concepts, colouring=unsafe))[0].name
        == "&lt;a href='x'&gt;t&lt;/a&gt;"
    )
    with pytest.raises(ValueError, match="colouring has 3 labels"):
        make(coords, labels, texts, concepts, colouring=Colouring("x", ["a"] * 3, {"a": "#000000"}))


def test_group_colors_cycle_in_first_seen_order():
    colors = group_colors([f"g{k}" for k in range(50)] + ["g0"])
    assert len(colors) == 50 and colors["g0"] == colors["g48"] == GROUP_PALETTE[0]
    assert len(set(GROUP_PALETTE)) == len(GROUP_PALETTE) == 48


@pytest.mark.parametrize("make, dim", [(scatter3d, 3), (scatter2d, 2)])
def test_marked_points_get_one_ring_trace(make, dim):
    coords, labels, texts, concepts = points(dim)
    fig = make(coords, labels, texts, concepts, marked=[3, 8])
    (rings,) = [t for t in fig.data if t.name == MARKED_NAME]
    assert rings.marker.symbol == "circle-open" and rings.hoverinfo == "skip"
    np.testing.assert_array_equal(np.asarray(rings.x), coords[[3, 8], 0])
    assert not [t for t in make(coords, labels, texts, concepts, marked=[]).data if t.name == MARKED_NAME]


def test_highlight_mask_validation():
    assert highlight_mask(None, 3) is None
    assert highlight_mask([], 3).tolist() == [False, False, False]
    with pytest.raises(ValueError, match="expected \\(3,\\)"):
        highlight_mask(np.array([True, False]), 3)
    with pytest.raises(ValueError, match="in \\[0, 3\\)"):
        highlight_mask({5}, 3)


def test_scatter_input_validation():
    coords, labels, texts, concepts = points(3)
    with pytest.raises(ValueError, match="shape \\(M, 3\\)"):
        scatter3d(coords[:, :2], labels, texts, concepts)
    with pytest.raises(ValueError, match="texts has 3 entries"):
        scatter3d(coords, labels, texts[:3], concepts)


# ---------------------------------------------------------------------- charts
def test_sa_heatmap_annotations_and_ci_hover():
    z = np.array([[1.0, 0.456], [0.456, np.nan]])
    fig = sa_heatmap(z, ["en", "de"], "SA", ci_low=z - 0.1, ci_high=z + 0.1)
    hm = fig.data[0]
    assert [list(r) for r in hm.text] == [["1.00", "0.46"], ["0.46", ""]]
    np.testing.assert_allclose(np.asarray(hm.customdata)[0, 1], [0.356, 0.556])
    assert "customdata[0]" in hm.hovertemplate and "customdata[1]" in hm.hovertemplate
    assert list(hm.x) == ["en", "de"] and fig.layout.yaxis.autorange == "reversed"
    with pytest.raises(ValueError, match="\\(2, 2\\) matrix for 2 languages"):
        sa_heatmap(np.zeros((3, 3)), ["en", "de"])
    with pytest.raises(ValueError, match="both ci_low and ci_high"):
        sa_heatmap(z, ["en", "de"], ci_low=z)


def test_retrieval_and_degradation_scales():
    p1 = np.array([[1.0, 0.25], [0.5, 1.0]])
    r = retrieval_heatmap(p1, ["en", "de"]).data[0]
    assert (r.zmin, r.zmax) == (0.0, 1.0)
    gap = np.array([[0.0, -0.3], [0.1, np.nan]])
    d = degradation_heatmap(gap, ["en", "de"]).data[0]
    assert (d.zmin, d.zmax, d.zmid) == (-0.3, 0.3, 0.0)
    assert [list(row) for row in d.text] == [["0.00", "-0.30"], ["0.10", ""]]


def test_sa_bars_families_order_and_error_bars():
    fig = sa_bars(
        ["m1", "m2", "m3"], [0.5, 0.6, 0.7], [0.4, 0.55, 0.72], [0.6, 0.65, 0.8], ["static", "contextual", "static"]
    )
    by_name = {t.name: t for t in fig.data}
    assert set(by_name) == {"static", "contextual"}
    assert by_name["static"].marker.color != by_name["contextual"].marker.color
    assert list(by_name["static"].x) == ["m1", "m3"]
    np.testing.assert_allclose(by_name["static"].error_y.array, [0.1, 0.1])
    np.testing.assert_allclose(by_name["static"].error_y.arrayminus, [0.1, 0.0])  # CI above the estimate: clipped
    assert list(fig.layout.xaxis.categoryarray) == ["m1", "m2", "m3"]
    with pytest.raises(ValueError, match="unknown model family"):
        sa_bars(["a"], [0.5], None, None, ["neural"])
    with pytest.raises(ValueError, match="one entry per model"):
        sa_bars(["a", "b"], [0.5], None, None, ["static", "static"])


def test_sa_vs_p_at_1_one_trace_per_model_with_escaped_hover():
    fig = sa_vs_p_at_1(
        [0.5, 0.6, 0.7], [0.2, 0.4, 0.9], ["static", "static", "<b>ctx</b>"], ["en-de", "en-zh", "en-de"]
    )
    assert [t.name for t in fig.data] == ["static", "<b>ctx</b>"]
    np.testing.assert_array_equal(fig.data[0].x, [0.5, 0.6])
    np.testing.assert_array_equal(fig.data[0].y, [0.2, 0.4])
    assert list(fig.data[1].text) == ["&lt;b&gt;ctx&lt;/b&gt;<br>en-de"]
    with pytest.raises(ValueError, match="same length"):
        sa_vs_p_at_1([0.5], [0.2, 0.3], ["a"], ["en-de"])
