"""Page set-up and errors: :func:`guard` turns any exception into an ``st.error`` with a one-line message
(never a stack trace) and lets the rest of the page render.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import streamlit as st

from semanscope import appcore
from semanscope.models.base import ModelUnavailable
from semanscope.plots import ExportUnavailable
from semanscope.plots.tables import markdown_escape


def page(title: str, icon: str = "🔭") -> None:
    """``st.set_page_config`` (wide layout); call first on every page. The page icon is an emoji:
    Streamlit turns a ``:material/...:`` page icon into a favicon fetched from a font CDN, and the
    app must work offline."""
    st.set_page_config(page_title=f"{title} - Semanscope", page_icon=icon, layout="wide")


def error_text(exc: BaseException) -> str:
    """One line for the user: messages of our own errors as they are, others with their type."""
    if isinstance(exc, (appcore.AppError, ModelUnavailable, ExportUnavailable, ValueError)):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


def keep_error(error_key: str, action: Callable[[], None]) -> None:
    """A widget callback's work: clear ``st.session_state[error_key]``, run ``action``; an exception's
    one-line message (:func:`error_text`) is kept there for the page to show, and the session
    stays usable (callbacks run before the page, so they cannot show it themselves)."""
    st.session_state[error_key] = None
    try:
        action()
    except Exception as exc:  # noqa: BLE001 - shown on the page
        st.session_state[error_key] = error_text(exc)


def show_error(message: str | BaseException, what: str = "") -> None:
    """``st.error`` with a clear one-line message (prefixed by ``what`` failed, when given)."""
    text = error_text(message) if isinstance(message, BaseException) else message
    text = markdown_escape(text)  # messages quote file names and cell values
    st.error(f"{what} failed: {text}" if what else text, icon=":material/error:")


@dataclass
class Outcome:
    """What :func:`guard` saw: the exception it caught, if any."""

    error: BaseException | None = None

    @property
    def failed(self) -> bool:
        return self.error is not None


@contextmanager
def guard(what: str) -> Iterator[Outcome]:
    """Run a block; an exception becomes :func:`show_error` (no stack trace) and the page goes on.

    Streamlit's own stop / rerun signals are ``BaseException`` and pass through.
    """
    outcome = Outcome()
    try:
        yield outcome
    except Exception as exc:  # noqa: BLE001 - shown to the user instead of a stack trace
        outcome.error = exc
        show_error(exc, what)


def run_page(main: Callable[[], None]) -> None:
    """Run a page's ``main`` under :func:`guard`, so even an unexpected bug shows as a message."""
    with guard("This page"):
        main()
