"""The live panel's fold: events in, view out; tolerant of any order, pure and replayable."""

from __future__ import annotations

import json
import random
from pathlib import Path

from fruxon_playground.api import events as ev
from fruxon_playground.api.sse import ServerSentEvent, decode_sse
from fruxon_playground.runs import lifecycle as lc
from fruxon_playground.runs.fold import Phase, Received, RunState, fold, fold_all

TRANSCRIPT = (Path(__file__).parents[1] / "data" / "stream_transcript.sse").read_bytes()


def received(payload: bytes, step_ms: float = 10.0) -> list[Received]:
    return [Received(ev.parse_event(s), i * step_ms) for i, s in enumerate(decode_sse(payload))]


def test_transcript_folds_into_text_steps_tools_usage_and_done() -> None:
    view = fold_all(received(TRANSCRIPT))
    assert view.phase is Phase.COMPLETED
    assert view.text == "Let me check — open Settings."
    assert [s.name for s in view.steps.values()] == ["Agent", "LLM Query"]
    llm = view.steps["st_llm_01"]
    assert llm.running and llm.depth == 1 and llm.parent_id == "st_flow_01"
    (tool,) = view.tools.values()
    assert tool.name == "kb.search_articles" and tool.status == "succeeded" and not tool.failed
    assert tool.result == {"hits": [{"title": "Resetting your password"}]}
    assert view.usage["inputTokens"] == 412
    assert view.execution_record_id == "0b6c1f3e-4d2a-4f8e-9a71-2c5d8e9f0a11"
    assert view.counts["reasoning"] == 1 and view.counts["message"] == 1
    assert view.health.event_count == 10 and view.health.first_text_ms == 20.0


def test_fold_is_pure_and_replayable() -> None:
    items = received(TRANSCRIPT)
    first = fold_all(items)
    assert fold_all(items) == first
    half = fold_all(items[:5])
    assert fold_all(items[5:], half) == first


def test_error_event_fails_the_run_and_keeps_partial_text() -> None:
    payload = b'event: text\ndata: {"chunk":"partial"}\n\nevent: error\ndata: {"message":"LLM provider returned 503","code":"LLM_PROVIDER_UNAVAILABLE"}\n\n'
    view = fold_all(received(payload))
    assert view.phase is Phase.FAILED and view.text == "partial"
    assert view.error_code == "LLM_PROVIDER_UNAVAILABLE"


def test_events_after_the_terminal_one_are_counted_not_applied() -> None:
    payload = b'event: done\ndata: {}\n\nevent: text\ndata: {"chunk":"late"}\n\n'
    view = fold_all(received(payload))
    assert view.text == "" and view.after_terminal == 1


def test_waiting_for_human_done() -> None:
    payload = b'event: status\ndata: {"status":"WaitingForHuman"}\n\nevent: done\ndata: {"status":"WaitingForHuman","humanApprovalRequestId":"apr_1","executionRecordId":"r1"}\n'
    view = fold_all(received(payload))
    assert view.phase is Phase.WAITING_FOR_HUMAN and view.approval_request_id == "apr_1"
    assert view.status_updates == ("WaitingForHuman",)


def test_orphan_tool_result_and_end_of_stream_without_terminal() -> None:
    view = fold(RunState(), Received(ev.parse_event(ServerSentEvent("tool_result", '{"id":"x","status":"failed","error":"boom"}')), 5))
    card = view.tools["x"]
    assert card.orphan and card.failed and card.error == "boom"
    ended = fold(view, Received(lc.StreamEnded("interrupted", "connection closed"), 6))
    assert ended.phase is Phase.INTERRUPTED and ended.error_message == "connection closed"
    completed = fold_all(received(TRANSCRIPT))
    assert fold(completed, Received(lc.StreamEnded("interrupted", "late"), 99)).phase is Phase.COMPLETED


def test_stalls_and_gaps_are_measured() -> None:
    items = [Received(ev.parse_event(ServerSentEvent("text", '{"chunk":"a"}')), t) for t in (0, 100, 2600)]
    health = fold_all(items).health
    assert health.max_gap_ms == 2500 and health.stalls == 1


def event(name: str, data: str) -> ev.StreamEvent:
    return ev.parse_event(ServerSentEvent(name, data))


def test_tool_duration_comes_from_the_servers_clock_not_arrival_times() -> None:
    # A replayed run arrives all at once: the 420 ms the tool took must still show as 420 ms.
    items = [Received(event("tool_call", '{"id":"c1","startTime":1000}'), 5.0),
             Received(event("tool_result", '{"id":"c1","status":"succeeded","endTime":1420}'), 5.0)]
    assert fold_all(items).tools["c1"].duration_ms == 420.0
    fallback = [Received(event("tool_call", '{"id":"c2"}'), 5.0),
                Received(event("tool_result", '{"id":"c2","status":"succeeded","durationMs":77}'), 5.0)]
    assert fold_all(fallback).tools["c2"].duration_ms == 77.0


def test_step_duration_is_end_minus_start() -> None:
    start = '{"id":"s","type":"LLM_STEP","startTime":1000,"endTime":0,"duration":-1000}'
    end = '{"id":"s","type":"LLM_STEP","status":"SUCCESS","startTime":1000,"endTime":1300,"duration":5}'
    state = fold_all([Received(event("step_trace", start), 1.0)])
    assert state.steps["s"].running
    assert fold(state, Received(event("step_trace", end), 1.0)).steps["s"].duration_ms == 300


def test_a_sync_response_is_folded_as_its_done_with_tools_read_from_the_trace() -> None:
    body = ('{"response":"42","status":"COMPLETED","sessionId":"s1","executionRecordId":"r1",'
            '"trace":{"agentRevision":3,"totalCost":0.01,"traces":[{"id":"f","type":"FLOW_STEP","steps":['
            '{"id":"t1","type":"TOOL","displayName":"Calc","startTime":10,"endTime":30,"status":"SUCCESS",'
            '"toolTrace":{"tool":{"integrationId":"math","id":"calculate"},"parameters":{"x":1}},'
            '"result":{"jsonValue":{"y":2}}}]}]}}')
    state = fold_all([Received(event("done", body), 900.0)])
    assert state.phase is Phase.COMPLETED and state.text == "42" and state.revision == 3
    (card,) = state.tools.values()
    assert state.tools_from_trace and card.name == "math.calculate" and card.result == {"y": 2}
    assert card.duration_ms == 20.0 and card.arguments == {"x": 1}
    assert state.trace["totalCost"] == 0.01 and state.health.first_text_ms is None


def test_tool_steps_without_ids_read_from_a_trace_each_get_a_card() -> None:
    tool = {"type": "TOOL", "displayName": "Search", "toolTrace": {"tool": {"integrationId": "kb", "id": "search"}}}
    body = json.dumps({"response": "ok", "trace": {"traces": [{"id": "f", "type": "FLOW_STEP", "steps": [
        {**tool, "toolTrace": {**tool["toolTrace"], "parameters": {"q": q}}} for q in ("a", "b")]}]}})
    state = fold_all([Received(event("done", body), 1.0)])
    assert [card.arguments for card in state.tools.values()] == [{"q": "a"}, {"q": "b"}]


def test_a_failed_status_in_a_sync_body_fails_the_run() -> None:
    assert fold_all([Received(event("done", '{"status":"FAILED"}'), 1)]).phase is Phase.FAILED


def test_a_done_whose_data_was_cut_mid_frame_still_completes() -> None:
    state = fold_all([Received(event("text", '{"chunk":"par'), 1), Received(event("done", '{"trace": {"ag'), 2)])
    assert state.phase is Phase.COMPLETED and state.text == "" and state.trace is None


def test_request_failure_keeps_its_field_errors() -> None:
    failure = lc.RequestFailed("Bad", "Parameter question is required", status=400,
                               field_errors={"parameters.question": ["Parameter question is required"]})
    state = fold_all([Received(failure, 1)])
    assert state.phase is Phase.FAILED and state.failure == failure and state.error_message == failure.message


WAITING = [Received(event("done", '{"status":"WaitingForHuman","humanApprovalRequestId":"a1","executionRecordId":"r"}'), 1)]


def test_approval_then_resumed_record_completes_in_place() -> None:
    state = fold_all([*WAITING, Received(lc.ApprovalAnswered(True), 2)])
    assert state.phase is Phase.RESUMING and not state.phase.is_final
    done = fold(state, Received(lc.RecordResumed("COMPLETED", response="Refund issued.",
                                                   trace={"agentRevision": 2, "traces": []}), 3))
    assert done.phase is Phase.COMPLETED and done.text == "Refund issued." and done.revision == 2


def test_a_rejection_shows_rejected_with_the_reason_even_when_the_record_completed() -> None:
    state = fold_all([*WAITING, Received(lc.ApprovalAnswered(False, "too large"), 2),
                      Received(lc.RecordResumed("COMPLETED", response="I did not refund."), 3)])
    assert state.phase is Phase.REJECTED and state.error_message == "You rejected the tool call: too large"


def test_a_decision_that_could_not_be_sent_waits_again_with_the_reason() -> None:
    state = fold_all([*WAITING, Received(lc.ApprovalAnswered(True), 2),
                      Received(lc.RecordResumed("WAITING_FOR_HUMAN", error="could not be sent: 409"), 3)])
    assert state.phase is Phase.WAITING_FOR_HUMAN and "409" in state.error_message
    assert state.approval_request_id == "a1"


def test_lifecycle_events_round_trip_through_their_saved_form() -> None:
    for item in (lc.RequestFailed("T", "m", status=429, retry_after=2.0, field_errors={"a": ["b"]}),
                 lc.StreamEnded("stopped", "Stopped by you."), lc.ApprovalAnswered(False, "no"),
                 lc.RecordResumed("COMPLETED", response="x", trace={"traces": []})):
        assert lc.parse_run_event(item.event, item.raw) == item
    assert isinstance(lc.parse_run_event("playground.ended", "{broken"), lc.StreamEnded)


def test_fold_all_gives_what_folding_one_by_one_gives_however_the_events_are_batched() -> None:
    # fold_all joins runs of text events (one copy of the answer per batch, not per chunk): the
    # result must be the same state, health and counts included, for any mix and any batching.
    rng = random.Random(8)
    kinds = [("text", '{"chunk":"a "}'), ("text", '{"chunk":"\\n\\nb"}'), ("heartbeat", "{}"),
             ("step_trace", '{"id":"s","type":"LLM_STEP","startTime":1}'), ("usage", '{"inputTokens":3}'),
             ("text", '{"chunk":"late?'), ("done", '{"status":"COMPLETED"}'), ("error", '{"message":"x"}')]
    for _ in range(300):
        items, t = [], 0.0
        for _ in range(rng.randint(0, 40)):
            t += rng.choice([0.0, 1.0, 2500.0])
            if rng.random() < 0.03:
                items.append(Received(lc.StreamEnded("stopped", "Stopped by you."), t))
            else:
                items.append(Received(event(*rng.choice(kinds)), t))
        one_by_one = RunState()
        for item in items:
            one_by_one = fold(one_by_one, item)
        assert fold_all(items) == one_by_one
        batched, start = RunState(), 0
        while start < len(items):
            end = start + rng.randint(1, 7)
            batched, start = fold_all(items[start:end], batched), end
        assert batched == one_by_one


def test_a_long_answer_keeps_every_chunk_in_order() -> None:
    chunks = [f"⟦{i}⟧ " for i in range(20_000)]
    items = [Received(event("text", json.dumps({"chunk": c})), float(i)) for i, c in enumerate(chunks)]
    state = fold_all(items)
    assert state.text == "".join(chunks)
    assert state.counts["text"] == 20_000 and state.health.event_count == 20_000 and state.phase is Phase.RUNNING


def test_a_saved_run_with_only_a_trace_opens_completed_with_its_trace() -> None:
    from fruxon_playground.history import SavedRun
    from fruxon_playground.runs.fold import Phase as FoldPhase
    from fruxon_playground.runs.record import snapshot_of_saved

    trace = {"agentId": "a", "traces": [{"id": "root", "type": "FLOW_STEP", "status": "SUCCESS", "steps": [
        {"id": "t1", "type": "TOOL", "status": "SUCCESS", "displayName": "Search",
         "toolStepTrace": {"tool": "kb.search", "parameters": {"q": "x"}}}]}]}
    completed = snapshot_of_saved(SavedRun(kind="execute", agent_id="a", request={}, status="completed", trace=trace))
    assert completed.state.phase is FoldPhase.COMPLETED and completed.state.trace == trace
    failed = snapshot_of_saved(SavedRun(kind="execute", agent_id="a", request={}, status="failed", trace=trace))
    assert failed.state.phase is not FoldPhase.COMPLETED  # a trace alone never turns a failure into a success


def _step_frame(step_id: str, parent: str | None, start: int, end: int = 0, status: str = "SUCCESS") -> Received:
    data = {"id": step_id, "parentId": parent, "displayName": step_id.title(), "type": "TOOL",
            "status": status, "startTime": start, "endTime": end, "duration": (end - start) if end else -1}
    return Received(ev.parse_event(ServerSentEvent("step_trace", json.dumps(data))), float(start))


def test_a_stream_cut_before_done_shows_its_streamed_steps_as_one_tree() -> None:
    from fruxon_playground.runs.fold import trace_to_show

    state = fold_all([_step_frame("root", None, 100), _step_frame("search", "root", 110, 150),
                      _step_frame("answer", "root", 160), _step_frame("orphan", "gone", 170, 180)])
    trace, from_steps = trace_to_show(state)
    assert from_steps
    root, orphan = trace["traces"]
    assert [root["id"], orphan["id"]] == ["root", "orphan"]  # a step whose parent never came is a root
    search, answer = root["steps"]
    assert (search["status"], search["endTime"], search["duration"]) == ("SUCCESS", 150, 40)
    assert (answer["status"], answer["endTime"]) == ("IN_PROGRESS", None)  # still running when the stream ended
    assert root["status"] == "IN_PROGRESS"


def test_the_final_trace_replaces_the_streamed_steps_and_a_parent_cycle_never_loops() -> None:
    from fruxon_playground.runs.fold import trace_to_show

    final = {"traces": [{"id": "root", "steps": []}]}
    done = Received(ev.parse_event(ServerSentEvent("done", json.dumps({"response": "ok", "trace": final}))), 300.0)
    assert trace_to_show(fold_all([_step_frame("root", None, 100, 200), done])) == (final, False)
    cycle = fold_all([_step_frame("a", "b", 100, 110), _step_frame("b", "a", 120, 130)])
    trace, _ = trace_to_show(cycle)
    assert [n["id"] for n in trace["traces"]] == ["a"] and trace["traces"][0]["steps"][0]["id"] == "b"
    json.dumps(trace)  # no reference loop


def test_a_saved_run_opened_by_its_head_reads_its_bodies_once_and_only_when_needed() -> None:
    from fruxon_playground.history import SavedRun
    from fruxon_playground.runs.fold import Phase as FoldPhase
    from fruxon_playground.runs.record import FrozenRun

    saved = SavedRun(kind="stream", agent_id="a", request={"parameters": {"q": "x"}}, status="completed", owner="me",
                     events=[{"event": "text", "data": '{"chunk":"Hi"}', "t_ms": 1.0},
                             {"event": "done", "data": '{"status":"COMPLETED"}', "t_ms": 2.0}])
    reads: list[str] = []
    run = FrozenRun(saved, lambda: reads.append(saved.id) or saved)
    assert (run.id, run.kind.value, run.agent, run.owner, run.finished) == (saved.id, "stream", "a", "me", True)
    assert reads == []  # what a page needs to route and check access comes from the head
    assert run.snapshot().state.text == "Hi" and run.snapshot().state.phase is FoldPhase.COMPLETED
    assert run.request == {"parameters": {"q": "x"}} and run.snapshot() is run.snapshot() and reads == [saved.id]
    deleted = FrozenRun(saved, lambda: None)  # deleted between reading its head and its bodies
    assert deleted.saved.status == "completed" and deleted.saved.events == [] and deleted.saved.id == saved.id
