"""Re-running from History in a real browser (sharing: test_owner.py; the trace viewer: test_trace_viewer.py;
environment charts: test_environments.py)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.browser.test_playground import RUN_TIMEOUT, fill_parameter, open_page, pick_agent, status


def run_trip_planner(page: Page, url: str) -> None:
    open_page(page, url, "Execute agent")
    pick_agent(page, "trip_planner")
    fill_parameter(page, "City *", "Lisbon")
    page.get_by_role("button", name="Run", exact=True).click()
    expect(status(page, "Completed")).to_be_visible(timeout=RUN_TIMEOUT)
    expect(page.get_by_role("tab", name="Trace")).to_be_visible()


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


def test_export_downloads_the_opened_run_as_a_bundle_without_the_key(page: Page, app_server) -> None:
    run_trip_planner(page, app_server.url)
    page.get_by_role("link", name="History").click()
    expect(page.get_by_role("heading", name="History")).to_be_visible()
    page.locator("[data-testid=stDataFrame] .stDataFrameGlideDataEditor").first.click(position={"x": 15, "y": 55})
    page.wait_for_url(re.compile(r"run=[0-9a-f]{32}"))
    run_id = re.search(r"run=([0-9a-f]{32})", page.url).group(1)
    with page.expect_download() as download:  # the bundle is made on click, not on every rerun
        page.get_by_role("button", name="Export").click()
    bundle = Path(download.value.path()).read_text(encoding="utf-8")
    run = json.loads(bundle)["run"]
    assert run["id"] == run_id and "Lisbon" in bundle and "owner" not in run
