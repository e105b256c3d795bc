"""The playground in a real browser: Debian chromium driven by Playwright against `streamlit run`."""

from __future__ import annotations

import re
import time

from playwright.sync_api import Page, expect

from tests.browser.conftest import screenshot

RUN_TIMEOUT = 30_000


def status(page: Page, label: str):
    """The run panel's status line, e.g. "Completed · 2.10 s · …"."""
    return page.get_by_text(re.compile(re.escape(label) + r"\s*·\s*[\d.]+ m?s")).first


def open_page(page: Page, url: str, title: str) -> None:
    page.goto(url)
    expect(page.get_by_role("heading", name=title)).to_be_visible(timeout=30_000)


def pick_agent(page: Page, agent_id: str) -> None:
    sidebar = page.get_by_test_id("stSidebar")
    box = sidebar.get_by_test_id("stSelectbox").filter(has_text="Agent")
    box.click()
    page.get_by_role("option", name=re.compile(re.escape(f"({agent_id})"))).click()
    expect(page.get_by_test_id("stMain").get_by_text(agent_id).first).to_be_visible()


def fill_parameter(page: Page, label: str, value: str) -> None:
    field = page.get_by_role("textbox", name=label, exact=True).first
    field.fill(value)
    field.press("Tab")


def test_execute_page_streams_a_deployed_agent(page: Page, app_server) -> None:
    open_page(page, app_server.url, "Execute agent")
    pick_agent(page, "echo_agent")
    fill_parameter(page, "Message *", "hello from the browser")
    page.get_by_role("button", name="Stream").click()
    expect(status(page, "Completed")).to_be_visible(timeout=RUN_TIMEOUT)
    expect(page.get_by_text("hello from the browser").first).to_be_visible()
    screenshot(page, "execute-streamed")


def test_draft_stream_end_to_end_shows_steps_tools_and_events(page: Page, app_server) -> None:
    open_page(page, f"{app_server.url}/draft_test", "Test a draft")
    expect(page.get_by_text("The draft is valid.")).to_be_visible()
    page.get_by_role("button", name="Stream :streamTest").click()
    expect(status(page, "Completed")).to_be_visible(timeout=RUN_TIMEOUT)
    # The streamed steps and the final trace are one tree, drawn once: the trace viewer's.
    expect(page.locator(".fx-row").filter(has_text="llm").first).to_be_visible()
    expect(page.get_by_role("tab", name=re.compile(r"^Steps"))).to_have_count(0)
    # Tables are canvas grids: their cells exist for accessibility but are not "visible" elements.
    page.get_by_role("tab", name="Events", exact=True).click()
    expect(page.locator("td", has_text="step_trace").first).to_be_attached()
    screenshot(page, "draft-streamed")


def test_stop_mid_stream_keeps_what_arrived(page: Page, app_server) -> None:
    open_page(page, app_server.url, "Execute agent")
    pick_agent(page, "echo_agent")
    fill_parameter(page, "Message *", "a long answer please [[sandbox:long]]")
    page.get_by_role("button", name="Stream").click()
    expect(status(page, "Running")).to_be_visible(timeout=RUN_TIMEOUT)
    time.sleep(1.0)
    page.get_by_test_id("stMainBlockContainer").get_by_role("button", name="Stop run").click()
    expect(status(page, "Stopped")).to_be_visible(timeout=5_000)  # how fast: benchmarks/live_panel.py
    expect(page.get_by_text("everything received so far is kept")).to_be_visible()
    screenshot(page, "execute-stopped")


def test_wrong_key_is_reported_and_form_untouched(page: Page, app_server, shared_sandbox) -> None:
    open_page(page, app_server.url, "Execute agent")
    sidebar = page.get_by_test_id("stSidebar")
    sidebar.get_by_text("Custom").click()
    sidebar.get_by_label("Base URL", exact=True).fill(shared_sandbox.base_url)
    sidebar.get_by_label("Base URL", exact=True).press("Tab")
    sidebar.get_by_label("Tenant", exact=True).fill("demo")
    sidebar.get_by_label("Tenant", exact=True).press("Tab")
    sidebar.get_by_label("API key", exact=True).fill("fx_pat_definitely_wrong_1234")
    sidebar.get_by_label("API key", exact=True).press("Enter")
    sidebar.get_by_role("button", name="Test connection").click()
    expect(sidebar.get_by_text(re.compile("The key was rejected for tenant"))).to_be_visible()
    assert "definitely_wrong" not in page.inner_text("body")  # shown nowhere (only inside its own password field)
    screenshot(page, "wrong-key")


def test_invalid_json_parameters_are_pointed_out_before_sending(page: Page, app_server) -> None:
    open_page(page, app_server.url, "Execute agent")
    pick_agent(page, "support_agent")
    page.get_by_text("Edit as JSON").click()
    editor = page.get_by_label("Parameters (JSON object)")
    editor.fill('{"question": "unterminated')
    editor.press("Tab")
    expect(page.get_by_text(re.compile("Parameters are not valid JSON"))).to_be_visible()
    expect(editor).to_have_value('{"question": "unterminated')
    screenshot(page, "invalid-json")


def test_an_attachment_reaches_the_sandbox_and_the_agent_reads_it(page: Page, app_server) -> None:
    open_page(page, app_server.url, "Execute agent")
    pick_agent(page, "doc_reader")
    fill_parameter(page, "Question *", "When is the deadline?")
    page.get_by_text(re.compile(r"^Attachments \(\d+\)$")).click()
    page.locator("input[type=file]").first.set_input_files(
        files=[{"name": "plan.txt", "mimeType": "text/plain", "buffer": b"Kick-off Monday.\nThe deadline is May 3.\n"}]
    )
    expect(page.get_by_text("plan.txt").first).to_be_visible()
    page.get_by_role("button", name="Stream").click()
    expect(status(page, "Completed")).to_be_visible(timeout=RUN_TIMEOUT)
    expect(page.get_by_text("The deadline is May 3.", exact=False).first).to_be_visible()
    screenshot(page, "execute-attachment")


def test_xss_payload_in_agent_output_is_shown_as_text(page: Page, app_server) -> None:
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    open_page(page, app_server.url, "Execute agent")
    pick_agent(page, "echo_agent")
    fill_parameter(page, "Message *", "show me [[sandbox:html]]")
    page.get_by_role("button", name="Stream").click()
    expect(status(page, "Completed")).to_be_visible(timeout=RUN_TIMEOUT)
    expect(page.get_by_text("<script>alert(1)</script>", exact=False).first).to_be_visible()
    assert dialogs == []
    assert page.locator("img[src='x']").count() == 0
    screenshot(page, "xss-as-text")


def test_two_sessions_stream_at_once_without_seeing_each_other(playwright_browser, app_server) -> None:
    contexts = [playwright_browser.new_context(viewport={"width": 1400, "height": 1000}) for _ in range(2)]
    try:
        pages = [ctx.new_page() for ctx in contexts]
        for index, p in enumerate(pages):
            p.set_default_timeout(20_000)
            open_page(p, app_server.url, "Execute agent")
            pick_agent(p, "echo_agent")
            fill_parameter(p, "Message *", f"session-{index}-marker")
        for p in pages:
            p.get_by_role("button", name="Stream").click()
        for index, p in enumerate(pages):
            expect(status(p, "Completed")).to_be_visible(timeout=RUN_TIMEOUT)
            expect(p.get_by_text(f"session-{index}-marker").first).to_be_visible()
            assert f"session-{1 - index}-marker" not in p.content()
    finally:
        for ctx in contexts:
            ctx.close()
