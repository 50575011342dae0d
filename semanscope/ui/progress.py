"""Progress bars for the library's callbacks."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st


class ProgressBar:
    """A Streamlit progress bar for the library's callbacks, removed when done.

    ``bar(done, total)`` matches :class:`semanscope.progress.Progress`;
    ``bar.message(text, fraction)`` matches the projection progress of :mod:`semanscope.reduce`.
    """

    def __init__(self, label: str) -> None:
        self.label = label
        self.slot = st.empty()

    def __call__(self, done: int, total: int) -> None:
        fraction = min(max(done / total, 0.0), 1.0) if total else 1.0
        self.slot.progress(fraction, text=f"{self.label}: {done:,} / {total:,}")

    def message(self, text: str, fraction: float) -> None:
        self.slot.progress(min(max(float(fraction), 0.0), 1.0), text=f"{self.label}: {text}")

    def clear(self) -> None:
        self.slot.empty()


@contextmanager
def progress_bar(label: str) -> Iterator[ProgressBar]:
    """A :class:`ProgressBar` that disappears when the block ends (also on errors)."""
    bar = ProgressBar(label)
    try:
        yield bar
    finally:
        bar.clear()
