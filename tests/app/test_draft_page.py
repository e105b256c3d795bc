"""The draft page and the server's stored draft (issue 12 §2) with AppTest, against the embedded
sandbox: open a revision's flow or the stored draft, save with If-Match, the 409 a second writer
causes (keep mine / take theirs), and runs of the stored draft."""

from __future__ import annotations

import json

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from components import draft_editor, state, stored_draft
from components.connection import Connection
from fruxon_playground.api import FruxonClient
from fruxon_playground.drafts import TEMPLATES
from fruxon_playground.runs import RunHandle, RunKind
from fruxon_playground.settings import ConnectionSettings
from tests.app.test_pages import ROOT, button, instant_sandbox, markdown_text, page_text, start, text_area

__all__ = ["instant_sandbox"]  # the autouse fixture of test_pages, for these tests too


def draft_page(agent: str) -> AppTest:
    at = start("pages/draft_test.py")
    at.sidebar.selectbox[0].set_value(agent).run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def other_writer(at: AppTest) -> FruxonClient:
    """A second client of the same tenant (a colleague, the CLI), saving between our load and save."""
    settings = at.session_state[state.CONNECTION].settings
    return FruxonClient(settings.base_url, settings.api_key, settings.tenant)


def step_config(at: AppTest, step: str):
    at.selectbox(key=next(s.key for s in at.selectbox if s.label == "Configure step")).set_value(step).run()
    return next(w for w in at.text_area if w.label.startswith(f"Configuration of “{step}”"))


def set_prompt(at: AppTest, step: str, template: str) -> None:
    config = step_config(at, step)
    data = json.loads(config.value)
    data["userPrompt"] = {"template": template}
    config.input(json.dumps(data)).run()
    assert not at.exception, [e.message for e in at.exception]


def status_line(at: AppTest) -> str:
    return next((m.value for m in at.markdown if "Stored draft of rev" in m.value), "")


def fill_message(at: AppTest, text: str) -> None:
    text_area(at, "Message *").input(text).run()


def test_open_save_then_a_409_keep_mine_and_run_the_stored_draft() -> None:
    at = draft_page("echo_agent")
    button(at, "Open stored draft").click().run()
    assert any("No draft is stored for rev 1 yet" in i.value for i in at.info)
    button(at, "Open rev 1's flow").click().run()
    assert "nothing stored yet" in status_line(at) and "unsaved changes" in status_line(at)
    set_prompt(at, "echo", "Mine: {{param.message}}")
    button(at, "Save draft").click().run()
    assert "version 1" in status_line(at) and "saved" in status_line(at) and "unsaved" not in status_line(at)

    with other_writer(at) as other:
        theirs = other.get_draft("echo_agent", 1).head_data
        theirs["definition"]["userPrompt"] = {"template": "Theirs: {{param.message}}"}
        assert other.put_draft("echo_agent", 1, theirs, if_match=1).version == 2
    set_prompt(at, "echo", "Mine again: {{param.message}}")
    assert "unsaved changes" in status_line(at)
    button(at, "Save draft").click().run()
    warning = "\n".join(w.value for w in at.warning)
    assert "changed on the server: it is at version 2" in warning and "Nothing was saved" in warning
    changes = next(f.value for f in at.dataframe if "On the server" in f.value.columns)
    assert changes.to_dict("records") == [{"Field": "definition.userPrompt.template", "Yours": "Mine again: {{param.message}}",
                                           "On the server": "Theirs: {{param.message}}"}]
    shown = [c.value for c in at.code if c.language == "json"]
    assert any("Mine again: {{param.message}}" in c for c in shown) and any("Theirs: {{param.message}}" in c for c in shown)
    assert "**On the server** · version 2" in markdown_text(at)
    assert button(at, "Save draft").disabled  # nothing more is saved until the user chose

    button(at, "Keep mine").click().run()
    assert not at.exception, [e.message for e in at.exception]
    assert "version 3" in status_line(at) and "unsaved" not in status_line(at)
    assert not any("changed on the server" in w.value for w in at.warning)
    with other_writer(at) as other:
        stored = other.get_draft("echo_agent", 1)
    assert stored.version == 3 and stored.head_data["definition"]["userPrompt"]["template"] == "Mine again: {{param.message}}"

    fill_message(at, "hello")
    button(at, "Stream stored draft").click().run()
    assert not at.exception, [e.message for e in at.exception]
    run = at.session_state[state.DRAFT_RUN]
    assert run.kind is RunKind.STREAM_TEST and run.draft_revision == 1 and run.request == {"parameters": {"message": "hello"}}
    assert "Mine again: hello" in page_text(at) and "**Revision** draft" in markdown_text(at)


def test_take_theirs_loads_the_servers_version_into_the_editor() -> None:
    at = draft_page("release_digest")
    picker = next(s for s in at.selectbox if s.label == "Base revision")
    picker.set_value(6).run()
    button(at, "Open rev 6's flow").click().run()
    text_area(at, "Repo *").input("kept/value").run()
    button(at, "Save draft").click().run()
    with other_writer(at) as other:
        current = other.get_draft("release_digest", 6)
        theirs = current.head_data
        theirs["definition"]["userPrompt"] = {"template": "Theirs: {{param.repo}}"}
        theirs["definition"]["systemPrompt"] = {"template": "A colleague's prompt."}
        newer = other.put_draft("release_digest", 6, theirs, if_match=current.version).version
    set_prompt(at, "digest", "Mine: {{param.repo}}")
    button(at, "Save draft").click().run()
    changes = next(f.value for f in at.dataframe if "On the server" in f.value.columns)
    assert list(changes["Field"]) == ["definition.systemPrompt.template", "definition.userPrompt.template"]
    button(at, "Take theirs").click().run()
    assert not at.exception, [e.message for e in at.exception]
    assert f"version {newer}" in status_line(at) and "unsaved" not in status_line(at)
    config = json.loads(step_config(at, "agent").value)  # a stored draft opens as entry → agent → exit
    assert config["userPrompt"]["template"] == "Theirs: {{param.repo}}"
    assert text_area(at, "Repo *").value == "kept/value"  # the run's inputs stay
    button(at, "Run stored draft").click().run()
    assert "Theirs: kept/value" in page_text(at)
    assert f"version {newer}" in status_line(at)  # nothing to save: it ran what was stored


def test_a_draft_stored_elsewhere_opens_and_running_saves_unsaved_changes_first() -> None:
    at = draft_page("support_agent")
    with other_writer(at) as other:
        head = {"comment": "from the CLI", "definition": {"displayName": "Answer", "userPrompt": {
            "template": "CLI: {{param.question}}"}, "provider": {"providerId": "openai", "model": "gpt-4o-mini"}},
                "parametersMetadata": [{"name": "question", "type": "STRING", "required": True}]}
        version = other.put_draft("support_agent", 3, head).version
    button(at, "Open stored draft").click().run()
    assert f"version {version}" in status_line(at) and "unsaved" not in status_line(at)
    assert "CLI: {{param.question}}" in step_config(at, "agent").value
    text_area(at, "question *").input("How do I export?").run()
    set_prompt(at, "agent", "Edited here: {{param.question}}")
    button(at, "Run stored draft").click().run()
    assert not at.exception, [e.message for e in at.exception]
    assert f"version {version + 1}" in status_line(at)  # saved before it ran
    assert "Edited here: How do I export?" in page_text(at)
    with other_writer(at) as other:
        stored = other.get_draft("support_agent", 3).head_data
    assert stored["comment"] == "from the CLI"  # what the editor does not show is kept
    snippet = next(c.value for c in at.code if "saved = client.put_draft(" in c.value)
    assert f"client.put_draft('support_agent', 3, head, if_match={version + 1})" in snippet and "stream_test" in snippet


def test_a_flow_of_several_agents_runs_inline_but_cannot_be_stored() -> None:
    at = draft_page("trip_planner")
    button(at, "Open rev 4's flow").click().run()
    assert button(at, "Save draft").disabled and button(at, "Run stored draft").disabled
    assert any("holds exactly one agent" in c.value for c in at.caption)
    text_area(at, "City *").input("Oslo").run()
    button(at, "Run :test").click().run()
    assert "Completed" in page_text(at)
    assert at.session_state[state.DRAFT_RUN].request["baseRevision"] == 4


def _open_run_script() -> None:
    """A finished run's panel, reduced to the one button under test."""
    import streamlit as st

    from components.stored_draft import open_in_draft_editor

    open_in_draft_editor(st.session_state["test.run"])


def finished_run(sandbox, kind: RunKind, agent: str, request: dict, draft_revision: int | None = None) -> RunHandle:
    def client() -> FruxonClient:
        return FruxonClient(sandbox.base_url, sandbox.api_key, sandbox.tenant)

    run = RunHandle(kind, agent, request, client, draft_revision=draft_revision).start()
    assert run.wait(30)
    return run


def open_run_app(sandbox, run: RunHandle, monkeypatch: pytest.MonkeyPatch) -> tuple[AppTest, list[str]]:
    switched: list[str] = []
    monkeypatch.setattr(st, "switch_page", switched.append)  # the app's navigation is not part of this script
    at = AppTest.from_function(_open_run_script, default_timeout=30)
    settings = ConnectionSettings(sandbox.base_url, sandbox.tenant, sandbox.api_key)
    at.session_state[state.CONNECTION] = Connection(settings, "echo_agent")  # the sidebar shows another agent
    at.session_state["test.run"] = run
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at, switched


def test_open_in_draft_editor_loads_a_runs_revision_with_its_parameters(shared_sandbox, monkeypatch) -> None:
    run = finished_run(shared_sandbox, RunKind.TEST, "support_agent",
                       {"baseRevision": 2, "parameters": {"question": "Why was I charged twice?"}})
    at, switched = open_run_app(shared_sandbox, run, monkeypatch)
    button(at, "Open in draft editor").click().run()
    assert switched == ["pages/draft_test.py"]
    base = at.session_state[draft_editor.BASE]
    agent_step = next(s for s in base["flow"]["steps"] if s["type"] == "AGENT")
    assert agent_step["userPrompt"]["template"] == "Customer question: {{param.question}}"  # rev 2's flow
    assert base["parameters"] == {"question": "Why was I charged twice?"} and base["baseRevision"] == 2
    link = at.session_state[stored_draft.LINK]
    assert (link.agent, link.base_revision) == ("support_agent", 2)
    assert at.session_state[state.AGENT] == "support_agent"  # the draft page opens under the run's agent


def test_open_in_draft_editor_takes_an_inline_drafts_own_flow_and_refuses_a_stored_draft_run(
        shared_sandbox, monkeypatch) -> None:
    inline = finished_run(shared_sandbox, RunKind.TEST, "echo_agent", TEMPLATES["calculator"].request)
    at, switched = open_run_app(shared_sandbox, inline, monkeypatch)
    button(at, "Open in draft editor").click().run()
    assert switched and at.session_state[draft_editor.BASE]["flow"] == TEMPLATES["calculator"].request["flow"]
    assert at.session_state[stored_draft.LINK] is None  # an inline draft has no stored draft to save to

    stored_run = finished_run(shared_sandbox, RunKind.TEST, "echo_agent", {"parameters": {"message": "hi"}},
                              draft_revision=1)
    assert stored_run.snapshot().state.revision == -1  # it ran (a draft), but its request holds no flow
    at, switched = open_run_app(shared_sandbox, stored_run, monkeypatch)
    refused = button(at, "Open in draft editor")
    assert refused.disabled and "stored on the server" in refused.help and not switched


def test_a_rerun_of_a_revision_run_opens_that_revisions_flow_with_its_parameters() -> None:
    at = start()
    request = {"baseRevision": 2, "parameters": {"question": "Can I export my data?"}}
    # What History's "Re-run" hands the draft editor for a pinned-revision run: the request as sent.
    at.session_state[draft_editor.BASE] = at.session_state[draft_editor.CURRENT] = request
    at.session_state[draft_editor.VERSION] = 7
    at.switch_page(str(ROOT / "pages/draft_test.py")).run()
    assert not at.exception, [e.message for e in at.exception]
    assert "Customer question: {{param.question}}" in step_config(at, "answer").value
    assert text_area(at, "Question *").value == "Can I export my data?"
    assert "Stored draft of rev 2" in status_line(at)
    assert next(s for s in at.selectbox if s.label == "Base revision").value == 2
    assert any("Re-run of rev 2" in c.value for c in at.caption)
