"""The trace builder on crafted traces: every source shape and every tolerance the contract asks for."""

from __future__ import annotations

import json

import pytest

from fruxon_playground.trace import (
    MAX_DEPTH,
    Kind,
    Status,
    build_trace,
    build_trace_from_step_events,
    random_trace,
)

T0 = 1_767_225_600_000


def step(id_: str, type_: str = "LLM_STEP", *, start: int | None = 0, end: int | None = 100,
         status: str = "SUCCESS", steps: list | None = None, **extra) -> dict:  # fmt: skip
    """A finished StepTrace `start`…`end` ms after T0 (None leaves the time out)."""
    node = {"id": id_, "displayName": id_, "type": type_, "status": status, "steps": steps or [], **extra}
    if start is not None:
        node["startTime"] = T0 + start
    if end is not None:
        node["endTime"] = T0 + end if end else 0
        node["duration"] = (end - start) if end else -(T0 + (start or 0))
    return node


def execution_trace(*steps: dict, **header) -> dict:
    return {"agentId": "support_agent", "agentRevision": 3, "startTime": T0, "endTime": T0 + 1000, "traces": list(steps),
            **header}  # fmt: skip


def shape(trace) -> list[tuple]:
    return [(s.id, s.parent_id, s.depth, trace.paths[s.id], s.kind, s.status, s.duration_ms) for s in trace.walk()]


# ── Sources ──


def test_every_source_shape_builds_the_same_tree() -> None:
    inner = random_trace(60, seed=7)
    expected = shape(build_trace(inner))
    sources = {
        "ExecutionTrace": inner,
        "ExecuteResponse": {"response": "hi", "trace": inner, "status": "COMPLETED", "sessionId": "s"},
        "records envelope": {"status": "COMPLETED", "runType": "ROOT", "trace": inner},
        "list of steps": inner["traces"],
        "single step": inner["traces"][0],
        "JSON text": json.dumps(inner),
        "JSON bytes with a BOM": b"\xef\xbb\xbf" + json.dumps(inner).encode(),
        "double-encoded JSON": json.dumps(json.dumps(inner)),
        "trace field as JSON text": {"status": "COMPLETED", "trace": json.dumps(inner)},
        "traces field as JSON text": {**inner, "traces": json.dumps(inner["traces"])},
    }
    for label, source in sources.items():
        assert shape(build_trace(source)) == expected, label
    assert "the trace was JSON-encoded twice" in build_trace(sources["double-encoded JSON"]).warnings


def test_run_level_figures_come_from_the_envelope() -> None:
    # The outer step covers only the resumed part of a suspended run; the wall time is the envelope's (§5.3).
    source = execution_trace(step("flow", "FLOW_STEP", start=900, end=1000), totalCost="0.0000966",
                             inputTokens=412, outputTokens=58)  # fmt: skip
    trace = build_trace(source)
    assert (trace.start_ms, trace.end_ms, trace.duration_ms) == (T0, T0 + 1000, 1000)
    assert trace.total_cost == pytest.approx(0.0000966) and (trace.input_tokens, trace.output_tokens) == (
        412,
        58,
    )
    assert trace.agent_id == "support_agent" and trace.agent_revision == 3 and not trace.is_live
    assert "traces" not in trace.raw and trace.raw["agentId"] == "support_agent"


@pytest.mark.parametrize("revision", [-1, 0, "-1", None, "draft"])
def test_a_draft_revision_is_none_never_minus_one(revision) -> None:
    assert build_trace(execution_trace(agentRevision=revision)).agent_revision is None


def test_totals_roll_up_from_the_steps_when_the_run_reports_none() -> None:
    llm = {"inputTokens": 100, "outputTokens": 20, "inputCost": 0.001, "outputCost": "0.002"}
    tool = {"tool": {"integrationId": "kb", "id": "search"}, "cost": 0.0005}
    trace = build_trace([step("a", steps=[step("b", llmStepTrace=llm), step("c", "TOOL", toolTrace=tool)])])
    assert trace.total_cost == pytest.approx(0.0035) and (trace.input_tokens, trace.output_tokens) == (
        100,
        20,
    )
    assert trace.spans["b"].cost == pytest.approx(0.003) and trace.spans["c"].cost == pytest.approx(0.0005)


def test_runs_without_a_trace_are_empty_not_errors() -> None:
    waiting = {"status": "WaitingForHuman", "executionRecordId": "r", "humanApprovalRequestId": "h"}
    for source in (
        waiting,
        {"response": None, "trace": None, "status": "FAILED"},
        {},
        [],
        None,
        "",
        b"",
        "null",
        42,
    ):
        trace = build_trace(source)
        assert trace.spans == {} and trace.roots == ()
    assert build_trace(waiting).is_live  # paused for approval: the run is not over
    done = build_trace({"executionRecordId": "r", "trace": {"agentId": "a", "agentRevision": -1, "duration": 2138,
                                                            "totalCost": 0.0000966}})  # fmt: skip
    assert (
        done.duration_ms == 2138
        and done.agent_revision is None
        and done.total_cost == pytest.approx(0.0000966)
    )


def test_text_that_is_not_json_gives_an_empty_trace_and_says_so() -> None:
    for text in ("<html>502 Bad Gateway</html>", b"\xff\xfe\x00garbage", '{"traces": [', '"just a string"'):
        trace = build_trace(text)
        assert trace.spans == {}
        assert any("not valid JSON" in w for w in trace.warnings), text


# ── Kinds and statuses ──


def test_known_kinds_in_any_casing_and_unknown_kinds_kept_raw() -> None:
    types = {"FLOW_STEP": Kind.FLOW, "LlmStep": Kind.LLM, "AGENT_STEP": Kind.AGENT, "SubAgent": Kind.AGENT,
             "tool": Kind.TOOL, "HITL": Kind.HITL, "JUDGE": Kind.JUDGE, "SUMMARIZATION": Kind.SUMMARIZATION,
             "QUANTUM_LEAP": Kind.UNKNOWN, "Unknown": Kind.UNKNOWN, "UNSPECIFIED": Kind.UNKNOWN}  # fmt: skip
    trace = build_trace([step(f"s{i}", raw) for i, raw in enumerate(types)])
    for i, (raw, kind) in enumerate(types.items()):
        assert (trace.spans[f"s{i}"].kind, trace.spans[f"s{i}"].raw_type) == (kind, raw)
    # Only a type nobody documents is worth a warning; "Unknown"/"UNSPECIFIED" are documented zero values.
    assert [w for w in trace.warnings if "unknown type" in w] == [
        "1 step(s) of unknown type drawn as generic steps (first: 'QUANTUM_LEAP')"
    ]


def test_a_step_without_a_type_is_known_by_its_payload() -> None:
    trace = build_trace([step("a", "", llmStepTrace={"model": "m"}), step("b", "UNSPECIFIED", toolTrace={}),
                         step("c", "Unknown", hitlTrace={"requestId": "r"}), step("d", "")])  # fmt: skip
    assert [trace.spans[i].kind for i in "abcd"] == [Kind.LLM, Kind.TOOL, Kind.HITL, Kind.UNKNOWN]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("SUCCESS", Status.SUCCESS), ("Completed", Status.SUCCESS), ("ok", Status.SUCCESS), ("ERROR", Status.ERROR),
     ("failed", Status.ERROR), ("Failure", Status.ERROR), ("CANCELLED", Status.ERROR), ("UNSPECIFIED", Status.SUCCESS),
     ("", Status.SUCCESS), ("IN_PROGRESS", Status.RUNNING), ("Pondering", Status.UNKNOWN)],
)  # fmt: skip
def test_statuses_normalise_and_unknown_ones_stay_neutral(raw: str, expected: Status) -> None:
    span = build_trace([step("a", status=raw)]).spans["a"]
    assert span.status is expected and span.raw_status == raw


def test_an_error_message_makes_a_step_failed_whatever_its_status() -> None:
    trace = build_trace(
        [step("a", status="SUCCESS", error="boom"), step("b", error={"message": "bad gateway"})]
    )
    assert trace.spans["a"].status is Status.ERROR and trace.spans["a"].error == "boom"
    assert trace.spans["b"].error == "bad gateway"


def test_finished_zero_value_status_is_success_but_unknown_without_times() -> None:
    trace = build_trace(
        [step("timed", status="UNSPECIFIED"), step("untimed", status="UNSPECIFIED", start=None, end=None)]
    )
    assert trace.spans["timed"].status is Status.SUCCESS and trace.spans["untimed"].status is Status.UNKNOWN


# ── Times ──


def test_a_started_step_shows_running_never_its_negative_duration() -> None:
    # A start frame: endTime 0 and duration = 0 − startTime ≈ −1.77e12 (§9.8).
    trace = build_trace(execution_trace(step("flow", "FLOW_STEP", start=0, end=0, status="UNSPECIFIED",
                                             steps=[step("llm", start=10, end=60)]), endTime=0))  # fmt: skip
    flow = trace.spans["flow"]
    assert flow.status is Status.RUNNING and flow.duration_ms is None and flow.end_ms is None
    assert flow.self_time_ms is None and flow.total_time_ms is None
    assert trace.is_live and trace.end_ms is None and trace.duration_ms is None
    assert trace.spans["llm"].duration_ms == 50


def test_a_negative_duration_on_a_finished_step_is_replaced_by_its_times() -> None:
    node = step("a", start=10, end=70) | {"duration": -5}
    span = build_trace([node]).spans["a"]
    assert span.duration_ms == 60 and span.status is Status.SUCCESS
    assert any("negative duration" in w for w in build_trace([node]).warnings)


def test_missing_zero_and_junk_times_are_unknown_not_errors() -> None:
    nodes = [step("none", start=None, end=None), {"id": "zero", "type": "TOOL", "startTime": 0, "duration": 40},
             {"id": "junk", "type": "TOOL", "startTime": "soon", "endTime": [1], "duration": float("nan")},
             {"id": "text", "type": "TOOL", "startTime": str(T0), "endTime": f"{T0 + 25}.0"}]  # fmt: skip
    trace = build_trace(nodes)
    none, zero, junk, text = (trace.spans[i] for i in ("none", "zero", "junk", "text"))
    assert (none.start_ms, none.duration_ms) == (None, None)
    assert (zero.start_ms, zero.duration_ms, zero.status) == (None, 40, Status.SUCCESS)
    # An endTime that is no time cannot say the step finished.
    assert (junk.start_ms, junk.duration_ms, junk.status) == (None, None, Status.RUNNING)
    assert (text.start_ms, text.end_ms, text.duration_ms) == (T0, T0 + 25, 25)


def test_self_time_subtracts_the_union_of_children_clipped_to_the_parent() -> None:
    parent = step("p", "AGENT_STEP", start=0, end=100, steps=[
        step("a", start=10, end=40), step("b", start=30, end=60),  # overlap: 10–60 counted once
        step("c", start=90, end=130),  # runs past its parent: only 90–100 counts
    ])  # fmt: skip
    trace = build_trace([parent])
    assert trace.spans["p"].self_time_ms == 100 - 50 - 10 and trace.spans["p"].total_time_ms == 100
    assert trace.spans["a"].self_time_ms == 30  # a leaf's self time is its duration
    inside = [step("long", start=0, end=100), step("short", start=10, end=20)]
    nested = build_trace([step("p", start=0, end=200, steps=inside)])
    assert nested.spans["p"].self_time_ms == 100  # a child inside an earlier, longer one adds nothing
    parallel = [step("x", start=0, end=10), step("y", start=0, end=10)]
    crowded = build_trace([step("p", start=0, end=10, steps=parallel)])
    assert crowded.spans["p"].self_time_ms == 0  # parallel children never make it negative


def test_self_time_of_children_in_turn_out_of_order_or_starting_early() -> None:
    in_turn = [step("a", start=10, end=30), step("b", start=30, end=50), step("c", start=60, end=100)]
    assert build_trace([step("p", start=0, end=100, steps=in_turn)]).spans["p"].self_time_ms == 20
    backwards = [dict(node) for node in reversed(in_turn)]  # the same steps, listed last first
    assert build_trace([step("p", start=0, end=100, steps=backwards)]).spans["p"].self_time_ms == 20
    early = [step("a", start=-10, end=20), step("b", start=20, end=30)]  # only 0–20 of `a` is inside
    assert build_trace([step("p", start=0, end=100, steps=early)]).spans["p"].self_time_ms == 70
    running = [step("a", start=10, end=30), step("b", start=40, end=0)]  # `b` runs until the parent ends
    assert build_trace([step("p", start=0, end=100, steps=running)]).spans["p"].self_time_ms == 100 - 20 - 60


def test_a_step_without_times_spans_its_children() -> None:
    trace = build_trace([step("group", "FLOW_STEP", start=None, end=None,
                              steps=[step("a", start=0, end=30), step("b", start=50, end=80)])])  # fmt: skip
    group = trace.spans["group"]
    assert group.duration_ms is None and group.total_time_ms == 80 and group.self_time_ms == 20


# ── Shape: orphans, duplicates, cycles, depth ──


def test_steps_naming_a_missing_parent_become_flagged_roots() -> None:
    trace = build_trace(
        [step("root"), step("child") | {"parentId": "root"}, step("lost") | {"parentId": "ghost"}]
    )
    assert trace.roots == ("root", "lost") and trace.spans["child"].parent_id == "root"
    assert trace.orphans == ("lost",) and trace.spans["lost"].parent_id is None
    assert any("parent is missing" in w and "'ghost'" in w for w in trace.warnings)


def test_duplicate_ids_are_kept_with_a_deterministic_suffix() -> None:
    nodes = [step("a"), step("a", steps=[step("a")]), step("a#2")]
    trace = build_trace(nodes)
    assert list(trace.spans) == ["a", "a#2", "a#3", "a#2#2"]
    assert trace.spans["a#3"].parent_id == "a#2"
    assert list(build_trace(nodes).spans) == list(trace.spans)
    many = build_trace([step("same") for _ in range(3000)])  # linear, not a search per repeat
    assert len(many.spans) == 3000 and "same#3000" in many.spans


def test_steps_without_ids_get_generated_unique_ones() -> None:
    trace = build_trace([{"type": "TOOL"}, {"type": "TOOL", "id": ""}, {"type": "TOOL", "id": "step-1"}])
    assert list(trace.spans) == ["step-1", "step-2", "step-1#2"]


def test_parent_cycles_are_broken_and_nothing_is_lost() -> None:
    events = [{"id": "a", "parentId": "b", "type": "AGENT_STEP"}, {"id": "b", "parentId": "a", "type": "LLM_STEP"},
              {"id": "c", "parentId": "a", "type": "TOOL"}, {"id": "self", "parentId": "self", "type": "TOOL"}]  # fmt: skip
    trace = build_trace_from_step_events(events)
    assert set(trace.spans) == {"a", "b", "c", "self"}
    assert set(trace.roots) == {"a", "self"} and set(trace.orphans) == {"a", "self"}
    assert trace.spans["b"].parent_id == "a" and trace.spans["a"].children == ("b", "c")
    assert any("cycle" in w for w in trace.warnings)


def test_a_step_that_contains_itself_is_cut_not_followed() -> None:
    loop = step("loop")
    loop["steps"] = [step("inner"), loop]
    trace = build_trace([loop])
    assert list(trace.spans) == ["loop", "inner"]
    assert any("contain themselves" in w for w in trace.warnings)


def test_nested_steps_deeper_than_the_sdk_cap_are_cut_like_the_sdk() -> None:
    deepest = top = step("d0")
    for level in range(1, 5000):  # far deeper than any recursion limit
        child = step(f"d{level}")
        deepest["steps"] = [child]
        deepest = child
    trace = build_trace([top])
    assert len(trace.spans) == MAX_DEPTH + 1 and max(s.depth for s in trace.spans.values()) == MAX_DEPTH
    assert any(f"deeper than {MAX_DEPTH} levels" in w for w in trace.warnings)


def test_a_parent_id_chain_deeper_than_the_cap_restarts_at_the_top_without_losing_steps() -> None:
    events = [
        {"id": f"c{i}", "parentId": f"c{i - 1}" if i else None, "type": "AGENT_STEP"} for i in range(30_000)
    ]
    trace = build_trace_from_step_events(events)
    assert len(trace.spans) == 30_000
    assert max(s.depth for s in trace.spans.values()) == MAX_DEPTH
    assert trace.roots[:3] == ("c0", f"c{MAX_DEPTH + 1}", f"c{2 * (MAX_DEPTH + 1)}")
    assert any("linked deeper than" in w for w in trace.warnings)


def test_junk_inside_step_lists_is_skipped_and_counted() -> None:
    trace = build_trace([step("a", steps=[42, None, "not json", [1], step("b")]), True])
    assert list(trace.spans) == ["a", "b"]
    assert "skipped 5 step(s): not an object (first: int)" in trace.warnings


def test_paths_are_unique_among_same_named_siblings() -> None:
    trace = build_trace([step("root", steps=[step("x", displayName="Search"), step("y", displayName="Search"),
                                             step("z", displayName="Search[1]")])])  # fmt: skip
    assert [trace.paths[i] for i in "xyz"] == [
        ("root", "Search"),
        ("root", "Search[1]"),
        ("root", "Search[1][1]"),
    ]


def test_names_are_kept_verbatim_including_markup() -> None:
    name = "  <script>alert(1)</script> {{x}} ${y} \u202e مرحبا 🧪  "
    assert build_trace([step("a", displayName=name)]).spans["a"].name == name
    assert build_trace([step("b", displayName=None)]).spans["b"].name == "LLM_STEP"


# ── Payloads ──


def test_json_text_payloads_are_decoded_and_the_raw_text_kept() -> None:
    verdict = {"aggregate": 0.9, "metrics": [{"name": "relevance", "score": 0.9}], "summary": "fine"}
    tool = {"tool": {"integrationId": "kb", "id": "search_articles", "name": "search_articles"},
            "parameters": '{"query": "reset password"}'}  # fmt: skip
    trace = build_trace([
        step("judge", "JUDGE", result={"strValue": json.dumps(verdict), "jsonValue": None, "fileLink": None}),
        step("tool", "TOOL", toolTrace=tool, result={"strValue": None, "jsonValue": {"hits": []}}),
        step("llm", result={"strValue": "Plain answer, [not JSON", "jsonValue": None}),
        step("quoted", "TOOL", result={"strValue": json.dumps(json.dumps({"a": 1}))}),
        step("file", "TOOL", result={"strValue": None, "jsonValue": None, "fileLink": {"fileId": "f1"}}),
    ])  # fmt: skip
    assert trace.spans["judge"].result == verdict
    assert trace.spans["tool"].arguments == {"query": "reset password"} and trace.spans["tool"].result == {
        "hits": []
    }
    assert trace.spans["tool"].raw["toolTrace"]["parameters"] == '{"query": "reset password"}'
    assert trace.spans["tool"].tool_name == "kb.search_articles"
    assert trace.spans["llm"].result == "Plain answer, [not JSON"
    assert trace.spans["quoted"].result == {"a": 1}
    assert trace.spans["file"].result == {"fileId": "f1"}


def test_step_objects_sent_as_json_text_are_decoded_with_a_warning() -> None:
    llm = json.dumps({"model": "gpt-4o-mini", "inputTokens": 10, "outputTokens": 2, "inputCost": 1e-6})
    trace = build_trace([step("a", llmStepTrace=llm, steps=json.dumps([step("b", "TOOL")]))])
    assert trace.spans["a"].model == "gpt-4o-mini" and trace.spans["a"].input_tokens == 10
    assert trace.spans["a"].children == ("b",)
    assert any("arrived as JSON text" in w for w in trace.warnings)


def test_a_provider_built_in_tool_has_no_integration_prefix() -> None:
    tool = {"tool": {"integrationId": "", "id": "web_search", "name": "web_search"}, "parameters": {"q": "x"}}
    assert build_trace([step("t", "TOOL", toolTrace=tool)]).spans["t"].tool_name == "web_search"


# ── Roll-ups, paths of interest ──


def test_rollups_error_counts_and_the_error_path() -> None:
    trace = build_trace([step("root", "FLOW_STEP", steps=[
        step("agent", "AGENT_STEP", steps=[step("ok", llmStepTrace={"inputTokens": 5, "inputCost": 0.5}),
                                           step("bad", "TOOL", status="ERROR", error="503")]),
        step("later", "TOOL", status="FAILED"),
    ])])  # fmt: skip
    root, agent = trace.spans["root"], trace.spans["agent"]
    assert (root.error_count, agent.error_count) == (2, 1) and root.subtree_input_tokens == 5
    assert root.subtree_cost == pytest.approx(0.5) and root.status is Status.SUCCESS
    assert root.on_error_path and agent.on_error_path and not trace.spans["ok"].on_error_path
    assert trace.first_error_path() == ("root", "agent", "bad")  # down to the root cause
    assert trace.error_count == 2
    assert build_trace([step("fine")]).first_error_path() == ()


def test_the_critical_path_follows_the_child_that_ends_last() -> None:
    trace = build_trace([step("root", "FLOW_STEP", start=0, end=100, steps=[
        step("fast", start=0, end=20), step("slow", "AGENT_STEP", start=10, end=95, steps=[
            step("s1", start=10, end=90), step("s2", start=15, end=50)]),
        step("mid", start=30, end=70),
    ])])  # fmt: skip
    assert trace.critical_path() == ("root", "slow", "s1")
    assert [s.id for s in trace.walk() if s.on_critical_path] == ["root", "slow", "s1"]


def test_a_running_child_is_on_the_critical_path_of_a_live_trace() -> None:
    trace = build_trace(
        [step("root", start=0, end=0, steps=[step("done", start=0, end=80), step("open", start=50, end=0)])]
    )
    assert trace.critical_path() == ("root", "open")


def test_walk_children_of_and_find() -> None:
    trace = build_trace([step("r", steps=[step("a", steps=[step("a1")]), step("b")]), step("r2")])
    assert [s.id for s in trace.walk()] == ["r", "a", "a1", "b", "r2"] == list(trace.spans)
    assert [s.id for s in trace.walk("a")] == ["a", "a1"]
    assert [s.id for s in trace.children_of("r")] == ["a", "b"] and [
        s.id for s in trace.children_of(None)
    ] == ["r", "r2"]
    assert [s.id for s in trace.walk() if s.depth == 1] == ["a", "b"]


# ── Live step events ──


def start_frame(id_: str, parent: str | None, type_: str = "LLM_STEP", at: int = 0) -> dict:
    return {"id": id_, "parentId": parent, "displayName": id_, "type": type_, "status": "UNSPECIFIED",
            "startTime": T0 + at, "endTime": 0, "duration": -(T0 + at)}  # fmt: skip


def end_frame(
    id_: str, parent: str | None, type_: str = "LLM_STEP", at: int = 0, until: int = 10, **extra
) -> dict:
    return {"id": id_, "parentId": parent, "displayName": id_, "type": type_, "status": "SUCCESS",
            "startTime": T0 + at, "endTime": T0 + until, "duration": until - at, **extra}  # fmt: skip


def test_step_events_make_a_live_trace_then_a_finished_one() -> None:
    frames = [start_frame("flow", None, "FLOW_STEP"), start_frame("llm", "flow", at=5),
              end_frame("llm", "flow", at=5, until=40, llmStepTrace={"outputTokens": 7}), start_frame("llm2", "flow", at=41)]  # fmt: skip
    live = build_trace_from_step_events(frames)
    assert live.is_live and live.roots == ("flow",) and live.spans["flow"].children == ("llm", "llm2")
    assert live.spans["llm"].duration_ms == 35 and live.spans["llm2"].status is Status.RUNNING
    assert live.spans["flow"].subtree_output_tokens == 7
    done = build_trace_from_step_events(
        [
            *frames,
            end_frame("llm2", "flow", at=41, until=60),
            end_frame("flow", None, "FLOW_STEP", until=61),
        ],  # fmt: skip
        header={"executionRecordId": "r", "trace": {"agentId": "x", "agentRevision": -1}},
    )
    assert not done.is_live and len(done.spans) == 3 and done.duration_ms == 61
    assert done.agent_id == "x" and done.agent_revision is None


def test_a_late_start_frame_does_not_reopen_a_finished_step() -> None:
    trace = build_trace_from_step_events([end_frame("a", None, until=30), start_frame("a", None)])
    assert trace.spans["a"].status is Status.SUCCESS and trace.spans["a"].duration_ms == 30


def test_step_events_tolerate_text_frames_junk_and_children_before_parents() -> None:
    frames = [json.dumps(start_frame("child", "parent", at=3)), {"_raw": "not json"}, "garbage", None,
              start_frame("parent", None, "AGENT_STEP")]  # fmt: skip
    trace = build_trace_from_step_events(frames)
    assert trace.roots == ("parent",) and trace.spans["child"].parent_id == "parent"
    assert any("step_trace payload(s) that are not steps" in w for w in trace.warnings)
    assert build_trace_from_step_events("not a list").spans == {}
