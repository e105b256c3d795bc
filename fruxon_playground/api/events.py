"""Typed stream events (contract §9.3): one class per event name, `UnknownEvent` for the rest.

Every event keeps its wire name (`event`) and the data text exactly as received (`raw`). The data
is typed from what it decodes to (contract §9.2 rule 9), so leading whitespace or an empty first
data line does not matter. Data that is not a JSON object, or does not fit its event's class,
never raises: it becomes an `UnknownEvent` that keeps the name and the decoded payload, so the
event log can still show it; `done`, `error` and `heartbeat` stay typed whatever their data.

Why slotted pydantic dataclasses and not `BaseModel`s: a run keeps every event it received, and a
model instance drags a `__dict__` and a fields-set along. One slotted object per event is about
half the validation work and a third of the objects the garbage collector walks again and again
while a long stream is being read. Nested payloads (`tool_trace`, `trace`, `links`…) stay models.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any, ClassVar

from pydantic import ConfigDict, Field, TypeAdapter, ValidationError
from pydantic.alias_generators import to_camel
from pydantic.dataclasses import dataclass

from fruxon_playground.api.models import ExecutionTrace, FileLink, HitlTrace, Result, StepTrace, ToolTrace
from fruxon_playground.api.sse import ServerSentEvent, decode_data
from fruxon_playground.contract import is_failure, is_waiting_for_human

# Unknown members of known events are ignored (contract §9.7): `raw` keeps them all anyway.
_CONFIG = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")
_event_class = dataclass(frozen=True, slots=True, kw_only=True, config=_CONFIG)


@_event_class
class _Event:
    event: ClassVar[str]
    # Set by `parse_event`, never from the data (a member named "raw" is just an unknown member).
    raw: str = Field(default="", init=False, exclude=True, repr=False)

    def model_dump(self, **kwargs: Any) -> dict[str, Any]:
        """The fields as a dict, with pydantic's `model_dump` options (`by_alias`, `exclude_none`…)."""
        return _adapter(type(self)).dump_python(self, **kwargs)


@cache
def _adapter(cls: type[_Event]) -> TypeAdapter[Any]:
    return TypeAdapter(cls)


@_event_class
class TextEvent(_Event):
    event: ClassVar[str] = "text"
    chunk: str


@_event_class
class ToolCallEvent(_Event):
    event: ClassVar[str] = "tool_call"
    id: str
    tool_trace: ToolTrace | None = None
    arguments: Any = None
    start_time: int | None = None


@_event_class
class ToolResultEvent(_Event):
    event: ClassVar[str] = "tool_result"
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


@_event_class
class StepTraceEvent(_Event):
    """A StepTrace node (contract §4.7) plus the sandbox's `parentId`."""

    event: ClassVar[str] = "step_trace"
    id: str
    parent_id: str | None = None
    display_name: str | None = None
    type: str | None = None
    status: str | None = None
    error: str | None = None
    start_time: int | None = None
    end_time: int | None = None
    duration: int | float | None = None
    llm_step_trace: dict[str, Any] | None = None
    tool_trace: ToolTrace | None = None
    hitl_trace: HitlTrace | None = None
    result: Result | None = None
    steps: list[StepTrace] | None = None

    @property
    def is_failure(self) -> bool:
        return is_failure(self.status)

    @property
    def is_running(self) -> bool:
        """Start frames carry `endTime: 0` and a negative duration (contract §9.8)."""
        return not self.end_time or self.duration is None or self.duration < 0


@_event_class
class StatusEvent(_Event):
    event: ClassVar[str] = "status"
    status: str | None = None


@_event_class
class UsageEvent(_Event):
    event: ClassVar[str] = "usage"
    input_tokens: int | None = None
    output_tokens: int | None = None
    cached_tokens: int | None = None
    cache_write_tokens: int | None = None
    thinking_tokens: int | None = None
    web_search_calls: int | None = None


@_event_class
class DoneEvent(_Event):
    event: ClassVar[str] = "done"
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


@_event_class
class ErrorEvent(_Event):
    event: ClassVar[str] = "error"
    message: str | None = None
    code: str | None = None
    execution_record_id: str | None = None


@_event_class
class HeartbeatEvent(_Event):
    event: ClassVar[str] = "heartbeat"


@_event_class
class UnknownEvent(_Event):
    """Any other event name (or `message` for unnamed events), or a known one that did not parse."""

    event: str  # type: ignore[misc]  # an instance field here: the name as sent
    data: dict[str, Any] = Field(default_factory=dict)


StreamEvent = (
    TextEvent | ToolCallEvent | ToolResultEvent | StepTraceEvent | StatusEvent | UsageEvent | DoneEvent
    | ErrorEvent | HeartbeatEvent | UnknownEvent
)

EVENT_MODELS: dict[str, type[_Event]] = {
    cls.event: cls
    for cls in (TextEvent, ToolCallEvent, ToolResultEvent, StepTraceEvent, StatusEvent, UsageEvent, DoneEvent,
                ErrorEvent, HeartbeatEvent)
}
TERMINAL_EVENTS = frozenset({"done", "error"})
_ALWAYS_TYPED = frozenset({"done", "error", "heartbeat"})  # they end (or keep) the run whatever their data

# Bound once: the hot path does one dict lookup and one C call per event.
_FROM_JSON = {name: cls.__pydantic_validator__.validate_json for name, cls in EVENT_MODELS.items()}
_FROM_DICT = {name: cls.__pydantic_validator__.validate_python for name, cls in EVENT_MODELS.items()}
_set_raw = _Event.raw.__set__  # type: ignore[attr-defined]  # the slot's setter: frozen, but set once here


def parse_event(sse: ServerSentEvent) -> StreamEvent:
    """Never raises. Types the decoded data (rule 9), whatever the text looks like before decoding."""
    name, data = sse[0], sse[1]
    from_json = _FROM_JSON.get(name)
    if from_json is not None:
        try:
            event = from_json(data)  # pydantic-core: a JSON object (any leading whitespace) → event, one pass
        except ValidationError:
            event = _from_decoded(name, data)
        if event is not None:
            _set_raw(event, data)
            return event  # type: ignore[no-any-return]
    unknown = UnknownEvent(event=name, data=decode_data(data))
    _set_raw(unknown, data)
    return unknown


def _from_decoded(name: str, data: str) -> _Event | None:
    """The slow path, for data the JSON fast path refused: empty, not JSON, not an object, or not fitting."""
    try:
        value = json.loads(data) if data else {}
    except ValueError:
        value = None
    if isinstance(value, dict):
        try:
            return _FROM_DICT[name](value)  # type: ignore[no-any-return]
        except ValidationError:
            pass
    return EVENT_MODELS[name]() if name in _ALWAYS_TYPED else None
