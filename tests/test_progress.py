"""Tests for semanscope.progress: stage adapters and the tqdm callback."""

from __future__ import annotations

import pytest

from semanscope.progress import scale, span, tqdm_progress


def test_none_passes_through():
    assert span(None, 0, 5, 10) is None
    assert scale(None, 0, 2) is None


def test_span_maps_stage_units_onto_its_slice():
    seen: list[tuple[int, int]] = []
    stage = span(lambda d, t: seen.append((d, t)), 10, 6, 20)
    for done in range(4):
        stage(done, 3)  # the stage counts 3 units for its 6-unit slice
    stage(0, 0)
    assert seen == [(10, 20), (12, 20), (14, 20), (16, 20), (16, 20)]


def test_scale_keeps_the_overall_fraction():
    seen: list[tuple[int, int]] = []
    stages = [scale(lambda d, t: seen.append((d, t)), i, 3) for i in range(3)]
    stages[0](5, 10)
    stages[1](0, 4)
    stages[2](4, 4)
    assert [d / t for d, t in seen] == [pytest.approx(x) for x in (5 / 30, 1 / 3, 1.0)]
    with pytest.raises(ValueError, match="outside"):
        scale(None, 3, 3)


def test_tqdm_progress_follows_reports(capsys):
    with tqdm_progress("embedding") as report:
        report(2, 5)
        report(5, 5)
    err = capsys.readouterr().err
    assert "embedding" in err and "5/5" in err
