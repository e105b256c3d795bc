"""History sharing and re-running in a real browser (the trace viewer: test_trace_viewer.py; environment charts:
test_environments.py)."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.conftest import screenshot
from tests.browser.test_playground import RUN_TIMEOUT, fill_parameter, open_page, pick_agent, status


def run_trip_planner(page: Page, url: str) -> None:
    open_page(page, url, "Execute agent")
    pick_agent(page, "trip_planner")
    fill_parameter(page, "City *", "Lisbon")
    page.get_by_role("button", name="Run", exact=True).click()
    expect(status(page, "Completed")).to_be_visible(timeout=RUN_TIMEOUT)
    expect(page.get_by_role("tab", name="Trace")).to_be_visible()


def test_a_shared_run_opens_read_only_in_another_browser_with_no_key(playwright_browser, page: Page, app_server) -> None:
    run_trip_planner(page, app_server.url)
    page.get_by_role("link", name="History").click()
    expect(page.get_by_role("heading", name="History")).to_be_visible()
    page.locator("[data-testid=stDataFrame] .stDataFrameGlideDataEditor").first.click(position={"x": 15, "y": 55})
    share = page.get_by_text(re.compile(r"\?run=[0-9a-f]{32}")).first
    expect(share).to_be_visible()
    link = re.search(r"https?://\S+\?run=[0-9a-f]{32}", share.inner_text()).group(0)
    stranger = playwright_browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        other = stranger.new_page()
        other.goto(link)
        expect(other.get_by_text("A shared run, read-only")).to_be_visible(timeout=30_000)
        expect(other.get_by_text("Lisbon").first).to_be_visible()
        expect(other.get_by_role("tab", name="Trace")).to_be_visible()
        expect(other.get_by_role("button", name="Expand all")).to_be_visible()
        screenshot(other, "shared-run")
    finally:
        stranger.close()


def test_rerun_from_history_fills_the_execute_form(page: Page, app_server) -> None:
    open_page(page, app_server.url, "Execute agent")
    pick_agent(page, "echo_agent")
    fill_parameter(page, "Message *", "remember this message")
    page.get_by_role("button", name="Run", exact=True).click()
    expect(status(page, "Completed")).to_be_visible(timeout=RUN_TIMEOUT)
    page.get_by_role("link", name="History").click()
    expect(page.get_by_role("heading", name="History")).to_be_visible()
    page.locator("[data-testid=stDataFrame] .stDataFrameGlideDataEditor").first.click(position={"x": 15, "y": 55})
    page.get_by_role("button", name="Re-run").click()
    expect(page.get_by_role("heading", name="Execute agent")).to_be_visible()
    expect(page.get_by_role("textbox", name="Message *", exact=True)).to_have_value("remember this message")
