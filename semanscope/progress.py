"""Progress reporting: one callback shape, ``progress(done, total)``, and small adapters.

Every long step (encoding, caching, the study) takes an optional ``progress`` callback and
calls it with integer ``done`` out of ``total`` units. The helpers below accept ``None``
and then return ``None``, so callers never need to check. Front-end adapters live with
their front end (the Streamlit one in the app); this module imports no UI toolkit except
``tqdm`` for the CLI.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Protocol


class Progress(Protocol):
    """``progress(done, total)``: ``done`` of ``total`` units finished (0 <= done <= total)."""

    def __call__(self, done: int, total: int, /) -> None: ...


def span(progress: Progress | None, start: int, length: int, overall_total: int) -> Progress | None:
    """Callback for one stage that covers units ``[start, start + length)`` of a larger job.

    A stage report ``(done, total)`` becomes ``progress(start + length * done // total,
    overall_total)`` (``start + length`` when ``total == 0``), so a stage may count in its own
    units (e.g. unique texts) while the job counts in others (e.g. rows).
    """
    if progress is None:
        return None

    def stage(done: int, total: int) -> None:
        progress(start + (length * done // total if total else length), overall_total)

    return stage


def scale(progress: Progress | None, index: int, count: int) -> Progress | None:
    """Callback for stage ``index`` of ``count`` equal-weight stages (e.g. model i of k).

    A stage report ``(done, total)`` becomes ``progress(index * total + done, count * total)``,
    so the overall fraction is ``(index + done / total) / count`` whatever each stage's total is.
    """
    if not 0 <= index < count:
        raise ValueError(f"stage index {index} is outside 0..{count - 1}")
    if progress is None:
        return None

    def stage(done: int, total: int) -> None:
        progress(index * total + done, count * total)

    return stage


@contextmanager
def tqdm_progress(desc: str, unit: str = "text") -> Iterator[Callable[[int, int | None], None]]:
    """Context manager yielding a callback that drives a ``tqdm`` bar (created on first report).

    The bar follows the reported ``total`` (it may change between stages; ``None``: unknown, as a
    file loader reports it) and is closed on exit. The callback is also a :class:`Progress`.
    """
    from tqdm import tqdm

    bar: list[tqdm] = []

    def report(done: int, total: int | None) -> None:
        if not bar:
            bar.append(tqdm(total=total, desc=desc, unit=unit))
        b = bar[0]
        if b.total != total:
            b.total = total
        b.n = done
        b.refresh()

    try:
        yield report
    finally:
        if bar:
            bar[0].close()
