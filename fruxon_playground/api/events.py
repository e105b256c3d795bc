"""Typed stream events (contract §9.3): one model per event name, `UnknownEvent` for the rest.

Every event keeps its wire name (`event`) and the data text exactly as received (`raw`). Data
that is not JSON, or does not fit its event's model, never raises: it becomes an `UnknownEvent`
that keeps the name and the raw payload, so the event log can still show it.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, Field, ValidationError

from fruxon_playground.api.models import (
    ExecutionTrace,
    FileLink,
    StepTrace,
    ToolTrace,
    WireModel,
)
from fruxon_playground.api.sse import ServerSentEvent, decode_data
from fruxon_playground.contract import is_failure, is_waiting_for_human


class _Event(WireModel):
    # Unknown members of known events are ignored (contract §9.7): `raw` keeps them all anyway, and
    # not building an extras dict per event keeps the hot path lean.
    model_config = ConfigDict(frozen=True, extra="ignore")
    raw: str = Field(default="", exclude=True)


class TextEvent(_Event):
    event: Literal["text"] = Field(default="text", exclude=True)
    chunk: str


class ToolCallEvent(_Event):
    event: Literal["tool_call"] = Field(default="tool_call", exclude=True)
    id: str
    tool_trace: ToolTrace | None = None
    arguments: Any = None
    start_time: int | None = None


class ToolResultEvent(_Event):
    event: Literal["tool_result"] = Field(default="tool_result", exclude=True)
    id: str
    status: str | None = None
    result: Any = None
    end_time: int | None = None
    error: str | None = None
    duration_ms: float | None = None
    duration: float | None = None

    @property
    def failed(self) -> bool:
        return is_failure(self.status)


class StepTraceEvent(_Event, StepTrace):
    event: Literal["step_trace"] = Field(default="step_trace", exclude=True)
    id: str
    parent_id: str | None = None


class StatusEvent(_Event):
    event: Literal["status"] = Field(default="status", exclude=True)
    status: str | None = None


class UsageEvent(_Event):
    event: Literal["usage"] = Field(default="usage", exclude=True)
    input_tokens: int | None = None
    output_tokens: int | None = None
    cached_tokens: int | None = None
    cache_write_tokens: int | None = None
    thinking_tokens: int | None = None
    web_search_calls: int | None = None


class DoneEvent(_Event):
    event: Literal["done"] = Field(default="done", exclude=True)
    execution_record_id: str | None = None
    session_id: str | None = None
    trace: ExecutionTrace | None = None
    response: str | None = None
    status: str | None = None
    links: list[FileLink] | None = None
    human_approval_request_id: str | None = None

    @property
    def is_waiting_for_human(self) -> bool:
        return is_waiting_for_human(self.status)


class ErrorEvent(_Event):
    event: Literal["error"] = Field(default="error", exclude=True)
    message: str | None = None
    code: str | None = None
    execution_record_id: str | None = None


class HeartbeatEvent(_Event):
    event: Literal["heartbeat"] = Field(default="heartbeat", exclude=True)


class UnknownEvent(_Event):
    """Any other event name (or `message` for unnamed events), or a known one that did not parse."""

    event: str
    data: dict[str, Any] = {}


StreamEvent = (
    TextEvent | ToolCallEvent | ToolResultEvent | StepTraceEvent | StatusEvent | UsageEvent | DoneEvent
    | ErrorEvent | HeartbeatEvent | UnknownEvent
)

EVENT_MODELS: dict[str, type[_Event]] = {
    "text": TextEvent,
    "tool_call": ToolCallEvent,
    "tool_result": ToolResultEvent,
    "step_trace": StepTraceEvent,
    "status": StatusEvent,
    "usage": UsageEvent,
    "done": DoneEvent,
    "error": ErrorEvent,
    "heartbeat": HeartbeatEvent,
}
TERMINAL_EVENTS = frozenset({"done", "error"})


def parse_event(sse: ServerSentEvent) -> StreamEvent:
    """Never raises. Fast path: pydantic-core parses the JSON object straight into the model."""
    model = EVENT_MODELS.get(sse.event)
    data = sse.data
    if model is not None:
        if data.startswith("{"):
            try:
                event = model.__pydantic_validator__.validate_json(data)
            except ValidationError:
                pass
            else:
                object.__setattr__(event, "raw", data)  # frozen model: set once, right after parsing
                return event
        if model in _ALWAYS_TYPED:
            # A terminal or keep-alive event whose data did not decode still ends (or keeps) the run.
            return model(raw=data)
    return UnknownEvent(event=sse.event, data=decode_data(data), raw=data)


_ALWAYS_TYPED = (DoneEvent, ErrorEvent, HeartbeatEvent)
