"""Revisions and stored drafts in a real browser (issue 12 §2): run a chosen revision, open a
revision's flow in the draft editor, save it, survive a 409 caused by a second writer, run the
stored draft, and open a remote record in the draft editor.

The app talks to a sandbox this module starts, so the test can be that second writer."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from fruxon_playground.api import FruxonClient
from fruxon_playground.sandbox.config import SandboxConfig
from fruxon_playground.sandbox.embedded import RunningSandbox, start_sandbox
from tests.browser.conftest import StreamlitServer, app_env, screenshot
from tests.browser.test_playground import RUN_TIMEOUT, fill_parameter, open_page, status

KEY = "fx_pat_browser_revisions_key_0042"


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSandbox]:
    db = tmp_path_factory.mktemp("revisions-sandbox") / "sandbox.sqlite3"
    running = start_sandbox(SandboxConfig(api_key=KEY, db_path=str(db), speed=0.1))
    yield running
    running.stop()


@pytest.fixture(scope="module")
def app(sandbox: RunningSandbox, tmp_path_factory: pytest.TempPathFactory) -> Iterator[StreamlitServer]:
    data = tmp_path_factory.mktemp("revisions-app")
    server = StreamlitServer(app_env(FRUXON_BASE_URL=sandbox.base_url, FRUXON_TENANT=sandbox.tenant,
                                     FRUXON_API_KEY=sandbox.api_key,
                                     PLAYGROUND_HISTORY_PATH=str(data / "history.sqlite3")))
    yield server
    server.stop()


@pytest.fixture
def page(playwright_browser, app) -> Iterator[Page]:
    context = playwright_browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(20_000)
    yield page
    context.close()


def choose(page: Page, label: str, option: str) -> None:
    box = page.get_by_test_id("stMain").get_by_test_id("stSelectbox").filter(has_text=label).first
    wanted = re.compile("^" + re.escape(option))
    if wanted.match(box.get_by_role("combobox").input_value()):
        return
    box.click()
    page.get_by_role("option", name=wanted).click()
    expect(box.get_by_role("combobox")).to_have_value(wanted)


def pick_agent(page: Page, agent_id: str) -> None:
    """The sidebar's agent picker; done when the page's URL names the agent."""
    box = page.get_by_test_id("stSidebar").get_by_test_id("stSelectbox").filter(has_text="Agent")
    box.click()
    page.get_by_role("option", name=re.compile(re.escape(f"({agent_id})"))).click()
    expect(page).to_have_url(re.compile(f"agent={agent_id}"))


def draft_status(page: Page):
    """The stored-draft badges: base revision, version, saved or unsaved."""
    return page.get_by_test_id("stMarkdown").filter(has_text="Stored draft of rev").first


def first_row(page: Page) -> None:
    """Select the first row of the page's first table (a canvas grid: click where the row is)."""
    page.locator("[data-testid=stDataFrame] .stDataFrameGlideDataEditor").first.click(position={"x": 15, "y": 55})


def edit_step_prompt(page: Page, step: str, template: str) -> None:
    page.get_by_role("tab", name="Flow").click()
    choose(page, "Configure step", step)
    config = page.get_by_role("textbox", name=re.compile(f"^Configuration of “{step}”"))
    expect(config).to_have_value(re.compile(r'"userPrompt"'))
    data = json.loads(config.input_value())
    data["userPrompt"] = {"template": template}
    config.fill(json.dumps(data, indent=2))
    config.press("Tab")


def test_a_chosen_revision_runs_and_is_labelled_in_the_panel_and_history(page: Page, app) -> None:
    open_page(page, app.url, "Execute agent")
    pick_agent(page, "support_agent")
    box = page.get_by_test_id("stMain").get_by_test_id("stSelectbox").filter(has_text="Revision").first
    expect(box.get_by_role("combobox")).to_have_value(re.compile(r"^rev 3 · deployed — Add a tone option"))
    box.click()
    options = page.get_by_role("option")
    expect(options).to_have_count(3)
    expect(options.nth(1)).to_have_text(re.compile(r"^rev 2 — Search the knowledge base.*jon@acme\.test · \d{4}-\d\d-\d\d"))
    screenshot(page, "revision-picker-open")
    options.nth(1).click()
    expect(page.get_by_text("not the deployed revision")).to_be_visible()
    expect(page.get_by_label("Tone", exact=True)).to_have_count(0)  # rev 2 has no tone option
    fill_parameter(page, "Question *", "Where is my invoice?")
    page.get_by_role("button", name="Run", exact=True).click()
    expect(status(page, "Completed")).to_be_visible(timeout=RUN_TIMEOUT)
    expect(page.get_by_text(re.compile(r"Revision rev 2"))).to_be_visible()
    expect(page.get_by_text("Customer question: Where is my invoice?", exact=False).first).to_be_visible()
    screenshot(page, "revision-run")

    page.get_by_role("link", name="History").click()
    expect(page.get_by_role("heading", name="History")).to_be_visible()
    first_row(page)
    expect(page.get_by_text(re.compile(r"Revision rev 2"))).to_be_visible()
    screenshot(page, "revision-run-in-history")


def test_draft_open_save_conflict_keep_mine_and_run_the_stored_draft(page: Page, app, sandbox) -> None:
    open_page(page, f"{app.url}/draft_test", "Test a draft")
    pick_agent(page, "echo_agent")
    page.get_by_role("button", name="Open rev 1's flow").click()
    expect(draft_status(page)).to_contain_text("Stored draft of rev 1")
    expect(draft_status(page)).to_contain_text("nothing stored yet")
    page.get_by_role("tab", name="Parameters").click()
    fill_parameter(page, "Message *", "hello browser")
    edit_step_prompt(page, "echo", "Mine: {{param.message}}")
    page.get_by_role("button", name="Save draft").click()
    expect(draft_status(page)).to_contain_text(re.compile(r"version 1\s.*saved"))
    expect(draft_status(page)).not_to_contain_text("unsaved")
    screenshot(page, "draft-saved")

    with FruxonClient(sandbox.base_url, sandbox.api_key, sandbox.tenant) as other:  # a colleague saves meanwhile
        theirs = other.get_draft("echo_agent", 1).head_data
        theirs["definition"]["userPrompt"] = {"template": "Theirs: {{param.message}}"}
        other.put_draft("echo_agent", 1, theirs, if_match=1)
    edit_step_prompt(page, "echo", "Mine again: {{param.message}}")
    expect(draft_status(page)).to_contain_text("unsaved changes")
    page.get_by_role("button", name="Save draft").click()
    conflict = page.locator(".st-key-draft-stored-conflict")
    expect(conflict.get_by_text(re.compile("changed on the server: it is at version 2"))).to_be_visible()
    expect(conflict.get_by_text("Mine again: {{param.message}}", exact=False)).to_be_visible()
    expect(conflict.get_by_text("Theirs: {{param.message}}", exact=False)).to_be_visible()
    expect(conflict.get_by_text(re.compile(r"On the server · version 2 · saved \d{4}-"))).to_be_visible()
    screenshot(page, "draft-conflict")

    conflict.get_by_role("button", name="Keep mine").click()
    expect(conflict).to_have_count(0)
    expect(draft_status(page)).to_contain_text("version 3")
    expect(draft_status(page)).not_to_contain_text("unsaved")
    with FruxonClient(sandbox.base_url, sandbox.api_key, sandbox.tenant) as other:
        assert other.get_draft("echo_agent", 1).head_data["definition"]["userPrompt"]["template"] == \
            "Mine again: {{param.message}}"
    page.get_by_role("button", name="Stream stored draft").click()
    expect(status(page, "Completed")).to_be_visible(timeout=RUN_TIMEOUT)
    expect(page.get_by_text("Mine again: hello browser", exact=False).first).to_be_visible()
    screenshot(page, "draft-stored-run")


def test_a_remote_record_opens_in_the_draft_editor_with_its_parameters(page: Page, app, sandbox) -> None:
    with FruxonClient(sandbox.base_url, sandbox.api_key, sandbox.tenant) as client:
        client.test("support_agent", {"baseRevision": 1, "parameters": {"question": "A recorded question"}})
    open_page(page, f"{app.url}/remote_runs", "Remote runs")
    pick_agent(page, "support_agent")
    main = page.get_by_test_id("stMain")
    main.get_by_text("Test", exact=True).click()  # origin: the pinned run above is a TEST record of rev 1
    revision = main.get_by_role("textbox", name="Revision", exact=True)
    revision.fill("1")
    revision.press("Enter")
    expect(page.locator("td", has_text="A recorded question").first).to_be_attached()  # the filtered table is in
    first_row(page)
    caption = page.get_by_test_id("stCaptionContainer").filter(has_text=re.compile(r"record [0-9a-f-]{36}$"))
    record_id = re.search(r"record ([0-9a-f-]{36})$", caption.inner_text()).group(1)
    with FruxonClient(sandbox.base_url, sandbox.api_key, sandbox.tenant) as client:
        record = client.get_execution_record("support_agent", record_id)
        question = client.get_execution_result("support_agent", record_id).parameters["question"]
    expect(page.locator(".fx-row").first).to_be_visible()  # the page finished drawing: the trace viewer is up
    page.get_by_role("button", name="Open in draft editor").click()
    expect(page.get_by_role("heading", name="Test a draft")).to_be_visible()
    assert record.agent_revision == 1 and record.origin == "TEST"
    expect(draft_status(page)).to_contain_text(f"Stored draft of rev {record.agent_revision}")
    expect(page.get_by_text(f"Opened from record {record_id} (rev {record.agent_revision})")).to_be_visible()
    base = page.get_by_test_id("stSelectbox").filter(has_text="Base revision").get_by_role("combobox")
    expect(base).to_have_value(re.compile(f"^rev {record.agent_revision}\\b"))
    page.get_by_role("tab", name="Parameters").click()
    expect(page.get_by_role("textbox", name="Question *", exact=True)).to_have_value(question)
    screenshot(page, "record-in-draft-editor")
