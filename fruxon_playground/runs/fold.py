"""The pure fold behind the live panel: `fold(view, received) -> view`.

Rendering a live stream, replaying a recorded one and rebuilding a saved run are the same code:
start from `RunView()` and fold every received event in arrival order. Nothing here touches a
socket, a thread or streamlit.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from fruxon_playground.api import events as ev
from fruxon_playground.api.models import normalize_enum

STALL_MS = 2_000  # a gap between events longer than this counts as a stall


class Phase(StrEnum):
    CONNECTING = "connecting"  # request sent, nothing received yet
    RUNNING = "running"
    COMPLETED = "completed"
    WAITING_FOR_HUMAN = "waiting_for_human"
    FAILED = "failed"  # an `error` event, or the request itself failed
    INTERRUPTED = "interrupted"  # the connection ended without done/error
    STOPPED = "stopped"  # the user pressed Stop

    @property
    def is_final(self) -> bool:
        return self not in (Phase.CONNECTING, Phase.RUNNING)


@dataclass(frozen=True, slots=True)
class Received:
    """One event as it arrived: `t_ms` is milliseconds since the run started (monotonic clock)."""

    event: ev.StreamEvent
    t_ms: float


@dataclass(frozen=True, slots=True)
class StepRow:
    id: str
    parent_id: str | None
    name: str
    type: str
    status: str  # raw status as sent; "running" until an end frame arrives
    depth: int
    start_ms: int | None
    duration_ms: int | None  # None while running (start frames carry negative durations)
    error: str | None = None

    @property
    def running(self) -> bool:
        return self.duration_ms is None


@dataclass(frozen=True, slots=True)
class ToolCard:
    id: str
    name: str
    display_name: str
    arguments: Any
    started_at_ms: float  # arrival time of the tool_call (ms since run start)
    status: str = "running"  # running | succeeded | failed | orphan result
    result: Any = None
    error: str | None = None
    duration_ms: float | None = None
    orphan: bool = False  # a result whose call never arrived

    @property
    def failed(self) -> bool:
        return normalize_enum(self.status) in {"FAILED", "ERROR", "CANCELLED", "FAILURE"}


@dataclass(frozen=True, slots=True)
class StreamHealth:
    event_count: int = 0
    first_event_ms: float | None = None
    first_text_ms: float | None = None
    last_event_ms: float | None = None
    max_gap_ms: float = 0.0
    stalls: int = 0  # gaps longer than STALL_MS

    def events_per_second(self, now_ms: float | None = None) -> float:
        end = now_ms if now_ms is not None else self.last_event_ms
        if not self.event_count or not end:
            return 0.0
        return self.event_count / max(end / 1000.0, 1e-3)


@dataclass(frozen=True, slots=True)
class RunView:
    phase: Phase = Phase.CONNECTING
    text: str = ""
    steps: MappingProxyType = field(default_factory=lambda: MappingProxyType({}))  # id -> StepRow
    tools: MappingProxyType = field(default_factory=lambda: MappingProxyType({}))  # id -> ToolCard
    usage: MappingProxyType = field(default_factory=lambda: MappingProxyType({}))
    counts: MappingProxyType = field(default_factory=lambda: MappingProxyType({}))  # event name -> count
    health: StreamHealth = StreamHealth()
    status_updates: tuple[str, ...] = ()
    done: ev.DoneEvent | None = None
    error_message: str | None = None
    error_code: str | None = None
    execution_record_id: str | None = None
    session_id: str | None = None
    approval_request_id: str | None = None
    after_terminal: int = 0  # events that arrived after done/error (ignored, counted)


def _with(mapping: MappingProxyType, key: str, value: Any) -> MappingProxyType:
    copy = dict(mapping)
    copy[key] = value
    return MappingProxyType(copy)


def _health(health: StreamHealth, t_ms: float, is_text: bool) -> StreamHealth:
    gap = t_ms - health.last_event_ms if health.last_event_ms is not None else 0.0
    return StreamHealth(
        event_count=health.event_count + 1,
        first_event_ms=health.first_event_ms if health.first_event_ms is not None else t_ms,
        first_text_ms=health.first_text_ms if health.first_text_ms is not None or not is_text else t_ms,
        last_event_ms=t_ms,
        max_gap_ms=max(health.max_gap_ms, gap),
        stalls=health.stalls + (1 if gap > STALL_MS else 0),
    )


def fold(view: RunView, received: Received) -> RunView:
    """Returns the view after one more event. Pure; tolerant of any order or content."""
    event = received.event
    name = event.event
    counts = _with(view.counts, name, view.counts.get(name, 0) + 1)
    if view.phase.is_final:
        return replace(view, counts=counts, after_terminal=view.after_terminal + 1)
    is_text = isinstance(event, ev.TextEvent)
    view = replace(view, counts=counts, health=_health(view.health, received.t_ms, is_text), phase=Phase.RUNNING)

    if is_text:
        return replace(view, text=view.text + event.chunk)
    if isinstance(event, ev.ToolCallEvent):
        return replace(view, tools=_with(view.tools, event.id, _tool_card(event, received.t_ms)))
    if isinstance(event, ev.ToolResultEvent):
        return replace(view, tools=_with(view.tools, event.id, _tool_result(view.tools.get(event.id), event, received.t_ms)))
    if isinstance(event, ev.StepTraceEvent):
        return replace(view, steps=_with(view.steps, event.id, _step_row(view.steps, event)))
    if isinstance(event, ev.StatusEvent):
        return replace(view, status_updates=(*view.status_updates, event.status or ""))
    if isinstance(event, ev.UsageEvent):
        usage = {k: v for k, v in event.model_dump(by_alias=True, exclude_none=True).items() if isinstance(v, int | float)}
        return replace(view, usage=MappingProxyType({**view.usage, **usage}))
    if isinstance(event, ev.DoneEvent):
        waiting = normalize_enum(event.status) == "WAITINGFORHUMAN"
        return replace(
            view,
            phase=Phase.WAITING_FOR_HUMAN if waiting else Phase.COMPLETED,
            done=event,
            execution_record_id=event.execution_record_id or view.execution_record_id,
            session_id=event.session_id or view.session_id,
            approval_request_id=event.human_approval_request_id,
        )
    if isinstance(event, ev.ErrorEvent):
        return replace(
            view,
            phase=Phase.FAILED,
            error_message=event.message or "The run failed (the error event carried no message).",
            error_code=event.code,
            execution_record_id=event.execution_record_id or view.execution_record_id,
        )
    return view  # heartbeat, unknown and unnamed events only count


def end_of_stream(view: RunView, phase: Phase, message: str | None = None) -> RunView:
    """How the stream ended when no terminal event said so (interrupted, stopped, request failed)."""
    if view.phase.is_final:
        return view
    return replace(view, phase=phase, error_message=message or view.error_message)


def _tool_card(event: ev.ToolCallEvent, t_ms: float) -> ToolCard:
    tool_trace = event.tool_trace
    tool = tool_trace.tool if tool_trace else None
    name = (tool.name or tool.id) if tool else None
    display = (tool_trace.display_name if tool_trace else None) or name or "tool"
    arguments = event.arguments if event.arguments is not None else (tool_trace.parameters if tool_trace else None)
    key = f"{tool.integration_id}.{name}" if tool and tool.integration_id else (name or "tool")
    return ToolCard(id=event.id, name=key, display_name=display, arguments=arguments, started_at_ms=t_ms)


def _tool_result(card: ToolCard | None, event: ev.ToolResultEvent, t_ms: float) -> ToolCard:
    status = event.status or "unknown"
    if card is None:
        card = ToolCard(id=event.id, name="(unknown tool)", display_name="(result without a call)",
                        arguments=None, started_at_ms=t_ms, orphan=True)
    duration = event.duration_ms if event.duration_ms is not None else event.duration
    if duration is None or duration < 0:
        duration = t_ms - card.started_at_ms
    return replace(card, status=status, result=event.result, error=event.error, duration_ms=float(duration))


def _step_row(steps: MappingProxyType, event: ev.StepTraceEvent) -> StepRow:
    previous: StepRow | None = steps.get(event.id)
    parent_id = event.parent_id or (previous.parent_id if previous else None)
    parent = steps.get(parent_id) if parent_id else None
    duration = event.duration if event.duration is not None and event.duration >= 0 and event.end_time else None
    return StepRow(
        id=event.id,
        parent_id=parent_id,
        name=event.display_name or (previous.name if previous else "") or event.type or "step",
        type=event.type or (previous.type if previous else "UNSPECIFIED"),
        status=(event.status or "UNSPECIFIED") if duration is not None else "running",
        depth=(parent.depth + 1) if parent else 0,
        start_ms=event.start_time or (previous.start_ms if previous else None),
        duration_ms=duration,
        error=event.error,
    )


def fold_all(received: list[Received], view: RunView | None = None) -> RunView:
    view = view or RunView()
    for item in received:
        view = fold(view, item)
    return view
