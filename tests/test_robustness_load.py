"""Load test: one real ``streamlit run app.py`` server on 127.0.0.1 and several browser sessions
at once (Playwright pages in Debian's Chromium, one browser context each = one Streamlit session).

* Five sessions each choose their own three languages on the Data page, then open Explore at
  the same time: each must show its own languages and exactly the scores the library computes
  for its own view (no state leaks between sessions).
* A sixth session raises its concept cap to 60, leaves Explore while that computation runs,
  switches the data set to the built-in words, and comes back: Explore then shows the words
  set, computed afresh. The server runs under ``tests/held_models.py``, so the test holds the
  computation open (a hold file) until the switch has happened: no race to win.
* The same session uploads a file over the server's upload limit (started with
  ``--server.maxUploadSize 1``): Streamlit refuses it and the session goes on; tables offer no
  built-in (formula-unsafe) CSV export.
* Afterwards the server log has no traceback.

Marked ``load`` (deselect with ``-m "not load"``); skipped without /usr/bin/chromium or
playwright. Bounded: 6 sessions, 10 concepts per view, every wait capped, ~40-90 s.
"""

from __future__ import annotations

import asyncio
import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from streamlit_server import BROWSER_ARGS, CHROMIUM, POLL_MS, SETTLED, settle_arg, streamlit_server

CONCEPTS = 10
BIG_VIEW = 60  # concepts in the view the switching session leaves mid-computation
WAIT_S = 120.0  # longest wait for one page run (the first loads the model and PHATE)
SESSIONS = {  # languages each session removes from the default six (en, de, es, zh, ar, hi)
    "s1": ("zh", "ar", "hi"),
    "s2": ("es", "zh", "ar"),
    "s3": ("de", "es", "hi"),
    "s4": ("en", "de", "zh"),
    "s5": ("en", "ar", "hi"),
}
DEFAULT = ("en", "de", "es", "zh", "ar", "hi")
NAMES = {"en": "English", "de": "German", "es": "Spanish", "zh": "Chinese", "ar": "Arabic", "hi": "Hindi"}

pytestmark = pytest.mark.load
if not os.access(CHROMIUM, os.X_OK):
    pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)", allow_module_level=True)
async_api = pytest.importorskip("playwright.async_api", reason="playwright is not installed (pip install playwright)")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A fresh server (upload limit 1 MB) whose model encoding waits while ``server.hold`` exists."""
    folder = tmp_path_factory.mktemp("server")
    options = ("--server.maxUploadSize", "1")
    with streamlit_server(folder, max_concepts=CONCEPTS, options=options, hold=folder / "hold") as running:
        yield running


def expected_scores() -> dict[str, tuple[str, str, str]]:
    """(SA, P@1, MRR) as the Explore tiles show them, computed by the library for each session's view."""
    from semanscope import appcore
    from semanscope.data.builtin import load_builtin
    from semanscope.models.registry import load_model
    from semanscope.study import run_model

    faq, model = load_builtin("faq"), load_model("tokenlearn-static")
    out = {}
    for name, removed in SESSIONS.items():
        view = appcore.select(faq, [code for code in DEFAULT if code not in removed], max_concepts=CONCEPTS)
        run = run_model(view, model, n_boot=0)
        out[name] = tuple(appcore.number_text(x) for x in (run.sa, run.p_at_1, run.record.retrieval.mean_mrr))
    return out


async def settle(page) -> None:
    """Wait until the script run has finished (:data:`streamlit_server.SETTLED`)."""
    await page.wait_for_function(SETTLED, arg=settle_arg(), polling=POLL_MS, timeout=WAIT_S * 1000)


async def open_page(page, name: str, wait: bool = True) -> None:
    await page.locator('[data-testid="stSidebarNav"]').get_by_text(name, exact=True).click()
    await page.wait_for_selector(f"h1:has-text('{name}')", timeout=WAIT_S * 1000)
    if wait:
        await settle(page)


async def errors(page) -> list[str]:
    alerts = await page.locator('[data-testid="stAlertContentError"]').all_inner_texts()
    return alerts + ["exception"] * await page.locator('[data-testid="stException"]').count()


async def explore_tiles(page) -> dict[str, str]:
    await page.wait_for_selector('[data-testid="stMetricValue"]', timeout=WAIT_S * 1000)
    await settle(page)
    labels = await page.locator('[data-testid="stMetricLabel"]').all_inner_texts()
    values = await page.locator('[data-testid="stMetricValue"]').all_inner_texts()
    return dict(zip((label.strip() for label in labels), values, strict=True))


async def data_page(browser, url: str):
    """A new browser session on the Data page, its run finished; every action may wait as long as a
    page run (a loaded machine can keep a click busy for more than Playwright's 30 s)."""
    context = await browser.new_context(viewport={"width": 1400, "height": 1600})
    context.set_default_timeout(WAIT_S * 1000)
    page = await context.new_page()
    await page.goto(f"{url}/Data")
    await page.wait_for_selector("h1:has-text('Data')", timeout=WAIT_S * 1000)
    await settle(page)
    return context, page


async def choose_languages(browser, url: str, removed: tuple[str, ...]) -> dict:
    """A session: keep three languages on the Data page, then open Explore; returns what it shows."""
    context, page = await data_page(browser, url)
    for lang in removed:
        chip = page.locator(f'button[aria-label="Remove {lang} - {NAMES[lang]}"]')
        await chip.click()
        await chip.wait_for(state="detached", timeout=WAIT_S * 1000)  # the removal is shown, then its rerun ends
        await settle(page)
    await open_page(page, "Explore", wait=False)
    tiles = await explore_tiles(page)
    caption = " ".join(await page.locator('[data-testid="stCaptionContainer"]').all_inner_texts())
    shown = {"tiles": tiles, "caption": caption, "errors": await errors(page)}
    await context.close()
    return shown


async def switch_while_running(browser, url: str, hold: Path, tmp: Path) -> dict:
    """A session that leaves Explore mid-computation, switches to the words set and comes back;
    then uploads a file over the limit. While ``hold`` exists the server's model waits before
    encoding (tests/held_models.py), so Explore is still computing when the session leaves it."""
    context, page = await data_page(browser, url)
    cap = page.locator('input[aria-label="Max concepts (0 = all)"]')  # a bigger view nobody computed
    await cap.fill(str(BIG_VIEW))
    await cap.press("Enter")
    await settle(page)
    hold.touch()
    await open_page(page, "Explore", wait=False)
    embedding = page.locator('[data-testid="stProgress"]', has_text="Embedding").first
    await embedding.wait_for(timeout=WAIT_S * 1000)  # the embedding has started and is held: still computing
    await open_page(page, "Data")  # stops the Explore run at its next progress report
    hold.unlink()
    await page.get_by_role("button", name="Use built-in 'words'").click()
    words = page.locator("h2", has_text="Current set: words")
    await words.wait_for(timeout=WAIT_S * 1000)  # the click's rerun may start after a quiet second
    await settle(page)
    header = await words.inner_text()
    await open_page(page, "Explore", wait=False)
    tiles = await explore_tiles(page)
    caption = " ".join(await page.locator('[data-testid="stCaptionContainer"]').all_inner_texts())
    shown = {"header": header, "tiles": tiles, "caption": caption, "errors": await errors(page)}

    await open_page(page, "Data")
    await page.get_by_role("tab", name="Upload").click()
    big = tmp / "big.csv"
    big.write_bytes(b"id,en,de\n" + b"".join(b"q%d,question %d,Frage %d\n" % (i, i, i) for i in range(80_000)))
    await page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(big))
    await page.wait_for_timeout(1000)
    shown["upload"] = await page.locator('[data-testid="stFileUploader"]').inner_text()
    shown["load_disabled"] = await page.get_by_role("button", name="Load", exact=True).is_disabled()
    shown["csv_exports"] = await page.locator('button[aria-label="Download as CSV"]').count()
    await context.close()
    return shown


async def drive(url: str, hold: Path, tmp: Path) -> tuple[dict, dict]:
    async with async_api.async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        try:
            # warm-up: the first run loads the model and imports PHATE for everyone
            context = await browser.new_context()
            page = await context.new_page()
            await page.goto(f"{url}/Explore")
            await page.wait_for_selector('[data-testid="stMetricValue"]', timeout=WAIT_S * 1000)
            await context.close()
            results = await asyncio.wait_for(
                asyncio.gather(
                    *(choose_languages(browser, url, removed) for removed in SESSIONS.values()),
                    switch_while_running(browser, url, hold, tmp),
                ),
                timeout=3 * WAIT_S,
            )
        finally:
            await browser.close()
    return dict(zip(SESSIONS, results[:-1], strict=True)), results[-1]


def test_concurrent_sessions_keep_their_own_state(server, tmp_path):
    started = time.monotonic()
    with ThreadPoolExecutor(1) as pool:  # the reference scores are computed while the browsers run
        reference = pool.submit(expected_scores)
        sessions, switcher = asyncio.run(drive(server.url, server.hold, tmp_path))
        elapsed = time.monotonic() - started
        expected = reference.result(timeout=WAIT_S)
    for name, removed in SESSIONS.items():
        shown = sessions[name]
        kept = [code for code in DEFAULT if code not in removed]
        assert not shown["errors"], (name, shown["errors"])
        assert f"on faq, languages {', '.join(kept)}" in shown["caption"], (name, shown["caption"])
        tiles = shown["tiles"]
        assert tiles["Concepts x languages"] == f"{CONCEPTS} x 3", name
        assert (tiles["Semantic Affinity"], tiles["P@1"], tiles["MRR"]) == expected[name], name
    assert len({sessions[n]["tiles"]["Semantic Affinity"] for n in SESSIONS}) > 1

    # the data set was switched while Explore was computing: its held encoding was stopped
    assert any(event.startswith("interrupted ") for event in server.events()), server.events()
    assert switcher["header"] == "Current set: words" and not switcher["errors"], switcher
    assert "on words, languages en, de, es, zh, ar, hi" in switcher["caption"]
    assert switcher["tiles"]["Concepts x languages"] == f"{BIG_VIEW} x 6"
    assert "1.0MB" in switcher["upload"] or "1 MB" in switcher["upload"], switcher["upload"]
    assert switcher["load_disabled"]  # nothing was taken in
    assert switcher["csv_exports"] == 0  # st.dataframe's unescaped CSV export is off (config.toml)

    text = server.log_text()
    assert "Traceback" not in text and "Exception" not in text, text[-3000:]
    print(f"\n{len(SESSIONS) + 1} concurrent sessions in {elapsed:.0f} s")
