"""The live panel's fold: events in, view out; tolerant of any order, pure and replayable."""

from __future__ import annotations

from pathlib import Path

from fruxon_playground.api import events as ev
from fruxon_playground.api.sse import ServerSentEvent, decode_sse
from fruxon_playground.runs.fold import Phase, Received, RunView, end_of_stream, fold, fold_all

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
    view = fold(RunView(), Received(ev.parse_event(ServerSentEvent("tool_result", '{"id":"x","status":"failed","error":"boom"}')), 5))
    card = view.tools["x"]
    assert card.orphan and card.failed and card.error == "boom"
    ended = end_of_stream(view, Phase.INTERRUPTED, "connection closed")
    assert ended.phase is Phase.INTERRUPTED and ended.error_message == "connection closed"
    assert end_of_stream(fold_all(received(TRANSCRIPT)), Phase.INTERRUPTED).phase is Phase.COMPLETED


def test_stalls_and_gaps_are_measured() -> None:
    items = [Received(ev.parse_event(ServerSentEvent("text", '{"chunk":"a"}')), t) for t in (0, 100, 2600)]
    health = fold_all(items).health
    assert health.max_gap_ms == 2500 and health.stalls == 1
