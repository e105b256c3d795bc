"""Two replicas behind HAProxy sharing one PostgreSQL history, driven in chromium through the proxy."""

from __future__ import annotations

import json
import os
import re
import signal
import time

import psycopg
import pytest
from playwright.sync_api import Browser, Page, expect

from fruxon_playground.history import INTERRUPTED_ERROR, RunQuery, SavedRun, open_store
from fruxon_playground.history.model import now_ms
from fruxon_playground.history.postgres import PostgresRunStore
from tests.browser.conftest import screenshot
from tests.browser.test_playground import RUN_TIMEOUT, fill_parameter, open_page, pick_agent, status
from tests.team.conftest import STALE_AFTER_S, Team

pytestmark = pytest.mark.browser
SHARE_LINK = re.compile(r"https?://\S+\?run=([0-9a-f]{32})")


def through(browser: Browser, team: Team, replica: str) -> Page:
    """A new browser whose sticky-session cookie sends it to `replica`, as HAProxy would have set it."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.add_cookies([{"name": "PLAYGROUND_REPLICA", "value": replica, "url": team.proxy_url}])
    page = context.new_page()
    page.set_default_timeout(20_000)
    return page


def run_echo(page: Page, team: Team, message: str) -> None:
    open_page(page, team.proxy_url, "Execute agent")
    pick_agent(page, "echo_agent")
    fill_parameter(page, "Message *", message)
    page.get_by_role("button", name="Run", exact=True).click()
    expect(status(page, "Completed")).to_be_visible(timeout=RUN_TIMEOUT)
    expect(page.get_by_role("tab", name="Trace")).to_be_visible()


def share_link_of_first_run(page: Page) -> str:
    page.get_by_role("link", name="History").click()
    expect(page.get_by_role("heading", name="History")).to_be_visible()
    page.locator("[data-testid=stDataFrame] .stDataFrameGlideDataEditor").first.click(position={"x": 15, "y": 55})
    share = page.get_by_text(SHARE_LINK).first
    expect(share).to_be_visible()
    return SHARE_LINK.search(share.inner_text()).group(0)


def test_a_run_saved_through_replica_a_opens_by_share_link_through_replica_b(playwright_browser: Browser,
                                                                             team: Team) -> None:
    before = team.sessions()
    a = through(playwright_browser, team, "app1")
    try:
        run_echo(a, team, "hello across replicas")
        link = share_link_of_first_run(a)
    finally:
        a.context.close()
    after_a = team.sessions()
    assert after_a["app1"] > before["app1"] and after_a["app2"] == before["app2"]  # all of it on replica A
    assert link.startswith(team.proxy_url)  # the link names the proxy, not a replica
    store = open_store(team.history_url)
    try:
        saved = store.get(SHARE_LINK.search(link).group(1))
    finally:
        store.close()
    assert saved is not None and saved.agent_id == "echo_agent" and saved.status == "completed"

    b = through(playwright_browser, team, "app2")
    try:
        b.goto(link)  # the very first page replica B serves to this browser
        expect(b.get_by_text("A shared run, read-only")).to_be_visible(timeout=30_000)
        expect(b.get_by_text("hello across replicas").first).to_be_visible()
        expect(b.get_by_text(re.compile(r"execute · echo_agent · completed"))).to_be_visible()
        screenshot(b, "team-shared-run-on-replica-b")
    finally:
        b.context.close()
    after_b = team.sessions()
    assert after_b["app2"] > after_a["app2"] and after_b["app1"] == after_a["app1"]  # all of it on replica B


def test_a_run_saved_through_replica_a_is_listed_through_replica_b(playwright_browser: Browser, team: Team) -> None:
    page = through(playwright_browser, team, "app1")
    try:
        run_echo(page, team, "listed on the other replica")
        mine = share_link_of_first_run(page)
        page.context.add_cookies([{"name": "PLAYGROUND_REPLICA", "value": "app2", "url": team.proxy_url}])
        before = team.sessions()["app2"]
        open_page(page, f"{team.proxy_url}/history", "History")  # same browser, now on replica B
        assert team.sessions()["app2"] > before
        assert share_link_of_first_run(page) == mine
    finally:
        page.context.close()


def test_a_run_left_running_by_a_dead_replica_opens_interrupted_with_its_events(playwright_browser: Browser,
                                                                               team: Team) -> None:
    # Replica A saved the run while it streamed, then died: no final save, no heartbeat for a minute.
    then = now_ms() - 60_000
    events = [{"event": "text", "data": json.dumps({"chunk": f"word{i} "}), "t_ms": i * 20.0} for i in range(120)]
    replica_a = PostgresRunStore(team.history_url, clock=lambda: then)
    try:
        left = replica_a.save(SavedRun(kind="stream", agent_id="echo_agent", status="running", owner="someone",
                                       request={"parameters": {"message": "left running"}}, events=events,
                                       created_at_ms=then, started_at_ms=then))
    finally:
        replica_a.close()

    b = through(playwright_browser, team, "app2")
    try:
        b.goto(f"{team.proxy_url}/history?run={left.id}")
        expect(b.get_by_text("A shared run, read-only")).to_be_visible(timeout=30_000)
        expect(b.get_by_text(re.compile(r"stream · echo_agent · interrupted"))).to_be_visible()
        expect(b.get_by_text(INTERRUPTED_ERROR)).to_be_visible()
        expect(b.get_by_text("word0 word1 word2", exact=False).first).to_be_visible()  # the answer so far
        expect(b.get_by_text("120 events received")).to_be_attached()  # in the Events tab
        screenshot(b, "team-interrupted-run")
    finally:
        b.context.close()
    with psycopg.connect(team.history_url) as conn:  # replica B wrote it, not a store in this test
        row = conn.execute("SELECT r.status, r.error, r.updated_at_ms, jsonb_array_length(b.events) FROM playground_runs r "
                           "JOIN playground_run_bodies b USING (id) WHERE r.id = %s", (left.id,)).fetchone()
    assert row[0] == "interrupted" and row[1] == INTERRUPTED_ERROR and row[2] > then + 50_000 and row[3] == 120


def test_killing_a_replica_mid_stream_leaves_the_run_interrupted_with_its_events(playwright_browser: Browser,
                                                                                fresh_team: Team) -> None:
    page = through(playwright_browser, fresh_team, "app1")
    try:
        open_page(page, fresh_team.proxy_url, "Execute agent")
        pick_agent(page, "echo_agent")
        fill_parameter(page, "Message *", "a long answer please [[sandbox:long]]")
        page.get_by_role("button", name="Stream").click()
        expect(status(page, "Running")).to_be_visible(timeout=RUN_TIMEOUT)
        time.sleep(2.0)
        os.kill(int(fresh_team.replica_pid_files["app1"].read_text()), signal.SIGKILL)
    finally:
        page.context.close()
    store = open_store(fresh_team.history_url, stale_after_s=STALE_AFTER_S)
    try:
        deadline = time.monotonic() + STALE_AFTER_S + 15
        interrupted = []
        while time.monotonic() < deadline and not interrupted:
            interrupted = store.list(RunQuery(None, agent_id="echo_agent", status="interrupted")).items
            time.sleep(0.5)
        assert interrupted, "no interrupted run: the killed replica saved nothing while it streamed"
        run = store.get(interrupted[0].id)
        assert run.error == INTERRUPTED_ERROR and len(run.events) > 0
    finally:
        store.close()
