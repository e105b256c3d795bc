"""Typed stream events: one model per name, never an exception, raw data always kept."""

from __future__ import annotations

from pathlib import Path

from fruxon_playground.api import events as ev
from fruxon_playground.api.sse import ServerSentEvent, decode_sse

TRANSCRIPT = (Path(__file__).parents[1] / "data" / "stream_transcript.sse").read_bytes()


def test_transcript_becomes_typed_events() -> None:
    parsed = [ev.parse_event(s) for s in decode_sse(TRANSCRIPT)]
    kinds = [type(e).__name__ for e in parsed]
    assert kinds == ["StepTraceEvent", "StepTraceEvent", "TextEvent", "ToolCallEvent", "ToolResultEvent", "TextEvent",
                     "UnknownEvent", "UnknownEvent", "UsageEvent", "DoneEvent"]
    step = parsed[1]
    assert step.parent_id == "st_flow_01" and step.is_running  # negative duration on a start frame
    call = parsed[3]
    assert call.tool_trace.tool.name == "search_articles" and call.arguments == {"query": "reset password"}
    assert parsed[4].status == "succeeded" and not parsed[4].failed
    assert parsed[6].event == "reasoning" and parsed[6].data == {"_raw": "thinking out loud"}
    assert parsed[7].event == "message"
    done = parsed[-1]
    assert done.trace.agent_revision == -1 and done.trace.is_draft and not done.is_waiting_for_human


def test_known_event_with_wrong_shape_is_unknown_not_an_error() -> None:
    event = ev.parse_event(ServerSentEvent("text", '{"chunk": 5}'))
    assert isinstance(event, ev.UnknownEvent) and event.event == "text" and event.data == {"chunk": 5}


def test_terminal_events_stay_terminal_even_with_undecodable_data() -> None:
    done = ev.parse_event(ServerSentEvent("done", "<not json>"))
    assert isinstance(done, ev.DoneEvent) and done.raw == "<not json>"
    error = ev.parse_event(ServerSentEvent("error", ""))
    assert isinstance(error, ev.ErrorEvent)


def test_waiting_done_and_error_fields() -> None:
    done = ev.parse_event(ServerSentEvent("done", '{"status":"WaitingForHuman","humanApprovalRequestId":"a1"}'))
    assert done.is_waiting_for_human and done.human_approval_request_id == "a1"
    error = ev.parse_event(ServerSentEvent("error", '{"message":"boom","code":"X","executionRecordId":"r1"}'))
    assert (error.message, error.code, error.execution_record_id) == ("boom", "X", "r1")


def test_raw_data_is_kept_verbatim() -> None:
    data = '{"chunk":"<script>alert(1)</script>","extra":true}'
    event = ev.parse_event(ServerSentEvent("text", data))
    assert event.raw == data and event.chunk == "<script>alert(1)</script>"
