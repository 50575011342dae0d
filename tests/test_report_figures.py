"""The study report's figures: distinct styles per language, a labelled seeded sample in the 3D
views, no coordinate ticks, heatmap titles that fit; the points/coordinates CSV export."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

from semanscope.data.queryset import QuerySet
from semanscope.plots.palette import OKABE_ITO, SYMBOLS, distinct_styles
from semanscope.plots.tables import coordinates_frame, to_csv
from semanscope.report import PHATE_LABEL_CHARS, mpl_heatmap, phate_plotly, phate_view


@pytest.mark.parametrize("n", [12, 30])
def test_distinct_styles_tell_every_group_apart(n: int) -> None:
    groups = [f"g{k}" for k in range(n)]
    styles = distinct_styles(groups + groups[:3])  # repeats keep their first style
    assert list(styles) == groups
    assert len(set(styles.values())) == n
    assert styles["g0"] == (OKABE_ITO[0], SYMBOLS[0]) and styles["g9"] == (OKABE_ITO[1], SYMBOLS[1])


def _queryset(n: int, languages: tuple[str, ...] = ("en", "de", "zh")) -> QuerySet:
    rows = [(f"c{i}", [f"{lang} text number {i} " + "x" * i for lang in languages], None) for i in range(n)]
    return QuerySet.from_rows("toy", languages, rows)


def test_phate_view_draws_a_seeded_sample_labelled_once_per_concept() -> None:
    qs = _queryset(50)
    view = phate_view(qs, seed=4, title="T", size=10)
    items = qs.items()
    keep = np.sort(np.random.default_rng(4).choice(50, 10, replace=False))
    assert view.rows.tolist() == np.flatnonzero(np.isin(items.concept, keep)).tolist()
    assert view.concepts == [qs.ids[i] for i in items.concept[view.rows]]
    labelled = [(c, t) for c, t, lang in zip(view.concepts, view.text_labels, view.labels, strict=True) if t]
    assert [c for c, _ in labelled] == [qs.ids[i] for i in keep]  # one label per concept, in en
    assert all(len(t) <= PHATE_LABEL_CHARS for _, t in labelled)
    assert "10 of 50 concepts" in view.title
    assert phate_view(_queryset(5), seed=0, title="T", size=10).rows.size == 15  # fewer: all drawn


def test_phate_plotly_hides_coordinate_ticks_and_styles_languages() -> None:
    qs = _queryset(8)
    view = phate_view(qs, seed=0, title="T")
    fig = phate_plotly(np.random.default_rng(0).normal(size=(24, 3)), view)
    for axis in ("xaxis", "yaxis", "zaxis"):
        assert fig.layout.scene[axis].showticklabels is False
    points = [t for t in fig.data if t.name in qs.languages]
    assert {t.name: t.marker.color for t in points} == {g: c for g, (c, _) in view.styles.items()}


def test_heatmap_title_is_wrapped_to_the_axes() -> None:
    title = "Static - contextual SA per language pair (use-static - e5-small-nano, FAQ queries)"
    fig = mpl_heatmap(np.zeros((4, 4)), ["en", "de", "es", "fr"], title, "SA")
    assert "\n" in fig.axes[0].get_title()


def test_coordinates_csv_round_trips() -> None:
    coords = np.array([[0.5, -1.25, 2.0], [1e-3, 4.0, -0.5]])
    frame = coordinates_frame(coords, ["en", "de"], ["c1", "c1"], ["=SUM(A1)", "Hallo, Welt"])
    back = pd.read_csv(io.BytesIO(to_csv(frame)))
    assert list(back.columns) == ["language", "concept_id", "text", "x", "y", "z"]
    np.testing.assert_array_equal(back[["x", "y", "z"]].to_numpy(), coords)
    assert back["text"].tolist() == ["'=SUM(A1)", "Hallo, Welt"]  # formula cells escaped
    with pytest.raises(ValueError, match="one language"):
        coordinates_frame(coords, ["en"], ["c1"], ["a"])
