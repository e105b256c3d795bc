"""The simulated engine: deterministic, consistent traces, every scenario, HITL pause and resume."""

from __future__ import annotations

import pytest

from fruxon_playground.sandbox import catalog
from fruxon_playground.sandbox.engine import RunSpec, plan_run, resume_run
from fruxon_playground.sandbox.tools import ToolContext, convert_units, evaluate, run_tool

START = 1_767_225_600_000


def spec(agent_id: str = "support_agent", *, params: dict | None = None, test: bool = True, turn: int = 0) -> RunSpec:
    agent = catalog.DEMO_AGENTS[agent_id]
    defaults = {"support_agent": {"question": "How do I reset my password?", "tone": "friendly"},
                "refund_desk": {"order_id": "ord_1", "amount": 12.5},
                "trip_planner": {"city": "Oslo", "days": 3, "budget_usd": 900.0},
                "echo_agent": {"message": "hello"}}
    return RunSpec(agent_id=agent_id, revision=-1 if test else agent.current_revision,
                   flow=catalog.revision_flow(agent_id, agent.current_revision), parameters=params or defaults[agent_id],
                   parameters_metadata=agent.parameters_metadata, start_ms=START, session_id="s", session_turn=turn,
                   is_test=test)


def walk(node: dict):
    yield node
    for child in node.get("steps") or []:
        yield from walk(child)


def test_same_request_same_text_tokens_and_tools() -> None:
    a, b = plan_run(spec(), "r1"), plan_run(spec(), "r2")
    assert a.outcome.response_text == b.outcome.response_text
    assert a.outcome.input_tokens == b.outcome.input_tokens and a.outcome.tool_keys == ("kb.search_articles",)
    other_turn = plan_run(spec(turn=1), "r3")
    assert other_turn.outcome.response_text != a.outcome.response_text


def test_trace_is_consistent_with_stream() -> None:
    plan = plan_run(spec("trip_planner"), "rec")
    trace = plan.outcome.trace
    (flow,) = trace["traces"]
    assert flow["type"] == "FLOW_STEP" and flow["displayName"] == "Agent"
    nodes = list(walk(flow))
    for node in nodes:
        for child in node["steps"]:
            assert node["startTime"] <= child["startTime"] <= child["endTime"] <= node["endTime"]
    llm_cost = sum(n["llmStepTrace"]["inputCost"] + n["llmStepTrace"]["outputCost"] for n in nodes if n.get("llmStepTrace"))
    assert trace["totalCost"] == pytest.approx(llm_cost) and trace["totalCost"] > 0
    assert {n["type"] for n in nodes} >= {"FLOW_STEP", "AGENT_STEP", "LLM_STEP", "TOOL", "JUDGE"}
    tool_ids = {n["id"] for n in nodes if n["type"] == "TOOL"}
    assert tool_ids == {e.data["id"] for e in plan.events if e.event == "tool_call"}
    names = [e.event for e in plan.events]
    assert names[0] == "step_trace" and names[-1] == "done" and names[-2] == "usage"
    assert [e.offset_ms for e in plan.events] == sorted(e.offset_ms for e in plan.events)
    text = "".join(e.data["chunk"] for e in plan.events if e.event == "text")
    assert plan.outcome.response_text in text


def test_start_frames_have_negative_durations_and_deployed_runs_no_step_events() -> None:
    plan = plan_run(spec(), "r")
    start = next(e for e in plan.events if e.event == "step_trace")
    assert start.data["endTime"] == 0 and start.data["duration"] == -start.data["startTime"]
    assert not [e for e in plan_run(spec(test=False), "r").events if e.event == "step_trace"]


def test_hitl_pauses_then_resumes_on_approval_and_on_rejection() -> None:
    paused = plan_run(spec("refund_desk"), "rec")
    assert paused.outcome.status == "WAITING_FOR_ASYNC"
    pending = paused.outcome.pending_approval
    done = paused.events[-1]
    assert done.event == "done" and done.data["status"] == "WaitingForHuman" and "trace" not in done.data
    assert [e.event for e in paused.events][-2] == "status"
    approved = resume_run(spec("refund_desk"), "rec", pending, True, "approve", START + 60_000)
    assert approved.outcome.status == "COMPLETED" and "Refund rf_" in approved.outcome.response_text
    hitl = next(n for n in walk(approved.outcome.trace["traces"][0]) if n["type"] == "HITL")
    assert hitl["hitlTrace"]["decision"] == "APPROVE" and hitl["hitlTrace"]["requestId"] == pending.request_id
    rejected = resume_run(spec("refund_desk"), "rec", pending, False, "too large", START + 60_000)
    assert "did not work" in rejected.outcome.response_text


@pytest.mark.parametrize("scenario", ["error", "tool_fail", "html", "long", "drop", "slow"])
def test_scenarios(scenario: str) -> None:
    plan = plan_run(spec(params={"question": f"help [[sandbox:{scenario}]]", "tone": "friendly"}), "r")
    names = [e.event for e in plan.events]
    if scenario == "error":
        assert names[-1] == "error" and plan.outcome.status == "FAILED" and names.count("text") == 3
    elif scenario == "tool_fail":
        result = next(e for e in plan.events if e.event == "tool_result")
        assert result.data["status"] == "failed" and result.data["error"] and plan.outcome.status == "COMPLETED"
    elif scenario == "html":
        assert "<script>alert(1)</script>" in plan.outcome.response_text
    elif scenario == "long":
        assert names.count("text") > 1000
    elif scenario == "drop":
        assert plan.drop_after_index is not None and plan.outcome.error == "connection dropped (simulated)"
    elif scenario == "slow":
        plain = plan_run(spec(params={"question": "help", "tone": "friendly"}), "r")
        assert plan.outcome.end_offset_ms > 4 * plain.outcome.end_offset_ms


def test_tools_do_real_work() -> None:
    assert evaluate("2*(3+4)") == 14
    assert round(convert_units(10, "km", "mi"), 3) == 6.214
    assert round(convert_units(100, "C", "F"), 1) == 212.0
    assert run_tool("math", "calculate", {"expression": "__import__('os')"}, ToolContext()).status == "failed"
    found = run_tool("files", "search", {"query": "deadline"}, ToolContext({"plan.txt": "intro\nThe deadline is May 3.\n"}))
    assert found.result["matches"] == [{"file": "plan.txt", "line": 2, "text": "The deadline is May 3."}]
    assert run_tool("files", "search", {"query": "x"}, ToolContext()).error.startswith("no files attached")
