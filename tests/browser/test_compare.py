"""Compare two runs from History in a real browser: the verdict, word-level highlights, the step
table, light and dark themes, and answers that try to inject HTML or a link."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import StreamlitServer, app_env, screenshot
from tests.browser.test_playground import RUN_TIMEOUT, fill_parameter, open_page, pick_agent, status

IMG = "<img src=x onerror=alert(1)>"
LINK = "[x](javascript:alert(1))"
WAIT = 20_000  # a page switch or a rerun on a busy 2-core machine


def run(page: Page, label: str, value: str, button: str, answer: str) -> None:
    """One run to its end, known by its answer (the status line of the run before would match too)."""
    fill_parameter(page, label, value)
    page.get_by_role("button", name=re.compile(f"^{button}( |$)")).click()  # "Stream" also shows its shortcut
    expect(page.get_by_test_id("stMain").get_by_text(answer, exact=False).first).to_be_visible(timeout=RUN_TIMEOUT)
    expect(status(page, "Completed")).to_be_visible(timeout=RUN_TIMEOUT)


def tall_screenshot(page: Page, name: str) -> None:
    """The whole comparison in one picture (Streamlit scrolls inside the page, so a full-page shot
    alone shows only the viewport)."""
    page.set_viewport_size({"width": 1400, "height": 2600})
    page.wait_for_timeout(500)
    screenshot(page, name)


def open_comparison(page: Page, text: str) -> None:
    """History, filtered down to two runs by a text they share, both rows ticked."""
    page.get_by_role("link", name="History").click()
    expect(page.get_by_role("heading", name="History")).to_be_visible(timeout=WAIT)
    search = page.get_by_role("textbox", name="Search", exact=True)
    search.fill(text)
    search.press("Enter")
    grid = page.locator("[data-testid=stDataFrame] .stDataFrameGlideDataEditor").first
    expect(page.get_by_text("Select a run to open it, or two runs to compare them.")).to_be_visible(timeout=WAIT)
    expect(page.locator("[data-testid=stDataFrame] tbody tr")).to_have_count(2, timeout=WAIT)
    grid.click(position={"x": 15, "y": 55})  # the row markers: header 35 px, then 35 px a row
    expect(page.get_by_role("button", name="Re-run")).to_be_visible(timeout=WAIT)
    grid.click(position={"x": 15, "y": 90})
    expect(page.get_by_role("heading", name="Compare runs")).to_be_visible(timeout=WAIT)


def test_two_runs_of_support_agent_compare_word_by_word(page: Page, app_server) -> None:
    open_page(page, app_server.url, "Execute agent")
    pick_agent(page, "support_agent")
    for question, how in (("How do refunds work?", "Run"), ("How do I reset my password?", "Stream")):
        run(page, "Question *", f"{question} (ticket 4417)", how, answer=f"You asked: “{question} (ticket 4417)")
    open_comparison(page, "ticket 4417")

    main = page.get_by_test_id("stMain")
    expect(main.get_by_text(re.compile(r"Different answer \(−\d+ \+\d+ words\)"))).to_be_visible()
    expect(main.get_by_text(re.compile(r"Tools called differently: kb\.search_articles"))).to_be_visible()
    expect(main.get_by_text("A · support_agent · rev 3 · execute (sync)")).to_be_visible()
    expect(main.get_by_text("B · support_agent · rev 3 · stream")).to_be_visible()
    deleted = page.get_by_test_id("compare-answer-a").locator("del")
    inserted = page.get_by_test_id("compare-answer-b").locator("ins")
    expect(deleted.filter(has_text="refunds").first).to_be_visible()
    expect(inserted.filter(has_text="password").first).to_be_visible()
    expect(page.get_by_test_id("compare-answer-b").locator("del")).to_have_count(0)  # B shows only insertions
    assert "rgba(33, 195, 84" in inserted.first.evaluate("e => getComputedStyle(e).backgroundColor")
    assert "rgba(255, 75, 75" in deleted.first.evaluate("e => getComputedStyle(e).backgroundColor")
    steps = page.locator("[data-testid=stDataFrame]").filter(has_text="What differs")
    expect(steps.locator("td", has_text="Search Articles").first).to_be_attached()
    expect(steps.locator("td", has_text="arguments ($.query)").first).to_be_attached()

    payloads = page.get_by_test_id("stExpander").filter(has_text="kb.search_articles")
    payloads.get_by_text("Search Articles · kb.search_articles").click()
    side_by_side = payloads.locator("table").first
    expect(side_by_side.locator("ins", has_text="password").first).to_be_visible()
    expect(side_by_side.locator("del", has_text="refunds").first).to_be_visible()
    tall_screenshot(page, "compare-light")


@pytest.fixture(scope="module")
def dark_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StreamlitServer]:
    """The app in Streamlit's dark theme (.streamlit/config.toml pins the light one, and the viewer
    toolbar offers no theme switch): the diff colours must read on both."""
    data = tmp_path_factory.mktemp("dark-app")
    server = StreamlitServer(app_env(PLAYGROUND_SANDBOX_DB=str(data / "sandbox.sqlite3"), PLAYGROUND_SANDBOX_SPEED="0",
                                     PLAYGROUND_HISTORY_PATH=str(data / "history.sqlite3"), STREAMLIT_THEME_BASE="dark"))
    yield server
    server.stop()


def test_answers_that_carry_html_and_links_show_as_text_in_the_dark_theme(playwright_browser, dark_app) -> None:
    context = playwright_browser.new_context(viewport={"width": 1400, "height": 1000}, color_scheme="dark")
    page = context.new_page()
    page.set_default_timeout(20_000)
    try:
        _payload_comparison(page, dark_app.url)
    finally:
        context.close()


def _payload_comparison(page: Page, url: str) -> None:
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    open_page(page, url, "Execute agent")
    background = page.evaluate("() => getComputedStyle(document.querySelector('[data-testid=stApp]')).backgroundColor")
    assert background != "rgb(255, 255, 255)", background  # the dark theme is on
    pick_agent(page, "echo_agent")
    for message in ("payload check 5310: plain words", f"payload check 5310: {IMG} and {LINK}"):
        run(page, "Message *", message, "Run", answer=f"You said: {message}")
    open_comparison(page, "payload check 5310")

    answer = page.get_by_test_id("compare-answer-b")
    expect(answer.locator("ins", has_text=IMG).first).to_be_visible()
    expect(answer).to_contain_text(LINK)
    main = page.get_by_test_id("stMain")
    assert main.locator("img[src='x']").count() == 0
    assert main.locator("a[href^='javascript']").count() == 0
    assert answer.locator("a, img").count() == 0
    payloads = page.get_by_test_id("stExpander").filter(has_text="LLM Query")
    payloads.locator("summary").click()
    expect(payloads.locator("table ins", has_text=IMG).first).to_be_visible()  # the step's result, side by side
    assert main.locator("img[src='x']").count() == 0 and dialogs == []
    tall_screenshot(page, "compare-escaped-dark")
