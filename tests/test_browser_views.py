"""End to end, the readable views in a real browser: Compare with a static and a contextual model
(tokenlearn-static and e5-small-nano, built in), text labels on, a concept searched (its points
ringed in every view), the concept box-selected in the first model's linked 2D view (the selection
highlighted in the other model's views), then kept: the view shrinks to the kept concepts and the
scores change (new values, or the note saying what the scores need).

Small and bounded: 12 concepts x 5 languages, every wait capped. With ``SEMANSCOPE_SCREENSHOTS``
set to a folder, screenshots of Explore and Compare (1280 px wide) are saved there. Skipped when
/usr/bin/chromium or playwright is missing; the server is always stopped.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from streamlit_server import BROWSER_ARGS, CHROMIUM, POLL_MS, SETTLED, settle_arg, streamlit_server

WAIT_MS = 120_000  # longest wait for one page run (the first loads both models)
CONCEPTS = 12
LANGUAGES = ("en", "de", "es", "zh", "ar")  # one kept concept is 5 points: enough for a 3D projection
SCREENSHOTS = "SEMANSCOPE_SCREENSHOTS"

if not os.access(CHROMIUM, os.X_OK):
    pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")

# What each plot draws, read from plotly's own state (typed arrays decoded): per trace its name,
# mode, row ids, x / y, marker sizes and selected points.
TRACES = """(plots) => plots.map((gd) => gd._fullData.map((t) => {
  const list = (v) => (v === undefined || v === null ? null : (typeof v === "object" ? Array.from(v) : v));
  return {name: t.name, mode: t.mode, type: t.type, rows: list(t.customdata) || [], x: list(t.x), y: list(t.y),
          hover: list(t.hovertext) || [], size: list(t.marker && t.marker.size),
          selected: list(t.selectedpoints)};
}))"""
# Viewport pixel of data point (x, y) of a 2D plot.
PIXEL = """(gd, [x, y]) => {
  const box = gd.getBoundingClientRect(), xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
  return [box.left + xa._offset + xa.l2p(x), box.top + ya._offset + ya.l2p(y)];
}"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with streamlit_server(tmp_path_factory.mktemp("server"), max_concepts=CONCEPTS) as running:
        yield running


def settle(page) -> None:
    page.wait_for_function(SETTLED, arg=settle_arg(), polling=POLL_MS, timeout=WAIT_MS)


def no_errors(page) -> None:
    alerts = page.locator('[data-testid="stAlertContentError"]').all_inner_texts()
    assert not alerts, alerts
    assert page.locator('[data-testid="stException"]').count() == 0


def plots(page) -> list[list[dict]]:
    return page.locator(".js-plotly-plot").evaluate_all(TRACES)


def points(plot: list[dict]) -> list[dict]:
    return [t for t in plot if t["name"] not in ("links", "search matches")]


def rings(plot: list[dict]) -> list[dict]:
    return [t for t in plot if t["name"] == "search matches"]


def tiles(page) -> list[str]:
    return page.locator('[data-testid="stMetricValue"]').all_inner_texts()


def highlighted(plot: list[dict]) -> int:
    """Points drawn large: 3D per-point sizes above the base size, or 2D selected points."""
    count = 0
    for trace in points(plot):
        if isinstance(trace["size"], list):
            count += sum(size > min(trace["size"]) for size in trace["size"])
        count += len(trace["selected"] or [])
    return count


def shoot(page, name: str) -> None:
    """A screenshot of the whole page (1280 px wide) into ``$SEMANSCOPE_SCREENSHOTS`` when set.
    Streamlit scrolls inside the app, so the viewport is made tall for the shot, then restored."""
    folder = os.environ.get(SCREENSHOTS)
    if not folder:
        return
    Path(folder).mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 1280, "height": 3000})
    page.wait_for_timeout(1500)  # plotly redraws at the new size (a picture only: nothing is asserted)
    page.screenshot(path=str(Path(folder) / f"{name}.png"))
    page.set_viewport_size({"width": 1280, "height": 800})


def open_page(page, name: str, title: str) -> None:
    """Open a page through the sidebar navigation (same session: the choices stay)."""
    page.locator('[data-testid="stSidebarNav"]').get_by_text(name, exact=True).click()
    page.wait_for_selector(f"h1:has-text('{title}')", timeout=WAIT_MS)
    page.wait_for_selector(".js-plotly-plot", timeout=WAIT_MS)
    settle(page)


def test_compare_labels_search_select_keep(server) -> None:
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        try:
            page = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
            page.set_default_timeout(WAIT_MS)
            page.goto(server.url)
            page.wait_for_selector("h1:has-text('Semanscope')", timeout=WAIT_MS)
            open_page(page, "Compare", "Compare models")
            page.locator('button[aria-label="Remove hi - Hindi"]').click()
            settle(page)
            no_errors(page)
            figures = plots(page)
            assert len(figures) == 4  # per model: a 3D view and its linked 2D view
            assert all(t["mode"] == "markers" for f in figures for t in points(f))
            before = tiles(page)
            assert len(before) == 4  # SA and P@1 of each model

            page.get_by_text("text labels", exact=True).click()
            settle(page)
            figures = plots(page)
            assert all(t["mode"] == "markers+text" for f in figures for t in points(f))

            concept = points(figures[1])[0]["hover"][0].split("concept: ")[1]
            search = page.locator('input[aria-label="Search a concept"]')
            search.fill(concept)
            search.press("Enter")
            settle(page)
            assert page.get_by_text(f"concept(s) match: {concept}").count() == 1
            figures = plots(page)
            assert [len(r["x"]) for f in figures for r in rings(f)] == [len(LANGUAGES)] * 4  # every view
            assert [highlighted(f) for f in figures] == [0, 0, 0, 0]

            # box-select the first ringed point of the first model's 2D view
            plot2d = page.locator(".js-plotly-plot").nth(1)
            plot2d.scroll_into_view_if_needed()
            ring = rings(figures[1])[0]
            x, y = plot2d.evaluate(PIXEL, [ring["x"][0], ring["y"][0]])
            page.mouse.move(x - 8, y - 8)
            page.mouse.down()
            page.mouse.move(x + 8, y + 8, steps=8)
            page.mouse.up()
            settle(page)
            selected = int(page.get_by_text("points selected").inner_text().split()[0])
            assert selected >= 1
            figures = plots(page)
            # the selection is highlighted in both 3D views and in the other model's 2D view
            assert [highlighted(figures[k]) for k in (0, 2, 3)] == [selected] * 3
            shoot(page, "compare")

            page.get_by_role("button", name="Keep selected concepts").click()
            settle(page)
            no_errors(page)
            kept = page.get_by_text("concepts kept from a selection").inner_text()
            n_kept = int(kept.split()[1])
            assert 1 <= n_kept < CONCEPTS
            figures = plots(page)
            assert [sum(len(t["rows"]) for t in points(f)) for f in figures] == [n_kept * len(LANGUAGES)] * 4
            assert [len(r["x"]) for f in figures for r in rings(f)] == [len(LANGUAGES)] * 4  # still ringed
            assert [highlighted(f) for f in figures] == [0, 0, 0, 0]  # a new view: no selection yet
            after = tiles(page)
            assert after != before
            if n_kept < 3:
                assert page.get_by_text("No scores for this view").count() == 1 and after == []

            page.get_by_role("button", name="Show all concepts").click()
            settle(page)
            open_page(page, "Explore", "Explore")
            no_errors(page)
            explore = plots(page)
            assert all(t["mode"] == "markers+text" for f in explore for t in points(f))  # labels stay on
            assert [len(r["x"]) for f in explore for r in rings(f)] == [len(LANGUAGES)] * 2
            shoot(page, "explore")
        finally:
            browser.close()
