"""The pure fold behind every run panel: `fold(state, received) -> state`.

Drawing a live stream, replaying a recorded one, showing a sync run and rebuilding a saved run are
the same code: start from `RunState()` and fold every event in arrival order — the server's wire
events and the playground's lifecycle events (`runs.lifecycle`). A sync run's response body is
folded as its single `done` event. Nothing here touches a socket, a thread or streamlit.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from fruxon_playground._gc import cyclic_gc_paused
from fruxon_playground.api import events as ev
from fruxon_playground.contract import is_failure, is_waiting_for_human, normalize_enum
from fruxon_playground.runs import lifecycle as lc

STALL_MS = 2_000  # a gap between events longer than this counts as a stall
_EMPTY: Mapping[str, Any] = MappingProxyType({})


class Phase(StrEnum):
    """Where a run is. One enum for streamed and sync runs, live and saved."""

    CONNECTING = "connecting"  # request sent, nothing received yet
    RUNNING = "running"
    RESUMING = "resuming"  # approved or rejected: the record is finishing on the server
    COMPLETED = "completed"
    WAITING_FOR_HUMAN = "waiting_for_human"
    REJECTED = "rejected"  # a person rejected the tool call, or the server refused to run it
    FAILED = "failed"  # an `error` event, a failed status, or the request itself failed
    INTERRUPTED = "interrupted"  # the connection ended without done/error
    STOPPED = "stopped"  # the user pressed Stop

    @property
    def is_final(self) -> bool:
        return self not in (Phase.CONNECTING, Phase.RUNNING, Phase.RESUMING)


@dataclass(frozen=True, slots=True)
class Received:
    """One event as it arrived: `t_ms` is milliseconds since the run started (monotonic clock)."""

    event: lc.RunEvent
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
    start_time: int | None = None  # the server's clock (epoch ms), when the call said
    status: str = "running"  # running | succeeded | failed | …as sent
    result: Any = None
    error: str | None = None
    duration_ms: float | None = None
    orphan: bool = False  # a result whose call never arrived

    @property
    def failed(self) -> bool:
        return is_failure(self.status)

    @property
    def running(self) -> bool:
        return self.status == "running"


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
class RunState:
    phase: Phase = Phase.CONNECTING
    text: str = ""
    steps: Mapping[str, StepRow] = field(default_factory=lambda: _EMPTY)  # id -> StepRow, in arrival order
    tools: Mapping[str, ToolCard] = field(default_factory=lambda: _EMPTY)  # id -> ToolCard
    usage: Mapping[str, int | float] = field(default_factory=lambda: _EMPTY)
    counts: Mapping[str, int] = field(default_factory=lambda: _EMPTY)  # event name -> count (wire events only)
    health: StreamHealth = StreamHealth()
    status_updates: tuple[str, ...] = ()
    done: ev.DoneEvent | None = None
    trace: Mapping[str, Any] | None = None  # the ExecutionTrace as received (done, sync body or resumed record)
    links: tuple[Mapping[str, Any], ...] = ()
    error_message: str | None = None
    error_code: str | None = None
    failure: lc.RequestFailed | None = None
    execution_record_id: str | None = None
    session_id: str | None = None
    approval_request_id: str | None = None
    approval: lc.ApprovalAnswered | None = None
    tools_from_trace: bool = False  # the cards were read from the trace (sync runs carry no tool events)
    after_terminal: int = 0  # wire events that arrived after done/error (ignored, counted)

    @property
    def revision(self) -> int | None:
        """The agent revision that ran: None when unknown, ≤ 0 for a draft."""
        value = (self.trace or {}).get("agentRevision")
        return value if isinstance(value, int) and not isinstance(value, bool) else None


def trace_to_show(state: RunState) -> tuple[Mapping[str, Any] | None, bool]:
    """(the trace the viewer draws, whether it was rebuilt from the streamed steps).

    The streamed `step_trace` frames and the final trace describe the same steps by id, so the
    viewer draws one tree: the final trace when it arrived, else (a stream stopped or cut before
    `done`) the tree the step frames built, with unfinished steps still in progress."""
    if state.trace is not None or not state.steps:
        return state.trace, False
    nodes: dict[str, dict[str, Any]] = {
        step.id: {
            "id": step.id, "displayName": step.name, "type": step.type,
            "status": "IN_PROGRESS" if step.running else step.status, "error": step.error,
            "startTime": step.start_ms,
            "endTime": step.start_ms + step.duration_ms if step.start_ms is not None and step.duration_ms is not None
            else None,
            "duration": step.duration_ms, "steps": [],
        }
        for step in state.steps.values()
    }
    roots: list[dict[str, Any]] = []
    placed: set[str] = set()
    for step in state.steps.values():  # arrival order keeps siblings in the order they started
        # A parent that arrived earlier only: a hostile parent cycle becomes roots, never a loop.
        parent = nodes[step.parent_id] if step.parent_id in placed else None
        (parent["steps"] if parent is not None else roots).append(nodes[step.id])
        placed.add(step.id)
    return {"traces": roots}, True


def _with(mapping: Mapping[str, Any], key: str, value: Any) -> Mapping[str, Any]:
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


def fold(state: RunState, received: Received) -> RunState:
    """The state after one more event. Pure; tolerant of any order or content."""
    event = received.event
    if isinstance(event, lc.RequestFailed | lc.StreamEnded | lc.ApprovalAnswered | lc.RecordResumed):
        return _fold_lifecycle(state, event)
    name = event.event
    counts = _with(state.counts, name, state.counts.get(name, 0) + 1)
    if state.phase.is_final:
        return replace(state, counts=counts, after_terminal=state.after_terminal + 1)
    is_text = isinstance(event, ev.TextEvent)
    state = replace(state, counts=counts, health=_health(state.health, received.t_ms, is_text), phase=Phase.RUNNING)

    if isinstance(event, ev.TextEvent):
        return replace(state, text=state.text + event.chunk)
    if isinstance(event, ev.ToolCallEvent):
        return replace(state, tools=_with(state.tools, event.id, _tool_card(event, received.t_ms)))
    if isinstance(event, ev.ToolResultEvent):
        card = _tool_result(state.tools.get(event.id), event, received.t_ms)
        return replace(state, tools=_with(state.tools, event.id, card))
    if isinstance(event, ev.StepTraceEvent):
        return replace(state, steps=_with(state.steps, event.id, _step_row(state.steps, event)))
    if isinstance(event, ev.StatusEvent):
        return replace(state, status_updates=(*state.status_updates, event.status or ""))
    if isinstance(event, ev.UsageEvent):
        usage = {k: v for k, v in event.model_dump(by_alias=True, exclude_none=True).items()
                 if isinstance(v, int | float) and not isinstance(v, bool)}
        return replace(state, usage=MappingProxyType({**state.usage, **usage}))
    if isinstance(event, ev.DoneEvent):
        return _fold_done(state, event)
    if isinstance(event, ev.ErrorEvent):
        return replace(
            state,
            phase=Phase.FAILED,
            error_message=event.message or "The run failed (the error event carried no message).",
            error_code=event.code,
            execution_record_id=event.execution_record_id or state.execution_record_id,
        )
    return state  # heartbeat, unknown and unnamed events only count


def _fold_done(state: RunState, event: ev.DoneEvent) -> RunState:
    trace = event.trace_data if isinstance(event.trace_data, dict) else None  # as received, for the tree builder
    links = [link.to_wire() for link in event.links] if event.links is not None else None
    response = event.response
    if is_waiting_for_human(event.status) or event.human_approval_request_id:
        phase = Phase.WAITING_FOR_HUMAN
    elif is_failure(event.status):
        phase = Phase.FAILED
    else:
        phase = Phase.COMPLETED
    state = replace(
        state,
        phase=phase,
        done=event,
        text=state.text or (response if isinstance(response, str) else ""),
        trace=trace if trace is not None else state.trace,
        links=tuple(link for link in links if isinstance(link, dict)) if isinstance(links, list) else state.links,
        execution_record_id=event.execution_record_id or state.execution_record_id,
        session_id=event.session_id or state.session_id,
        approval_request_id=event.human_approval_request_id,
        error_message=f"The run ended with status {event.status}." if phase is Phase.FAILED else state.error_message,
    )
    return _with_trace_tools(state)


def _fold_lifecycle(state: RunState, event: lc.LifecycleEvent) -> RunState:
    if isinstance(event, lc.RequestFailed):
        if state.phase.is_final:
            return state
        return replace(state, phase=Phase.FAILED, failure=event, error_message=event.message,
                       execution_record_id=event.execution_record_id or state.execution_record_id)
    if isinstance(event, lc.StreamEnded):
        if state.phase.is_final:
            return state
        phase = Phase.STOPPED if event.reason == "stopped" else Phase.INTERRUPTED
        return replace(state, phase=phase, error_message=event.message)
    if isinstance(event, lc.ApprovalAnswered):
        if state.phase is not Phase.WAITING_FOR_HUMAN:
            return state
        return replace(state, phase=Phase.RESUMING, approval=event)
    return _fold_resumed(state, event)


def _fold_resumed(state: RunState, event: lc.RecordResumed) -> RunState:
    status = normalize_enum(event.status)
    rejected = state.approval is not None and not state.approval.approved
    if is_waiting_for_human(status):
        phase = Phase.WAITING_FOR_HUMAN  # another gate further on
    elif status == "REJECTED" or (rejected and not is_failure(status)):
        phase = Phase.REJECTED  # §9.6: a rejected call may still end the record as COMPLETED
    elif is_failure(status):
        phase = Phase.FAILED
    elif status == "COMPLETED":
        phase = Phase.COMPLETED
    else:
        return state  # still in progress: the follower reports again later
    message: str | None
    if phase is Phase.REJECTED:
        reason = state.approval.reason if state.approval is not None and state.approval.reason else None
        message = "You rejected the tool call" + (f": {reason}" if reason else ".")
    elif phase is Phase.FAILED:
        message = event.error or f"The run ended with status {event.status}."
    else:
        message = event.error if phase is Phase.WAITING_FOR_HUMAN else None
    state = replace(
        state,
        phase=phase,
        text=event.response if event.response is not None else state.text,
        trace=event.trace if event.trace is not None else state.trace,
        error_message=message,
        approval_request_id=state.approval_request_id if phase is Phase.WAITING_FOR_HUMAN else None,
        approval=None if phase is Phase.WAITING_FOR_HUMAN else state.approval,
    )
    return _with_trace_tools(replace(state, tools=_EMPTY, tools_from_trace=False) if state.tools_from_trace else state)


def _tool_card(event: ev.ToolCallEvent, t_ms: float) -> ToolCard:
    tool_trace = event.tool_trace
    tool = tool_trace.tool if tool_trace else None
    name = (tool.name or tool.id) if tool else None
    display = (tool_trace.display_name if tool_trace else None) or name or "tool"
    arguments = event.arguments if event.arguments is not None else (tool_trace.parameters if tool_trace else None)
    key = f"{tool.integration_id}.{name}" if tool and tool.integration_id else (name or "tool")
    return ToolCard(id=event.id, name=key, display_name=display, arguments=arguments, started_at_ms=t_ms,
                    start_time=event.start_time)


def _tool_result(card: ToolCard | None, event: ev.ToolResultEvent, t_ms: float) -> ToolCard:
    if card is None:
        card = ToolCard(id=event.id, name="(unknown tool)", display_name="(result without a call)",
                        arguments=None, started_at_ms=t_ms, orphan=True)
    # The server's clock first (a replayed run arrives all at once), then its own duration, then ours.
    if event.end_time and card.start_time and event.end_time >= card.start_time:
        duration: float = event.end_time - card.start_time
    elif event.duration_ms is not None and event.duration_ms >= 0:
        duration = event.duration_ms
    elif event.duration is not None and event.duration >= 0:
        duration = event.duration
    else:
        duration = t_ms - card.started_at_ms
    return replace(card, status=event.status or "unknown", result=event.result, error=event.error,
                   duration_ms=float(duration))


def _step_row(steps: Mapping[str, StepRow], event: ev.StepTraceEvent) -> StepRow:
    previous = steps.get(event.id)
    parent_id = event.parent_id or (previous.parent_id if previous else None)
    parent = steps.get(parent_id) if parent_id else None
    start = event.start_time or (previous.start_ms if previous else None)
    if event.end_time and start and event.end_time >= start:
        duration: int | None = event.end_time - start
    elif event.end_time and event.duration is not None and event.duration >= 0:
        duration = int(event.duration)
    else:
        duration = None  # a start frame (endTime 0, negative duration): still running
    return StepRow(
        id=event.id,
        parent_id=parent_id,
        name=event.display_name or (previous.name if previous else "") or event.type or "step",
        type=event.type or (previous.type if previous else "UNSPECIFIED"),
        status=(event.status or "UNSPECIFIED") if duration is not None else "running",
        depth=(parent.depth + 1) if parent else 0,
        start_ms=start,
        duration_ms=duration,
        error=event.error,
    )


def _with_trace_tools(state: RunState) -> RunState:
    """Sync runs (and deployed streams) carry no tool events: read the tool calls from the trace."""
    if state.tools or not state.trace:
        return state
    with cyclic_gc_paused():  # a big trace's tool calls: tens of thousands of new cards at once
        cards = {card.id: card for card in _tools_in_trace(state.trace)}
    return replace(state, tools=MappingProxyType(cards), tools_from_trace=True) if cards else state


def _tools_in_trace(trace: Mapping[str, Any]) -> Iterable[ToolCard]:
    stack = list(reversed([n for n in trace.get("traces") or [] if isinstance(n, dict)]))
    count = 0
    while stack:
        node = stack.pop()
        children = node.get("steps")
        if isinstance(children, list):
            stack.extend(reversed([n for n in children if isinstance(n, dict)]))
        tool_trace = node.get("toolTrace")
        if normalize_enum(node.get("type")) != "TOOL" and not isinstance(tool_trace, dict):
            continue
        count += 1
        details: dict[str, Any] = tool_trace if isinstance(tool_trace, dict) else {}
        tool: dict[str, Any] = details["tool"] if isinstance(details.get("tool"), dict) else {}
        name = tool.get("name") or tool.get("id") or "tool"
        result: dict[str, Any] = node["result"] if isinstance(node.get("result"), dict) else {}
        start, end = node.get("startTime"), node.get("endTime")
        duration = end - start if isinstance(start, int) and isinstance(end, int) and end >= start > 0 else None
        yield ToolCard(
            id=str(node.get("id") or f"tool-{count}"),  # a step without an id still gets a card of its own
            name=f"{tool['integrationId']}.{name}" if tool.get("integrationId") else str(name),
            display_name=str(node.get("displayName") or details.get("displayName") or name),
            arguments=details.get("parameters"),
            started_at_ms=0.0,
            start_time=start if isinstance(start, int) else None,
            status="failed" if is_failure(node.get("status")) or node.get("error") else "succeeded",
            result=result.get("jsonValue") if result.get("jsonValue") is not None else result.get("strValue"),
            error=node.get("error") if isinstance(node.get("error"), str) else None,
            duration_ms=float(duration) if duration is not None else None,
        )


def fold_all(received: Iterable[Received], state: RunState | None = None) -> RunState:
    """`fold` over every event, in order. Same result as folding one by one, but a run of text
    events costs one string join: appending each chunk to the answer copies the whole answer, so
    one by one is quadratic (60k chunks of a 1.3 MB answer: 90 s; joined: under a second)."""
    state = state or RunState()
    texts: list[Received] = []  # consecutive text events, not folded yet
    for item in received:
        if isinstance(item.event, ev.TextEvent) and not state.phase.is_final:
            texts.append(item)  # text never ends a run, so the phase stays non-final
            continue
        if texts:
            state, texts = _fold_texts(state, texts), []
        state = fold(state, item)
    return _fold_texts(state, texts) if texts else state


def _fold_texts(state: RunState, items: list[Received]) -> RunState:
    """`fold` of consecutive text events on a running (non-final) state, in one step."""
    health = state.health
    for item in items:
        health = _health(health, item.t_ms, True)
    chunks = "".join(item.event.chunk for item in items if isinstance(item.event, ev.TextEvent))
    counts = _with(state.counts, ev.TextEvent.event, state.counts.get(ev.TextEvent.event, 0) + len(items))
    return replace(state, counts=counts, health=health, phase=Phase.RUNNING, text=state.text + chunks)
