"""The app remembers (issue 9): per-agent forms and options, explicit conversations, URL state."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from components import state
from components.execute_form import form_prefix
from tests.app.test_pages import ENTRY, button, instant_sandbox, markdown_text, page_text, start, text_area

__all__ = ["instant_sandbox"]  # the autouse fixture of test_pages, for these tests too


def pick(at: AppTest, agent: str) -> None:
    at.sidebar.selectbox[0].set_value(agent).run()
    assert not at.exception, [e.message for e in at.exception]


def test_switching_agents_and_back_keeps_each_form() -> None:
    at = start()
    pick(at, "echo_agent")
    text_area(at, "Message *").input("echo me later").run()
    pick(at, "support_agent")
    text_area(at, "Question *").input("support question").run()
    pick(at, "echo_agent")
    assert text_area(at, "Message *").value == "echo me later"
    pick(at, "support_agent")
    assert text_area(at, "Question *").value == "support question"


def test_run_options_belong_to_one_agent() -> None:
    at = start()
    support = form_prefix(at.session_state[state.CONNECTION])
    at.selectbox(key=f"{support}.environment").set_value("globex").run()
    pick(at, "echo_agent")
    echo = form_prefix(at.session_state[state.CONNECTION])
    assert at.selectbox(key=f"{echo}.environment").value is None
    pick(at, "support_agent")
    assert at.selectbox(key=f"{support}.environment").value == "globex"


def test_continuing_a_conversation_is_explicit_and_never_crosses_agents() -> None:
    at = start()
    text_area(at, "Question *").input("hello").run()
    button(at, "Run").click().run()
    assert "new conversation" in markdown_text(at)
    session_id = at.session_state[state.EXEC_RUN].snapshot().state.session_id
    button(at, "Continue this conversation").click().run()
    assert "continuing session" in markdown_text(at)
    button(at, "Run").click().run()
    assert "Continuing our conversation" in page_text(at)
    assert at.session_state[state.EXEC_RUN].request["sessionId"] == session_id
    pick(at, "trip_planner")
    assert "continuing session" not in markdown_text(at)  # a new agent starts a new conversation
    pick(at, "support_agent")
    button(at, "New conversation").click().run()
    assert "continuing session" not in markdown_text(at)


def test_switching_agents_clears_the_previous_agents_result() -> None:
    at = start()
    pick(at, "echo_agent")
    text_area(at, "Message *").input("only for echo").run()
    button(at, "Run").click().run()
    assert "only for echo" in page_text(at)
    pick(at, "support_agent")
    assert "only for echo" not in page_text(at) and "Run the agent to see" in page_text(at)
    pick(at, "echo_agent")  # and coming back shows echo's run again
    assert "only for echo" in page_text(at)


def test_a_curl_for_an_agent_that_does_not_exist_changes_nothing() -> None:
    at = start()
    text_area(at, "Question *").input("keep me").run()
    curl = ("curl -X POST 'https://api.fruxon.com/v1/tenants/demo/agents/no_such_agent:execute' "
            "--data-raw '{\"parameters\": {\"question\": \"replaced\"}}'")
    text_area(at, "curl command").input(curl).run()
    button(at, "Fill the form").click().run()
    assert any("no_such_agent" in e.value.replace("\\", "") and "Nothing was changed" in e.value for e in at.error)
    assert at.sidebar.selectbox[0].value == "support_agent"
    assert text_area(at, "Question *").value == "keep me"


def test_the_url_carries_agent_and_run_and_a_new_session_lands_in_place() -> None:
    at = start()
    pick(at, "echo_agent")
    text_area(at, "Message *").input("open me from a link").run()
    button(at, "Run").click().run()
    run_id = at.session_state[state.EXEC_RUN].id
    assert at.query_params["agent"] == "echo_agent" and at.query_params["run"] == run_id
    # A reload (a new session on the same browser: the local user) with the same URL.
    again = AppTest.from_string(ENTRY, default_timeout=60)
    again.query_params["agent"] = "echo_agent"
    again.query_params["run"] = run_id
    again.run()
    assert not again.exception, [e.message for e in again.exception]
    assert again.sidebar.selectbox[0].value == "echo_agent"
    assert "open me from a link" in page_text(again) and "Completed" in markdown_text(again)


def test_a_bad_run_id_in_the_url_is_shown_as_text_and_dropped() -> None:
    at = AppTest.from_string(ENTRY, default_timeout=60)
    at.query_params["run"] = "[x](http://127.0.0.1:9/leak)"
    at.run()
    warnings = " ".join(w.value for w in at.warning)
    assert "not a run id" in warnings and "](http" not in warnings
    assert "run" not in at.query_params
