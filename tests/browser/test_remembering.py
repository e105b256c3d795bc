"""The app remembers, in chromium (issue 9): reload, links, back/forward, per-agent forms, Stop, approvals, theme."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.conftest import StreamlitServer, app_env, screenshot
from tests.browser.test_playground import RUN_TIMEOUT, fill_parameter, open_page, pick_agent, status


def answer(page: Page, text: str):
    return page.get_by_text(text, exact=False).first


def environment_input(page: Page):
    return page.get_by_test_id("stSelectbox").filter(has_text="Environment").locator("input")


def stream_with_keyboard(page: Page, field: str, text: str) -> None:
    box = page.get_by_role("textbox", name=field, exact=True)
    box.fill(text)
    box.press("Control+Enter")  # runs from any field of the form


def test_reload_and_back_forward_keep_the_open_run(page: Page, app_server) -> None:
    open_page(page, f"{app_server.url}/?agent=echo_agent", "Execute agent")
    stream_with_keyboard(page, "Message *", "the first run")
    expect(answer(page, "You said: the first run")).to_be_visible(timeout=RUN_TIMEOUT)
    expect(page).to_have_url(re.compile(r"agent=echo_agent&run=[0-9a-f]{32}"))
    first = page.url
    stream_with_keyboard(page, "Message *", "the second run")
    expect(answer(page, "You said: the second run")).to_be_visible(timeout=RUN_TIMEOUT)
    expect(page).not_to_have_url(first)
    page.reload()
    expect(answer(page, "You said: the second run")).to_be_visible(timeout=RUN_TIMEOUT)
    page.go_back()
    expect(answer(page, "You said: the first run")).to_be_visible(timeout=RUN_TIMEOUT)
    page.go_forward()
    expect(answer(page, "You said: the second run")).to_be_visible(timeout=RUN_TIMEOUT)


def test_agent_round_trip_keeps_typed_text_and_options_stay_with_their_agent(page: Page, app_server) -> None:
    open_page(page, app_server.url, "Execute agent")
    pick_agent(page, "echo_agent")
    fill_parameter(page, "Message *", "typed for echo")
    environment = page.get_by_test_id("stSelectbox").filter(has_text="Environment")
    environment.click()
    page.get_by_role("option", name="globex").click()
    pick_agent(page, "support_agent")
    expect(page.get_by_role("textbox", name="Question *", exact=True)).to_have_value("")
    expect(environment_input(page)).to_have_value("")
    pick_agent(page, "echo_agent")
    expect(page.get_by_role("textbox", name="Message *", exact=True)).to_have_value("typed for echo")
    expect(environment_input(page)).to_have_value("globex")


def test_after_stop_run_and_stream_are_enabled_at_once(page: Page, app_server) -> None:
    open_page(page, f"{app_server.url}/?agent=echo_agent", "Execute agent")
    fill_parameter(page, "Message *", "long please [[sandbox:long]]")
    page.get_by_role("button", name=re.compile("^Stream")).click()
    stop = page.get_by_role("button", name="Stop run")
    expect(stop).to_be_visible(timeout=RUN_TIMEOUT)
    expect(page.get_by_role("button", name="Run", exact=True)).to_be_disabled()
    stop.click()
    expect(status(page, "Stopped")).to_be_visible(timeout=5_000)
    expect(page.get_by_role("button", name="Run", exact=True)).to_be_enabled(timeout=2_000)
    expect(page.get_by_role("button", name=re.compile("^Stream"))).to_be_enabled()
    screenshot(page, "stop-then-run")


def test_approving_shows_the_final_answer_in_the_same_panel(page: Page, app_server) -> None:
    open_page(page, f"{app_server.url}/?agent=refund_desk", "Execute agent")
    fill_parameter(page, "Order id *", "ord_9")
    fill_parameter(page, "Amount *", "12.5")
    page.get_by_role("button", name=re.compile("^Stream")).click()
    expect(page.get_by_text("Approval needed")).to_be_visible(timeout=RUN_TIMEOUT)
    page.get_by_role("button", name="Approve").click()
    expect(status(page, "Completed")).to_be_visible(timeout=RUN_TIMEOUT)
    expect(page.get_by_text("Approval needed")).to_have_count(0)
    expect(page.get_by_text(re.compile("refund", re.I)).first).to_be_visible()
    screenshot(page, "approved-in-place")


def test_a_link_to_a_run_opens_cold_after_a_server_restart(playwright_browser, tmp_path) -> None:
    env = app_env(PLAYGROUND_SANDBOX_DB=str(tmp_path / "sandbox.sqlite3"), PLAYGROUND_SANDBOX_SPEED="0.2",
                  PLAYGROUND_HISTORY_PATH=str(tmp_path / "history.sqlite3"))
    server = StreamlitServer(env)
    context = playwright_browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        page = context.new_page()
        open_page(page, f"{server.url}/?agent=echo_agent", "Execute agent")
        stream_with_keyboard(page, "Message *", "remember me across a restart")
        expect(answer(page, "You said: remember me across a restart")).to_be_visible(timeout=RUN_TIMEOUT)
        expect(page).to_have_url(re.compile(r"run=[0-9a-f]{32}"))
        link = page.url.replace(server.url, "")
    finally:
        context.close()
        server.stop()
    restarted = StreamlitServer(env)
    context = playwright_browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        page = context.new_page()
        page.goto(restarted.url + link)  # the very first request after the restart
        expect(answer(page, "You said: remember me across a restart")).to_be_visible(timeout=40_000)
        expect(status(page, "Completed")).to_be_visible()
    finally:
        context.close()
        restarted.stop()


def test_the_app_follows_a_dark_browser(playwright_browser, app_server) -> None:
    context = playwright_browser.new_context(viewport={"width": 1400, "height": 1000}, color_scheme="dark")
    try:
        page = context.new_page()
        open_page(page, f"{app_server.url}/?agent=echo_agent", "Execute agent")
        background = page.evaluate("getComputedStyle(document.querySelector('.stApp')).backgroundColor")
        channels = [int(c) for c in re.findall(r"\d+", background)[:3]]
        assert sum(channels) < 200, background  # a dark background
        screenshot(page, "execute-dark")
    finally:
        context.close()
