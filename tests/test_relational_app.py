"""The Relational Affinity page's logic without Streamlit: uploads, selection, cache keys, the
words drawn and their arrows (checked row by row), the arrow figure and the RA heatmap."""

import numpy as np
import pytest

from semanscope.appcore import AppError
from semanscope.data.relations import load_builtin_relations
from semanscope.plots import ra_heatmap, relation_arrows
from semanscope.plots.arrows import HEAD_FRACTION, category_color
from semanscope.relational_app import arrow_data, load_relations_upload, relations_key, select_relations

GOOD = (
    "relation_id,category,word1_en,word2_en,word1_de,word2_de,notes\n"
    "a,gender,king,queen,König,Königin,\n"
    "b,gender,boy,girl,Junge,Mädchen,\n"
    "c,antonym,hot,cold,,,only English\n"
    "d,antonym,big,small,groß,klein,\n"
).encode()


def test_upload_loads_a_relation_file_with_a_safe_name():
    result = load_relations_upload("../../etc/my<b>-RA.csv", GOOD)
    rel = result.relations
    assert rel.ids == ("a", "b", "c", "d") and rel.languages == ("en", "de")
    assert "/" not in rel.provenance["source"]
    assert any("de: 1 relation(s) lack word1 or word2" in line for line in result.report)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"id,en,de\nq1,a,b\n", "no word columns"),
        (b"word1_en,word2_en\nx,y\n", "needs at least 2 relations"),
        (b"word1_en,word2_en\ncaf\xe9,x\nb,c\n", "x.csv"),  # not UTF-8 / undecodable text names the file
        (b"\x00\x01\x02", "x.csv"),
    ],
)
def test_a_bad_upload_is_an_app_error_naming_the_file(data, message):
    with pytest.raises(AppError, match=message):
        load_relations_upload("x.csv", data)


def test_an_upload_over_the_size_limit_is_refused(monkeypatch):
    monkeypatch.setattr("semanscope.data.validation.MAX_FILE_MB", 1e-4)  # about 100 bytes
    with pytest.raises(AppError, match="MB"):
        load_relations_upload("big.csv", GOOD * 4)


def test_select_relations_keeps_set_order_and_says_what_is_missing():
    rel = load_builtin_relations()
    sub = select_relations(rel, ["zh", "en"], ["plural", "gender"])
    assert sub.languages == ("en", "zh") and sub.category_names == ("gender", "plural") and sub.n_relations == 16
    assert select_relations(rel, ["de"], []).n_relations == 32
    with pytest.raises(AppError, match="at least 1 language"):
        select_relations(rel, [], [])
    two = load_relations_upload("t.csv", GOOD).relations
    with pytest.raises(AppError, match="leaves 1 relation"):
        select_relations(two, ["de"], ["antonym"])


def test_relations_key_follows_content():
    rel = load_builtin_relations()
    assert relations_key(rel) == relations_key(select_relations(rel, list(rel.languages), []))
    assert relations_key(rel) != relations_key(select_relations(rel, ["en", "de"], []))
    assert relations_key(rel) != relations_key(select_relations(rel, list(rel.languages), ["gender"]))


def test_arrow_data_rows_are_the_words_of_each_relation():
    rel = load_relations_upload("t.csv", GOOD).relations
    words = rel.words_by_language()
    rng = np.random.default_rng(0)
    vectors = {lang: rng.normal(size=(len(words[lang]), 4)).astype(np.float32) for lang in rel.languages}
    arrows = arrow_data(rel, vectors, ["de", "en"])
    stacked = [(lang, w) for lang in rel.languages for w in words[lang]]  # X rows: en words, then de words
    np.testing.assert_array_equal(arrows.X, np.concatenate([vectors["en"], vectors["de"]]))
    drawn = [(stacked[s], stacked[e]) for s, e in zip(arrows.start, arrows.end, strict=True)]
    expected = [
        (("en", "king"), ("en", "queen")),
        (("en", "boy"), ("en", "girl")),
        (("en", "hot"), ("en", "cold")),
        (("en", "big"), ("en", "small")),
        (("de", "König"), ("de", "Königin")),
        (("de", "Junge"), ("de", "Mädchen")),
        (("de", "groß"), ("de", "klein")),  # relation c has no German pair: no arrow
    ]
    assert drawn == expected
    assert arrows.categories == ("gender", "gender", "antonym", "antonym", "gender", "gender", "antonym")
    assert arrows.hover[4] == "König \u2192 Königin (de, a)"
    with pytest.raises(AppError, match="at least 1 language"):
        arrow_data(rel, vectors, [])


def test_relation_arrows_draw_segments_heads_and_escaped_hover():
    coords = np.array([[0, 0, 0], [1, 0, 0], [0, 2, 0], [0, 2, 0]], dtype=float)
    fig = relation_arrows(
        coords,
        np.array([0, 2]),
        np.array([1, 3]),
        ["<b>cat</b>", "other"],
        ["a \u2192 <img src=x>", "same \u2192 same"],
        category_order=["other", "<b>cat</b>"],
    )
    lines = [t for t in fig.data if t.type == "scatter3d"]
    cones = [t for t in fig.data if t.type == "cone"]
    assert [t.name for t in lines] == ["other", "&lt;b&gt;cat&lt;/b&gt;"]  # category_order fixes the colours
    assert lines[0].line.color == category_color(0) and lines[1].line.color == category_color(1)
    assert list(lines[1].x) == [0.0, 1.0, None] and list(lines[1].y) == [0.0, 0.0, None]
    assert lines[1].text[0] == "a \u2192 &lt;img src=x&gt;"
    assert len(cones) == 1  # the zero-length arrow has no head
    head = HEAD_FRACTION * 2.0  # the largest extent of coords is 2 (y)
    np.testing.assert_allclose([cones[0].u[0], cones[0].v[0], cones[0].w[0]], [head, 0.0, 0.0])
    assert cones[0].x[0] == 1.0 and cones[0].sizemode == "raw"
    with pytest.raises(ValueError, match="not in category_order"):
        relation_arrows(coords, np.array([0]), np.array([1]), ["x"], ["h"], category_order=["y"])
    with pytest.raises(ValueError, match="rows must lie"):
        relation_arrows(coords, np.array([0]), np.array([4]), ["x"], ["h"])


def test_ra_heatmap_is_diverging_around_zero():
    fig = ra_heatmap(np.array([[np.nan, -0.5], [-0.5, np.nan]]), ["en", "de"], "t")
    heat = fig.data[0]
    assert (heat.zmin, heat.zmax, heat.zmid) == (-1.0, 1.0, 0.0)
    assert list(heat.text[0]) == ["", "-0.50"]
