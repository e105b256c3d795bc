"""Typed stream events: one model per name, never an exception, raw data always kept."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fruxon_playground.api import events as ev
from fruxon_playground.api.sse import ServerSentEvent, decode_data, decode_sse

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


# -- regressions: the decoded data is typed, not the raw text's first character ---------------------
def test_text_after_two_spaces_is_still_text() -> None:
    (sse,) = decode_sse(b'event: text\ndata:  {"chunk":"x"}\n\n')  # one space stays in the value
    event = ev.parse_event(sse)
    assert isinstance(event, ev.TextEvent) and event.chunk == "x" and event.raw == ' {"chunk":"x"}'


def test_done_whose_first_data_line_is_empty_keeps_its_fields() -> None:
    (sse,) = decode_sse(b'event: done\ndata:\ndata: {"executionRecordId":"r1","sessionId":"s1","status":"WaitingForHuman"}\n\n')
    done = ev.parse_event(sse)
    assert isinstance(done, ev.DoneEvent)
    assert (done.execution_record_id, done.session_id) == ("r1", "s1") and done.is_waiting_for_human


def test_members_named_event_or_raw_are_unknown_members_not_our_fields() -> None:
    text = ev.parse_event(ServerSentEvent("text", '{"chunk":"x","event":"other","raw":5}'))
    assert isinstance(text, ev.TextEvent) and text.event == "text" and text.raw == '{"chunk":"x","event":"other","raw":5}'
    result = ev.parse_event(ServerSentEvent("tool_result", '{"id":"c1","status":"failed","raw":{"a":1}}'))
    assert isinstance(result, ev.ToolResultEvent) and result.failed


def test_non_object_data_of_a_known_event_is_unknown_with_the_decoded_form() -> None:
    for name, raw, decoded in [("text", "[1, 2]", {"value": [1, 2]}), ("tool_call", "oops", {"_raw": "oops"})]:
        event = ev.parse_event(ServerSentEvent(name, raw))
        assert isinstance(event, ev.UnknownEvent) and (event.event, event.data, event.raw) == (name, decoded, raw)
    status = ev.parse_event(ServerSentEvent("status", ""))  # empty data decodes to {} (rule 9)
    assert isinstance(status, ev.StatusEvent) and status.status is None


def test_usage_dumps_by_alias_for_the_fold() -> None:
    usage = ev.parse_event(ServerSentEvent("usage", '{"inputTokens":412,"outputTokens":58,"extra":1}'))
    assert usage.model_dump(by_alias=True, exclude_none=True) == {"inputTokens": 412, "outputTokens": 58}


def test_events_are_immutable() -> None:
    event = ev.parse_event(ServerSentEvent("text", '{"chunk":"x"}'))
    with pytest.raises(AttributeError):
        event.chunk = "y"  # type: ignore[misc]


NAMES = st.sampled_from([*ev.EVENT_MODELS, "message", "reasoning", ""])
JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
                    max_leaves=8)
OBJECTS = st.fixed_dictionaries({}, optional={
    "chunk": st.text() | st.integers(), "id": st.text(), "status": st.text() | st.none(), "inputTokens": st.integers(),
    "executionRecordId": st.text(), "message": st.text(), "toolTrace": JSON, "trace": JSON, "extra": JSON,
})


@given(name=NAMES, data=st.text() | JSON.map(json.dumps) | OBJECTS.map(json.dumps))
def test_parse_event_never_raises_and_keeps_name_and_raw(name: str, data: str) -> None:
    event = ev.parse_event(ServerSentEvent(name, data))
    assert event.event == name and event.raw == data
    model = ev.EVENT_MODELS.get(name, ev.UnknownEvent)
    assert isinstance(event, model | ev.UnknownEvent)
    if name in ("done", "error", "heartbeat"):
        assert isinstance(event, model)
    if name == "text":  # typed exactly when the data decodes to an object with a string chunk
        decoded = decode_data(data)
        assert isinstance(event, ev.TextEvent) == isinstance(decoded.get("chunk"), str)
    if isinstance(event, ev.UnknownEvent):
        assert event.data == decode_data(data)


@given(name=NAMES, payload=OBJECTS, before=st.sampled_from(["", " ", "  ", "\n", "\n\n", " \n\t"]))
def test_whitespace_before_the_json_object_does_not_change_the_event(name: str, payload: dict, before: str) -> None:
    data = json.dumps(payload)
    plain, padded = ev.parse_event(ServerSentEvent(name, data)), ev.parse_event(ServerSentEvent(name, before + data))
    assert type(plain) is type(padded)
    assert {k: v for k, v in vars_of(plain).items() if k != "raw"} == {k: v for k, v in vars_of(padded).items() if k != "raw"}


def vars_of(event: ev.StreamEvent) -> dict:
    return {name: getattr(event, name) for name in event.__dataclass_fields__}
