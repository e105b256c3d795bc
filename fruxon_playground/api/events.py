"""Typed stream events (contract §9.3): one class per event name, `UnknownEvent` for the rest.

Every event keeps its wire name (`event`) and the data text exactly as received (`raw`). The data
is typed from what it decodes to (contract §9.2 rule 9), so leading whitespace or an empty first
data line does not matter. Data that is not a JSON object, or does not fit its event's class,
never raises: it becomes an `UnknownEvent` that keeps the name and the decoded payload, so the
event log can still show it; `done`, `error` and `heartbeat` stay typed whatever their data.

Why slotted pydantic dataclasses and not `BaseModel`s: a run keeps every event it received, and a
model instance drags a `__dict__` and a fields-set along. On the benchmark's event mix, slotted
events take half the time to build and leave 40 % fewer objects for the garbage collector to walk
again and again while a long stream is read. Nested payloads (`tool_trace`, `trace`…) stay models.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, ClassVar

from pydantic import ConfigDict, Field, TypeAdapter, ValidationError
from pydantic.alias_generators import to_camel
from pydantic.dataclasses import dataclass
from pydantic_core import SchemaValidator

from fruxon_playground._gc import cyclic_gc_paused
from fruxon_playground.api.models import ExecutionTrace, FileLink, HitlTrace, Result, StepTrace, ToolTrace
from fruxon_playground.api.sse import ServerSentEvent, decode_data
from fruxon_playground.contract import is_failure, is_waiting_for_human

# Unknown members of known events are ignored (contract §9.7): `raw` keeps them all anyway.
_CONFIG = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")


@dataclass(frozen=True, slots=True, kw_only=True, config=_CONFIG)
class _Event:
    event: ClassVar[str]
    # Set by `parse_event`, never from the data (a member named "raw" is just an unknown member).
    raw: str = Field(default="", init=False, exclude=True, repr=False)

    def model_dump(self, **kwargs: Any) -> dict[str, Any]:
        """The fields as a dict, with pydantic's `model_dump` options (`by_alias`, `exclude_none`…)."""
        adapter = _ADAPTERS.get(type(self))
        if adapter is None:
            adapter = _ADAPTERS[type(self)] = TypeAdapter(type(self))
        dumped: dict[str, Any] = adapter.dump_python(self, **kwargs)
        return dumped


_ADAPTERS: dict[type[_Event], TypeAdapter[Any]] = {}


@dataclass(frozen=True, slots=True, kw_only=True, config=_CONFIG)
class TextEvent(_Event):
    event: ClassVar[str] = "text"
    chunk: str


@dataclass(frozen=True, slots=True, kw_only=True, config=_CONFIG)
class ToolCallEvent(_Event):
    event: ClassVar[str] = "tool_call"
    id: str
    tool_trace: ToolTrace | None = None
    arguments: Any = None
    start_time: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True, config=_CONFIG)
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


@dataclass(frozen=True, slots=True, kw_only=True, config=_CONFIG)
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


@dataclass(frozen=True, slots=True, kw_only=True, config=_CONFIG)
class StatusEvent(_Event):
    event: ClassVar[str] = "status"
    status: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True, config=_CONFIG)
class UsageEvent(_Event):
    event: ClassVar[str] = "usage"
    input_tokens: int | None = None
    output_tokens: int | None = None
    cached_tokens: int | None = None
    cache_write_tokens: int | None = None
    thinking_tokens: int | None = None
    web_search_calls: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True, config=_CONFIG)
class DoneEvent(_Event):
    event: ClassVar[str] = "done"
    execution_record_id: str | None = None
    session_id: str | None = None
    # The trace as received: the tree builder reads the dict, and typing a 100,000-step trace up front
    # cost seconds that nobody used. `trace` types it when asked.
    trace_data: Any = Field(default=None, alias="trace")
    response: str | None = None
    status: str | None = None
    links: list[FileLink] | None = None
    human_approval_request_id: str | None = None

    @property
    def trace(self) -> ExecutionTrace | None:
        return ExecutionTrace.model_validate(self.trace_data) if self.trace_data is not None else None

    @property
    def is_waiting_for_human(self) -> bool:
        return is_waiting_for_human(self.status)


@dataclass(frozen=True, slots=True, kw_only=True, config=_CONFIG)
class ErrorEvent(_Event):
    event: ClassVar[str] = "error"
    message: str | None = None
    code: str | None = None
    execution_record_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True, config=_CONFIG)
class HeartbeatEvent(_Event):
    event: ClassVar[str] = "heartbeat"


@dataclass(frozen=True, slots=True, kw_only=True, config=_CONFIG)
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
_VALIDATORS: dict[str, SchemaValidator] = {name: cls.__pydantic_validator__ for name, cls in EVENT_MODELS.items()}  # type: ignore[attr-defined]
_FROM_JSON = {name: validator.validate_json for name, validator in _VALIDATORS.items()}
_set_raw: Callable[[object, str], None] = vars(_Event)["raw"].__set__  # the slot itself: frozen, set once here


def parse_event(sse: ServerSentEvent) -> StreamEvent:
    """Never raises. Types the decoded data (rule 9), whatever the text looks like before decoding."""
    name, data = sse[0], sse[1]
    from_json = _FROM_JSON.get(name)
    if from_json is not None:
        try:
            if len(data) < _BIG_DATA:
                event = from_json(data)  # pydantic-core: a JSON object → event, one pass
            else:
                with cyclic_gc_paused():  # 0.6 s instead of 3 s for a done frame with 100k steps
                    event = from_json(data)
        except ValidationError:
            event = _from_decoded(name, data)
        if event is not None:
            _set_raw(event, data)
            return event  # type: ignore[no-any-return]
    unknown = UnknownEvent(event=name, data=decode_data(data))
    _set_raw(unknown, data)
    return unknown


_BIG_DATA = 1 << 20  # a done frame with a big trace: millions of new objects


def _from_decoded(name: str, data: str) -> _Event | None:
    """The slow path, for data the JSON fast path refused: empty, not JSON, not an object, or not fitting."""
    try:
        value = json.loads(data) if data else {}
    except ValueError:
        value = None
    if isinstance(value, dict):
        try:
            return _VALIDATORS[name].validate_python(value)  # type: ignore[no-any-return]
        except ValidationError:
            pass
    return EVENT_MODELS[name]() if name in _ALWAYS_TYPED else None
