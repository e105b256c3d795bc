"""The live panel on a page (Streamlit AppTest), fed a run that is still going: what it draws of many
tool calls. Streaming itself, in a browser against the sandbox, is in tests/browser/test_playground.py."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]

PAGE = f"""
import json, sys
sys.path.insert(0, {str(ROOT)!r})
import streamlit as st
from components.live_panel import LivePanel
from fruxon_playground.api import events as ev
from fruxon_playground.api.sse import ServerSentEvent
from fruxon_playground.runs import RunKind
from fruxon_playground.runs.fold import Received, fold_all
from fruxon_playground.runs.handle import RunSnapshot


def call(i):
    payload = {{"id": f"call_{{i}}", "toolTrace": {{"tool": {{"integrationId": "kb", "id": "search", "name": "search"}},
                                               "displayName": f"Search {{i}}"}}, "arguments": {{"page": i}}}}
    return Received(ev.parse_event(ServerSentEvent("tool_call", json.dumps(payload))), float(i))


class Running:
    \"\"\"A run still going after `calls` tool calls: what the panel reads of a RunHandle.\"\"\"
    kind = RunKind.STREAM_TEST

    def __init__(self, calls):
        self.received = tuple(call(i) for i in range(calls))

    def snapshot(self):
        return RunSnapshot(fold_all(self.received), self.received, 100.0, False)

    def cancel(self):
        pass


LivePanel(Running(st.session_state["calls"]), key="live").draw()
"""


def panel(calls: int) -> AppTest:
    at = AppTest.from_string(PAGE, default_timeout=30)
    at.session_state["calls"] = calls
    return at.run()


def cards(at: AppTest) -> list[str]:
    return [t.value for t in at.text if t.value.startswith("Search ")]


def test_a_run_with_many_tool_calls_shows_the_first_fifty_and_counts_the_rest() -> None:
    at = panel(180)
    assert not at.exception
    assert cards(at) == [f"Search {i} (kb.search)" for i in range(50)]
    assert any(c.value == "180 tool calls so far; the first 50 are shown, the trace will have them all"
               for c in at.caption)


def test_a_run_with_few_tool_calls_shows_them_all_without_a_count() -> None:
    at = panel(3)
    assert cards(at) == ["Search 0 (kb.search)", "Search 1 (kb.search)", "Search 2 (kb.search)"]
    assert not any("tool calls so far" in c.value for c in at.caption)
