"""Side by side in a real browser: the deployed support_agent against its revision 1 on the sandbox,
two live panels, the verdict, the step-aligned diff, and the share link opened in a new page."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.conftest import screenshot
from tests.browser.test_compare import tall_screenshot
from tests.browser.test_playground import RUN_TIMEOUT, fill_parameter, open_page, status

WAIT = 20_000


def test_deployed_against_revision_1_side_by_side_and_shared(page: Page, app_server) -> None:
    open_page(page, f"{app_server.url}/side_by_side", "Side by side")
    main = page.get_by_test_id("stMain")
    revision_b = main.get_by_test_id("stSelectbox").filter(has_text="Revision B")
    # The revision before the deployed one, at first.
    expect(revision_b.get_by_role("combobox")).to_have_value(re.compile(r"^rev 2 — "))
    revision_b.click()
    page.get_by_role("option").filter(has_text=re.compile(r"^rev 1 — First version")).click()
    expect(revision_b.get_by_role("combobox")).to_have_value(re.compile(r"^rev 1 — First version"))
    expect(main.get_by_text("B does not get tone: its revision does not declare it")).to_be_visible(timeout=WAIT)
    fill_parameter(page, "Question *", "How do refunds work? (side by side)")
    page.get_by_role("button", name="Run both").click()

    # Two panels, one per target, each with its own status line (both live at once: the test below).
    expect(main.get_by_role("heading", name="A: deployed · stream")).to_be_visible(timeout=WAIT)
    expect(main.get_by_role("heading", name="B: revision 1 · stream")).to_be_visible(timeout=WAIT)
    verdict = main.get_by_test_id("stMarkdown").filter(has_text=re.compile(r"^\s*Verdict"))
    expect(verdict).to_be_visible(timeout=RUN_TIMEOUT)
    expect(status(page, "Completed")).to_be_visible()
    expect(main.get_by_text(re.compile(r"Completed\s*·")).nth(1)).to_be_visible()
    expect(verdict).to_contain_text("Different answer")
    expect(verdict).to_contain_text(re.compile(r"Δcost [+−]\$"))
    expect(verdict).to_contain_text("Δlatency")
    expect(verdict).to_contain_text("tools called differently: kb.search_articles (only in A)")

    # The step-aligned diff under the panels: A searched the knowledge base, B did not.
    expect(main.get_by_role("heading", name="Compare runs")).to_be_visible()
    expect(page.get_by_test_id("compare-answer-a")).to_contain_text("refunds")
    steps = page.locator("[data-testid=stDataFrame]").filter(has_text="What differs")
    expect(steps.locator("td", has_text="Search Articles").first).to_be_attached()
    expect(steps.locator("td", has_text="removed").first).to_be_attached()
    tall_screenshot(page, "side-by-side")

    # The share link: the two run ids and nothing else; a new page opens it read-only.
    link = main.get_by_test_id("stCode").filter(has_text="?a=").inner_text().strip()
    assert re.fullmatch(re.escape(app_server.url) + r"/side_by_side\?a=[0-9a-f]{32}&b=[0-9a-f]{32}", link), link
    assert "fx_pat" not in link and "key" not in link
    shared = page.context.new_page()
    shared.set_default_timeout(WAIT)
    shared.goto(link)
    shared_main = shared.get_by_test_id("stMain")
    expect(shared_main.get_by_text("A shared comparison, read-only.")).to_be_visible(timeout=30_000)
    expect(shared_main.get_by_role("heading", name="A: deployed · stream")).to_be_visible()
    expect(shared_main.get_by_role("heading", name="B: revision 1 · stream")).to_be_visible()
    shared_verdict = shared_main.get_by_test_id("stMarkdown").filter(has_text=re.compile(r"^\s*Verdict"))
    expect(shared_verdict).to_contain_text("tools called differently: kb.search_articles (only in A)")
    expect(shared_main.get_by_role("heading", name="Compare runs")).to_be_visible()
    expect(shared.get_by_role("button", name="Run both")).to_have_count(0)
    assert shared.url.startswith(link.split("?")[0]) and "a=" in shared.url and "b=" in shared.url
    tall_screenshot(shared, "side-by-side-shared")
    shared.close()


def test_stop_both_stops_both_runs_and_still_compares_what_arrived(page: Page, app_server) -> None:
    open_page(page, f"{app_server.url}/side_by_side", "Side by side")
    main = page.get_by_test_id("stMain")
    fill_parameter(page, "Question *", "A long answer please [[sandbox:long]]")
    page.get_by_role("button", name="Run both").click()
    expect(main.get_by_text(re.compile(r"Running\s*·\s*[\d.]+ m?s"))).to_have_count(2, timeout=WAIT)
    page.wait_for_timeout(1_500)  # both panels fill with text while they run
    screenshot(page, "side-by-side-live")

    # The page's URL names the pair already: opened elsewhere it follows both runs, with no Stop.
    watcher = page.context.new_page()
    watcher.set_default_timeout(WAIT)
    watcher.goto(page.url)
    watched = watcher.get_by_test_id("stMain")
    expect(watched.get_by_text("A shared comparison, read-only.")).to_be_visible(timeout=30_000)
    expect(watched.get_by_text("Live: this read-only view follows the run until it ends.")).to_have_count(2)
    expect(watcher.get_by_role("button", name=re.compile("^Stop"))).to_have_count(0)

    page.get_by_role("button", name="Stop both").click()
    expect(main.get_by_text(re.compile(r"Stopped\s*·\s*[\d.]+ m?s"))).to_have_count(2, timeout=WAIT)
    expect(main.get_by_role("button", name="Stop both")).to_have_count(0)
    verdict = main.get_by_test_id("stMarkdown").filter(has_text=re.compile(r"^\s*Verdict"))
    expect(verdict).to_be_visible(timeout=WAIT)
    watched_verdict = watched.get_by_test_id("stMarkdown").filter(has_text=re.compile(r"^\s*Verdict"))
    expect(watched_verdict).to_be_visible(timeout=WAIT)  # the watcher saw both end
    expect(watched.get_by_text(re.compile(r"Stopped\s*·\s*[\d.]+ m?s"))).to_have_count(2)
    watcher.close()
    main.get_by_text("Targets and input — change them and run again").click()  # the form folded away
    expect(main.get_by_role("button", name="Run both")).to_be_enabled()
    expect(page.get_by_role("textbox", name="Question *", exact=True)).to_have_value(
        "A long answer please [[sandbox:long]]")


def test_a_chat_user_typed_once_goes_with_the_deployed_side(page: Page, app_server) -> None:
    open_page(page, f"{app_server.url}/side_by_side", "Side by side")
    main = page.get_by_test_id("stMain")
    fill_parameter(page, "Question *", "Can I export my data? (chat user)")
    main.get_by_role("button", name="Chat user").click()
    chat_user = page.get_by_role("textbox", name="Chat user (JSON)")
    chat_user.fill('{"id": "user_42"')
    chat_user.press("Control+Enter")
    expect(main.get_by_text("Chat user is not valid JSON: Expecting ',' delimiter")).to_be_visible(timeout=WAIT)
    chat_user.fill('{"id": "user_42", "displayName": "Ada"}')
    chat_user.press("Control+Enter")
    page.keyboard.press("Escape")
    expect(main.get_by_text("Sent with A only: a test run has no chat user.")).to_be_visible(timeout=WAIT)
    expect(main.get_by_role("button", name="user_42")).to_be_visible()
    page.get_by_role("button", name="Run both").click()

    verdict = main.get_by_test_id("stMarkdown").filter(has_text=re.compile(r"^\s*Verdict"))
    expect(verdict).to_be_visible(timeout=RUN_TIMEOUT)
    # The inputs table of the comparison: A sent the chat user (shown by its name), B (a test run) did not.
    inputs = page.locator("[data-testid=stDataFrame]").filter(has_text="Input")
    expect(inputs.locator("tr", has_text="Chat user").locator("td", has_text="Ada").first).to_be_attached()
