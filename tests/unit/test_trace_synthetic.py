"""The synthetic trace generator: realistic, exact in size, deterministic."""

from __future__ import annotations

import json

from fruxon_playground.trace import MAX_DEPTH, Kind, Status, build_trace, random_trace


def nodes(source: dict) -> list[dict]:
    found, stack = [], list(source["traces"])
    while stack:
        node = stack.pop()
        found.append(node)
        stack.extend(node["steps"])
    return found


def test_exact_size_deterministic_per_seed_and_plain_json() -> None:
    for size in (1, 2, 17, 2500):
        assert len(nodes(random_trace(size, seed=3))) == size
    assert random_trace(500, seed=1) == random_trace(500, seed=1) != random_trace(500, seed=2)
    source = random_trace(300, seed=5)
    assert json.loads(json.dumps(source)) == source


def test_it_looks_like_a_real_run() -> None:
    trace = build_trace(random_trace(3000, seed=11))
    (root,) = trace.roots
    assert trace.spans[root].kind is Kind.FLOW and trace.spans[root].name == "Agent"
    assert {s.kind for s in trace.spans.values()} == set(Kind)  # every kind, unknown ones included
    assert any(s.status is Status.ERROR for s in trace.spans.values())
    assert any(s.depth >= 3 and s.kind is Kind.AGENT for s in trace.spans.values())  # nested agents
    assert max(s.depth for s in trace.spans.values()) <= MAX_DEPTH
    assert any(isinstance(s.raw.get("toolTrace", {}).get("parameters"), str) for s in trace.spans.values())
    assert all(isinstance(s.result, dict) for s in trace.spans.values() if s.kind is Kind.JUDGE)
    assert not trace.is_live and trace.agent_revision is not None


def test_children_run_inside_their_parents_and_totals_match_the_steps() -> None:
    source = random_trace(2000, seed=8)
    trace = build_trace(source)
    for span in trace.walk():
        for child in trace.children_of(span.id):
            assert span.start_ms <= child.start_ms and child.end_ms <= span.end_ms
    root = trace.spans[trace.roots[0]]
    assert abs(source["totalCost"] - root.subtree_cost) < 1e-12
    assert (source["inputTokens"], source["outputTokens"]) == (
        root.subtree_input_tokens,
        root.subtree_output_tokens,
    )
    assert trace.duration_ms == root.duration_ms == source["endTime"] - source["startTime"]


def test_a_live_run_has_open_steps_from_the_root_down() -> None:
    source = random_trace(400, seed=6, live=True)
    trace = build_trace(source)
    running = [s for s in trace.walk() if s.status is Status.RUNNING]
    assert source["endTime"] == 0 and trace.is_live and running[0].id == trace.roots[0]
    assert all(s.duration_ms is None and s.end_ms is None for s in running)
    assert all(b.parent_id == a.id for a, b in zip(running, running[1:], strict=False))
