"""The one fault system: header/agent specs, `[[sandbox:…]]` switches and what they do to a plan."""

from __future__ import annotations

import pytest

from fruxon_playground.sandbox import catalog, faults
from fruxon_playground.sandbox.engine import RunSpec, plan_run
from fruxon_playground.sandbox.faults import (
    Faults,
    FaultSpecError,
    Switch,
    for_request,
    parse_faults,
    switches_in,
)

START = 1_767_225_600_000


def spec(question: str = "How do I reset my password?", *, scenario: frozenset[str] = frozenset()) -> RunSpec:
    agent = catalog.DEMO_AGENTS["support_agent"]
    return RunSpec("support_agent", 3, agent.flow(3), {"question": question, "tone": "friendly"},
                   agent.parameters_metadata, START, "s", scenario=scenario)


def test_specs_parse_into_items_and_switches() -> None:
    parsed = parse_faults(" latency=200; status=503 ;scenario=hitl;scenario=slow;")
    assert parsed == Faults(latency_ms=200, status=503, switches=frozenset({Switch.HITL, Switch.SLOW}))
    assert parse_faults(None) == parse_faults("") == Faults()


@pytest.mark.parametrize("bad", ["explode=1", "latency", "latency=soon", "status=42", "drop_after=-1", "scenario=sleepy"])
def test_bad_specs_say_what_is_wrong(bad: str) -> None:
    with pytest.raises(FaultSpecError):
        parse_faults(bad)


def test_the_request_wins_item_by_item_and_switches_add_up() -> None:
    merged = for_request("status=500;latency=100;scenario=html", "status=429", {"q": ["x [[sandbox:tool_fail]]"]})
    assert merged.status == 429 and merged.latency_ms == 100
    assert merged.switches == {Switch.HTML, Switch.TOOL_FAIL}


def test_switches_are_found_anywhere_in_the_parameters_and_unknown_ones_are_text() -> None:
    parameters = {"a": "[[sandbox:error]]", "b": {"c": ["[[sandbox:drop]] and [[sandbox:nope]]"]}, "d": 3}
    assert switches_in(parameters) == {Switch.ERROR, Switch.DROP}


def test_a_status_switch_or_item_answers_instead_of_running() -> None:
    assert for_request(None, None, {"q": "[[sandbox:status_503]]"}).http_status == 503
    assert for_request(None, "status=429", {"q": "[[sandbox:status_503]]"}).http_status == 429
    assert Faults().http_status is None


def test_a_header_switch_shapes_the_plan_like_a_parameter_switch() -> None:
    from_parameter = plan_run(spec("help [[sandbox:hitl]]"), "r")
    from_header = plan_run(spec("help"), "r", parse_faults("scenario=hitl"))
    assert from_parameter.outcome.status == from_header.outcome.status == "WAITING_FOR_ASYNC"
    assert plan_run(spec("help", scenario=frozenset({"hitl"})), "r").outcome.status == "WAITING_FOR_ASYNC"


def test_error_after_cuts_the_stream_with_an_error_event() -> None:
    plan = plan_run(spec(), "rec", Faults(error_after=2))
    assert [e.event for e in plan.events][-1] == "error" and len(plan.events) == 3
    assert plan.events[-1].data["executionRecordId"] == "rec" and plan.outcome.status == "FAILED"


def test_drop_after_and_the_drop_switch_fail_the_run_without_a_terminal_event() -> None:
    dropped = plan_run(spec(), "r", Faults(drop_after=2))
    assert dropped.drop_after_index == 2 and dropped.outcome.error == faults.DROP_MESSAGE
    switched = plan_run(spec("q [[sandbox:drop]]"), "r")
    assert switched.drop_after_index is not None and switched.outcome.trace["result"] is None
    assert all(e.event not in ("done", "error") for e in switched.events[: switched.drop_after_index])


def test_silence_and_padding_move_and_add_events() -> None:
    plain = plan_run(spec(), "r")
    silent = plan_run(spec(), "r", Faults(silence_ms=900))
    assert silent.events[0].offset_ms == plain.events[0].offset_ms
    assert silent.events[1].offset_ms == plain.events[1].offset_ms + 900
    padded = plan_run(spec(), "r", Faults(large_kb=8))
    assert len(padded.events) == len(plain.events) + 8 and padded.events[-1].event == "done"
