"""The trace builder: tolerant of anything, roll-ups that add up, search that keeps ancestors."""

from __future__ import annotations

import json
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from fruxon_playground.sandbox import catalog
from fruxon_playground.sandbox.engine import RunSpec, plan_run
from fruxon_playground.trace import Kind, Status, build_trace, build_trace_from_step_events, filter_spans


def node(id_: str, *, type_: str = "LLM_STEP", status: str = "SUCCESS", start: int = 0, end: int = 10,
         steps: list | None = None, **extra) -> dict:
    return {"id": id_, "displayName": id_, "type": type_, "status": status, "startTime": start, "endTime": end,
            "duration": end - start if end else -start, "steps": steps or [], **extra}


def engine_trace() -> dict:
    agent = catalog.DEMO_AGENTS["trip_planner"]
    spec = RunSpec("trip_planner", 4, catalog.revision_flow("trip_planner", 4), {"city": "Oslo", "days": 3, "budget_usd": 900.0},
                   agent.parameters_metadata, 1_767_225_600_000, "s", is_test=True)
    return plan_run(spec, "rec").outcome.trace


def test_every_source_shape_gives_the_same_tree() -> None:
    trace = engine_trace()
    expected = [s.name for s in build_trace(trace).walk()]
    sources = [trace, {"response": "x", "trace": trace}, {"status": "COMPLETED", "trace": trace}, trace["traces"],
               json.dumps(trace), json.dumps(json.dumps(trace)).encode()]
    for source in sources:
        assert [s.name for s in build_trace(source).walk()] == expected
    built = build_trace(json.dumps(json.dumps(trace)))
    assert "the trace was JSON-encoded twice" in built.warnings


def test_rollups_self_time_and_critical_path_on_a_real_run() -> None:
    trace = build_trace(engine_trace())
    (root,) = trace.roots
    flow = trace.spans[root]
    assert flow.kind is Kind.FLOW and trace.agent_revision == 4
    assert abs(flow.subtree_cost - trace.total_cost) < 1e-12
    for span in trace.walk():
        kids = trace.children_of(span.id)
        assert abs(span.subtree_cost - span.cost - sum(k.subtree_cost for k in kids)) < 1e-12
        assert span.self_time_ms is None or 0 <= span.self_time_ms <= span.total_time_ms
    critical = [s for s in trace.walk() if s.on_critical_path]
    assert critical[0].id == root and all(b.parent_id == a.id for a, b in zip(critical, critical[1:], strict=False))


def test_tolerates_unknown_kinds_orphans_duplicates_running_steps_and_junk() -> None:
    source = [
        node("a", type_="QUANTUM", status="Pondering", steps=[node("b", status="ERROR", error="boom"), "not a node"]),
        node("a", end=0),  # duplicate id, still running
        42,
    ]
    trace = build_trace(source)
    assert len(trace.spans) == 3
    a = trace.spans["a"]
    assert a.kind is Kind.UNKNOWN and a.raw_type == "QUANTUM" and a.raw_status == "Pondering"
    assert trace.spans["a#2"].status is Status.RUNNING and trace.spans["a#2"].duration_ms is None
    assert trace.spans["b"].status is Status.ERROR and a.on_error_path and a.error_count == 1
    assert trace.first_error_path() == ("a", "b")
    assert trace.is_live and any("not an object" in w for w in trace.warnings)
    assert build_trace("<html>not json").spans == {}


def test_live_trace_from_step_events_with_an_orphan() -> None:
    events = [
        {"id": "f", "type": "FLOW_STEP", "displayName": "Agent", "startTime": 100, "endTime": 0, "duration": -100},
        {"id": "l", "parentId": "f", "type": "LLM_STEP", "startTime": 110, "endTime": 0, "duration": -110},
        {"id": "l", "parentId": "f", "type": "LLM_STEP", "status": "SUCCESS", "startTime": 110, "endTime": 150, "duration": 40},
        {"id": "x", "parentId": "ghost", "type": "TOOL", "startTime": 120, "endTime": 130, "duration": 10},
    ]
    trace = build_trace_from_step_events(events)
    assert trace.spans["f"].status is Status.RUNNING and trace.spans["l"].duration_ms == 40
    assert trace.spans["l"].depth == 1 and trace.orphans == ("x",)


def test_search_keeps_matches_and_their_ancestors_only() -> None:
    trace = build_trace(engine_trace())
    shown = filter_spans(trace, "units.convert")
    names = {trace.spans[i].name for i in shown}
    assert "Convert" in names and "Agent" in names and "Quality check" not in names
    assert filter_spans(trace, errors_only=True) == set()
    quick = filter_spans(trace, min_duration_ms=10_000)
    assert quick == set()


@st.composite
def random_forest(draw) -> list:
    rng = random.Random(draw(st.integers(0, 10_000)))
    count = draw(st.integers(1, 80))
    nodes = []
    for i in range(count):
        start = rng.randint(0, 1000)
        item = node(f"n{i}", type_=rng.choice(["LLM_STEP", "TOOL", "AGENT_STEP", "MYSTERY"]),
                    status=rng.choice(["SUCCESS", "ERROR", "UNSPECIFIED", "Weird"]), start=start,
                    end=rng.choice([0, start + rng.randint(0, 500)]),
                    llmStepTrace={"inputCost": rng.random() / 1000, "outputCost": "0.0001", "inputTokens": rng.randint(0, 99)})
        siblings = nodes
        for _ in range(rng.randint(0, 4)):
            if not siblings:
                break
            siblings = rng.choice(siblings)["steps"]
        siblings.append(item)
    return nodes


def count_nodes(nodes: list) -> int:
    return sum(1 + count_nodes(n["steps"]) for n in nodes)


@settings(max_examples=60, deadline=None)
@given(random_forest())
def test_random_traces_lose_nothing_and_roll_up_exactly(forest: list) -> None:
    trace = build_trace(forest)
    assert len(trace.spans) == count_nodes(forest) == len(list(trace.walk()))
    for span in trace.walk():
        kids = trace.children_of(span.id)
        assert abs(span.subtree_cost - span.cost - sum(k.subtree_cost for k in kids)) < 1e-9
        assert span.subtree_input_tokens == span.input_tokens + sum(k.subtree_input_tokens for k in kids)
        assert span.error_count == (span.status is Status.ERROR) + sum(k.error_count for k in kids)
        assert span.self_time_ms is None or span.self_time_ms >= 0
    assert {s.raw_type for s in trace.spans.values()} <= {"LLM_STEP", "TOOL", "AGENT_STEP", "MYSTERY"}


def test_diff_of_a_trace_with_itself_is_empty_and_changes_are_found() -> None:
    from fruxon_playground.trace.diff import diff_traces

    base = engine_trace()
    assert diff_traces(build_trace(base), build_trace(base)).identical
    changed = json.loads(json.dumps(base))
    flow = changed["traces"][0]
    flow["steps"].pop()  # the quality check is gone
    flow["steps"][0]["duration"] += 500
    flow["steps"].append(node("Extra step", type_="TOOL", start=flow["startTime"], end=flow["startTime"] + 5))
    diff = diff_traces(build_trace(base), build_trace(changed))
    kinds = {(c.change, c.path[-1]) for c in diff.changes}
    assert ("removed", "Quality check") in kinds and ("added", "Extra step") in kinds
    research = next(c for c in diff.changes if c.path[-1] == "Research sub-agent")
    assert research.change == "changed" and research.duration_delta_ms == 500
