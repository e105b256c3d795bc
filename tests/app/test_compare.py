"""Compare two runs with Streamlit's AppTest: the History page with two rows selected, and the
component on runs whose answers, step names and tool names try to inject Markdown and HTML."""

from __future__ import annotations

import json

from streamlit.testing.v1 import AppTest

from components.safe import md
from fruxon_playground.history import SavedRun
from tests.app.test_pages import ROOT, button, instant_sandbox, start, text_area  # noqa: F401 (autouse fixture)

T0 = 1_767_225_600_000
IMG = "<img src=x onerror=alert(1)>"
LINK = "[x](javascript:alert(1))"


def html_bodies(at: AppTest) -> list[str]:
    return [element.proto.body for element in at.get("html")]


def answer_html(at: AppTest, letter: str) -> str:
    return next(body for body in html_bodies(at) if f'data-testid="compare-answer-{letter}"' in body)


def test_history_with_two_selected_runs_draws_the_comparison() -> None:
    at = start()
    for question in ("How do refunds work?", "How do I reset my password?"):
        text_area(at, "Question *").input(question).run()
        button(at, "Run").click().run()
        assert "Completed" in "\n".join(m.value for m in at.markdown)
    at.query_params.pop("run", None)  # the sidebar navigation drops the page's own parameters (checked in chromium)
    at.switch_page(str(ROOT / "pages/history.py")).run()
    assert len(at.dataframe) == 1  # the runs table, nothing selected
    # AppTest cannot click a dataframe's rows; its selection state is what a click would set.
    at.session_state["history.table"] = {"selection": {"rows": [0, 1], "columns": [], "cells": []}}
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert any(s.value == "Compare runs" for s in at.subheader)
    verdict = next(m.value for m in at.markdown if "-badge[" in m.value)
    assert md("Different answer") in verdict and md("Tools called differently: kb.search_articles") in verdict
    # The older run is A: its answer is about refunds, the newer one's about passwords.
    assert "<del" in answer_html(at, "a") and "refunds" in answer_html(at, "a")
    assert "<ins" in answer_html(at, "b") and "password" in answer_html(at, "b")
    runs_table, inputs, figures, steps = (d.value for d in at.dataframe)
    question = inputs[inputs["Input"] == "param · question"].iloc[0]
    assert (question["A"], question["B"], question[""]) == ("How do refunds work?", "How do I reset my password?", "≠")
    assert list(figures["Measure"])[:2] == ["Duration (as waited)", "Server time"]
    assert list(steps["Step"].str.strip()) == ["Agent", "LLM Query", "Search Articles", "LLM Answer"]
    assert steps.set_index(steps["Step"].str.strip()).loc["Search Articles", "Change"] == "changed"
    assert any("Search Articles" in e.label for e in at.expander)


def _runs_with_untrusted_text() -> list[dict]:
    def tool(name: str, tool_id: str, arguments: dict) -> dict:
        return {"id": tool_id, "displayName": name, "type": "TOOL", "status": "SUCCESS", "startTime": T0,
                "endTime": T0 + 50, "duration": 50, "steps": [],
                "toolTrace": {"tool": {"integrationId": "kb", "id": tool_id, "name": tool_id}, "parameters": arguments},
                "result": {"strValue": None, "jsonValue": {"echo": arguments}, "fileLink": None}}

    def run(answer: str, arguments: dict, created: int) -> dict:
        same = {"id": "plan", "displayName": "Plan", "type": "LLM_STEP", "status": "SUCCESS", "startTime": T0,
                "endTime": T0 + 10, "duration": 10, "steps": []}
        trace = {"agentId": "echo_agent", "agentRevision": 1, "startTime": T0, "endTime": T0 + 100, "duration": 100,
                 "totalCost": 0.0001, "traces": [same, tool(f"{IMG} Search", "search_[evil](javascript:x)", arguments)]}
        return SavedRun(kind="execute", agent_id="echo_agent", request={"parameters": {"message": answer}},
                        status="completed", created_at_ms=created, duration_ms=200.0, total_cost=0.0001,
                        response={"response": answer, "trace": trace, "status": "COMPLETED"}, trace=trace).__dict__

    # A shared piece (equal), one only in A (deleted) and one only in B (inserted), each trying HTML.
    # The tool arguments likewise: an equal line, a changed one and one only in B.
    return [run("Shared <b>bold</b> text. Safe <i>answer</i>.", {"q": "safe", "note": "<b>kept</b>"}, T0),
            run(f"Shared <b>bold</b> text. Now {IMG} and {LINK} here.",
                {"extra": "<i>added</i>", "q": IMG, "note": "<b>kept</b>"}, T0 + 1)]


def _compare_script() -> None:
    import streamlit as st

    from components.trace_compare import compare_runs
    from fruxon_playground.history import SavedRun

    a, b = (SavedRun(**data) for data in st.session_state["runs"])
    compare_runs(b, a)  # History passes the rows in table order (newest first): A is still the older run


def test_untrusted_answers_step_and_tool_names_are_escaped() -> None:
    at = AppTest.from_function(_compare_script, default_timeout=30)
    at.session_state["runs"] = json.loads(json.dumps(_runs_with_untrusted_text()))
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    a, b = answer_html(at, "a"), answer_html(at, "b")
    assert "&lt;img src=x onerror=alert(1)&gt;" in b and "[x](javascript:alert(1))" in b
    assert "Shared &lt;b&gt;bold&lt;/b&gt; text." in a and "Shared &lt;b&gt;bold&lt;/b&gt; text." in b
    assert "&lt;i&gt;answer&lt;/i&gt;" in a
    for body in html_bodies(at):
        for tag in ("<img", "<a ", "<b>", "<i>", "onerror=alert(1)>"):
            assert tag not in body
    payloads = "".join(body for body in html_bodies(at) if "<table" in body)
    assert "&lt;img src=x onerror=alert(1)&gt;" in payloads  # the changed tool argument, side by side
    assert "&lt;b&gt;kept&lt;/b&gt;" in payloads and "&lt;i&gt;added&lt;/i&gt;" in payloads  # equal and added lines
    markdown = [m.value for m in at.markdown] + [e.label for e in at.expander]
    assert not any(IMG in text or "](javascript" in text for text in markdown)
    expander = next(e.label for e in at.expander if "Search" in e.label)
    assert expander.startswith(md(f"{IMG} Search"))  # md(): literal, not a tag


def test_the_step_table_can_show_only_the_steps_that_differ() -> None:
    at = AppTest.from_function(_compare_script, default_timeout=30)
    at.session_state["runs"] = json.loads(json.dumps(_runs_with_untrusted_text()))
    at.run()
    steps = at.dataframe[2].value
    assert list(steps["Change"]) == ["", "changed"] and list(steps["Step"]) == ["Plan", f"{IMG} Search"]
    assert steps.iloc[1]["What differs"] == "arguments ($.q, $.extra), result ($.echo.q, $.echo.extra)"
    at.toggle(key="compare.steps.differing").set_value(True).run()
    assert list(at.dataframe[2].value["Step"]) == [f"{IMG} Search"]  # "Plan" is the same in both runs


def _failed_script() -> None:
    import streamlit as st

    from components.trace_compare import compare_runs
    from fruxon_playground.history import SavedRun

    done = SavedRun(**st.session_state["runs"][0])
    failed = SavedRun(kind="execute", agent_id="echo_agent", request={"parameters": {}}, status="failed",
                      error="Parameter message is required", created_at_ms=done.created_at_ms + 5, duration_ms=30.0)
    compare_runs(done, failed)


def test_a_failed_run_without_trace_compares_with_a_completed_one() -> None:
    at = AppTest.from_function(_failed_script, default_timeout=30)
    at.session_state["runs"] = json.loads(json.dumps(_runs_with_untrusted_text()))
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    verdict = next(m.value for m in at.markdown if "-badge[" in m.value)
    assert md("A completed, B failed") in verdict and md("Δcost unknown (B has no trace)") in verdict
    assert "Parameter message is required" in answer_html(at, "b")
    assert any("B has no trace" in c.value for c in at.caption)
    assert len(at.dataframe) == 2  # inputs and figures; no step table without both traces
