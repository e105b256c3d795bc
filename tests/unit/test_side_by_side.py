"""Side by side: each side's wire body, the pair's link, the one-line verdict on runs built by hand,
and a real pair (deployed support_agent against its revision 1) started on the sandbox."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from fruxon_playground.api import FruxonClient
from fruxon_playground.cases.target import Target, TargetKind
from fruxon_playground.compare import Tone, compare_runs
from fruxon_playground.drafts import TEMPLATES
from fruxon_playground.history import SavedRun, open_store
from fruxon_playground.runs import RunContext, RunKind
from fruxon_playground.sandbox.config import SandboxConfig
from fruxon_playground.sandbox.embedded import RunningSandbox, start_sandbox
from fruxon_playground.side_by_side import (
    Side,
    draft_declared,
    inputs_of,
    pair_from_query,
    pair_verdict,
    run_label,
    share_query,
    start_pair,
)
from tests.unit.test_compare import BASE_STEPS, failed_run, llm, search, streamed_run, sync_run, trace

KEY = "fx_pat_side_by_side_tests_0000000042"
FORM = {"parameters": {"question": "How do refunds work?", "tone": "formal"},
        "attachments": [{"fileId": "f1", "name": "a.pdf"}], "chatUser": {"id": "u42"}}
A_ID, B_ID = "a" * 32, "0123456789abcdef" * 2


# -- sides -----------------------------------------------------------------------------------------
def test_each_side_sends_the_one_input_the_way_its_target_takes_it() -> None:
    inputs = inputs_of("support_agent", FORM)
    deployed = Side(Target(TargetKind.DEPLOYED), environment_slug="acme_corp", mode="SANDBOX")
    assert deployed.request(inputs) == {**FORM, "environmentSlug": "acme_corp", "mode": "SANDBOX"}
    assert deployed.run_kind is RunKind.STREAM and deployed.label == "deployed · stream · env acme_corp · sandbox mode"

    # A test request has no environment and no chat user (contract §4.4): neither is sent, nor shown.
    revision = Side(Target(TargetKind.REVISION, revision=1, streamed=False), environment_slug="acme_corp",
                    mode="PRODUCTION")
    assert revision.request(inputs) == {"baseRevision": 1, "parameters": FORM["parameters"],
                                        "attachments": FORM["attachments"], "mode": "PRODUCTION"}
    assert revision.run_kind is RunKind.TEST and run_label("B", revision) == "B: revision 1 · sync · production mode"

    draft_request = {**TEMPLATES["calculator"].request, "sessionId": "old-session", "parameters": {"x": 1}}
    draft = Side(Target(TargetKind.DRAFT, draft=draft_request))
    body = draft.request(inputs)
    assert body["flow"] == draft_request["flow"] and body["parameters"] == FORM["parameters"]
    assert "sessionId" not in body and "chatUser" not in body and draft.run_kind is RunKind.STREAM_TEST
    assert draft.label.startswith("draft")
    with pytest.raises(ValueError):
        Side(Target(TargetKind.DEPLOYED), mode="UNSPECIFIED")


def test_a_parameter_the_sides_revision_does_not_declare_is_left_out() -> None:
    inputs = inputs_of("support_agent", {"parameters": {"question": "q", "tone": "formal"}})
    old = Side(Target(TargetKind.REVISION, revision=1), declared=frozenset({"question"}))
    assert old.left_out(inputs) == ["tone"]
    assert old.request(inputs) == {"baseRevision": 1, "parameters": {"question": "q"}}
    assert inputs.parameters == {"question": "q", "tone": "formal"}  # the shared input is not changed
    unknown = Side(Target(TargetKind.REVISION, revision=1))
    assert unknown.left_out(inputs) == [] and unknown.request(inputs)["parameters"] == inputs.parameters


def test_a_draft_declares_what_its_parameters_metadata_lists() -> None:
    assert draft_declared(TEMPLATES["llm"].request) == frozenset({"question"})
    assert draft_declared({"flow": {}}) is None
    assert draft_declared({"parametersMetadata": [{"name": "a"}, {"type": "STRING"}, "junk"]}) == frozenset({"a"})


def test_an_empty_form_sends_no_empty_fields() -> None:
    assert Side(Target(TargetKind.DEPLOYED)).request(inputs_of("echo", {"parameters": None})) == {}


# -- the link --------------------------------------------------------------------------------------
def test_the_link_carries_two_run_ids_and_nothing_else() -> None:
    assert share_query(A_ID, B_ID) == {"a": A_ID, "b": B_ID}
    assert pair_from_query({"a": A_ID, "b": B_ID, "agent": "support_agent"}) == (A_ID, B_ID)
    assert pair_from_query({"agent": "support_agent"}) is None
    assert "only one run" in str(pair_from_query({"a": A_ID}))
    assert "not run ids" in str(pair_from_query({"a": A_ID, "b": "<img src=x>"}))
    assert "same run twice" in str(pair_from_query({"a": A_ID, "b": A_ID}))
    for reason in (pair_from_query({"b": "x"}), pair_from_query({"a": "<b>", "b": A_ID})):
        assert isinstance(reason, str) and "<" not in reason and "x" not in reason.split("(")[0].split()[-1]


# -- the verdict on runs built by hand --------------------------------------------------------------
def test_the_same_answer_and_tools_at_the_same_cost_is_a_same_verdict() -> None:
    verdict = pair_verdict(compare_runs(sync_run("Refunds take 30 days.", trace(3, *BASE_STEPS)),
                                        sync_run("Refunds take 30 days.", trace(3, *BASE_STEPS), duration=1500.0)))
    assert verdict.same_answer and verdict.tools_called_differently == () and verdict.tone is Tone.SAME
    assert verdict.cost_delta == 0 and verdict.latency_delta_ms == 300
    assert verdict.line == "Same answer · Δcost $0 · Δlatency +300 ms (+25%) · same tool calls"


def test_a_different_answer_with_other_tool_calls_names_them_with_the_deltas() -> None:
    a = sync_run("Refunds take 30 days.", trace(3, *BASE_STEPS), duration=2000.0)
    b = streamed_run(["Refunds take ", "14 days."],
                     trace(4, llm("LLM Query", 50, 0.00001, end=100), search("refund policy", ["kb-7"]),
                           llm("LLM Answer", 90, 0.00001)), duration=1000.0)
    verdict = pair_verdict(compare_runs(a, b))
    assert not verdict.same_answer and verdict.tone is Tone.DIFFERENT
    assert verdict.tools_called_differently == ("kb.search_articles (arguments, results)",)
    assert verdict.cost_delta == pytest.approx(-0.00001) and verdict.latency_delta_ms == -1000
    assert verdict.line == ("Different answer · Δcost −$0.0000100 (−33%) · Δlatency −1.00 s (−50%) · "
                            "tools called differently: kb.search_articles (arguments, results)")
    assert [tone for _, tone in verdict.parts] == [Tone.DIFFERENT, Tone.BETTER, Tone.BETTER, Tone.DIFFERENT]


def test_a_run_that_failed_is_worse_and_its_unknown_cost_is_said() -> None:
    verdict = pair_verdict(compare_runs(sync_run("Refunds take 30 days.", trace(3, *BASE_STEPS)),
                                        failed_run("HTTP 400: question is required")))
    assert verdict.outcome == "A completed, B failed" and verdict.tone is Tone.WORSE
    assert "Δcost unknown" in verdict.line and verdict.cost_delta is None
    # B failed fast: its shorter latency is not called better.
    assert [tone for text, tone in verdict.parts if text.startswith("Δ")] == [Tone.NEUTRAL, Tone.NEUTRAL]
    better = pair_verdict(compare_runs(failed_run("HTTP 503"), sync_run("Fine.", trace(3, *BASE_STEPS))))
    assert better.tone is Tone.BETTER and better.line.startswith("Different answer · A failed, B completed")


# -- a real pair on the sandbox --------------------------------------------------------------------
@pytest.fixture(scope="module")
def sandbox() -> Iterator[RunningSandbox]:
    running = start_sandbox(SandboxConfig(api_key=KEY, db_path=":memory:", speed=0.0, seed_history=False))
    yield running
    running.stop()


def saved(store, run_id: str) -> SavedRun:
    deadline = time.monotonic() + 5
    while (run := store.get(run_id)) is None or run.status == "running":
        assert time.monotonic() < deadline, "the run was not saved"
        time.sleep(0.02)
    return run


def test_a_pair_runs_deployed_and_revision_1_at_once_and_saves_both_as_one_group(sandbox, tmp_path) -> None:
    store = open_store(str(tmp_path / "history.sqlite3"))
    context = RunContext(owner="browser:ada", base_url=sandbox.base_url, tenant=sandbox.tenant, secrets=(KEY,))
    sides = (Side(Target(TargetKind.DEPLOYED)),
             Side(Target(TargetKind.REVISION, revision=1, streamed=False), declared=frozenset({"question"})))
    inputs = inputs_of("support_agent", {"parameters": {"question": "How do refunds work?", "tone": "formal"}})
    pair = start_pair("support_agent", inputs, sides,
                      lambda: FruxonClient(sandbox.base_url, KEY, sandbox.tenant), store=store, context=context)
    assert pair.a.kind is RunKind.STREAM and pair.b.kind is RunKind.TEST
    assert pair.a.request == {"parameters": {"question": "How do refunds work?", "tone": "formal"}}
    assert pair.b.request == {"baseRevision": 1, "parameters": {"question": "How do refunds work?"}}
    assert all(handle.wait(30) for handle in pair.handles)
    a, b = saved(store, pair.a.id), saved(store, pair.b.id)
    assert a.group_id == b.group_id == pair.group_id
    assert (a.label, b.label) == ("A: deployed · stream", "B: revision 1 · sync")
    assert (a.status, b.status) == ("completed", "completed")
    assert KEY not in repr(a) + repr(b)

    verdict = pair_verdict(compare_runs(a, b))
    # Revision 1 answered from the model alone; the deployed revision searches the knowledge base.
    assert not verdict.same_answer
    assert verdict.tools_called_differently == ("kb.search_articles (only in A)",)
    assert verdict.cost_delta is not None and verdict.cost_delta != 0
    assert verdict.line.startswith("Different answer · Δcost ")
    assert "tools called differently: kb.search_articles (only in A)" in verdict.line


def test_a_pair_without_a_store_still_runs_both(sandbox) -> None:
    sides = (Side(Target(TargetKind.DEPLOYED), mode="SANDBOX"), Side(Target(TargetKind.DEPLOYED, streamed=False)))
    pair = start_pair("echo_agent", inputs_of("echo_agent", {"parameters": {"message": "hi"}}), sides,
                      lambda: FruxonClient(sandbox.base_url, KEY, sandbox.tenant))
    assert all(handle.wait(30) for handle in pair.handles)
    assert pair.a.recorder is None and pair.a.request["mode"] == "SANDBOX" and "mode" not in pair.b.request
    assert [h.snapshot().state.phase.value for h in pair.handles] == ["completed", "completed"]
