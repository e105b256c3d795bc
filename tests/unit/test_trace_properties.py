"""Properties of the trace builder on generated input: nothing lost, roll-ups that add up, one
critical path, and no exception for any JSON at all."""

from __future__ import annotations

import json
import math
import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fruxon_playground.trace import (
    MAX_DEPTH,
    Kind,
    Status,
    Trace,
    build_trace,
    build_trace_from_step_events,
    diff_traces,
    filter_spans,
    random_trace,
)

T0 = 1_767_225_600_000
TYPES = [
    "FLOW_STEP",
    "LLM_STEP",
    "AGENT_STEP",
    "TOOL",
    "HITL",
    "JUDGE",
    "SUMMARIZATION",
    "Unknown",
    "MYSTERY_KIND",
    "",
]
STATUSES = ["SUCCESS", "ERROR", "FAILED", "UNSPECIFIED", "Completed", "Weird", ""]
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def forests(draw) -> list[dict]:
    """Nested StepTrace forests within the SDK's depth cap, with every kind of messy field."""
    rng = random.Random(draw(st.integers(0, 2**32)))
    count = draw(st.integers(1, 120))
    roots: list[dict] = []
    placed: list[tuple[dict, int]] = []  # (node, depth)
    for i in range(count):
        start = rng.choice([None, 0, T0 + rng.randint(0, 10_000)])
        end = rng.choice([None, 0, (start or T0) + rng.randint(0, 5_000)])
        node: dict = {"id": rng.choice([f"n{i}", f"n{i}", "dup", ""]), "displayName": rng.choice([f"s{i}", "Same", "Same", None]),
                      "type": rng.choice(TYPES), "status": rng.choice(STATUSES), "steps": []}  # fmt: skip
        if start is not None:
            node["startTime"] = start
        if end is not None:
            node["endTime"] = end
            node["duration"] = rng.choice([end - (start or 0) if end else -(start or 0), None, -3])
        if rng.random() < 0.5:
            node["llmStepTrace"] = {"inputTokens": rng.randint(0, 500), "outputTokens": rng.choice([rng.randint(0, 99), "12", None]),
                                    "inputCost": rng.choice([rng.random() / 1000, "0.0001", None, "n/a"]), "outputCost": rng.random() / 1e4}  # fmt: skip
        if rng.random() < 0.3:
            node["toolTrace"] = {"tool": {"integrationId": "kb", "id": "search"}, "cost": rng.choice([0.001, "0.002", None]),
                                 "parameters": rng.choice([{"q": "x"}, '{"q": "y"}', "not json"])}  # fmt: skip
        if rng.random() < 0.1:
            node["error"] = "boom"
        candidates = [(n, d) for n, d in placed[-30:] if d < MAX_DEPTH]
        if candidates and rng.random() < 0.8:
            parent, depth = rng.choice(candidates)
            parent["steps"].append(node)
            placed.append((node, depth + 1))
        else:
            roots.append(node)
            placed.append((node, 0))
    return roots


def count_nodes(nodes: list[dict]) -> int:
    total, stack = 0, list(nodes)
    while stack:
        node = stack.pop()
        total += 1
        stack.extend(node["steps"])
    return total


def raw_types(nodes: list[dict]) -> list[str]:
    found, stack = [], list(nodes)
    while stack:
        node = stack.pop()
        found.append(node["type"])
        stack.extend(node["steps"])
    return found


def assert_consistent(trace: Trace) -> None:
    """What must hold for every trace the builder returns, whatever it was given."""
    spans = trace.spans
    assert [s.id for s in trace.walk()] == list(spans)  # pre-order, and every span is reachable once
    assert set(trace.roots) == {s.id for s in spans.values() if s.parent_id is None}
    paths = set()
    for span in spans.values():
        kids = trace.children_of(span.id)
        assert all(k.parent_id == span.id and k.depth == span.depth + 1 for k in kids)
        path = trace.paths[span.id]
        assert span.depth <= MAX_DEPTH and len(path) == span.depth + 1
        assert path[:-1] == (trace.paths[span.parent_id] if span.parent_id else ())
        paths.add(path)
        assert math.isclose(
            span.subtree_cost, span.cost + sum(k.subtree_cost for k in kids), rel_tol=1e-9, abs_tol=1e-12
        )
        assert span.subtree_input_tokens == span.input_tokens + sum(k.subtree_input_tokens for k in kids)
        assert span.subtree_output_tokens == span.output_tokens + sum(k.subtree_output_tokens for k in kids)
        assert span.error_count == (span.status is Status.ERROR) + sum(k.error_count for k in kids)
        assert span.duration_ms is None or span.duration_ms >= 0
        assert span.status is not Status.RUNNING or span.duration_ms is None
        if span.self_time_ms is not None:
            assert 0 <= span.self_time_ms <= span.total_time_ms
    assert len(paths) == len(spans)  # paths are unique
    critical = [s for s in trace.walk() if s.on_critical_path]
    if spans:  # one chain from a root down to a leaf
        assert critical[0].parent_id is None and not critical[-1].children
        assert all(b.parent_id == a.id for a, b in zip(critical, critical[1:], strict=False))
    else:
        assert critical == []
    assert set(trace.orphans) <= set(trace.roots)
    chain = trace.first_error_path()
    assert (not chain) == (trace.error_count == 0)
    if chain:
        assert spans[chain[-1]].status is Status.ERROR


@FAST
@given(forests())
def test_generated_forests_lose_nothing_and_roll_up_exactly(forest: list[dict]) -> None:
    trace = build_trace(forest)
    assert len(trace.spans) == count_nodes(forest)
    # Unknown kinds are kept, with the type as received.
    assert sorted(s.raw_type for s in trace.spans.values()) == sorted(raw_types(forest))
    assert all(s.kind is Kind.UNKNOWN for s in trace.spans.values() if s.raw_type == "MYSTERY_KIND")
    assert_consistent(trace)
    assert math.isclose(
        trace.total_cost, sum(trace.spans[r].subtree_cost for r in trace.roots), abs_tol=1e-12
    )


@FAST
@given(forests())
def test_the_same_forest_as_flat_parent_linked_events_builds_the_same_tree(forest: list[dict]) -> None:
    nested = build_trace(forest)
    frames = []
    for span in nested.walk():  # as a stream would send them: flat, each naming its parent
        frame = {k: v for k, v in span.raw.items() if k != "steps"} | {
            "id": span.id,
            "parentId": span.parent_id,
        }
        frames.append(frame)
    random.Random(len(frames)).shuffle(frames)  # arrival order must not matter for the shape
    linked = build_trace_from_step_events(frames)
    assert_consistent(linked)

    def shape(trace: Trace) -> set:
        # Sibling order (and so the same-name labels in paths) follows arrival order in a stream.
        return {(s.id, s.parent_id, s.depth, round(s.subtree_cost, 9), s.error_count, s.self_time_ms)
                for s in trace.spans.values()}  # fmt: skip

    assert shape(linked) == shape(nested)


@FAST
@given(st.integers(1, 400), st.integers(0, 10_000), st.booleans())
def test_synthetic_traces_are_consistent_and_diff_with_themselves_empty(
    size: int, seed: int, live: bool
) -> None:
    source = random_trace(size, seed, live=live)
    trace = build_trace(source)
    assert len(trace.spans) == size and trace.is_live == live
    assert_consistent(trace)
    assert math.isclose(
        trace.total_cost, sum(trace.spans[r].subtree_cost for r in trace.roots), abs_tol=1e-12
    )
    assert trace.input_tokens == trace.spans[trace.roots[0]].subtree_input_tokens
    assert diff_traces(trace, build_trace(json.dumps(source))).identical
    assert filter_spans(trace) == set(trace.spans)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=True)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=12), children, max_size=6)
    ),
    max_leaves=40,
)
step_keys = st.sampled_from(["id", "parentId", "displayName", "type", "status", "error", "startTime", "endTime",
                             "duration", "llmStepTrace", "toolTrace", "hitlTrace", "result", "steps", "traces",
                             "trace", "agentRevision", "totalCost", "inputTokens", "strValue", "jsonValue",
                             "parameters", "tool", "inputCost"])  # fmt: skip
# Objects shaped like traces (known keys, any values), nested into each other: reaches far more code than random keys.
trace_like = st.recursive(
    json_values,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(step_keys, children, max_size=8),
    max_leaves=60,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(trace_like)
def test_any_json_builds_without_raising(value) -> None:
    for source in (value, json.dumps(value), json.dumps(value).encode(), json.dumps(json.dumps(value)),
                   {"trace": value}, {"traces": value}, [value]):  # fmt: skip
        trace = build_trace(source)
        assert_consistent(trace)
        filter_spans(trace, "a", errors_only=True, min_duration_ms=5, kinds=[Kind.TOOL, "mystery"])
        diff_traces(trace, build_trace([]))
    events = value if isinstance(value, list) else [value]
    assert_consistent(build_trace_from_step_events(events, header=value))


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=200) | st.binary(max_size=200))
def test_any_text_or_bytes_builds_without_raising(value) -> None:
    assert_consistent(build_trace(value))
