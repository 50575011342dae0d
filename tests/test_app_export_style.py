"""The sidebar's "Export style" control: presets and palette, remembered across pages."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
pytest.importorskip("streamlit")
from app_pages import fast_app, run_page  # noqa: E402

from semanscope.plots.mpl import PRESETS  # noqa: E402
from semanscope.ui.downloads import kaleido_size  # noqa: E402


@pytest.fixture(scope="module", autouse=True)
def fast_settings(tmp_path_factory):
    with fast_app(tmp_path_factory.mktemp("semanscope-cache")):
        yield


def test_export_style_preset_and_palette_are_chosen_and_kept() -> None:
    at = run_page("pages/3_Affinity.py")
    assert not at.exception
    at.sidebar.selectbox(key="w:export_preset").set_value("single column (3.5 in)").run()
    assert any("3.5 in wide, 7 pt text, PNG at 600 dpi" in c.value for c in at.sidebar.caption)
    assert at.sidebar.radio(key="w:export_palette").value in ("language", "colour-blind safe")
    at.sidebar.radio(key="w:export_palette").set_value("colour-blind safe").run()
    assert not at.exception
    assert at.session_state["export_preset"] == "single column (3.5 in)"
    assert at.session_state["export_palette"] == "colour-blind safe"


def test_kaleido_size_follows_the_preset() -> None:
    width, height, scale = kaleido_size(PRESETS["double column (7.2 in)"])
    assert (width, height) == (691, 592) and scale == pytest.approx(600 / 96)
