"""A run as it is saved, and a saved run as it is drawn again.

`RunRecorder` is what a `RunHandle` saves itself through: it turns a snapshot into a `SavedRun` with
every secret removed (the connection's own key, matched exactly, and anything secret-shaped) from the
request, the response, each event, the trace and the error text, and writes it to the store. A store
that fails never fails the run: the recorder keeps the reason for the page to show.

`snapshot_of_saved` rebuilds the snapshot of a saved run by folding its events again, so History, a
share link and the page that ran it draw the same thing with the same code.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from fruxon_playground._gc import cyclic_gc_paused
from fruxon_playground.api.events import parse_event
from fruxon_playground.api.sse import ServerSentEvent
from fruxon_playground.contract.secrets import mask_json_text, mask_secrets, mask_text, strip_url_credentials
from fruxon_playground.history import HistoryUnavailable, RunSummary, SavedRun
from fruxon_playground.runs import lifecycle as lc
from fruxon_playground.runs.fold import Phase, Received, fold_all
from fruxon_playground.runs.handle import RunHandle, RunKind, RunSnapshot


class RunSaver(Protocol):
    def save(self, run: SavedRun, *, secrets: Iterable[str | None] = ()) -> SavedRun: ...


@dataclass(frozen=True)
class RunContext:
    """Who ran it and where: saved with the run (the key only to remove it from what is saved)."""

    owner: str
    base_url: str
    tenant: str
    secrets: tuple[str, ...] = field(default=(), repr=False)
    group_id: str | None = None  # runs started together: a side-by-side pair, a batch
    label: str | None = None  # what the run is to its group: "draft", "rev 3", a test case's name


class RunRecorder:
    """Saves one run; thread-safe; masks each event once however often the run is saved."""

    def __init__(self, store: RunSaver, context: RunContext) -> None:
        self.store = store
        self.context = context
        self.last_error: str | None = None
        self._lock = threading.Lock()
        self._events: list[dict[str, Any]] = []

    def save(self, handle: RunHandle, snapshot: RunSnapshot) -> None:
        with self._lock:
            for item in snapshot.received[len(self._events):]:
                self._events.append(saved_event(item, self.context.secrets))
            run = saved_run_from(handle, snapshot, self.context, events=list(self._events))
            try:
                self.store.save(run, secrets=self.context.secrets)
            except HistoryUnavailable as exc:
                self.last_error = str(exc)
            else:
                self.last_error = None


def saved_event(item: Received, secrets: tuple[str, ...] = ()) -> dict[str, Any]:
    return {"event": item.event.event, "data": mask_json_text(item.event.raw, secrets), "t_ms": round(item.t_ms, 1)}


def saved_status(phase: Phase) -> str:
    return phase.value if phase.is_final else "running"


def saved_run_from(handle: RunHandle, snapshot: RunSnapshot, context: RunContext, *,
                   events: list[dict[str, Any]] | None = None) -> SavedRun:
    state = snapshot.state
    secrets = context.secrets
    trace: Mapping[str, Any] = state.trace or {}
    response = None
    if state.done is not None:
        try:
            response = json.loads(state.done.raw) if state.done.raw else {}
        except ValueError:
            response = {"_raw": state.done.raw}
        if isinstance(response, dict) and state.trace is not None:
            response.pop("trace", None)  # saved once, as `trace` (a big one is tens of MB)
    return SavedRun(
        id=handle.id,
        kind=handle.kind.value,
        agent_id=handle.agent,
        request=mask_secrets(handle.request, secrets),
        status=saved_status(state.phase),
        owner=context.owner,
        created_at_ms=handle.started_at_wall_ms,
        base_url=strip_url_credentials(context.base_url),
        tenant=context.tenant,
        error=mask_text(state.error_message, secrets) if state.error_message else None,
        started_at_ms=handle.started_at_wall_ms,
        duration_ms=round(snapshot.elapsed_ms, 1),
        total_cost=_number(trace.get("totalCost")),
        input_tokens=int(_number(trace.get("inputTokens") or state.usage.get("inputTokens"))),
        output_tokens=int(_number(trace.get("outputTokens") or state.usage.get("outputTokens"))),
        execution_record_id=state.execution_record_id,
        session_id=state.session_id,
        environment_slug=handle.request.get("environmentSlug"),
        response=mask_secrets(response, secrets) if response is not None else None,
        events=events if events is not None else [saved_event(r, secrets) for r in snapshot.received],
        trace=mask_secrets(dict(trace), secrets) if trace else None,
        heartbeat_at_ms=int(time.time() * 1000),
        revision=state.revision if state.revision is not None else _requested_revision(handle),
        group_id=context.group_id,
        label=context.label,
        answer=mask_text(state.text, secrets) if state.text else None,
    )


def _requested_revision(handle: RunHandle) -> int | None:
    """Before the trace says: a test run names its revision (or is the draft, −1)."""
    if not handle.kind.is_test:
        return None
    base = handle.request.get("baseRevision")
    if handle.request.get("flow") is None and isinstance(base, int) and base > 0:
        return base
    return -1


def _number(value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return 0.0
    return number if number == number and number not in (float("inf"), float("-inf")) else 0.0


def received_of_saved(run: SavedRun) -> list[Received]:
    """The run's events as the fold reads them. Runs saved before events were kept for sync runs
    have only a response, and imported or generated completed runs may have only a trace: either
    becomes their `done`."""
    items = [Received(lc.parse_run_event(str(e.get("event") or "message"), str(e.get("data") or "")),
                      float(e.get("t_ms") or 0.0)) for e in run.events]
    if items or not (run.response is not None or (run.trace and run.status == "completed")):
        return items
    body = dict(run.response or {})
    if run.trace and not body.get("trace"):
        body["trace"] = run.trace
    done = parse_event(ServerSentEvent("done", json.dumps(body, ensure_ascii=False)))
    return [Received(done, run.duration_ms or 0.0)]


def snapshot_of_saved(run: SavedRun) -> RunSnapshot:
    with cyclic_gc_paused():  # a big run's events and trace: many objects at once, nothing to collect
        received = received_of_saved(run)
        state = fold_all(received)
    if not state.phase.is_final:
        # Saved while running, and whoever ran it is gone (the store marked it), or an old run
        # that ended without a terminal event and without a record of why.
        ending = lc.RequestFailed(title="The run failed", message=run.error or "") if run.status == "failed" \
            else lc.StreamEnded("stopped" if run.status == "stopped" else "interrupted",
                                run.error or "The run ended without a final event.")
        state = fold_all([Received(ending, run.duration_ms or 0.0)], state)
    return RunSnapshot(state=state, received=tuple(received), elapsed_ms=run.duration_ms or 0.0, finished=True)


class FrozenRun:
    """A saved run that draws like a live one: the same attributes a panel reads from a `RunHandle`.

    Opened by its light columns (`head`): the bodies are read (`saved`) and the events folded
    (`snapshot`) the first time something needs them, once. A page can draw a big run's stored
    trace view before paying for either."""

    __slots__ = ("_load", "_saved", "_snapshot", "head")

    def __init__(self, head: RunSummary | SavedRun, load: Callable[[], SavedRun | None]) -> None:
        self.head = head
        self._load: Callable[[], SavedRun | None] | None = load
        self._saved: SavedRun | None = None
        self._snapshot: RunSnapshot | None = None

    @classmethod
    def of(cls, saved: SavedRun) -> FrozenRun:
        return cls(saved, lambda: saved)

    @property
    def saved(self) -> SavedRun:
        if self._saved is None:
            assert self._load is not None
            head = self.head
            # Deleted since its head was read: what the head says, and nothing more.
            self._saved = self._load() or SavedRun(
                id=head.id, kind=head.kind, agent_id=head.agent_id, request={}, status=head.status,
                owner=head.owner, created_at_ms=head.created_at_ms, error=head.error or "This run was deleted.")
            self._load = None
        return self._saved

    @property
    def id(self) -> str:
        return self.head.id

    @property
    def kind(self) -> RunKind:
        return RunKind(self.head.kind)

    @property
    def agent(self) -> str:
        return self.head.agent_id

    @property
    def owner(self) -> str:
        return self.head.owner

    @property
    def updated_at_ms(self) -> int:
        return self.head.updated_at_ms

    @property
    def request(self) -> dict[str, Any]:
        return self.saved.request

    @property
    def finished(self) -> bool:
        return True

    def snapshot(self) -> RunSnapshot:
        if self._snapshot is None:
            self._snapshot = snapshot_of_saved(self.saved)
        return self._snapshot
