"""The trace viewer in chromium: keys, clicks, paths, errors, hostile content, themes, big traces.

Traces are saved in the run history of an app started for this module and opened through the
History page's shared-run view: the same `trace_section` → `trace_viewer` path every page uses.
"""

from __future__ import annotations

import contextlib
import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from fruxon_playground.history import SavedRun, open_store
from fruxon_playground.trace import Status, build_trace, random_trace
from tests.browser.conftest import ARTIFACTS, ROOT, StreamlitServer, app_env, free_port, screenshot
from tests.browser.test_playground import RUN_TIMEOUT, fill_parameter, open_page, pick_agent, status

T0 = 1_767_225_600_000
IMG_ONERROR = "<img src=x onerror=alert(1)>"
JS_LINK = "[link](javascript:alert(1))"
REMOTE_IMAGE = "![x](http://127.0.0.1:9/leak.png)"
XSS_NAME = "<img src=x onerror=alert(1)> Planner"


def step(id_: str, name: str, type_: str, start: int, end: int, *, status: str = "SUCCESS",
         steps: list | None = None, **extra: Any) -> dict:
    return {"id": id_, "displayName": name, "type": type_, "status": status, "startTime": T0 + start,
            "endTime": T0 + end, "duration": end - start, "steps": steps or [], **extra}


def sample_trace() -> dict:
    """root → plan → (search, forecast); research → (lookup ✗, summary); judge. Ends last: research → summary."""
    plan = step("plan", "Plan the trip", "LLM_STEP", 10, 900, llmStepTrace={
        "providerId": "openai", "model": "gpt-4o-mini", "inputTokens": 812, "outputTokens": 164,
        "inputCost": 0.000122, "outputCost": 0.0000984,
        "systemInstructions": [{"content": "You are a travel planner."}],
        "llmMessages": [{"role": "user", "content": "Three days in Lisbon, please."},
                        {"role": "assistant", "content": "Day 1: Alfama. Day 2: Belém."}]}, steps=[
        step("search", "Search articles", "TOOL", 100, 300, toolTrace={
            "tool": {"integrationId": "kb", "id": "search_articles", "name": "search_articles"},
            "parameters": {"query": "Lisbon in spring", "limit": 3}},
            result={"strValue": None, "jsonValue": {"hits": [{"title": "Lisbon guide"}]}}),
        step("forecast", "Forecast", "TOOL", 320, 600, toolTrace={
            "tool": {"integrationId": "weather", "id": "forecast", "name": "forecast"}, "parameters": {"city": "Lisbon"}}),
    ])
    research = step("research", "Research sub-agent", "AGENT_STEP", 950, 4000, steps=[
        step("lookup", "Lookup customer", "TOOL", 1000, 1400, status="ERROR", error="crm answered 503: upstream unavailable",
             toolTrace={"tool": {"integrationId": "crm", "id": "lookup", "name": "lookup"}, "parameters": {"id": 7}}),
        step("summary", "Summarize findings", "LLM_STEP", 1500, 3900, llmStepTrace={"model": "gpt-4o", "inputTokens": 50}),
    ])
    judge = step("judge", "Quality check", "JUDGE", 950, 1200)
    root = step("root", "Agent", "FLOW_STEP", 0, 4100, steps=[plan, research, judge])
    return {"agentId": "trip_planner", "agentRevision": 3, "startTime": T0, "endTime": T0 + 4100, "traces": [root]}


def hostile_trace() -> dict:
    """Every field a user sees holds a payload: names, messages, tool arguments and results, errors, approvals."""
    llm = step("s2", "Plan", "LLM_STEP", 20, 900, llmStepTrace={
        "model": "gpt-4o-mini", "systemInstructions": [{"content": "System " + IMG_ONERROR}],
        "llmMessages": [{"role": "user", "content": JS_LINK}, {"role": "assistant", "content": REMOTE_IMAGE}]},
        result={"strValue": REMOTE_IMAGE, "jsonValue": None})
    tool = step("s3", IMG_ONERROR, "TOOL", 950, 1500, toolTrace={
        "tool": {"integrationId": "weather", "id": "forecast", "name": "forecast"},
        "parameters": {"city": REMOTE_IMAGE, "html": "<a href='javascript:alert(1)'>x</a>"}},
        result={"strValue": None, "jsonValue": {"summary": JS_LINK, "img": REMOTE_IMAGE}})
    failing = step("s5", REMOTE_IMAGE, "TOOL", 1700, 2300, status="ERROR", error=f"upstream said {IMG_ONERROR} {JS_LINK}",
                   toolTrace={"parameters": '{"id": "' + JS_LINK + '"}'})
    approval = step("s6", "Approval", "HITL", 2400, 3900, hitlTrace={
        "outboundMessage": REMOTE_IMAGE, "proposedParameters": {"id": IMG_ONERROR}, "decision": "APPROVE"})
    agent = step("s4", JS_LINK, "AGENT_STEP", 1600, 4000, steps=[failing, approval])
    odd = step("s7", "Odd", REMOTE_IMAGE, 4010, 4020)  # an unknown type: quoted in the viewer's warnings
    root = step("s1", "Agent", "FLOW_STEP", 0, 4500, steps=[llm, tool, agent, odd])
    return {"agentId": "trip_planner", "startTime": T0, "endTime": T0 + 4500, "traces": [root]}


def heavy_trace() -> dict:
    """40 steps of ~400 KB each: their details arrive after the tree, in two chunks."""
    children = [step(f"big{i}", f"Big result {i}", "TOOL", 10 + i * 10, 15 + i * 10,
                     result={"strValue": f"payload {i} " + "x" * 400_000, "jsonValue": None}) for i in range(40)]
    return {"traces": [step("root", "Agent", "FLOW_STEP", 0, 500, steps=children)]}


# A page with only `trace_section`, and the budget for sending details lowered so that they stay in
# Python (the app sends up to 100 MB): the per-click path, without a 100 MB trace.
LOW_BUDGET_PAGE = """
import json, os, sys
sys.path.insert(0, {root!r})
import streamlit as st
from components.run_result import trace_section
from fruxon_playground.trace import rows

st.set_page_config(layout="wide")
rows.INLINE_DETAILS_BYTES = 1_000_000
with open(os.environ["TRACE_FILE"], encoding="utf-8") as source:
    trace_section(json.load(source), key="low")
"""


TRACES = {
    "sample": sample_trace,
    "hostile": hostile_trace,
    "errors": lambda: random_trace(400, seed=7),
    "big": lambda: random_trace(10_000, seed=2),
    "heavy": heavy_trace,
}


class TraceApp:
    def __init__(self, server: StreamlitServer, ids: dict[str, str]) -> None:
        self.server = server
        self.ids = ids

    def open(self, page: Page, name: str) -> None:
        page.goto(f"{self.server.url}/history?run={self.ids[name]}")
        expect(page.locator(".fx-row").first).to_be_visible(timeout=60_000)


def start_app(tmp: Path, playwright_browser, **env: str) -> tuple[StreamlitServer, dict[str, str]]:
    history = str(tmp / "history.sqlite3")
    store = open_store(history)
    ids = {name: store.save(SavedRun(kind="execute", agent_id="trip_planner", request={}, status="completed",
                                     owner="tests", trace=make())).id for name, make in TRACES.items()}
    server = StreamlitServer(app_env(PLAYGROUND_HISTORY_PATH=history, PLAYGROUND_SANDBOX_DB=str(tmp / "sandbox.sqlite3"),
                                     PLAYGROUND_SANDBOX_SPEED="0.2", **env))
    # The first page of a new server process goes through app.py (st.navigation) before any other.
    context = playwright_browser.new_context()
    try:
        warm = context.new_page()
        open_page(warm, server.url, "Execute agent")
    finally:
        context.close()
    return server, ids


@pytest.fixture(scope="module")
def trace_app(playwright_browser, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TraceApp]:
    server, ids = start_app(tmp_path_factory.mktemp("trace-viewer"), playwright_browser)
    yield TraceApp(server, ids)
    server.stop()


@pytest.fixture
def sent(page: Page) -> list[str]:
    """Every websocket message the page sends: a click that reran a script would send one."""
    messages: list[str] = []
    page.on("websocket", lambda ws: ws.on("framesent", lambda payload: messages.append(str(payload)[:40])))
    return messages


def visible_steps(page: Page) -> list[str]:
    """Step ids of the rows drawn, top to bottom."""
    return page.evaluate("""() => {
        const host = [...document.querySelectorAll('[data-testid=stBidiComponentIsolated]')]
          .find((h) => h.shadowRoot && h.shadowRoot.querySelector('.fx-tree'));
        return [...host.shadowRoot.querySelectorAll('.fx-row:not([hidden])')]
          .sort((a, b) => a.index === b.index ? 0 : new DOMMatrix(getComputedStyle(a).transform).f - new DOMMatrix(getComputedStyle(b).transform).f)
          .map((r) => r.getAttribute('data-step'));
    }""")


def focused(page: Page) -> str:
    """What has the keyboard inside the viewer: `search`, `tree`, or another class name."""
    return page.evaluate("""() => {
        const host = [...document.querySelectorAll('[data-testid=stBidiComponentIsolated]')]
          .find((h) => h.shadowRoot && h.shadowRoot.querySelector('.fx-tree'));
        const active = host.shadowRoot.activeElement;
        if (!active) return 'nothing';
        if (active.getAttribute('aria-label') === 'Search steps') return 'search';
        return active.classList.contains('fx-tree') ? 'tree' : active.className;
    }""")


def row(page: Page, step_id: str):
    return page.locator(f'.fx-row:not([hidden])[data-step="{step_id}"]')


def cursor(page: Page) -> str | None:
    return page.locator(".fx-row.cursor:not([hidden])").get_attribute("data-step")


def detail_id(page: Page):
    return page.locator(".fx-d-id")


def test_keyboard_moves_opens_closes_selects_and_searches(page: Page, trace_app: TraceApp, sent: list[str]) -> None:
    trace_app.open(page, "sample")
    expect(detail_id(page)).to_have_text("lookup")  # opens on the first failure, its way there opened
    row(page, "root").locator(".fx-name").click()
    expect(detail_id(page)).to_have_text("root")
    before = len(sent)
    tree = page.locator(".fx-tree")
    tree.press("ArrowDown")
    assert cursor(page) == "plan"
    tree.press("ArrowDown")
    assert cursor(page) == "search"
    tree.press("ArrowUp")
    tree.press("ArrowLeft")  # plan is open: close it
    expect(row(page, "plan")).to_have_attribute("aria-expanded", "false")
    expect(row(page, "search")).to_have_count(0)
    tree.press("ArrowLeft")  # closed: go to its parent
    assert cursor(page) == "root"
    tree.press("ArrowDown")
    tree.press("ArrowRight")  # open again
    expect(row(page, "search")).to_be_visible()
    tree.press("ArrowRight")  # open: go to its first child
    assert cursor(page) == "search"
    expect(detail_id(page)).to_have_text("root")  # moving does not select…
    tree.press("Enter")  # …Enter does
    expect(detail_id(page)).to_have_text("search")
    expect(page.locator(".fx-detail")).to_contain_text("Lisbon in spring")
    tree.press("/")
    assert focused(page) == "search"
    page.keyboard.type("forecast")
    expect(page.locator(".fx-count")).to_have_text("1 of 8")
    assert visible_steps(page) == ["root", "plan", "forecast"]
    page.keyboard.press("Enter")  # to the match
    expect(detail_id(page)).to_have_text("forecast")
    page.keyboard.press("Escape")
    assert focused(page) == "tree" and len(visible_steps(page)) == 8
    page.evaluate("() => document.activeElement.blur()")  # nothing focused: `/` still finds the search box
    assert focused(page) == "nothing"
    page.keyboard.press("/")
    assert focused(page) == "search"
    assert sent[before:] == [], "a key or click in the viewer reran the page"


def test_clicks_filters_and_details_never_rerun_the_page(page: Page, trace_app: TraceApp, sent: list[str]) -> None:
    trace_app.open(page, "sample")
    page.wait_for_timeout(500)
    before = len(sent)
    row(page, "plan").locator(".fx-name").click()
    detail = page.locator(".fx-detail")
    expect(detail_id(page)).to_have_text("plan")
    expect(detail.locator(".fx-msg-role")).to_have_text(["system", "user", "assistant"])
    expect(detail).to_contain_text("Three days in Lisbon, please.")
    expect(detail).to_contain_text("gpt-4o-mini")
    detail.get_by_text("Raw step JSON").click()
    expect(detail.locator(".fx-json").last).to_contain_text('"startTime": 1767225600010')
    row(page, "research").locator(".fx-toggle").click()  # collapse by its arrow
    expect(row(page, "summary")).to_have_count(0)
    expect(row(page, "research").locator(".fx-badge")).to_have_text("1 failed inside")
    page.get_by_role("button", name="Errors only").click()
    assert visible_steps(page) == ["root", "research", "lookup"]
    page.get_by_role("button", name="Errors only").click()
    page.get_by_label("Kind of step").select_option(label="JUDGE (1)")
    assert visible_steps(page) == ["root", "judge"]
    page.get_by_label("Kind of step").select_option(label="All kinds")
    page.get_by_label("Hide short steps").select_option(label="≥ 1 s")
    assert visible_steps(page) == ["root", "research", "summary"]
    page.get_by_label("Hide short steps").select_option(label="Any duration")
    page.get_by_role("button", name="Collapse all").click()
    assert visible_steps(page) == ["root"]
    page.get_by_role("button", name="Expand all").click()
    assert len(visible_steps(page)) == 8
    assert sent[before:] == [], "a click in the viewer reran the page"
    screenshot(page, "trace-viewer")


def test_the_critical_path_is_highlighted_in_rows_and_bars_and_can_be_hidden(page: Page, trace_app: TraceApp) -> None:
    trace_app.open(page, "sample")
    expected = list(build_trace(sample_trace()).critical_path())
    assert expected == ["root", "research", "summary"]
    highlighted = page.locator(".fx-row.crit:not([hidden])")
    expect(highlighted).to_have_count(3)
    assert [r.get_attribute("data-step") for r in highlighted.all()] == expected
    bar = row(page, "summary").locator(".fx-bar")
    assert "rgb" in bar.evaluate("(b) => getComputedStyle(b).boxShadow")  # outlined
    assert row(page, "plan").locator(".fx-bar").evaluate("(b) => getComputedStyle(b).boxShadow") == "none"
    page.get_by_role("button", name="Critical path").click()
    expect(page.get_by_role("button", name="Critical path")).to_have_attribute("aria-pressed", "false")
    assert bar.evaluate("(b) => getComputedStyle(b).boxShadow") == "none"
    page.get_by_role("button", name="Critical path").click()
    assert "rgb" in bar.evaluate("(b) => getComputedStyle(b).boxShadow")
    row(page, "summary").locator(".fx-name").click()
    expect(page.locator(".fx-detail .fx-pill.crit")).to_have_text("critical path")


def test_next_error_jumps_to_each_failed_step_in_turn(page: Page, trace_app: TraceApp) -> None:
    trace = build_trace(random_trace(400, seed=7))
    failed = [s.id for s in trace.spans.values() if s.status is Status.ERROR]
    root = trace.roots[0]
    later = [f for f in failed if f != root]  # in pre-order, after the root
    assert len(later) >= 3
    trace_app.open(page, "errors")
    page.get_by_role("button", name="Collapse all").click()
    assert visible_steps(page) == [root]
    row(page, root).locator(".fx-name").click()
    expect(detail_id(page)).to_have_text(root)
    next_error = page.get_by_role("button", name=re.compile(r"^Next error"))
    next_error.click()
    expect(detail_id(page)).to_have_text(later[0])
    expect(page.locator(".fx-detail .fx-pill.bad")).to_have_text("error")
    expect(row(page, later[0])).to_have_class(re.compile(r"\bselected\b"))
    expect(row(page, later[0])).to_be_in_viewport()  # its parents were opened and the tree scrolled to it
    expect(next_error).to_have_text(f"Next error ({failed.index(later[0]) + 1} of {len(failed)})")
    page.locator(".fx-tree").press("n")
    expect(detail_id(page)).to_have_text(later[1])
    page.locator(".fx-tree").press("Shift+N")
    expect(detail_id(page)).to_have_text(later[0])
    row(page, root).locator(".fx-name").click()
    page.get_by_role("button", name="Previous error").click()
    expect(detail_id(page)).to_have_text(failed[-1])  # wraps around


def test_untrusted_trace_content_is_literal_text_with_no_link_and_no_request(page: Page, trace_app: TraceApp) -> None:
    dialogs: list[str] = []
    leaks: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.on("request", lambda r: leaks.append(r.url) if "127.0.0.1:9" in r.url or r.url.startswith("javascript") else None)
    trace_app.open(page, "hostile")
    expect(row(page, "s3").locator(".fx-name")).to_have_text(IMG_ONERROR)
    expect(row(page, "s4").locator(".fx-name")).to_have_text(JS_LINK)
    expect(row(page, "s5").locator(".fx-name")).to_have_text(REMOTE_IMAGE)
    expect(page.locator(".fx-warnings")).to_contain_text(REMOTE_IMAGE[:20])
    for step_id in ("s2", "s3", "s4", "s5", "s6", "s7"):
        row(page, step_id).locator(".fx-name").click()
        expect(detail_id(page)).to_have_text(step_id)
        page.locator(".fx-detail").get_by_text("Raw step JSON").click()
        expect(page.locator(".fx-detail .fx-json").last).to_contain_text(step_id)
    row(page, "s2").locator(".fx-name").click()
    expect(page.locator(".fx-detail .fx-text").first).to_have_text("System " + IMG_ONERROR)
    row(page, "s5").locator(".fx-name").click()
    expect(page.locator(".fx-d-error")).to_have_text(f"upstream said {IMG_ONERROR} {JS_LINK}")
    live = page.evaluate("""() => {
        const host = [...document.querySelectorAll('[data-testid=stBidiComponentIsolated]')]
          .find((h) => h.shadowRoot && h.shadowRoot.querySelector('.fx-tree'));
        return host.shadowRoot.querySelectorAll('a, img, script, iframe, object, embed, [href], [src], [onerror]').length
          + document.querySelectorAll('img[src="x"], a[href^="javascript"]').length;
    }""")
    page.wait_for_timeout(300)
    assert live == 0 and dialogs == [] and leaks == []
    screenshot(page, "trace-viewer-hostile")


def test_ten_thousand_steps_stay_a_few_dozen_rows_in_the_page(page: Page, trace_app: TraceApp) -> None:
    trace = build_trace(random_trace(10_000, seed=2))
    trace_app.open(page, "big")
    page.get_by_role("button", name="Expand all").click()
    expect(page.locator(".fx-footer")).to_contain_text("10,000 of 10,000 rows shown")
    tree = page.locator(".fx-tree")
    row(page, trace.roots[0]).locator(".fx-name").click()
    tree.press("End")
    last = list(trace.spans)[-1]
    assert cursor(page) == last
    expect(row(page, last)).to_be_in_viewport()
    assert page.locator(".fx-row").count() < 120  # drawn: the rows on screen plus a margin, not 10,000
    tree.press("Enter")
    expect(detail_id(page)).to_have_text(last)
    page.keyboard.press("/")
    page.keyboard.type("st_009999")
    expect(page.locator(".fx-count")).to_have_text("1 of 10,000")


def shows_text_starting(page: Page, prefix: str, timeout: float = 20_000) -> None:
    """Wait until the detail pane's first text block starts with `prefix` (a failure does not print
    the 400 kB block)."""
    page.wait_for_function("""(prefix) => {
        const host = [...document.querySelectorAll('[data-testid=stBidiComponentIsolated]')]
          .find((h) => h.shadowRoot && h.shadowRoot.querySelector('.fx-tree'));
        const text = host.shadowRoot.querySelector('.fx-detail .fx-text');
        return text !== null && text.textContent.startsWith(prefix);
    }""", arg=prefix, timeout=timeout)


def test_details_arriving_in_chunks_after_the_tree_fill_the_pane_without_a_rerun(
        page: Page, trace_app: TraceApp, sent: list[str]) -> None:
    trace_app.open(page, "heavy")
    row(page, "root").locator(".fx-name").click()
    page.locator(".fx-tree").press("End")
    page.locator(".fx-tree").press("Enter")
    expect(detail_id(page)).to_have_text("big39")
    shows_text_starting(page, "payload 39 xxx", timeout=30_000)
    page.wait_for_timeout(500)
    before = len(sent)
    search = page.get_by_label("Search steps")
    for number in (38, 21, 3):  # in the second chunk and the first; found by text inside their results
        search.fill(f"payload {number} x")
        expect(page.locator(".fx-count")).to_have_text("1 of 41")
        search.press("Enter")  # to the match
        expect(detail_id(page)).to_have_text(f"big{number}")
        shows_text_starting(page, f"payload {number} xxx")
    assert sent[before:] == []


@pytest.fixture(scope="module")
def low_budget_page(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("low-budget")
    (folder / "page.py").write_text(LOW_BUDGET_PAGE.format(root=str(ROOT)), encoding="utf-8")
    (folder / "trace.json").write_text(json.dumps(heavy_trace()), encoding="utf-8")
    port = free_port()
    log = (ARTIFACTS / f"streamlit-{port}.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(folder / "page.py"), "--server.headless", "true",
         "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
         "--server.fileWatcherType", "none"],
        cwd=folder, env=app_env(TRACE_FILE=str(folder / "trace.json")), stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{url}/_stcore/health", timeout=1).status_code == 200:
                    break
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


def test_details_too_big_to_send_are_asked_for_one_step_at_a_time(page: Page, low_budget_page: str,
                                                                   sent: list[str]) -> None:
    page.goto(low_budget_page)
    expect(page.locator(".fx-row").first).to_be_visible(timeout=60_000)
    expect(page.get_by_label("Search steps")).to_have_attribute("placeholder", "Search names, types, tools, errors")
    page.wait_for_timeout(500)
    before = len(sent)
    row(page, "big7").locator(".fx-name").click()
    expect(detail_id(page)).to_have_text("big7")
    shows_text_starting(page, "payload 7 xxx")
    assert len(sent) - before == 1  # one request, for that step: its feed's fragment reran, not the page
    row(page, "big9").locator(".fx-name").click()
    shows_text_starting(page, "payload 9 xxx")
    row(page, "big7").locator(".fx-name").click()  # asked before: answered from the browser
    shows_text_starting(page, "payload 7 xxx")
    assert len(sent) - before == 2


def test_the_viewer_follows_the_apps_dark_theme(playwright_browser, tmp_path_factory: pytest.TempPathFactory,
                                                trace_app: TraceApp) -> None:
    def colours(page: Page) -> tuple[float, float]:
        values = page.locator(".fx").evaluate(
            "(v) => [getComputedStyle(v).backgroundColor, getComputedStyle(v.querySelector('.fx-name')).color]")
        return tuple(sum(int(c) for c in re.findall(r"\d+", value)[:3]) / 3 for value in values)  # type: ignore[return-value]

    light_context = playwright_browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        light = light_context.new_page()
        trace_app.open(light, "sample")
        background, text = colours(light)
        assert background > 200 and text < 100
    finally:
        light_context.close()
    server, ids = start_app(tmp_path_factory.mktemp("trace-viewer-dark"), playwright_browser, STREAMLIT_THEME_BASE="dark")
    context = playwright_browser.new_context(viewport={"width": 1400, "height": 1000}, color_scheme="dark")
    try:
        page = context.new_page()
        TraceApp(server, ids).open(page, "errors")
        background, text = colours(page)
        assert background < 60 and text > 180
        page.locator(".fx").scroll_into_view_if_needed()
        screenshot(page, "trace-viewer-dark")
    finally:
        context.close()
        server.stop()


def test_after_a_sandbox_run_the_viewer_shows_its_steps(page: Page, app_server) -> None:
    open_page(page, app_server.url, "Execute agent")
    pick_agent(page, "trip_planner")
    fill_parameter(page, "City *", "Lisbon")
    page.get_by_role("button", name="Run", exact=True).click()
    expect(status(page, "Completed")).to_be_visible(timeout=RUN_TIMEOUT)
    expect(page.locator(".fx-row")).to_have_count(10)
    page.get_by_role("button", name="Collapse all").click()
    expect(page.locator(".fx-row:not([hidden])")).to_have_count(1)
    page.get_by_role("button", name="Expand all").click()
    expect(page.locator(".fx-row:not([hidden])")).to_have_count(10)
    page.get_by_label("Search steps").fill("units.convert")
    expect(page.locator(".fx-row:not([hidden]) .fx-name", has_text="Convert").first).to_be_visible()
    expect(page.locator(".fx-row:not([hidden]) .fx-name", has_text="Quality check")).to_have_count(0)
    with page.expect_download() as download:  # made on click, not on every rerun
        page.get_by_role("button", name="Download trace JSON").click()
    text = Path(download.value.path()).read_text(encoding="utf-8")
    saved = json.loads(text)
    assert saved["agentId"] == "trip_planner" and saved["traces"][0]["displayName"] == "Agent"
    assert text.startswith('{\n  "')  # the trace as saved, indented to be read


def test_a_script_in_a_step_name_from_a_draft_run_is_shown_as_text(page: Page, app_server) -> None:
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    open_page(page, f"{app_server.url}/draft_test", "Test a draft")
    template = page.get_by_test_id("stSelectbox").filter(has_text="Start from a template")
    template.click()
    page.get_by_role("option", name=re.compile("^Sub-agent")).click()
    expect(template.get_by_role("combobox")).to_have_value(re.compile("^Sub-agent"))
    page.get_by_role("button", name="Load", exact=True).click()
    expect(page.locator("td", has_text="research").first).to_be_attached(timeout=15_000)
    page.get_by_role("tab", name="Raw JSON").click()
    raw = page.get_by_role("textbox", name="Request JSON", exact=True)
    raw.fill(raw.input_value().replace('"name": "Research sub-agent"', f'"name": "{XSS_NAME}"'))
    raw.press("Tab")
    page.get_by_role("button", name="Apply JSON").click()
    page.get_by_role("tab", name="Flow").click()
    expect(page.locator("td", has_text="Planner").first).to_be_attached(timeout=15_000)
    page.get_by_role("button", name="Run :test").click()
    expect(status(page, "Completed")).to_be_visible(timeout=RUN_TIMEOUT)
    expect(page.locator(".fx-name", has_text=XSS_NAME).first).to_have_text(XSS_NAME)
    assert dialogs == [] and page.locator("img[src='x']").count() == 0
    screenshot(page, "xss-step-name")
