"""A run from request to saved record: one worker thread per run, one list of everything it received.

The UI thread never blocks on the network: it asks for `snapshot()` at its own pace. The worker owns
the HTTP response and closes it in `finally`; `cancel()` may be called from any thread. The run saves
itself through its recorder — when it starts, every few seconds while it runs, and in the worker's
`finally` when it ends — whatever the page does, and again when a person answers its approval and
the record resumes.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from fruxon_playground.api import FruxonClient
from fruxon_playground.api import errors as err
from fruxon_playground.api.events import parse_event
from fruxon_playground.api.sse import ServerSentEvent
from fruxon_playground.contract import is_waiting_for_human, normalize_enum
from fruxon_playground.contract.enums import TERMINAL_RECORD_STATUSES
from fruxon_playground.runs import lifecycle as lc
from fruxon_playground.runs.fold import Phase, Received, RunState, fold_all

if TYPE_CHECKING:
    from fruxon_playground.runs.record import RunRecorder

SAVE_EVERY_S = 2.0  # progress saves double as the heartbeat other replicas read
MAX_SAVE_PAUSE_S = 10.0  # well inside the store's 30 s before a silent run counts as interrupted
FOLLOW_POLL_S = 0.5
FOLLOW_TIMEOUT_S = 600.0


class RunKind(StrEnum):
    EXECUTE = "execute"  # POST :execute, wait for the answer
    STREAM = "stream"  # POST :stream
    TEST = "test"  # POST :test
    STREAM_TEST = "stream_test"  # POST :streamTest

    @property
    def streamed(self) -> bool:
        return self in (RunKind.STREAM, RunKind.STREAM_TEST)

    @property
    def action(self) -> str:
        """The custom method on the wire: `execute`, `stream`, `test`, `streamTest`."""
        return "streamTest" if self is RunKind.STREAM_TEST else self.value

    @property
    def is_test(self) -> bool:
        return self in (RunKind.TEST, RunKind.STREAM_TEST)


@dataclass(frozen=True)
class RunSnapshot:
    state: RunState
    received: tuple[Received, ...]
    elapsed_ms: float
    finished: bool  # no worker is running for this run (it ended, or it waits for a person)


ClientFactory = Callable[[], FruxonClient]


def request_failed(exc: Exception) -> lc.RequestFailed:
    if isinstance(exc, err.FruxonAPIError):
        return lc.RequestFailed(
            title=exc.title or f"HTTP {exc.status}",
            message=str(exc),
            status=exc.status,
            field_errors=getattr(exc, "field_errors", None) or None,
            retry_after=exc.retry_after,
            execution_record_id=exc.execution_record_id,
        )
    return lc.RequestFailed(title=type(exc).__name__, message=str(exc) or type(exc).__name__)


class RunHandle:
    """One run. `start()` it, read `snapshot()`s, `cancel()` it, answer its approval."""

    def __init__(self, kind: RunKind, agent: str, request: dict[str, Any], client_factory: ClientFactory, *,
                 recorder: RunRecorder | None = None, draft_revision: int | None = None) -> None:
        self.id = uuid.uuid4().hex  # also the saved run's id
        self.kind = kind
        self.agent = agent
        self.request = request  # wire JSON as sent (the key is never in it)
        self.draft_revision = draft_revision  # run the server-stored draft of this base revision (E5/E6)
        self.started_at_wall_ms = int(time.time() * 1000)
        self.recorder = recorder
        self._client_factory = client_factory
        self._lock = threading.Lock()
        self._save_lock = threading.Lock()
        self._received: list[Received] = []  # the run's only event buffer
        self._state = RunState()  # folded up to `_folded`
        self._folded = 0
        self._cancelled = threading.Event()
        self._finished = threading.Event()
        self._closer: Callable[[], None] | None = None
        self._t0 = time.monotonic()
        self._ended_at: float | None = None

    # -- control ----------------------------------------------------------------------------------
    def start(self) -> RunHandle:
        self._launch(self._run)
        return self

    def cancel(self) -> None:
        """Stop from any thread: closes the connection; everything received is kept."""
        self._cancelled.set()
        with self._lock:
            closer = self._closer
        if closer is not None:
            closer()

    def wait(self, timeout: float | None = None) -> bool:
        return self._finished.wait(timeout)

    @property
    def finished(self) -> bool:
        return self._finished.is_set()

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    def answer_approval(self, approved: bool, reason: str = "") -> None:
        """Approve or reject the pending tool call, then follow the record to its end (same saved run)."""
        state = self.snapshot().state
        if state.phase is not Phase.WAITING_FOR_HUMAN or not self.finished:
            return
        self._cancelled.clear()
        self._finished.clear()
        with self._lock:
            self._ended_at = None
        self._append(lc.ApprovalAnswered(approved=approved, reason=reason.strip()))
        self._launch(lambda: self._follow(state, approved, reason.strip()))

    # -- reading ----------------------------------------------------------------------------------
    def snapshot(self) -> RunSnapshot:
        with self._lock:
            state = fold_all(self._received[self._folded:], self._state)  # one join per batch of text
            self._state, self._folded = state, len(self._received)
            received = tuple(self._received)
            ended = self._ended_at
        now = ended if ended is not None else time.monotonic()
        return RunSnapshot(state=state, received=received, elapsed_ms=(now - self._t0) * 1000.0,
                           finished=self._finished.is_set())

    # -- worker -----------------------------------------------------------------------------------
    def _launch(self, work: Callable[[], None]) -> None:
        threading.Thread(target=self._work, args=(work,), name=f"fruxon-run-{self.id[:8]}", daemon=True).start()
        if self.recorder is not None:
            threading.Thread(target=self._keep_saved, name=f"fruxon-save-{self.id[:8]}", daemon=True).start()

    def _work(self, work: Callable[[], None]) -> None:
        try:
            work()
        finally:
            with self._lock:
                self._closer = None
                self._ended_at = time.monotonic()
            self._save()  # before `finished`: whoever waits for the run finds it saved
            self._finished.set()

    def _keep_saved(self) -> None:
        self._save()
        pause = SAVE_EVERY_S
        while not self._finished.wait(pause):
            started = time.monotonic()
            self._save(progress=True)
            # A long run's save grows with its events: keep saving below ~5 % of the time.
            pause = min(MAX_SAVE_PAUSE_S, max(SAVE_EVERY_S, 20 * (time.monotonic() - started)))

    def _save(self, *, progress: bool = False) -> None:
        if self.recorder is None:
            return
        with self._save_lock:
            if progress and self._ended_at is not None:
                return  # the final save wins
            self.recorder.save(self, self.snapshot())

    def _append(self, event: lc.RunEvent) -> None:
        item = Received(event, (time.monotonic() - self._t0) * 1000.0)
        with self._lock:
            self._received.append(item)

    def _run(self) -> None:
        client = None
        try:
            client = self._client_factory()
            if self._cancelled.is_set():
                self._append(lc.StreamEnded("stopped", "Stopped before the request was sent."))
            elif self.kind.streamed:
                self._run_stream(client)
            else:
                self._run_sync(client)
        except Exception as exc:  # the worker must never die silently
            if self._cancelled.is_set():
                self._append(lc.StreamEnded("stopped", "Stopped by you."))
            else:
                self._append(request_failed(exc))
        finally:
            if client is not None:
                client.close()

    def _run_stream(self, client: FruxonClient) -> None:
        with client.open_stream(self.kind.action, self.agent, self.request, draft_revision=self.draft_revision) as stream:
            with self._lock:
                self._closer = stream.cancel
            if self._cancelled.is_set():
                stream.cancel()
            try:
                for event in stream:
                    self._append(event)
            except err.StreamInterrupted:
                self._append(lc.StreamEnded(
                    "interrupted", "The connection closed before the run finished (no done or error event)."))
                return
        if self._cancelled.is_set():
            self._append(lc.StreamEnded("stopped", "Stopped by you."))

    def _run_sync(self, client: FruxonClient) -> None:
        with self._lock:
            self._closer = client.close
        body = client.run_json(self.kind.action, self.agent, self.request, draft_revision=self.draft_revision)
        # The response is an ExecuteResponse, the same shape as a stream's `done`: fold it as one.
        self._append(parse_event(ServerSentEvent("done", body)))

    def _follow(self, waiting: RunState, approved: bool, reason: str) -> None:
        """Send the decision, then poll the record until it ends (or waits for another person)."""
        record_id, approval_id = waiting.execution_record_id, waiting.approval_request_id
        answered_at = int(time.time() * 1000)
        try:
            with self._client_factory() as client:
                with self._lock:
                    self._closer = client.close
                client.respond_to_approval(self.agent, approval_id or "", "approve" if approved else f"reject: {reason}")
                if not record_id:
                    self._append(lc.RecordResumed(status="COMPLETED" if approved else "REJECTED"))
                    return
                deadline = time.monotonic() + FOLLOW_TIMEOUT_S
                while not self._cancelled.is_set():
                    record = client.get_execution_record(self.agent, record_id)
                    status = normalize_enum(record.status)
                    waiting_since = record.waiting_for.waiting_since if record.waiting_for else None
                    again = is_waiting_for_human(status) and (waiting_since or 0) > answered_at
                    if status in TERMINAL_RECORD_STATUSES or again:
                        break
                    if time.monotonic() > deadline:
                        self._append(lc.RecordResumed(
                            status="WAITING_FOR_HUMAN",
                            error=f"The record was still {record.status} after {FOLLOW_TIMEOUT_S:.0f} s; open it "
                                  "in Remote runs later."))
                        return
                    time.sleep(FOLLOW_POLL_S)
                else:
                    self._append(lc.StreamEnded("stopped", "Stopped following the record; it goes on on the server."))
                    return
                trace = client.execution_trace_data(self.agent, record_id) if record.has_trace is not False else None
                result = client.get_execution_result(self.agent, record_id)
                answer = None
                if result is not None and result.result is not None:
                    answer = result.result.str_value if result.result.str_value is not None else None
                self._append(lc.RecordResumed(status=str(record.status or ""), response=answer, trace=trace,
                                              error=record.rejection_reason))
        except err.FruxonError as exc:
            self._append(lc.RecordResumed(status="WAITING_FOR_HUMAN", error=f"The decision could not be sent: {exc}"))


class ReplayHandle(RunHandle):
    """Plays a saved run back through the same fold and panel, at its own pace × `speed`. No API call."""

    def __init__(self, kind: RunKind, agent: str, request: dict[str, Any], events: list[Received],
                 speed: float = 1.0) -> None:
        super().__init__(kind, agent, request, client_factory=_no_client)
        self._saved = events
        self._speed = max(speed, 0.01)

    def _run(self) -> None:
        for item in self._saved:
            due = self._t0 + item.t_ms / 1000 / self._speed
            while not self._cancelled.is_set() and time.monotonic() < due:
                time.sleep(min(0.05, due - time.monotonic()))
            if self._cancelled.is_set():
                self._append(lc.StreamEnded("stopped", "Replay stopped."))
                return
            self._append(item.event)
        self._append(lc.StreamEnded("interrupted", "The recording ends here (it had no done or error event)."))


def _no_client() -> FruxonClient:
    raise RuntimeError("a replay makes no API call")
