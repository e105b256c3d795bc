"""The connection sidebar in chromium: Connect flow, refusal message, profile memory, upload limit."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from components.safe import WORD_JOINER
from tests.browser.conftest import screenshot
from tests.conftest import TEST_KEY


def sidebar_of(page: Page):
    return page.get_by_test_id("stSidebar")


def type_into(page: Page, label: str, value: str) -> None:
    field = sidebar_of(page).get_by_label(label, exact=True)
    field.fill(value)
    field.press("Enter")  # commits the value (Tab from a password field lands on its eye button)


def open_custom(page: Page, url: str) -> None:
    page.goto(url)
    expect(page.get_by_role("heading", name="Execute agent")).to_be_visible(timeout=30_000)
    sidebar_of(page).get_by_text("Custom", exact=True).click()
    expect(sidebar_of(page).get_by_label("Base URL", exact=True)).to_be_visible()


def test_custom_connects_only_when_asked_and_is_remembered(page: Page, app_server, shared_sandbox) -> None:
    page.set_viewport_size({"width": 1400, "height": 1500})  # the whole sidebar in the screenshot
    open_custom(page, app_server.url)
    sidebar = sidebar_of(page)
    type_into(page, "Base URL", shared_sandbox.base_url)
    type_into(page, "Tenant", "demo")
    type_into(page, "API key", TEST_KEY)
    expect(sidebar.get_by_text("Nothing is sent to this server until you press Connect.")).to_be_visible()
    expect(page.get_by_test_id("stMain").get_by_text(re.compile("Connect to start"))).to_be_visible()
    note = sidebar.get_by_text(re.compile(r"The key goes in the Bearer header only\. .Both. is used only for"))
    expect(note).to_be_visible()
    expect(note.locator("a")).to_have_count(0)
    expect(sidebar.get_by_test_id("stSelectbox").filter(has_text="Agent")).to_have_count(0)

    sidebar.get_by_role("button", name="Connect", exact=True).click()
    expect(sidebar.get_by_text(re.compile("The key works for tenant demo"))).to_be_visible()
    expect(sidebar.get_by_test_id("stSelectbox").filter(has_text="Agent")).to_be_visible()
    expect(page.get_by_test_id("stMain").get_by_text(re.compile("Connect to start"))).to_have_count(0)
    expect(sidebar.get_by_role("button", name="Disconnect")).to_be_visible()
    assert TEST_KEY not in page.inner_text("body")
    expect(page.get_by_test_id("stMain").get_by_role("button", name=re.compile("^Stream"))).to_be_visible()
    expect(sidebar.get_by_role("button", name="Connect", exact=True)).to_have_count(0)
    screenshot(page, "connection-custom-connected")

    sidebar.get_by_text("Local sandbox", exact=True).click()
    expect(sidebar.get_by_text(re.compile("demo data, runs locally"))).to_be_visible()
    sidebar.get_by_text("Custom", exact=True).click()
    expect(sidebar.get_by_label("Base URL", exact=True)).to_have_value(shared_sandbox.base_url)
    expect(sidebar.get_by_label("Tenant", exact=True)).to_have_value("demo")
    expect(sidebar.get_by_label("API key", exact=True)).to_have_value(TEST_KEY)
    expect(sidebar.get_by_role("button", name="Disconnect")).to_be_visible()  # same values: still connected

    type_into(page, "Tenant", "demo-two")
    expect(sidebar.get_by_role("button", name="Connect", exact=True)).to_be_visible()
    expect(page.get_by_test_id("stMain").get_by_text(re.compile("Connect to start"))).to_be_visible()


def test_plain_http_base_url_is_refused_with_what_to_fix(page: Page, app_server) -> None:
    page.set_viewport_size({"width": 1400, "height": 1200})
    open_custom(page, app_server.url)
    sidebar = sidebar_of(page)
    type_into(page, "Base URL", "http://fruxon.example.test")
    type_into(page, "Tenant", "acme")
    type_into(page, "API key", "fx_pat_browser_refusal_0042")
    alert = sidebar.get_by_test_id("stAlertContentError")
    expect(alert).to_contain_text("PLAYGROUND_ALLOW_INSECURE_HTTP=1")
    shown = alert.inner_text().replace(WORD_JOINER, "")  # invisible joiners keep the URLs from becoming links
    assert "http://fruxon.example.test uses plain http://" in shown
    assert "Use https://, or set PLAYGROUND_ALLOW_INSECURE_HTTP=1 on the server" in shown
    expect(alert.locator("a")).to_have_count(0)  # the typed URL is text, not a link
    expect(sidebar.get_by_role("button", name="Connect", exact=True)).to_have_count(0)
    expect(page.get_by_test_id("stMain").get_by_text(re.compile("Connect to start"))).to_be_visible()
    screenshot(page, "connection-insecure-http-refused")


def test_drop_zone_and_label_state_the_same_upload_limit(page: Page, app_server) -> None:
    page.goto(f"{app_server.url}/draft_test")
    expect(page.get_by_role("heading", name="Test a draft")).to_be_visible(timeout=30_000)
    page.get_by_text("Attachments", exact=True).first.click()
    uploader = page.get_by_test_id("stFileUploader").filter(has_text="Attachments (up to 10 MB each)")
    expect(uploader).to_be_visible()
    expect(uploader.get_by_test_id("stFileUploaderDropzoneInstructions")).to_contain_text("10MB per file")
    uploader.locator("input[type=file]").set_input_files(
        {"name": "big.bin", "mimeType": "application/octet-stream", "buffer": b"\0" * (10 * 1024 * 1024 + 1)}
    )
    expect(uploader.get_by_text(re.compile(r"File must be 10(\.0)?\s?MB or smaller"))).to_be_visible()
    screenshot(page, "attachments-limit")
