"""End to end: the real app in Debian's Chromium, driven by Playwright.

Starts ``streamlit run app.py`` on a free port (20 concepts per view, a fresh cache folder),
opens Explore from the Home page, removes a language, box-selects points in the linked 2D view,
keeps the selected concepts, and checks that the scores change and the plots render; then
Compare and Affinity. Screenshots of the three pages go to a temporary folder (printed).
Skipped when /usr/bin/chromium or playwright is missing. The server is always stopped.
"""

from __future__ import annotations

import os
import time

import pytest
from streamlit_server import BROWSER_ARGS, CHROMIUM, POLL_MS, SETTLED, settle_arg, streamlit_server

WAIT_MS = 120_000  # longest wait for one page run (first run loads a model and runs PHATE)

if not os.access(CHROMIUM, os.X_OK):
    pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with streamlit_server(tmp_path_factory.mktemp("server"), max_concepts=20) as running:
        yield running.url


def settle(page) -> None:
    """Wait until the script run has finished (:data:`streamlit_server.SETTLED`)."""
    page.wait_for_function(SETTLED, arg=settle_arg(), polling=POLL_MS, timeout=WAIT_MS)


def scores(page) -> list[str]:
    return page.locator('[data-testid="stMetricValue"]').all_inner_texts()


def open_page(page, name: str, title: str) -> None:
    page.locator('[data-testid="stSidebarNav"]').get_by_text(name, exact=True).click()
    page.wait_for_selector(f"h1:has-text('{title}')", timeout=WAIT_MS)
    settle(page)


def no_errors(page) -> None:
    alerts = page.locator('[data-testid="stAlertContentError"]').all_inner_texts()
    assert not alerts, alerts
    assert page.locator('[data-testid="stException"]').count() == 0


def test_explore_select_compare_affinity(server, tmp_path_factory) -> None:
    shots = tmp_path_factory.mktemp("screenshots")
    print(f"\nscreenshots: {shots}")
    started = time.monotonic()
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        try:
            page = browser.new_context(viewport={"width": 1500, "height": 2400}).new_page()
            page.goto(server)
            page.wait_for_selector("h1:has-text('Semanscope')", timeout=WAIT_MS)
            settle(page)

            open_page(page, "Explore", "Explore")
            page.wait_for_selector(".js-plotly-plot", timeout=WAIT_MS)
            no_errors(page)
            first = scores(page)
            assert first[3] == "20 x 6"

            # the language selection is the primary filter: every score is recomputed
            page.locator('button[aria-label="Remove hi - Hindi"]').click()
            settle(page)
            second = scores(page)
            assert second[3] == "20 x 5" and second[:3] != first[:3]

            # box-select in the linked 2D view (dragmode "select"), then keep those concepts
            plots = page.locator(".js-plotly-plot")
            assert plots.count() == 2
            assert plots.nth(1).locator(".scatterlayer .point").count() == 100
            box = plots.nth(1).locator(".nsewdrag").first.bounding_box()
            page.mouse.move(box["x"] + 0.05 * box["width"], box["y"] + 0.05 * box["height"])
            page.mouse.down()
            page.mouse.move(box["x"] + 0.65 * box["width"], box["y"] + 0.65 * box["height"], steps=12)
            page.mouse.up()
            settle(page)
            selected = page.get_by_text("points selected").inner_text()
            assert int(selected.split()[0]) > 0
            page.get_by_role("button", name="Keep selected concepts").click()
            settle(page)
            third = scores(page)
            kept = int(third[3].split(" x ")[0])
            assert 3 <= kept < 20 and third[3].endswith("x 5") and third[:3] != second[:3]
            assert page.locator(".js-plotly-plot").count() == 2
            assert page.locator(".js-plotly-plot").nth(0).locator("canvas").count() > 0  # WebGL 3D scene drawn
            no_errors(page)
            page.screenshot(path=str(shots / "explore.png"))

            open_page(page, "Compare", "Compare models")
            page.wait_for_selector(".js-plotly-plot >> nth=1", timeout=WAIT_MS)
            no_errors(page)
            assert len(scores(page)) == 4  # SA and P@1 beside each of the two plots
            page.screenshot(path=str(shots / "compare.png"))

            open_page(page, "Affinity", "Semantic Affinity")
            no_errors(page)
            assert page.locator(".js-plotly-plot").count() >= 5  # bars, SA + P@1 heatmaps, two gap heatmaps
            assert page.get_by_text("finds the translation first (P@1)").count() >= 1
            page.screenshot(path=str(shots / "affinity.png"))
        finally:
            browser.close()
    print(f"browser test took {time.monotonic() - started:.0f} s")
