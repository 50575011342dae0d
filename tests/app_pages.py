"""The app's pages under ``streamlit.testing.v1.AppTest`` with fast settings, for
``test_app_pages.py`` and ``test_robustness_app.py``: a few concepts per view and a fresh cache folder."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 300  # seconds for one page run (the first loads the models)
CONCEPTS = 12  # concepts per view (SEMANSCOPE_MAX_CONCEPTS)


@contextmanager
def fast_app(cache: Path) -> Iterator[None]:
    """``SEMANSCOPE_MAX_CONCEPTS`` = :data:`CONCEPTS` and ``SEMANSCOPE_CACHE`` = ``cache`` inside the block."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SEMANSCOPE_MAX_CONCEPTS", str(CONCEPTS))
        patch.setenv("SEMANSCOPE_CACHE", os.fspath(cache))
        yield


def run_page(page: str, **state: object) -> AppTest:
    """Run ``page`` (relative to the repository) once with ``state`` in its session state."""
    at = AppTest.from_file(str(ROOT / page), default_timeout=TIMEOUT)
    for key, value in state.items():
        at.session_state[key] = value
    return at.run()


def clean(at: AppTest) -> None:
    """Assert the page ran without an exception or an error message."""
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
