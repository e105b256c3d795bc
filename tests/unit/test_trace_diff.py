"""Trace diff: steps aligned by name, kind and order among same-named siblings."""

from __future__ import annotations

import copy
import json

import pytest

from fruxon_playground.trace import Change, Kind, build_trace, diff_traces, random_trace
from fruxon_playground.trace.diff import payload_changes, step_keys

T0 = 1_767_225_600_000


def step(name: str, type_: str = "LLM_STEP", *, start: int = 0, end: int = 100, steps: list | None = None,
         **extra) -> dict:  # fmt: skip
    return {"id": name.lower().replace(" ", "_"), "displayName": name, "type": type_, "status": "SUCCESS",
            "startTime": T0 + start, "endTime": T0 + end, "duration": end - start, "steps": steps or [], **extra}  # fmt: skip


def tool(name: str, arguments: dict, result: dict, **extra) -> dict:
    return step(name, "TOOL", toolTrace={"tool": {"integrationId": "kb", "id": "search"}, "parameters": arguments},
                result={"strValue": None, "jsonValue": result, "fileLink": None}, **extra)  # fmt: skip


def llm(name: str, tokens_in: int, cost: float, **extra) -> dict:
    return step(name, llmStepTrace={"model": "gpt-4o-mini", "inputTokens": tokens_in, "outputTokens": 10,
                                    "inputCost": cost, "outputCost": 0.0}, **extra)  # fmt: skip


def run(*steps: dict, **header) -> dict:
    return {"agentId": "a", "agentRevision": 1, "startTime": T0, "endTime": T0 + 1000,
            "traces": [step("Agent", "FLOW_STEP", end=1000, steps=list(steps))], **header}  # fmt: skip


BASE = run(
    llm("Plan", 100, 0.001),
    tool("Search", {"query": "reset", "limit": 5}, {"hits": [{"title": "A"}, {"title": "B"}]}),
    tool("Search", {"query": "password"}, {"hits": []}),
    step("Quality check", "JUDGE"),
)


def test_a_trace_diffed_with_itself_or_a_copy_is_empty() -> None:
    trace = build_trace(BASE)
    for other in (trace, build_trace(copy.deepcopy(BASE)), build_trace(json.dumps(BASE))):
        diff = diff_traces(trace, other)
        assert diff.identical and diff.changes == () and diff.cost_delta == 0 and diff.duration_delta_ms == 0
    big = random_trace(3000, seed=4)
    assert diff_traces(build_trace(big), build_trace(json.dumps(big))).identical


def test_added_removed_and_changed_steps_with_their_deltas() -> None:
    changed = copy.deepcopy(BASE)
    agent = changed["traces"][0]["steps"]
    agent[0] = llm("Plan", 140, 0.0015, end=160)  # slower, more tokens, dearer
    agent[1]["toolTrace"]["parameters"] = {"query": "reset", "limit": 10}  # one argument changed
    agent[1]["result"]["jsonValue"] = {"hits": [{"title": "A"}, {"title": "C"}]}  # one hit changed
    agent[2].update(status="ERROR", error="503")
    del agent[3]  # the quality check is gone
    agent.append(step("Summarize", "SUMMARIZATION"))
    diff = diff_traces(build_trace(BASE), build_trace(changed))
    by_name = {(c.path[-1], c.change): c for c in diff.changes}
    assert set(by_name) == {("Plan", Change.CHANGED), ("Search", Change.CHANGED), ("Search[1]", Change.CHANGED),
                            ("Quality check", Change.REMOVED), ("Summarize", Change.ADDED)}  # fmt: skip
    plan = by_name["Plan", Change.CHANGED]
    assert plan.duration_delta_ms == 60 and plan.input_tokens_delta == 40 and plan.tokens_delta == 40
    assert plan.cost_delta == pytest.approx(0.0005) and plan.changed_fields == ()
    search = by_name["Search", Change.CHANGED]
    assert search.changed_fields == ("arguments", "result")
    assert search.argument_changes == ("$.limit",) and search.result_changes == ("$.hits[1].title",)
    failed = by_name["Search[1]", Change.CHANGED]
    assert failed.changed_fields == ("status", "error") and failed.duration_delta_ms == 0
    removed = by_name["Quality check", Change.REMOVED]
    assert removed.before is not None and removed.after is None and removed.duration_delta_ms is None
    assert by_name["Summarize", Change.ADDED].after.kind is Kind.SUMMARIZATION
    assert [c.path[-1] for c in diff.removed] == ["Quality check"] and len(diff.changed) == 3
    assert diff.step_count_delta == 0 and diff.error_count_delta == 1
    assert diff.cost_delta == pytest.approx(0.0005) and diff.input_tokens_delta == 40 and not diff.identical


def test_alignment_ignores_insertions_among_other_names_but_not_a_kind_change() -> None:
    inserted = copy.deepcopy(BASE)
    inserted["traces"][0]["steps"].insert(0, step("Greeting"))  # every other step moves down one place
    diff = diff_traces(build_trace(BASE), build_trace(inserted))
    assert [(c.change, c.path[-1]) for c in diff.changes] == [(Change.ADDED, "Greeting")]
    retyped = copy.deepcopy(BASE)
    retyped["traces"][0]["steps"][3]["type"] = "TOOL"  # same name, different kind: a different step
    diff = diff_traces(build_trace(BASE), build_trace(retyped))
    assert {(c.change, c.key[-1]) for c in diff.changes} == {
        (Change.REMOVED, ("Quality check", Kind.JUDGE, 0)),
        (Change.ADDED, ("Quality check", Kind.TOOL, 0)),
    }


def test_repeated_steps_pair_up_in_order() -> None:
    retried = copy.deepcopy(BASE)
    third_search = tool("Search", {"query": "again"}, {"hits": []})
    retried["traces"][0]["steps"].insert(3, third_search)
    diff = diff_traces(build_trace(BASE), build_trace(retried))
    assert [(c.change, c.path[-1]) for c in diff.changes] == [(Change.ADDED, "Search[2]")]
    assert diff.changes[0].key[-1] == ("Search", Kind.TOOL, 2)


def test_added_steps_are_listed_after_the_step_they_follow() -> None:
    after = copy.deepcopy(BASE)
    steps = after["traces"][0]["steps"]
    steps.insert(1, step("Think"))
    steps.append(step("Wrap up"))
    order = [c.path[-1] for c in diff_traces(build_trace(BASE), build_trace(after)).changes]
    assert order == ["Think", "Wrap up"]
    whole = [(c.change, c.path[-1]) for c in diff_traces(build_trace(run()), build_trace(BASE)).changes]
    assert whole == [(Change.ADDED, name) for name in ("Plan", "Search", "Search[1]", "Quality check")]


def test_live_steps_have_no_duration_delta() -> None:
    live = copy.deepcopy(BASE)
    live["traces"][0]["steps"][0].update(endTime=0, duration=-T0, status="UNSPECIFIED")
    change = next(
        c for c in diff_traces(build_trace(BASE), build_trace(live)).changes if c.path[-1] == "Plan"
    )
    assert change.duration_delta_ms is None and "status" in change.changed_fields


def test_step_keys_are_unique_and_cover_every_step() -> None:
    trace = build_trace(random_trace(800, seed=2))
    keys = step_keys(trace)
    assert len(keys) == len(trace.spans) and [s.id for s in keys.values()] == list(trace.spans)
    assert next(iter(keys)) == (("Agent", Kind.FLOW, 0),)


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [({"a": 1, "b": [1, 2]}, {"a": 1, "b": [1, 3]}, ("$.b[1]",)),
     ({"a": 1}, {"a": 1, "new": None}, ("$.new",)),
     ({"gone": 1, "kept": 2}, {"kept": 2}, ("$.gone",)),
     ([1, 2], [1, 2, 3], ("$[2]",)),
     ("text", {"text": 1}, ("$",)),
     ({"n": 1}, {"n": 1.0}, ()),
     (None, None, ()),
     ({"deep": {"er": {"est": 1}}}, {"deep": {"er": {"est": 2}}}, ("$.deep.er.est",))],
)  # fmt: skip
def test_payload_changes_name_the_keys_that_differ(before, after, expected) -> None:
    assert payload_changes(before, after) == expected


def test_payload_changes_are_capped() -> None:
    changes = payload_changes({f"k{i}": i for i in range(500)}, {f"k{i}": -i - 1 for i in range(500)})
    assert len(changes) == 50 and changes[0] == "$.k0"
