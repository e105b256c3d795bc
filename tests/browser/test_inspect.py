"""Trace viewer and history sharing in a real browser (environment charts: test_environments.py)."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.conftest import screenshot
from tests.browser.test_playground import RUN_TIMEOUT, fill_parameter, open_page, pick_agent, status

XSS_NAME = '<img src=x onerror=alert(1)> Planner'


def tree_rows(page: Page):
    return page.locator("[data-testid=stDataFrame]").filter(has_text="Timeline").locator("tbody tr")


def run_trip_planner(page: Page, url: str) -> None:
    open_page(page, url, "Execute agent")
    pick_agent(page, "trip_planner")
    fill_parameter(page, "City *", "Lisbon")
    page.get_by_role("button", name="Run", exact=True).click()
    expect(status(page, "Completed")).to_be_visible(timeout=RUN_TIMEOUT)
    expect(page.get_by_role("tab", name="Trace")).to_be_visible()


def test_trace_tree_expands_collapses_searches_and_shows_details(page: Page, app_server) -> None:
    run_trip_planner(page, app_server.url)
    expect(tree_rows(page)).to_have_count(10)
    page.get_by_role("button", name="Collapse all").click()
    expect(tree_rows(page)).to_have_count(1)
    page.get_by_role("button", name="Expand all").click()
    expect(tree_rows(page)).to_have_count(10)
    search = page.get_by_role("textbox", name="Search steps", exact=True)
    search.fill("units.convert")
    search.press("Enter")
    expect(page.get_by_text(re.compile(r"\d+ of 10 steps match"))).to_be_visible()
    expect(page.locator("td", has_text="Quality check")).to_have_count(0)
    expect(page.locator("td", has_text="Convert").first).to_be_attached()
    expect(page.get_by_text("FLOW · ", exact=False).first).to_be_visible()  # the detail pane of the selected root
    screenshot(page, "trace-viewer")


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


def test_a_script_in_a_step_name_is_shown_as_text(page: Page, app_server) -> None:
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    open_page(page, f"{app_server.url}/draft_test", "Test a draft")
    template = page.get_by_test_id("stSelectbox").filter(has_text="Start from a template")
    template.click()
    page.get_by_role("option", name=re.compile("^Sub-agent")).click()
    expect(template.get_by_role("combobox")).to_have_value(re.compile("^Sub-agent"))
    page.get_by_role("button", name="Load", exact=True).click()
    expect(page.locator("td", has_text="research").first).to_be_attached()  # the template's steps are in
    page.get_by_role("tab", name="Raw JSON").click()
    raw = page.get_by_role("textbox", name="Request JSON", exact=True)
    raw.fill(raw.input_value().replace('"name": "Research sub-agent"', f'"name": "{XSS_NAME}"'))
    raw.press("Tab")
    page.get_by_role("button", name="Apply JSON").click()
    page.get_by_role("tab", name="Flow").click()
    expect(page.locator("td", has_text="Planner").first).to_be_attached()  # applied: the steps table has the name
    page.get_by_role("button", name="Run :test").click()
    expect(status(page, "Completed")).to_be_visible(timeout=RUN_TIMEOUT)
    trace_table = page.locator("[data-testid=stDataFrame]").filter(has_text="Timeline")
    expect(trace_table.locator("td", has_text=XSS_NAME).first).to_be_attached()  # the sub-agent step, as text
    assert dialogs == [] and page.locator("img[src='x']").count() == 0
    screenshot(page, "xss-step-name")


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
