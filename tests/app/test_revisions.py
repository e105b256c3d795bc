"""The Execute page's revision picker (issue 12 §2) with AppTest, against the embedded sandbox."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from components import state
from fruxon_playground.runs import RunKind
from tests.app.test_pages import ROOT, button, instant_sandbox, markdown_text, page_text, start, text_area

__all__ = ["instant_sandbox"]  # the autouse fixture of test_pages, for these tests too


def picker(at: AppTest):
    return next(s for s in at.selectbox if s.label == "Revision")


def labels(at: AppTest) -> list[str]:
    return [widget.label for widget in [*at.text_area, *at.selectbox, *at.text_input]]


def test_the_deployed_revision_is_preselected_and_revisions_are_listed_newest_first() -> None:
    at = start()
    box = picker(at)
    assert box.value == 3 and box.options[0].startswith("rev 3 · deployed — Add a tone option")
    assert [o.split(" — ")[0] for o in box.options] == ["rev 3 · deployed", "rev 2", "rev 1"]
    assert "maya@acme.test" in box.options[0] and "jon@acme.test" in box.options[1]
    assert any("**deployed**: executions run it" in c.value for c in at.caption)
    assert "Tone" in labels(at)  # rev 3's schema has a tone option


def test_rev_2_runs_by_number_with_its_own_schema_and_is_labelled_in_the_panel_and_history() -> None:
    at = start()
    picker(at).set_value(2).run()
    assert "Tone" not in labels(at)  # rev 2 declares only the question
    assert any("Runs **rev 2**" in i.value for i in at.info)
    text_area(at, "Question *").input("Where is my invoice?").run()
    button(at, "Run").click().run()
    assert not at.exception, [e.message for e in at.exception]
    run = at.session_state[state.EXEC_RUN]
    assert run.kind is RunKind.TEST and run.request == {"baseRevision": 2, "parameters": {"question": "Where is my invoice?"}}
    assert "Customer question: Where is my invoice?" in page_text(at)  # rev 2's prompt ran
    assert "**Revision** rev 2" in markdown_text(at)
    button(at, "Stream").click().run()
    assert at.session_state[state.EXEC_RUN].kind is RunKind.STREAM_TEST
    assert "**Revision** rev 2" in markdown_text(at)

    run_id = at.session_state[state.EXEC_RUN].id
    del at.query_params["run"]
    at.switch_page(str(ROOT / "pages/history.py")).run()
    table = at.dataframe[0].value
    assert list(table["Revision"]) == ["rev 2", "rev 2"] and list(table["Kind"]) == ["stream_test", "test"]
    at.query_params["run"] = run_id  # the saved run, opened as History opens a link
    at.run()
    assert "**Revision** rev 2" in markdown_text(at)


def test_the_deployed_revision_still_runs_through_execute() -> None:
    at = start()
    picker(at).set_value(1).run()
    picker(at).set_value(3).run()
    assert not at.info or all("Runs **rev" not in i.value for i in at.info)
    text_area(at, "Question *").input("Hello").run()
    button(at, "Run").click().run()
    run = at.session_state[state.EXEC_RUN]
    assert run.kind is RunKind.EXECUTE and "baseRevision" not in run.request
    assert "**Revision** rev 3" in markdown_text(at)


def test_the_snippets_send_what_the_page_sends_for_a_chosen_revision() -> None:
    at = start()
    picker(at).set_value(1).run()
    text_area(at, "Question *").input("hi").run()
    snippets = [c.value for c in at.code]
    curl = next(s for s in snippets if s.startswith("curl"))
    assert "support_agent:test" in curl and '"baseRevision": 1' in curl and '"flow"' not in curl
    sdk = next(s for s in snippets if "from fruxon import FruxonClient" in s)
    assert "no call that runs a chosen published revision" in sdk and "client.test(" not in sdk


def test_an_inline_draft_run_in_the_url_does_not_show_on_the_execute_page() -> None:
    at = start("pages/draft_test.py")
    button(at, "Run :test").click().run()
    draft_run = at.session_state[state.DRAFT_RUN]
    assert at.query_params["run"] == draft_run.id
    at.switch_page(str(ROOT / "pages/execute.py")).run()  # navigation keeps ?run= from the draft page
    assert not at.exception, [e.message for e in at.exception]
    assert "run" not in at.query_params and "**Revision** draft" not in markdown_text(at)
