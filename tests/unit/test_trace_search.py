"""Search: matches plus their ancestors, nothing else."""

from __future__ import annotations

from fruxon_playground.trace import Kind, build_trace, filter_spans, random_trace
from fruxon_playground.trace.search import contains_text

T0 = 1_767_225_600_000


def step(
    id_: str, type_: str = "LLM_STEP", *, duration: int | None = 100, steps: list | None = None, **extra
) -> dict:
    node = {"id": id_, "displayName": id_.title(), "type": type_, "status": "SUCCESS", "startTime": T0,
            "steps": steps or [], **extra}  # fmt: skip
    node.update(
        {"endTime": T0 + duration, "duration": duration}
        if duration is not None
        else {"endTime": 0, "duration": -T0}
    )
    return node


TRACE = build_trace([step("agent", "FLOW_STEP", duration=5000, steps=[
    step("planner", "AGENT_STEP", duration=3000, steps=[
        step("plan", llmStepTrace={"model": "gpt-4o-mini", "llmMessages": [
            {"role": "user", "content": "Find flights to Reykjavík"}]}, duration=900),
        step("lookup", "TOOL", duration=40, toolTrace={"tool": {"integrationId": "travel", "id": "flights"},
                                                       "parameters": {"destination": "KEF", "seats": 2}},
             result={"strValue": None, "jsonValue": {"fares": [{"price": 4242}]}}),
    ]),
    step("payment", "TOOL", status="ERROR", error="Card DECLINED by issuer", duration=300),
    step("gate", "HITL", hitlTrace={"outboundMessage": "Approve booking?"}, duration=None),
    step("oddity", "QUANTUM_STEP", duration=10),
])])  # fmt: skip


def test_an_empty_search_shows_everything() -> None:
    assert filter_spans(TRACE) == set(TRACE.spans)


def test_a_match_brings_its_ancestors_and_nothing_else() -> None:
    assert filter_spans(TRACE, "lookup") == {"agent", "planner", "lookup"}


def test_matching_is_case_insensitive_and_reaches_inside_payloads() -> None:
    assert filter_spans(TRACE, "reykjavík") == {"agent", "planner", "plan"}  # an LLM message
    assert filter_spans(TRACE, "kef") == {"agent", "planner", "lookup"}  # a tool argument
    assert filter_spans(TRACE, "4242") == {"agent", "planner", "lookup"}  # a number inside the result
    assert filter_spans(TRACE, "  declined ") == {"agent", "payment"}  # the error, query trimmed
    assert filter_spans(TRACE, "approve booking") == {"agent", "gate"}  # the approval message
    assert filter_spans(TRACE, "travel.flights") == {"agent", "planner", "lookup"}  # the tool name
    assert filter_spans(TRACE, "GPT-4O") == {"agent", "planner", "plan"}  # the model
    assert filter_spans(TRACE, "nothing like this") == set()


def test_matching_by_kind_type_and_status() -> None:
    assert filter_spans(TRACE, "quantum") == {"agent", "oddity"}  # the raw type
    assert filter_spans(TRACE, "hitl") == {"agent", "gate"}
    assert filter_spans(TRACE, "running") == {"agent", "gate"}  # the gate has not finished
    assert filter_spans(TRACE, "error") == {"agent", "payment"}


def test_errors_only_and_minimum_duration() -> None:
    assert filter_spans(TRACE, errors_only=True) == {"agent", "payment"}
    assert filter_spans(TRACE, min_duration_ms=1000) == {
        "agent",
        "planner",
        "gate",
    }  # running steps never hidden
    assert filter_spans(TRACE, "plan", min_duration_ms=1000) == {"agent", "planner"}


def test_kinds_accept_kinds_and_raw_types_in_any_case() -> None:
    assert filter_spans(TRACE, kinds=[Kind.TOOL]) == {"agent", "planner", "lookup", "payment"}
    assert filter_spans(TRACE, kinds={"llm", "quantum_step"}) == {"agent", "planner", "plan", "oddity"}
    assert filter_spans(TRACE, kinds=[Kind.TOOL], errors_only=True) == {"agent", "payment"}
    assert filter_spans(TRACE, kinds=[]) == set(TRACE.spans)  # nothing chosen means no filter


def test_orphans_are_their_own_ancestry() -> None:
    trace = build_trace([step("root"), step("stray", "TOOL") | {"parentId": "ghost"}])
    assert filter_spans(trace, "stray") == {"stray"}


def test_contains_text_survives_self_referencing_payloads() -> None:
    loop: dict = {"note": "outer"}
    loop["self"] = loop
    assert contains_text(loop, "outer") and not contains_text(loop, "absent")


def test_search_on_a_big_trace_returns_whole_ancestor_chains() -> None:
    trace = build_trace(random_trace(5000, seed=9))
    shown = filter_spans(trace, "approval:")
    assert shown and all(trace.spans[i].parent_id is None or trace.spans[i].parent_id in shown for i in shown)
    assert {trace.spans[i].name for i in shown if not trace.spans[i].children} <= {
        s.name for s in trace.spans.values() if s.name.startswith("Approval:")
    }
