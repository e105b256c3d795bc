"""The Test cases page with AppTest, against the embedded sandbox (in memory, no delays)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from components import state
from components.cases_editor import LABEL_KINDS, _read_editor
from fruxon_playground.cases.model import TestCase
from fruxon_playground.cases.sqlite_store import SqliteCaseStore
from fruxon_playground.cases.store import CaseScope
from fruxon_playground.history import RunQuery, open_store

ROOT = Path(__file__).resolve().parents[2]
ENTRY = f"import runpy\nrunpy.run_path({str(ROOT / 'app.py')!r}, run_name='__main__')\n"
PAGE = str(ROOT / "pages" / "test_cases.py")


@pytest.fixture(autouse=True)
def instant_sandbox(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    history = tmp_path / "history.sqlite3"
    monkeypatch.setenv("PLAYGROUND_HISTORY_PATH", str(history))
    for name in ("FRUXON_API_KEY", "FRUXON_BASE_URL", "FRUXON_TENANT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PLAYGROUND_SANDBOX_DB", ":memory:")
    monkeypatch.setenv("PLAYGROUND_SANDBOX_SPEED", "0")
    monkeypatch.setenv("PLAYGROUND_OWNER", "browser")
    return history


def start(page: str = PAGE) -> AppTest:
    at = AppTest.from_string(ENTRY, default_timeout=60)
    at.run()
    at.switch_page(page).run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def texts(at: AppTest) -> str:
    return "\n".join([*(m.value for m in at.markdown), *(t.value for t in at.text), *(c.value for c in at.caption),
                      *(e.value for e in at.error), *(w.value for w in at.warning), *(i.value for i in at.info),
                      *(s.value for s in at.success)])


def button(at: AppTest, label: str):
    return next(b for b in [*at.button, *at.form_submit_button] if b.label == label)


def frame_with(at: AppTest, column: str) -> pd.DataFrame:
    return next(d.value for d in at.dataframe if column in d.value.columns)


def run_batch(at: AppTest, label: str = "Run 5 case(s)") -> pd.DataFrame:
    """Press Run and rerun the page until the batch's final results show (the fragment has no timer here)."""
    button(at, label).click().run()
    deadline = time.monotonic() + 30
    while "took" not in texts(at):
        assert time.monotonic() < deadline, texts(at)
        time.sleep(0.2)
        at.run()
    assert not at.exception, [e.message for e in at.exception]
    return frame_with(at, "Failed checks")


def test_the_sandbox_agent_gets_the_demo_cases_and_a_batch_shows_the_failure_on_purpose(instant_sandbox) -> None:
    at = start()
    assert "ships 5 test cases for this agent; one fails on purpose" in texts(at)
    assert list(frame_with(at, "What they check")["Name"])[-1] == "Refund limit in euros (fails on purpose)"
    grid = run_batch(at)
    assert list(grid["Result"]) == ["✓ passed"] * 4 + ["✗ failed"]
    assert list(grid["Checks"]) == ["✓✓✓✓", "✓✓✓", "✓✓✓", "✓✓✓", "✓✗"]
    assert grid["Failed checks"].iloc[-1] == "answer contains “500 EUR”: the answer does not contain “500 EUR”"
    assert all(link.startswith("history?run=") for link in grid["Run"]) and grid["Cost ($)"].astype(float).gt(0).all()
    assert ":green-badge[:material/check: 4 passed] :red-badge[:material/close: 1 failed]" in texts(at)
    # Every case run is a normal saved run of this owner; the batch is kept for comparing.
    owner = at.session_state[state.OWNER]
    scope = CaseScope(owner, "demo", "support_agent")
    (saved,) = SqliteCaseStore(instant_sandbox).list_batches(scope)
    runs = open_store(instant_sandbox).list(RunQuery(owner, group_id=saved.id)).items  # grouped under the batch
    assert {r.id for r in runs} == {link.split("=")[1] for link in grid["Run"]}
    assert sorted(r.label for r in runs) == sorted(grid["Case"])  # each labelled with its case's name
    assert saved.summary == "4 passed · 1 failed" and saved.target_label == "deployed"
    assert "ships 5 test cases" not in texts(at.run())  # offered once


def test_comparing_revision_2_with_deployed_highlights_the_improvement(instant_sandbox) -> None:
    at = start()
    at.segmented_control(key="cases.target").set_value("revision").run()
    at.selectbox(key="cases.revision").set_value(2).run()
    first = run_batch(at)
    assert list(first["Result"]).count("✗ failed") == 2  # revision 2 has no tone input
    at.segmented_control(key="cases.target").set_value("deployed").run()
    run_batch(at)
    assert not [s for s in at.selectbox if s.label == "Compare with an earlier batch"]  # drawn once opened
    scope = CaseScope(at.session_state[state.OWNER], "demo", "support_agent")
    newest = SqliteCaseStore(instant_sandbox).list_batches(scope)[0]
    at.session_state[f"cases.compare_box.{newest.id}"] = True  # open the expander
    at.run()
    next(s for s in at.selectbox if s.label == "Compare with an earlier batch").select_index(0).run()
    assert ":green-badge[:material/trending_up: 1 improvement(s)]" in texts(at)
    changes = frame_with(at, "Checks that changed")
    improved = changes[changes["Change"] == "improvement"]
    assert list(improved["Case"]) == ["Formal tone greets the customer"]
    assert list(improved["Before"]) == ["✗ failed"] and list(improved["Now"]) == ["✓ passed"]
    assert "✗→✓ answer contains “Dear customer”" in improved["Checks that changed"].iloc[0]


def test_a_case_is_added_from_the_execute_forms_inputs_and_saved(instant_sandbox) -> None:
    at = start(str(ROOT / "pages" / "execute.py"))
    next(t for t in at.text_area if t.label == "Question *").input("Why was I charged twice?").run()
    at.switch_page(PAGE).run()
    button(at, "Add from the Execute form").click().run()
    assert next(t for t in at.text_input if t.label == "Name").value == "Case from the Execute form"
    next(t for t in at.text_input if t.label == "Name").input("Double charge")  # a form: sent with Save
    button(at, "Save case").click().run()
    assert not at.exception and "Saved “Double charge”." in texts(at)
    scope = CaseScope(at.session_state[state.OWNER], "demo", "support_agent")
    added = SqliteCaseStore(instant_sandbox).list_cases(scope)[-1]
    assert added.name == "Double charge" and added.parameters == {"question": "Why was I charged twice?",
                                                                   "tone": "friendly"}
    assert "Double charge" in list(frame_with(at, "What they check")["Name"])


def test_a_name_already_used_is_refused_with_the_reason() -> None:
    at = start()
    button(at, "New case").click().run()
    next(t for t in at.text_input if t.label == "Name").input("formal tone greets the CUSTOMER")
    button(at, "Save case").click().run()
    assert "Another case of support\\_agent is already named" in texts(at)


def test_another_connection_gets_no_demo_cases(shared_sandbox) -> None:
    at = AppTest.from_string(ENTRY, default_timeout=60)
    at.secrets["connections"] = {"fruxon": {"api_key": shared_sandbox.api_key, "base_url": shared_sandbox.base_url,
                                            "tenant": shared_sandbox.tenant}}
    at.run()
    at.switch_page(PAGE).run()
    assert at.session_state[state.CONNECTION].settings.source != "sandbox"
    assert "0 case(s) of support\\_agent" in texts(at) and "ships" not in texts(at)
    assert button(at, "Run 0 case(s)").disabled


def test_the_editor_reads_inputs_and_checks_like_the_csv_cells_and_names_each_problem() -> None:
    case = TestCase(name="x", agent="support_agent")
    label = {kind: text for text, kind in LABEL_KINDS.items()}
    parameters = pd.DataFrame([{"Parameter": "question", "Value": "How?"}, {"Parameter": "days", "Value": "3"},
                               {"Parameter": "tone", "Value": None}, {"Parameter": None, "Value": None}])
    checks = pd.DataFrame([{"Check": label["contains"], "Value": "refund"},
                           {"Check": label["calls_tool"], "Value": 'kb.search {"q": 1}'},
                           {"Check": label["no_failure"], "Value": None}, {"Check": None, "Value": None}])
    edited, problems = _read_editor(case, "Edited", parameters, checks, '{"id": "u1"}')
    assert problems == [] and edited.parameters == {"question": "How?", "days": 3} and edited.chat_user == {"id": "u1"}
    assert [c.as_json() for c in edited.checks] == [{"kind": "contains", "text": "refund"},
                                                    {"kind": "calls_tool", "tool": "kb.search", "arguments": {"q": 1}},
                                                    {"kind": "no_failure"}]
    bad_checks = pd.DataFrame([{"Check": label["max_cost"], "Value": "cheap"}, {"Check": None, "Value": "x"},
                               {"Check": label["matches"], "Value": "a("}])
    bad_parameters = pd.DataFrame([{"Parameter": "", "Value": "orphan"}])
    _, problems = _read_editor(case, "Edited", bad_parameters, bad_checks, "{nope")
    assert problems == [
        "Input row 1: the value has no parameter name.",
        "Check row 1 (Cost ≤ (USD)): 'cheap' is not a number",
        "Check row 2: pick what it checks.",
        "Check row 3 (Text matches regex): pattern: not a valid regular expression: missing ), unterminated "
        "subpattern at position 1",
        "Chat user: not JSON (Expecting property name enclosed in double quotes).",
    ]


SAVE_FROM_FORM = """
import streamlit as st
from components import state
from components.cases_editor import save_case_from_form
from components.connection import Connection
from fruxon_playground.settings import ConnectionSettings
st.session_state[state.OWNER] = "browser"
settings = ConnectionSettings("http://127.0.0.1:9", "demo", "fx_pat_form_key_0000000042", source="custom")
save_case_from_form(Connection(settings, "support_agent"),
                    {"parameters": {"question": "Key fx_pat_form_key_0000000042 leaked?"}, "sessionId": "s1"})
"""


def test_save_case_from_form_names_the_forms_inputs_as_a_case_without_the_key(instant_sandbox) -> None:
    at = AppTest.from_string(SAVE_FROM_FORM, default_timeout=30).run()
    next(t for t in at.text_input if t.label == "Case name").input("From the form").run()
    button(at, "Save case").click().run()
    assert "Saved “From the form”. Add its checks on the Test cases page." in texts(at)
    (saved,) = SqliteCaseStore(instant_sandbox).list_cases(CaseScope("browser", "demo", "support_agent"))
    assert saved.parameters == {"question": "Key •••• leaked?"} and "sessionId" not in json.dumps(saved.as_json())


def test_importing_a_bad_csv_changes_nothing_and_a_good_jsonl_adds_and_replaces(instant_sandbox) -> None:
    at = start()
    uploader = next(u for u in at.file_uploader if u.label == "Import cases (.jsonl or .csv)")
    uploader.upload("cases.csv", b"name,param:question,check:max_cost\nCheap,How?,cheap\n,,\nOk,Hi,0.1\n", "text/csv").run()
    button(at, "Import").click().run()
    (error,) = at.error
    assert error.value.startswith("Nothing was imported from “cases\\.csv”; fix these first:")
    assert "line 2, column “check:max_cost”: 'cheap' is not a number" in error.value.replace("\\", "")
    scope = CaseScope(at.session_state[state.OWNER], "demo", "support_agent")
    assert len(SqliteCaseStore(instant_sandbox).list_cases(scope)) == 5

    lines = [{"name": "Formal tone greets the customer", "parameters": {"question": "Hi", "tone": "formal"},
              "checks": [{"kind": "contains", "text": "Dear customer"}]},
             {"name": "Brand new", "parameters": {"question": "How?"}, "checks": [{"kind": "no_failure"}]}]
    uploader = next(u for u in at.file_uploader if u.label == "Import cases (.jsonl or .csv)")
    uploader.set_value(("more.jsonl", "\n".join(json.dumps(line) for line in lines).encode(), "application/jsonl")).run()
    button(at, "Import").click().run()
    assert "Imported 1 new case(s), replaced 1." in texts(at)
    stored = {c.name: c for c in SqliteCaseStore(instant_sandbox).list_cases(scope)}
    assert len(stored) == 6 and stored["Formal tone greets the customer"].parameters["question"] == "Hi"
