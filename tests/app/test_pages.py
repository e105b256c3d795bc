"""Page logic with Streamlit's AppTest, against the embedded sandbox (in memory, no delays)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from components import state
from components.execute_form import form_prefix

ROOT = Path(__file__).resolve().parents[2]
# AppTest resets Streamlit's "is there a pages/ folder" flag on every run, which makes it run page
# scripts on their own; running app.py from a folder without pages/ keeps st.navigation in charge.
ENTRY = f"import runpy\nrunpy.run_path({str(ROOT / 'app.py')!r}, run_name='__main__')\n"


@pytest.fixture(autouse=True)
def instant_sandbox(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PLAYGROUND_HISTORY_PATH", str(tmp_path / "history.sqlite3"))
    for name in ("FRUXON_API_KEY", "FRUXON_BASE_URL", "FRUXON_TENANT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PLAYGROUND_SANDBOX_DB", ":memory:")
    monkeypatch.setenv("PLAYGROUND_SANDBOX_SPEED", "0")
    monkeypatch.setenv("PLAYGROUND_OWNER", "browser")  # each AppTest is its own browser, even on loopback


def start(page: str | None = None) -> AppTest:
    at = AppTest.from_string(ENTRY, default_timeout=60)
    at.run()
    if page:
        at.switch_page(str(ROOT / page)).run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def text_area(at: AppTest, label: str):
    return next(w for w in at.text_area if w.label == label)


def button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


def markdown_text(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown)


def page_text(at: AppTest) -> str:
    return "\n".join([markdown_text(at), *(t.value for t in at.text), *(c.value for c in at.caption),
                      *(e.value for e in at.error), *(w.value for w in at.warning), *(i.value for i in at.info)])


def test_sidebar_defaults_to_the_local_sandbox_and_masks_the_key() -> None:
    at = start()
    assert at.sidebar.radio[0].value == "Local sandbox"
    caption = "\n".join(c.value for c in at.sidebar.caption)
    assert "tenant `demo`" in caption and "••••" in caption
    key = at.session_state[state.CONNECTION].settings.api_key
    assert key not in caption and key[:-4] not in page_text(at)
    assert at.sidebar.selectbox[0].value == "support_agent"


def test_execute_runs_synchronously_and_shows_the_result() -> None:
    at = start()
    text_area(at, "Question *").input("How do I reset my password?").run()
    button(at, "Run").click().run()
    assert not at.exception, [e.message for e in at.exception]
    text = page_text(at)
    assert "Completed" in text and "Resetting your password" in text
    assert "**Revision** rev 3" in markdown_text(at)


def test_missing_required_parameter_is_pointed_out_before_sending() -> None:
    at = start()
    button(at, "Stream").click().run()
    errors = [e.value for e in at.error]
    assert any("Nothing was sent" in e for e in errors)
    assert any(e == "Parameter question is required" for e in errors)
    assert at.session_state[state.EXEC_RUN] is None  # no request went out


def test_invalid_json_keeps_what_was_typed_and_blocks_the_run() -> None:
    at = start()
    at.toggle[0].set_value(True).run()
    text_area(at, "Parameters (JSON object)").input('{"question": "unterminated').run()
    assert any("Parameters are not valid JSON" in e.value for e in at.error)
    button(at, "Run").click().run()
    assert at.session_state[state.EXEC_RUN] is None
    assert text_area(at, "Parameters (JSON object)").value == '{"question": "unterminated'


def test_json_view_and_form_stay_in_sync() -> None:
    at = start()
    text_area(at, "Question *").input("first").run()
    at.toggle[0].set_value(True).run()
    assert '"question": "first"' in text_area(at, "Parameters (JSON object)").value
    text_area(at, "Parameters (JSON object)").input('{"question": "second", "tone": "formal"}').run()
    at.toggle[0].set_value(False).run()
    assert text_area(at, "Question *").value == "second"


def test_server_validation_errors_land_next_to_the_fields() -> None:
    at = start()
    text_area(at, "Question *").input("x [[sandbox:status_500]]").run()
    button(at, "Run").click().run()
    assert any("The server failed" in e.value for e in at.error)
    assert text_area(at, "Question *").value == "x [[sandbox:status_500]]"  # the form keeps its input


def test_waiting_run_shows_approval_controls_and_approving_resumes_it() -> None:
    at = start()
    at.sidebar.selectbox[0].set_value("refund_desk").run()
    text_area(at, "Order id *").input("ord_77").run()
    amount = next(w for w in at.text_input if w.label == "Amount *")
    amount.input("12.5").run()
    button(at, "Run").click().run()
    assert "Approval needed" in markdown_text(at)
    assert "Waiting for approval" in markdown_text(at)
    button(at, "Approve").click().run()
    assert not at.exception, [e.message for e in at.exception]
    text = markdown_text(at)
    assert "Completed" in text and "Approval needed" not in text  # the same panel followed the record
    assert "Refund" in page_text(at) or "refund" in page_text(at)


def test_custom_profile_with_a_wrong_key_says_it_was_rejected() -> None:
    at = start()
    sandbox_url = at.session_state[state.CONNECTION].settings.base_url
    at.sidebar.radio[0].set_value("Custom").run()
    at.sidebar.text_input(key=state.CUSTOM_BASE_URL).input(sandbox_url).run()
    at.sidebar.text_input(key=state.CUSTOM_TENANT).input("demo").run()
    at.sidebar.text_input(key=state.CUSTOM_KEY).input("fx_pat_wrong_key_9999").run()
    button(at.sidebar, "Test connection").click().run()
    errors = [e.value for e in at.sidebar.error]
    assert any("The key was rejected for tenant **demo**" in e for e in errors)
    assert all("fx_pat_wrong_key" not in e for e in errors)


def test_draft_page_validates_like_the_server_and_streams() -> None:
    at = start("pages/draft_test.py")
    assert any("The draft is valid." in s.value for s in at.success)
    button(at, "Stream :streamTest").click().run()
    assert not at.exception, [e.message for e in at.exception]
    text = page_text(at)
    assert "Completed" in text and "**Revision** draft" in markdown_text(at)
    frames = "\n".join(frame.value.to_string() for frame in at.dataframe)
    assert "FLOW_STEP" in frames and "LLM_STEP" in frames  # the live steps table


def test_draft_problems_are_all_listed_and_block_the_run() -> None:
    at = start("pages/draft_test.py")
    config = next(w for w in at.text_area if w.label.startswith("Configuration of"))
    config.input("{not json").run()
    errors = "\n".join(e.value for e in at.error)
    assert "is not a valid JSON object" in errors
    assert button(at, "Stream :streamTest").disabled and button(at, "Run :test").disabled


def test_pasting_a_curl_command_fills_the_form() -> None:
    at = start()
    curl = (
        "curl -N -X POST 'https://api.fruxon.com/v1/tenants/acme/agents/support_agent:stream' \\\n"
        "  -H 'Authorization: Bearer fx_pat_pasted_secret_777' \\\n"
        "  --data-raw '{\"parameters\": {\"question\": \"Where is my order?\", \"tone\": \"formal\"}, "
        "\"sessionId\": \"s-42\", \"environmentSlug\": \"globex\", \"mode\": \"SANDBOX\"}'"
    )
    text_area(at, "curl command").input(curl).run()
    button(at, "Fill the form").click().run()
    assert text_area(at, "Question *").value == "Where is my order?"
    prefix = form_prefix(at.session_state[state.CONNECTION])
    assert at.session_state[f"{prefix}.session_id"] == "s-42" and "continuing session" in markdown_text(at)
    assert at.session_state[f"{prefix}.environment"] == "globex" and at.session_state[f"{prefix}.mode"] == "SANDBOX"
    notices = " ".join(i.value for i in at.info)
    assert "contained an API key" in notices and "fx_pat_pasted" not in page_text(at)
    text_area(at, "curl command").input("wget http://x").run()
    button(at, "Fill the form").click().run()
    assert any("not a curl command" in e.value for e in at.error)


def test_copy_as_never_contains_the_key() -> None:
    at = start()
    text_area(at, "Question *").input("hi").run()
    key = at.session_state[state.CONNECTION].settings.api_key
    snippets = [c.value for c in at.code]
    assert any("curl" in s and '"X-API-KEY: $FRUXON_API_KEY"' in s for s in snippets)
    assert any("from fruxon import FruxonClient" in s for s in snippets)
    assert all(key not in s for s in snippets)


def test_draft_survives_a_page_switch_and_keeps_config_secrets() -> None:
    at = start("pages/draft_test.py")
    raw = next(w for w in at.text_area if w.label == "Request JSON")
    edited = raw.value.replace('"baseRevision": 0', '"baseRevision": 0, "llmConfigs": [{"providerId": "openai", '
                                                    '"parameters": {"apiKey": "sk-realsecret123456"}}]')
    raw.input(edited).run()
    button(at, "Apply JSON").click().run()
    shown = next(w for w in at.text_area if w.label == "LLM configs (JSON list)").value
    assert "sk-realsecret" not in shown and "••••" in shown
    at.switch_page(str(ROOT / "pages/execute.py")).run()
    at.switch_page(str(ROOT / "pages/draft_test.py")).run()
    assert not at.exception, [e.message for e in at.exception]
    assert "sk-realsecret" not in next(w for w in at.text_area if w.label == "LLM configs (JSON list)").value
    button(at, "Run :test").click().run()
    sent = at.session_state[state.DRAFT_RUN].request
    assert sent["llmConfigs"][0]["parameters"]["apiKey"] == "sk-realsecret123456"  # the real one is sent
    assert "Completed" in page_text(at)
    raw_view = next(w for w in at.text_area if w.label == "Request JSON").value
    assert "sk-realsecret" not in raw_view and all("sk-realsecret" not in c.value for c in at.code)


def test_every_run_lands_in_history_and_a_share_link_opens_it_read_only() -> None:
    at = start()
    text_area(at, "Question *").input("How do I export my data?").run()
    button(at, "Run").click().run()
    text_area(at, "Question *").input("x [[sandbox:status_500]]").run()
    button(at, "Run").click().run()  # a failed run is saved too
    del at.query_params["run"]  # the sidebar's navigation leaves a page's own parameters behind
    at.switch_page(str(ROOT / "pages/history.py")).run()
    assert not at.exception, [e.message for e in at.exception]
    table = at.dataframe[0].value
    assert list(table["Status"]) == ["failed", "completed"] and set(table["Agent"]) == {"support_agent"}
    from fruxon_playground.history import RunQuery, open_store

    store = open_store(os.environ["PLAYGROUND_HISTORY_PATH"])
    (saved,) = [r for r in store.list(RunQuery(at.session_state[state.OWNER])).items if r.status == "completed"]
    key = at.session_state[state.CONNECTION].settings.api_key
    history = Path(os.environ["PLAYGROUND_HISTORY_PATH"])
    stored = b"".join(p.read_bytes() for p in history.parent.glob(history.name + "*"))  # the file and its WAL
    assert key not in stored.decode("utf-8", "replace")
    other = start()  # another browser session: a different owner, no runs of its own…
    other.switch_page(str(ROOT / "pages/history.py")).run()
    assert any("No runs yet" in c.value for c in other.caption)
    other.query_params["run"] = saved.id  # …but a share link opens the run, read-only
    other.run()
    assert any("shared run, read-only" in i.value for i in other.info)
    assert any("Resetting" in t.value or "Exporting your data" in t.value for t in other.text)


def test_secrets_profile_follows_st_connection_conventions(shared_sandbox) -> None:
    at = AppTest.from_string(ENTRY, default_timeout=60)
    at.secrets["connections"] = {"fruxon": {"base_url": shared_sandbox.base_url, "tenant": shared_sandbox.tenant,
                                            "api_key": shared_sandbox.api_key, "auth_header": "bearer"}}
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert at.sidebar.radio[0].value == "From secrets"
    settings = at.session_state[state.CONNECTION].settings
    assert settings.base_url == shared_sandbox.base_url and settings.auth_header == "bearer"
    caption = "\n".join(c.value for c in at.sidebar.caption)
    assert "from secrets" in caption and shared_sandbox.api_key not in caption
    button(at.sidebar, "Test connection").click().run()
    assert any("The key works for tenant **demo**" in s.value for s in at.sidebar.success)


def test_environment_variables_configure_the_connection(shared_sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FRUXON_BASE_URL", shared_sandbox.base_url)
    monkeypatch.setenv("FRUXON_TENANT", shared_sandbox.tenant)
    monkeypatch.setenv("FRUXON_API_KEY", shared_sandbox.api_key)
    at = start()
    assert at.sidebar.radio[0].value == "From secrets"
    assert "from environment" in "\n".join(c.value for c in at.sidebar.caption)
    assert at.session_state[state.CONNECTION].settings.base_url == shared_sandbox.base_url


def test_a_saved_run_with_thousands_of_tool_calls_opens_with_a_few_cards_and_the_whole_trace() -> None:
    from fruxon_playground.history import SavedRun, open_store

    tools = [{"id": f"t{i}", "type": "TOOL", "status": "SUCCESS", "displayName": f"Lookup {i}",
              "toolStepTrace": {"tool": "kb.lookup", "parameters": {"n": i}}} for i in range(2_000)]
    trace = {"agentId": "support_agent", "traces": [{"id": "root", "type": "FLOW_STEP", "status": "SUCCESS",
                                                    "steps": tools}]}
    saved = open_store(os.environ["PLAYGROUND_HISTORY_PATH"]).save(
        SavedRun(kind="execute", agent_id="support_agent", request={}, status="completed", owner="someone", trace=trace))
    at = start()
    at.switch_page(str(ROOT / "pages/history.py"))
    at.query_params["run"] = saved.id
    at.run(timeout=60)
    assert not at.exception, [e.message for e in at.exception]
    assert len([t for t in at.text if t.value.startswith("Lookup ")]) == 50  # one card each
    assert any(c.value.startswith("2,000 tool calls") and "the first 50 are shown" in c.value for c in at.caption)
