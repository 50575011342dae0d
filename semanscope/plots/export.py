"""Figure exports: self-contained HTML (works offline) and PNG / SVG / PDF through kaleido.

Kaleido 1.x drives a Chrome/Chromium browser found by choreographer: the ``BROWSER_PATH``
environment variable first, then its downloaded Chrome, ``chrome``/``chromium``/... on ``PATH``
and typical install paths. :func:`find_browser` prefers Debian's ``/usr/bin/chromium`` after
``BROWSER_PATH``; the image exports pass the browser found to kaleido explicitly (no
environment change).
Without a browser it raises :class:`ExportUnavailable`; the matplotlib vector export
(:mod:`semanscope.plots.mpl`) needs no browser.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import plotly.graph_objects as go
import plotly.io as pio

IMAGE_FORMATS: tuple[str, ...] = ("png", "svg", "pdf")
DEBIAN_CHROMIUM = "/usr/bin/chromium"

NO_BROWSER_HELP = (
    "Image export (PNG/SVG/PDF) via kaleido needs Chrome or Chromium. Install it with "
    "`sudo apt-get install chromium` (or set BROWSER_PATH to a Chrome/Chromium binary), "
    "or use the matplotlib vector export (PDF/SVG), which needs no browser."
)


class ExportUnavailable(RuntimeError):
    """Image export cannot run here (no usable browser); the message says what to install."""


def _is_executable(path: str) -> bool:
    return os.path.isfile(path) and os.access(path, os.X_OK)


def find_browser() -> str | None:
    """Path of the Chrome/Chromium to use, or None: ``BROWSER_PATH`` (if executable), else
    ``/usr/bin/chromium`` when present, else choreographer's own search (its downloaded
    Chrome, then Chrome/Chromium/Edge/... names on ``PATH`` and typical install paths)."""
    explicit = os.environ.get("BROWSER_PATH")
    if explicit:
        return explicit if _is_executable(explicit) else None
    if _is_executable(DEBIAN_CHROMIUM):
        return DEBIAN_CHROMIUM
    from choreographer.browsers.chromium import Chromium

    return Chromium.find_browser(skip_local=False)


def figure_to_html(fig: go.Figure) -> str:
    """A complete HTML page with plotly.js inlined (~4.7 MB), so it opens offline."""
    return pio.to_html(fig, include_plotlyjs=True, full_html=True, config={"displaylogo": False})


@dataclass(frozen=True)
class ImageJob:
    """One image to render: ``fig`` as ``fmt`` (png/svg/pdf) at ``width x height`` layout pixels
    (PNG pixels are that times ``scale``)."""

    fig: go.Figure
    fmt: str = "png"
    width: int = 1200
    height: int = 900
    scale: float = 1.0


def render_images(jobs: Sequence[ImageJob]) -> list[bytes]:
    """The bytes of every job, in order, with **one** browser start for all of them (starting the
    headless browser takes a few seconds; each further image about a second).

    Raises :class:`ExportUnavailable` when no browser can be found or started, ``ValueError`` for
    an unknown format or a size <= 0 (before any browser starts).
    """
    for job in jobs:
        if job.fmt not in IMAGE_FORMATS:
            raise ValueError(f"unknown image format {job.fmt!r}; choose from {list(IMAGE_FORMATS)}")
        if job.width <= 0 or job.height <= 0 or job.scale <= 0:
            raise ValueError(f"width, height and scale must be > 0; got {job.width}, {job.height}, {job.scale}")
    if not jobs:
        return []
    browser = find_browser()
    if browser is None:
        where = os.environ.get("BROWSER_PATH")
        prefix = f"BROWSER_PATH={where!r} is not an executable. " if where else "No Chrome/Chromium found. "
        raise ExportUnavailable(prefix + NO_BROWSER_HELP)
    import kaleido
    from choreographer.errors import BrowserFailedError, ChromeNotFoundError

    with tempfile.TemporaryDirectory(prefix="semanscope-export-") as tmp:
        paths = [Path(tmp) / f"figure{i}.{job.fmt}" for i, job in enumerate(jobs)]
        specs = [
            {
                "fig": job.fig,
                "path": path,
                "opts": {"format": job.fmt, "width": job.width, "height": job.height, "scale": job.scale},
            }
            for job, path in zip(jobs, paths, strict=True)
        ]
        try:
            kaleido.write_fig_from_object_sync(specs, kopts={"path": browser}, cancel_on_error=True)
        except (ChromeNotFoundError, BrowserFailedError) as err:
            reason = err.args[0] if err.args else type(err).__name__
            raise ExportUnavailable(
                f"The browser at {browser} could not be started: {reason} {NO_BROWSER_HELP}"
            ) from err
        return [path.read_bytes() for path in paths]


def figure_to_images(
    fig: go.Figure,
    formats: Sequence[str] = IMAGE_FORMATS,
    width: int = 1200,
    height: int = 900,
    scale: float = 1.0,
    camera: dict | None = None,
) -> dict[str, bytes]:
    """Render ``fig`` once per format (png/svg/pdf) with one browser start: ``{format: bytes}``
    (:func:`render_images`).

    ``camera`` (a plotly ``scene.camera`` dict, e.g. the one the user last set) is applied to
    a copy of a 3D figure so the export shows the same view; 2D figures ignore it.
    """
    if not formats:
        raise ValueError(f"no image format given; choose from {list(IMAGE_FORMATS)}")
    if camera is not None and any(t.type == "scatter3d" for t in fig.data):
        fig = go.Figure(fig)
        fig.update_layout(scene_camera=camera)
    unique = list(dict.fromkeys(formats))
    images = render_images([ImageJob(fig, fmt, width, height, scale) for fmt in unique])
    return dict(zip(unique, images, strict=True))


def figure_to_image(
    fig: go.Figure,
    fmt: str = "png",
    width: int = 1200,
    height: int = 900,
    scale: float = 1.0,
    camera: dict | None = None,
) -> bytes:
    """One format of :func:`figure_to_images` (a browser start per call; batch many images with
    :func:`render_images`)."""
    return figure_to_images(fig, (fmt,), width, height, scale, camera)[fmt]
