"""Test cases in a real browser: import 20 cases, run them as a batch on the sandbox (one fails on purpose),
read the results, open the failing case, and download the results."""

from __future__ import annotations

import csv
import io
import json
import re

from playwright.sync_api import Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.browser.conftest import screenshot
from tests.browser.test_playground import open_page

BATCH_TIMEOUT = 60_000
FAILING = "Says goodbye (fails on purpose)"


def twenty_cases() -> str:
    lines = []
    for i in range(1, 19):
        lines.append({"name": f"Echoes message {i:02d}", "parameters": {"message": f"hello number {i}"},
                      "checks": [{"kind": "contains", "text": f"hello number {i}"}, {"kind": "no_failure"},
                                 {"kind": "max_cost", "usd": 0.01}]})
    lines.append({"name": "Echoes JSON back", "parameters": {"message": '{"status": "ok", "items": [1, 2]}'},
                  "checks": [{"kind": "json_path", "path": "$.items[1]", "equals": 2},
                             {"kind": "matches", "pattern": "^You said"}]})
    lines.append({"name": FAILING, "parameters": {"message": "hello there"},
                  "checks": [{"kind": "contains", "text": "hello"}, {"kind": "contains", "text": "goodbye"}]})
    return "\n".join(json.dumps(line) for line in lines)


def pick_agent(page: Page, agent_id: str) -> None:
    box = page.get_by_test_id("stSidebar").get_by_test_id("stSelectbox").filter(has_text="Agent")
    box.click()
    page.get_by_role("option", name=re.compile(re.escape(f"({agent_id})"))).click()


def pick_row(page: Page, grid_text: str, row: int) -> None:
    """Tick a row of a dataframe (a canvas grid: rows are 35 px under a 35 px header)."""
    grid = page.locator("[data-testid=stDataFrame]").filter(has_text=grid_text).locator(".stDataFrameGlideDataEditor").first
    grid.scroll_into_view_if_needed()
    grid.click(position={"x": 15, "y": 52 + 35 * (row - 1)})


def test_a_20_case_batch_runs_shows_the_failure_and_downloads(page: Page, app_server, tmp_path) -> None:
    open_page(page, f"{app_server.url}/test_cases", "Test cases")
    pick_agent(page, "echo_agent")
    expect(page.get_by_text("0 case(s) of echo_agent")).to_be_visible()
    cases_file = tmp_path / "echo-cases.jsonl"
    cases_file.write_text(twenty_cases(), encoding="utf-8")
    import_button = page.get_by_role("button", name="Import", exact=True)
    for _ in range(3):  # a rerun that replaces the uploader while the file goes up drops the file: send it again
        page.get_by_test_id("stFileUploader").locator("input[type=file]").set_input_files(str(cases_file))
        try:
            import_button.wait_for(timeout=5_000)
            break
        except PlaywrightTimeout:
            continue
    import_button.click()
    expect(page.get_by_text("Imported 20 new case(s).")).to_be_visible()
    expect(page.get_by_text("20 case(s) of echo_agent")).to_be_visible()

    page.get_by_role("button", name="Run 20 case(s)").click()
    expect(page.get_by_role("button", name="Stop")).to_be_visible()  # live progress, while it runs
    expect(page.get_by_text(re.compile(r"19 passed"))).to_be_visible(timeout=BATCH_TIMEOUT)
    expect(page.get_by_text(re.compile(r"20 of 20 done · deployed"))).to_be_visible()
    expect(page.get_by_text(re.compile(r"1 failed"))).to_be_visible()
    expect(page.get_by_role("button", name="Stop")).to_have_count(0)
    screenshot(page, "cases-batch-20")

    with page.expect_download() as download:
        page.get_by_role("button", name="Results (CSV)").click()
    rows = list(csv.DictReader(io.StringIO(download.value.path().read_text(encoding="utf-8"))))
    assert len(rows) == 20 and [r["status"] for r in rows].count("passed") == 19
    (failed,) = [r for r in rows if r["status"] == "failed"]
    assert failed["case"] == FAILING and failed["failed_checks"] == (
        "answer contains “goodbye”: the answer does not contain “goodbye”")
    assert all(re.fullmatch(r"[0-9a-f]{32}", r["run_id"]) for r in rows)

    expect(page.get_by_role("button", name="Results (CSV)")).to_be_visible()
    page.get_by_text("Only failures", exact=True).click()  # the grid keeps the failure only
    expect(page.locator("[data-testid=stDataFrame]").filter(has_text="Failed checks").locator("tbody tr")).to_have_count(1)
    pick_row(page, "Failed checks", 1)
    detail = page.locator("[data-testid=stDataFrame]").filter(has_text="Why")  # the picked case, check by check
    expect(detail.locator("td", has_text="the answer does not contain “goodbye”")).to_be_attached()
    expect(detail.locator("td", has_text="✓ pass")).to_have_count(1)
    page.get_by_test_id("stExpander").filter(has_text="The run: answer").locator("summary").click()
    expect(page.get_by_role("tab", name="Trace")).to_be_visible()  # the saved run, drawn once opened
    expect(page.get_by_text("You said: hello there").first).to_be_visible()
    # From the filtered grid down: the failing case's row, its checks and why one failed, then its run.
    page.get_by_text("Only failures", exact=True).evaluate("e => e.scrollIntoView({block: 'center'})")
    page.wait_for_timeout(300)
    screenshot(page, "cases-batch-20-failure")

    with page.expect_download() as download:
        page.get_by_role("button", name="pytest file").click()
    exported = download.value.path().read_text(encoding="utf-8")
    assert "client.stream(AGENT" in exported and "'name': 'Says goodbye (fails on purpose)'" in exported


def slow_cases(count: int) -> str:
    """Cases of the sandbox's Stream Bench agent, each a 20 s stream (100 chunks at 5 per second)."""
    return "\n".join(json.dumps({"name": f"Slow stream {i}", "parameters": {"rate": 5, "count": 100},
                                 "checks": [{"kind": "no_failure"}]}) for i in range(1, count + 1))


def test_a_running_batch_shows_live_counts_and_stop_ends_it(page: Page, app_server, tmp_path) -> None:
    open_page(page, f"{app_server.url}/test_cases", "Test cases")
    pick_agent(page, "stream_bench")
    expect(page.get_by_text("0 case(s) of stream_bench")).to_be_visible()
    cases_file = tmp_path / "slow-cases.jsonl"
    cases_file.write_text(slow_cases(6), encoding="utf-8")
    import_button = page.get_by_role("button", name="Import", exact=True)
    for _ in range(3):
        page.get_by_test_id("stFileUploader").locator("input[type=file]").set_input_files(str(cases_file))
        try:
            import_button.wait_for(timeout=5_000)
            break
        except PlaywrightTimeout:
            continue
    import_button.click()
    expect(page.get_by_text("6 case(s) of stream_bench")).to_be_visible()

    page.get_by_role("button", name="Run 6 case(s)").click()
    main = page.get_by_test_id("stMainBlockContainer")
    # Concurrency 4 (the default): four cases stream, two wait their turn; Run is disabled meanwhile.
    expect(main.get_by_text(re.compile(r"4 running"))).to_be_visible()
    expect(main.get_by_text(re.compile(r"0 of 6 done"))).to_be_visible()
    expect(page.get_by_role("button", name="Run 6 case(s)")).to_be_disabled()
    expect(page.get_by_test_id("stProgress")).to_be_visible()
    screenshot(page, "cases-batch-live")

    main.get_by_role("button", name="Stop").click()
    expect(main.get_by_text(re.compile(r"4 stopped.*2 not run.*6 of 6 done · deployed.*· stopped"))).to_be_visible(
        timeout=10_000)
    expect(main.get_by_role("button", name="Stop")).to_have_count(0)
    expect(page.get_by_role("button", name="Run 6 case(s)")).to_be_enabled()
    grid = page.locator("[data-testid=stDataFrame]").filter(has_text="Failed checks")
    expect(grid.locator("td", has_text="■ stopped")).to_have_count(4)
    expect(grid.locator("td", has_text="not run")).to_have_count(2)
    screenshot(page, "cases-batch-stopped")
