"""What the trace viewer sends to the browser: flat rows, details sent once, a payload it can read."""

from __future__ import annotations

import hashlib
import json
import math
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from fruxon_playground.trace import build_trace, build_trace_from_step_events, random_trace
from fruxon_playground.trace.rows import (
    NAME_CUT,
    NAME_LIMIT,
    ON_CRITICAL_PATH,
    ON_ERROR_PATH,
    ON_FIRST_ERROR_PATH,
    ORPHAN,
    StepDetails,
    TraceView,
    step_detail,
    to_json,
    trace_rows,
    unpack_details,
    unpack_rows,
)

T0 = 1_767_225_600_000


def node(id_: str, start: int, end: int | None, *, type_: str = "LLM_STEP", status: str = "SUCCESS",
         steps: list | None = None, **extra: Any) -> dict:
    return {"id": id_, "displayName": id_, "type": type_, "status": status, "startTime": T0 + start,
            "endTime": 0 if end is None else T0 + end, "duration": -1 if end is None else end - start,
            "steps": steps or [], **extra}


def small_trace() -> dict:
    """agent(0–1000) → [plan(10–300) → [tool(50–120, fails)], answer(400–900)], judge(950–990)."""
    tool = node("tool", 50, 120, type_="TOOL", status="ERROR", error="503 from upstream",
                toolTrace={"tool": {"integrationId": "kb", "id": "search", "name": "search"}, "parameters": {"q": "x"},
                           "cost": 0.25})
    plan = node("plan", 10, 300, steps=[tool], llmStepTrace={"inputTokens": 100, "outputTokens": 20, "inputCost": 0.5,
                                                             "outputCost": 0.25, "model": "gpt-4o"})
    answer = node("answer", 400, 900, llmStepTrace={"inputTokens": 7, "outputTokens": 3, "inputCost": 0.125,
                                                    "outputCost": 0.0, "model": "gpt-4o"})
    agent = node("agent", 0, 1000, type_="AGENT_STEP", steps=[plan, answer])
    judge = node("judge", 950, 990, type_="JUDGE")
    return {"agentId": "a", "agentRevision": 2, "startTime": T0, "endTime": T0 + 1000, "traces": [agent, judge]}


def resolve(holder: dict, name: str, raw: dict) -> Any:
    """What the browser does with `<name>` / `<name>At` (viewer.js `field`)."""
    if name in holder:
        return holder[name]
    value: Any = raw
    for part in holder[name + "At"]:
        value = value[part]
    return value


def test_rows_are_flat_pre_order_arrays_with_parents_by_index() -> None:
    trace = build_trace(small_trace())
    rows = trace_rows(trace)
    assert rows["n"] == 5 and rows["id"] == ["agent", "plan", "tool", "answer", "judge"]
    assert rows["parent"] == [-1, 0, 1, 0, -1] and rows["depth"] == [0, 1, 2, 1, 0]
    assert rows["origin"] == T0 and rows["axis"] == 1000
    assert rows["start"] == [0, 10, 50, 400, 950] and rows["end"] == [1000, 300, 120, 900, 990]
    kinds = [rows["kinds"][k] for k in rows["kind"]]
    assert kinds == ["AGENT", "LLM", "TOOL", "LLM", "JUDGE"]
    assert [rows["types"][t] for t in rows["type"]] == ["AGENT_STEP", "LLM_STEP", "TOOL", "LLM_STEP", "JUDGE"]
    assert [rows["statuses"][s] for s in rows["status"]] == ["SUCCESS", "SUCCESS", "ERROR", "SUCCESS", "SUCCESS"]
    assert [rows["subs"][s] for s in rows["sub"]] == ["", "gpt-4o", "kb.search", "gpt-4o", ""]
    assert rows["error"] == {"2": "503 from upstream"}
    assert rows["run"]["revision"] == 2 and rows["run"]["errors"] == 1 and rows["run"]["live"] is False


def test_rows_carry_the_cores_rollups_times_and_paths() -> None:
    trace = build_trace(small_trace())
    rows = trace_rows(trace)
    for index, span in enumerate(trace.spans.values()):
        assert rows["self"][index] == span.self_time_ms and rows["total"][index] == span.total_time_ms
        assert math.isclose(rows["cost"][index], span.subtree_cost)
        assert rows["tokens"][index] == span.subtree_input_tokens + span.subtree_output_tokens
        assert rows["errors"][index] == span.error_count
    assert rows["cost"][0] == 0.5 + 0.25 + 0.25 + 0.125  # plan's LLM, its tool, answer's LLM
    assert rows["self"][0] == 1000 - 290 - 500  # the agent's own time outside plan and answer
    flags = dict(zip(rows["id"], rows["flags"], strict=True))
    critical = {i for i, f in flags.items() if f & ON_CRITICAL_PATH}
    assert critical == set(trace.critical_path()) == {"agent", "answer"}
    assert {i for i, f in flags.items() if f & ON_FIRST_ERROR_PATH} == set(trace.first_error_path()) == {"agent", "plan", "tool"}
    assert {i for i, f in flags.items() if f & ON_ERROR_PATH} == {"agent", "plan", "tool"}
    assert not any(f & ORPHAN for f in flags.values())


def test_orphans_unknown_kinds_running_steps_and_warnings_reach_the_rows() -> None:
    trace = build_trace_from_step_events([
        {"id": "f", "type": "FLOW_STEP", "displayName": "Agent", "startTime": T0, "endTime": 0, "duration": -1},
        {"id": "m", "parentId": "f", "type": "MEMORY_RECALL", "status": "PONDERING", "startTime": T0 + 5,
         "endTime": T0 + 8, "duration": 3},
        {"id": "x", "parentId": "ghost", "type": "TOOL", "startTime": T0 + 20, "endTime": T0 + 30, "duration": 10},
    ])
    rows = trace_rows(trace)
    by_id = {step: index for index, step in enumerate(rows["id"])}
    assert rows["flags"][by_id["x"]] & ORPHAN and rows["parent"][by_id["x"]] == -1 and rows["run"]["orphans"] == 1
    mystery = by_id["m"]
    assert rows["kinds"][rows["kind"][mystery]] == "UNKNOWN" and rows["types"][rows["type"][mystery]] == "MEMORY_RECALL"
    assert rows["rawStatuses"][rows["rawStatus"][mystery]] == "PONDERING"
    assert rows["end"][by_id["f"]] is None and rows["run"]["live"] is True  # still running: no end, drawn to "now"
    assert rows["axis"] == 30
    assert any("MEMORY_RECALL" in line for line in rows["run"]["warnings"])
    assert any("ghost" in line for line in rows["run"]["warnings"])


def test_a_huge_name_is_cut_in_the_row_and_whole_in_the_detail() -> None:
    name = "<b>" + "x" * 5000
    trace = build_trace([node("a", 0, 10) | {"displayName": name}])
    rows = trace_rows(trace)
    assert len(rows["name"][0]) == NAME_LIMIT and rows["name"][0].endswith("…") and rows["flags"][0] & NAME_CUT
    assert step_detail(trace.spans["a"])["name"] == name
    assert "name" not in step_detail(build_trace([node("b", 0, 10)]).spans["b"])  # short names are in the row only


def test_details_send_each_payload_once_and_resolve_to_the_cores_decoded_values() -> None:
    llm = node("l", 0, 10, llmStepTrace={
        "systemInstructions": [{"content": "Be brief."}],
        "llmMessages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]},
        result={"strValue": "Hello", "jsonValue": None})
    tool_text = node("t", 10, 20, type_="TOOL", toolTrace={"parameters": '{"q": "decoded"}'},
                     result={"strValue": '{"hits": [1, 2]}', "jsonValue": None})
    tool_dict = node("d", 20, 30, type_="TOOL", toolTrace={"parameters": {"q": "kept"}},
                     result={"strValue": None, "jsonValue": {"ok": True}})
    hitl = node("h", 30, 40, type_="HITL", hitlTrace={"decision": "APPROVE"})
    trace = build_trace({"traces": [node("root", 0, 50, type_="FLOW_STEP", steps=[llm, tool_text, tool_dict, hitl])]})
    detail = step_detail(trace.spans["l"])
    assert "steps" not in detail["raw"] and detail["resultAt"] == ["result", "strValue"]
    assert [m["role"] for m in detail["messages"]] == ["system", "user", "assistant"]
    assert [resolve(m, "content", detail["raw"]) for m in detail["messages"]] == ["Be brief.", "Hi", "Hello"]
    text = step_detail(trace.spans["t"])
    assert text["arguments"] == {"q": "decoded"} and text["result"] == {"hits": [1, 2]}  # decoded: sent as values
    kept = step_detail(trace.spans["d"])
    assert kept["argumentsAt"] == ["toolTrace", "parameters"] and kept["resultAt"] == ["result", "jsonValue"]
    assert step_detail(trace.spans["h"])["approvalAt"] == ["hitlTrace"]
    assert "steps" not in step_detail(trace.spans["root"])["raw"]


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 10_000))
def test_every_detail_of_a_random_trace_resolves_to_what_the_builder_decoded(seed: int) -> None:
    trace = build_trace(random_trace(120, seed=seed))
    for span in trace.spans.values():
        detail = json.loads(to_json(step_detail(span)))  # what reaches the browser
        raw = detail["raw"]
        if "arguments" in detail or "argumentsAt" in detail:
            assert resolve(detail, "arguments", raw) == span.arguments
        if span.result is not None:
            assert resolve(detail, "result", raw) == span.result
        if span.hitl is not None:
            assert resolve(detail, "approval", raw) == span.hitl
        contents = [resolve(m, "content", raw) for m in detail.get("messages", [])]
        llm = span.llm or {}
        expected = [m["content"] for m in llm.get("systemInstructions") or []]
        expected += [m["content"] for m in llm.get("llmMessages") or []]
        assert contents == expected
        assert detail["tokensIn"] == span.input_tokens and math.isclose(detail["cost"], span.cost)


def test_to_json_always_gives_text_a_browser_can_parse() -> None:
    looped: dict[str, Any] = {"a": 1}
    looped["self"] = looped
    text = to_json({"nan": math.nan, "inf": [math.inf], "loop": looped, "obj": object, "é": "naïve \ud800"})
    assert text.isascii()
    back = json.loads(text)
    assert back["nan"] == "nan" and back["inf"] == ["inf"] and back["loop"]["self"] == "(contains itself)"
    assert back["é"] == "naïve \ud800" and back["obj"] == str(object)


def test_rows_and_details_round_trip_as_the_browser_reads_them() -> None:
    trace = build_trace(random_trace(300, seed=4))
    view = TraceView.of(trace)
    payload = view.rows_payload("history.x.trace")
    rows = unpack_rows(payload)
    assert rows["label"] == "history.x.trace" and rows["id"] == list(trace.spans) and rows["n"] == 300
    assert payload.isascii() and payload[6:38].decode() == view.digest
    assert hashlib.md5(view.rows_json, usedforsecurity=False).hexdigest() == view.digest
    assert payload[50:].startswith(view.rows_json) and payload.endswith(b"history.x.trace")
    digest, details = unpack_details(view.details.pack(view.digest, label="history.x.trace"))
    assert digest == view.digest and len(details) == 300
    chunks = view.details.pack(view.digest, chunk_bytes=20_000)
    assert len(chunks) > 5 and unpack_details(chunks) == (digest, details)  # the same, in pieces
    assert all(len(chunk) < 20_000 + 8_000 for chunk in chunks)  # about that size each (plus offsets)
    assert details[7] == json.loads(to_json(step_detail(list(trace.spans.values())[7])))
    again = TraceView.of(build_trace(random_trace(300, seed=4)))
    assert again.digest == view.digest  # same trace: the browser keeps what it drew
    assert TraceView.of(build_trace(random_trace(300, seed=5))).digest != view.digest
    assert unpack_rows(view.rows_payload("another viewer"))["label"] == "another viewer"


def test_a_stored_view_reads_back_the_same_rows_and_details() -> None:
    trace = build_trace(random_trace(400, seed=6))
    view = TraceView.of(trace)
    stored = view.to_bytes()
    assert len(stored) < len(view.rows_json) + view.details.size  # compressed
    back = TraceView.from_bytes(stored)
    assert back.digest == view.digest and back.rows_payload("k") == view.rows_payload("k")
    assert back.details.pack(back.digest, label="k") == view.details.pack(view.digest, label="k")
    last = list(trace.spans)[-1]
    assert back.details.get(last) == view.details.get(last) and back.details.get("no such step") is None
    for broken in (b"", b"FXVW1", stored[:-1], b"x" + stored[1:]):
        try:
            TraceView.from_bytes(broken)
        except ValueError:
            continue
        raise AssertionError(f"read {broken[:8]!r}… as a view")


def test_an_empty_trace_packs_to_no_rows() -> None:
    view = TraceView.of(build_trace({"traces": []}))
    rows = unpack_rows(view.rows_payload())
    assert rows["n"] == 0 and rows["id"] == [] and rows["axis"] == 0 and rows["origin"] is None
    assert unpack_details(view.details.pack(view.digest)) == (view.digest, [])  # one empty chunk
    assert TraceView.from_bytes(view.to_bytes()).details.size == 0


def test_step_details_answer_one_step_at_a_time_from_one_byte_string() -> None:
    trace = build_trace(random_trace(500, seed=9))
    details = StepDetails.of(trace)
    spans = list(trace.spans.values())
    assert len(details) == 500 and details.size == sum(len(to_json(step_detail(s))) for s in spans)
    for span in (spans[0], spans[123], spans[-1]):
        assert details.get(span.id) == to_json(step_detail(span))
    assert details.get("no such step") is None
    huge = StepDetails.of(build_trace([node("big", 0, 10, result={"strValue": "x" * 50_000})] * 3))
    assert len(huge.pack("0" * 32, chunk_bytes=1_000)) == 3  # a step bigger than a chunk is a chunk of its own
