"""Runs belong to the browser when nobody signs in: its id lives in a cookie, so History survives a
reload, a new tab and a server restart, and another browser sees none of it."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from fruxon_playground.history import RunQuery, RunStore, open_store
from fruxon_playground.identity import BROWSER_COOKIE, new_browser_id
from tests.browser.conftest import StreamlitServer, app_env, screenshot
from tests.browser.test_inspect import run_trip_planner
from tests.browser.test_playground import RUN_TIMEOUT, fill_parameter, open_page, pick_agent, status


def owner_env(folder: Path) -> dict[str, str]:
    # The tests start the app on loopback, where the local user would own every run: this switch
    # gives each browser its own runs there too (as a deployment on 0.0.0.0 does).
    return app_env(PLAYGROUND_SANDBOX_DB=str(folder / "sandbox.sqlite3"), PLAYGROUND_SANDBOX_SPEED="0",
                   PLAYGROUND_HISTORY_PATH=str(folder / "history.sqlite3"), PLAYGROUND_OWNER="browser")


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path


@pytest.fixture
def browser_owner_app(data_dir: Path) -> Iterator[StreamlitServer]:
    server = StreamlitServer(owner_env(data_dir))
    yield server
    server.stop()


def new_context(playwright_browser) -> BrowserContext:
    return playwright_browser.new_context(viewport={"width": 1400, "height": 1000})


def browser_id(context: BrowserContext) -> str | None:
    return next((c["value"] for c in context.cookies() if c["name"] == BROWSER_COOKIE), None)


def stored_browser_id(context: BrowserContext, timeout: float = 10.0) -> str | None:
    """The id the page stores once it has drawn (a small component writes the cookie after the page)."""
    deadline = time.monotonic() + timeout
    while (found := browser_id(context)) is None and time.monotonic() < deadline:
        time.sleep(0.1)
    return found


def run_echo(page: Page, url: str, message: str) -> None:
    open_page(page, url, "Execute agent")
    pick_agent(page, "echo_agent")
    fill_parameter(page, "Message *", message)
    page.get_by_role("button", name="Run", exact=True).click()
    expect(status(page, "Completed")).to_be_visible(timeout=RUN_TIMEOUT)


def saved_agents(store: RunStore, owner: str, timeout: float = 10.0) -> list[str]:
    """The agents of the owner's saved runs, once there are any (the page saves a run as it draws its end)."""
    deadline = time.monotonic() + timeout
    while not (runs := store.list(RunQuery(owner)).items) and time.monotonic() < deadline:
        time.sleep(0.1)
    return [r.agent_id for r in runs]


def expect_history_lists_the_echo_run(page: Page, url: str) -> None:
    open_page(page, f"{url}/history", "History")
    expect(page.locator("td", has_text="echo_agent").first).to_be_attached(timeout=20_000)


def test_each_browser_owns_its_runs_across_reloads_tabs_and_a_restart(
        playwright_browser, browser_owner_app: StreamlitServer, data_dir: Path) -> None:
    first, second = new_context(playwright_browser), new_context(playwright_browser)
    try:
        page = first.new_page()
        page.set_default_timeout(20_000)
        run_echo(page, browser_owner_app.url, "made on the very first visit")  # before any reload
        expect(page.get_by_test_id("stSidebar").get_by_text("This browser", exact=False)).to_be_visible()
        kept = stored_browser_id(first)
        assert kept, "the browser was not given an id to keep"
        assert saved_agents(open_store(str(data_dir / "history.sqlite3")), f"browser:{kept}") == ["echo_agent"]

        page.reload()
        expect_history_lists_the_echo_run(page, browser_owner_app.url)
        screenshot(page, "owner-history-after-reload")
        tab = first.new_page()
        expect_history_lists_the_echo_run(tab, browser_owner_app.url)
        assert browser_id(first) == kept

        other = second.new_page()
        open_page(other, f"{browser_owner_app.url}/history", "History")
        expect(other.get_by_text("No runs yet", exact=False)).to_be_visible()
        expect(other.locator("td", has_text="echo_agent")).to_have_count(0)
        assert stored_browser_id(second) not in (None, kept)

        browser_owner_app.stop()  # the same data on a restarted server (a new port: cookies ignore ports)
        restarted = StreamlitServer(owner_env(data_dir))
        try:
            expect_history_lists_the_echo_run(page, restarted.url)
            assert browser_id(first) == kept
        finally:
            restarted.stop()
    finally:
        first.close()
        second.close()


def test_a_tampered_cookie_is_replaced_not_trusted(playwright_browser, browser_owner_app: StreamlitServer) -> None:
    context = new_context(playwright_browser)
    try:
        context.add_cookies([{"name": BROWSER_COOKIE, "value": "x'%20OR%201=1", "url": browser_owner_app.url}])
        page = context.new_page()
        open_page(page, browser_owner_app.url, "Execute agent")
        expect(page.get_by_test_id("stSidebar").get_by_text("This browser", exact=False)).to_be_visible()
        page.wait_for_function(f"document.cookie.includes('{BROWSER_COOKIE}=') && "
                               f"!document.cookie.includes('{BROWSER_COOKIE}=x')")
        replaced = browser_id(context)
        assert replaced and len(replaced) == 32 and replaced.replace("-", "").replace("_", "").isalnum()
    finally:
        context.close()


def test_a_first_visit_adopts_the_id_another_tab_stored_first(
        playwright_browser, browser_owner_app: StreamlitServer, data_dir: Path) -> None:
    """Two tabs opened at once on a first visit: the one that stores its id first wins, the other
    session switches to it, so both tabs' runs show in one History."""
    earlier = new_browser_id()
    context = new_context(playwright_browser)
    # The other tab's cookie arrives after this session opened (its request had no cookie): write it
    # as soon as the app's WebSocket is open, before the page draws.
    context.add_init_script(f"""
        const NativeWebSocket = window.WebSocket;
        window.WebSocket = class extends NativeWebSocket {{
            constructor(...args) {{
                super(...args);
                this.addEventListener("open", () => {{
                    document.cookie = "{BROWSER_COOKIE}={earlier}; Path=/; SameSite=Lax";
                }}, {{ once: true }});
            }}
        }};""")
    try:
        page = context.new_page()
        page.set_default_timeout(20_000)
        run_echo(page, browser_owner_app.url, "after adopting the other tab's id")
        assert browser_id(context) == earlier  # not overwritten by this session's own id
        assert saved_agents(open_store(str(data_dir / "history.sqlite3")), f"browser:{earlier}") == ["echo_agent"]
    finally:
        context.close()


def test_a_shared_run_opens_read_only_in_another_browser_with_no_key(playwright_browser,
                                                                     browser_owner_app: StreamlitServer) -> None:
    owner = new_context(playwright_browser)
    stranger = new_context(playwright_browser)
    try:
        page = owner.new_page()
        run_trip_planner(page, browser_owner_app.url)
        page.get_by_role("link", name="History").click()
        expect(page.get_by_role("heading", name="History")).to_be_visible()
        page.locator("[data-testid=stDataFrame] .stDataFrameGlideDataEditor").first.click(position={"x": 15, "y": 55})
        share = page.get_by_text(re.compile(r"\?run=[0-9a-f]{32}")).first
        expect(share).to_be_visible()
        link = re.search(r"https?://\S+\?run=[0-9a-f]{32}", share.inner_text()).group(0)
        other = stranger.new_page()
        other.goto(link)
        expect(other.get_by_text("A shared run, read-only")).to_be_visible(timeout=30_000)
        expect(other.get_by_text("Lisbon").first).to_be_visible()
        expect(other.get_by_role("tab", name="Trace")).to_be_visible()
        expect(other.locator(".fx-row").first).to_be_visible()  # the trace viewer's tree
        expect(other.get_by_role("button", name="Delete")).to_have_count(0)  # not the stranger's to delete
        screenshot(other, "shared-run")
    finally:
        owner.close()
        stranger.close()
