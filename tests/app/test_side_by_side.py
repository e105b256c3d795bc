"""The Side by side page with Streamlit's AppTest, against the embedded sandbox (in memory, no delays):
two targets, one input, both runs saved as one group, the verdict and the diff, and the share link
opened in a session of its own."""

from __future__ import annotations

import os

from streamlit.testing.v1 import AppTest

from components import state
from components.draft_editor import CURRENT as DRAFT_CURRENT
from components.safe import md
from components.url_state import live_runs
from fruxon_playground.cases.target import TargetKind
from fruxon_playground.drafts import TEMPLATES
from fruxon_playground.history import open_store
from tests.app.test_pages import ROOT, button, instant_sandbox, page_text, start, text_area  # noqa: F401 (autouse fixture)

PAGE = "pages/side_by_side.py"


def selectbox(at: AppTest, label: str):
    return next(w for w in at.selectbox if w.label == label)


def run_pair(at: AppTest, question: str) -> None:
    text_area(at, "Question *").input(question).run()
    button(at, "Run both").click().run()
    for _ in range(10):  # each run that ends reruns the page once
        if "Verdict" in page_text(at):
            break
        at.run()
    assert not at.exception, [e.message for e in at.exception]


def test_deployed_against_revision_1_runs_both_and_shows_the_verdict_and_the_diff() -> None:
    at = start(PAGE)
    assert [m.value for m in at.markdown if m.value in ("**A**", "**B**")] == ["**A**", "**B**"]
    revision_b = selectbox(at, "Revision B")
    assert revision_b.value == 2  # a first visit compares the deployed revision 3 with the one before
    revision_b.set_value(1).run()
    text = page_text(at)
    assert "B does not get tone: its revision does not declare it" in text

    run_pair(at, "How do refunds work?")
    text = page_text(at)
    verdict = next(m.value for m in at.markdown if m.value.startswith("**Verdict**"))
    assert ":orange-badge[:material/compare_arrows: Different answer]" in verdict
    assert md("tools called differently: kb.search_articles (only in A)") in verdict
    assert md("Δcost −$") in verdict or md("Δcost +$") in verdict
    headings = [m.value for m in at.markdown if m.value.startswith("#### ")]
    assert headings == ["#### " + md("A: deployed · stream"), "#### " + md("B: revision 1 · stream")]
    assert any(s.value == "Compare runs" for s in at.subheader)  # the step-aligned diff below
    assert text.count("Completed") >= 2

    a_id, b_id = at.query_params["a"], at.query_params["b"]
    share = next(c.value for c in at.code if "?a=" in c.value)
    assert share.endswith(f"?a={a_id}&b={b_id}")
    key = at.session_state[state.CONNECTION].settings.api_key
    assert key not in share and key not in text
    store = open_store(os.environ["PLAYGROUND_HISTORY_PATH"])
    a, b = store.get(a_id), store.get(b_id)
    assert a is not None and b is not None and a.group_id == b.group_id is not None
    assert (a.label, b.label) == ("A: deployed · stream", "B: revision 1 · stream")
    assert a.request["parameters"] == {"question": "How do refunds work?", "tone": "friendly"}
    assert b.request == {"baseRevision": 1, "parameters": {"question": "How do refunds work?"}}

    # The same session keeps its pair and its typed input across reruns; Run is there again.
    at.run()
    assert text_area(at, "Question *").value == "How do refunds work?"
    assert not button(at, "Run both").disabled and "Verdict" in page_text(at)

    # The link opened cold after a restart (a new session; the process no longer holds the live runs):
    # the same comparison from the saved runs, read-only, no form.
    live_runs.clear()
    cold = AppTest.from_string(_entry(), default_timeout=60)
    cold.query_params["a"], cold.query_params["b"] = a_id, b_id
    cold.run()
    cold.switch_page(str(ROOT / PAGE)).run()
    assert not cold.exception, [e.message for e in cold.exception]
    assert any("A shared comparison, read-only" in i.value for i in cold.info)
    assert not any(b.label == "Run both" for b in cold.button)
    assert any(m.value.startswith("**Verdict**") and "Different answer" in m.value for m in cold.markdown)
    assert [m.value for m in cold.markdown if m.value.startswith("#### ")] == headings
    button(cold, "Start a comparison of your own").click().run()
    assert "a" not in cold.query_params and any(b.label == "Run both" for b in cold.button)


def _entry() -> str:
    return f"import runpy\nrunpy.run_path({str(ROOT / 'app.py')!r}, run_name='__main__')\n"


def test_a_broken_or_unknown_link_says_why_and_offers_the_form() -> None:
    at = AppTest.from_string(_entry(), default_timeout=60)
    at.query_params["a"], at.query_params["b"] = "<img src=x onerror=alert(1)>", "f" * 32
    at.run()
    at.switch_page(str(ROOT / PAGE)).run()
    assert not at.exception
    warning = next(w.value for w in at.warning)
    assert "not run ids" in warning and "<img" not in warning
    assert "a" not in at.query_params and any(b.label == "Run both" for b in at.button)

    at.query_params["a"], at.query_params["b"] = "e" * 32, "f" * 32
    at.run()
    assert any("Run A: No saved run has this id" in w.value for w in at.warning)


def test_the_draft_in_the_editor_against_the_deployed_agent() -> None:
    at = start(PAGE)
    at.session_state[DRAFT_CURRENT] = TEMPLATES["llm"].request  # what "Test a draft" keeps of its editor
    at.run()
    at.get("button_group")[1].set_value(TargetKind.DRAFT).run()
    at.get("toggle")[1].set_value(False).run()  # B answers all at once
    assert "B does not get tone" in page_text(at)  # the draft declares only `question`
    run_pair(at, "How do I reset my password?")
    headings = [m.value for m in at.markdown if m.value.startswith("#### ")]
    assert headings == ["#### " + md("A: deployed · stream"), "#### " + md("B: draft · sync")]
    store = open_store(os.environ["PLAYGROUND_HISTORY_PATH"])
    b = store.get(at.query_params["b"])
    assert b is not None and b.kind == "test" and b.request["flow"] == TEMPLATES["llm"].request["flow"]
    assert b.request["parameters"] == {"question": "How do I reset my password?"} and b.status == "completed"
    assert any(m.value.startswith("**Verdict**") for m in at.markdown)


def test_the_draft_target_waits_for_a_draft_and_a_required_input_is_asked_for() -> None:
    at = start(PAGE)
    target_b = at.get("button_group")[1]
    assert target_b.options == ["Deployed", "Revision", "Draft"] and target_b.value == TargetKind.REVISION
    target_b.set_value(TargetKind.DRAFT).run()
    assert "there is no draft yet" in page_text(at)
    assert button(at, "Run both").disabled

    at = start(PAGE)
    button(at, "Run both").click().run()
    assert any("Nothing was sent" in e.value for e in at.error)
    assert "a" not in at.query_params


def test_a_chat_user_goes_with_the_deployed_side_only_and_a_broken_one_sends_nothing() -> None:
    at = start(PAGE)
    text_area(at, "Question *").input("Can I export my data?").run()
    text_area(at, "Chat user (JSON)").input('{"id": "user_42"').run()
    assert md("Chat user is not valid JSON: Expecting ',' delimiter (line 1, column 17).") in [e.value for e in at.error]
    button(at, "Run both").click().run()
    assert any("Nothing was sent" in e.value for e in at.error) and "a" not in at.query_params
    assert text_area(at, "Chat user (JSON)").value == '{"id": "user_42"'  # kept, to be fixed

    text_area(at, "Chat user (JSON)").input('{"id": "user_42", "displayName": "Ada"}').run()
    assert "Sent with A only: a test run has no chat user." in page_text(at)
    run_pair(at, "Can I export my data?")
    store = open_store(os.environ["PLAYGROUND_HISTORY_PATH"])
    a, b = store.get(at.query_params["a"]), store.get(at.query_params["b"])
    assert a is not None and b is not None
    assert a.request["chatUser"] == {"id": "user_42", "displayName": "Ada"} and "chatUser" not in b.request
