"""A run in progress: one worker thread per run, feeding a lock-protected buffer.

The UI thread never blocks on the network: it asks for `snapshot()` at its own pace. The worker
owns the HTTP response and closes it in `finally`; `cancel()` may be called from any thread.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from fruxon_playground.api import FruxonClient
from fruxon_playground.api import errors as err
from fruxon_playground.api.events import parse_event
from fruxon_playground.api.models import ExecuteResponse, normalize_enum
from fruxon_playground.api.sse import ServerSentEvent
from fruxon_playground.runs.fold import Phase, Received, RunView, end_of_stream, fold


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
        return {"execute": "execute", "stream": "stream", "test": "test", "stream_test": "streamTest"}[self.value]


@dataclass(frozen=True)
class RequestFailure:
    """An HTTP or connection error that ended the run before or instead of a result."""

    title: str
    message: str
    status: int | None = None
    field_errors: dict[str, list[str]] | None = None
    retry_after: float | None = None
    execution_record_id: str | None = None

    @classmethod
    def from_exception(cls, exc: Exception) -> RequestFailure:
        if isinstance(exc, err.FruxonAPIError):
            return cls(
                title=exc.title or f"HTTP {exc.status}",
                message=str(exc),
                status=exc.status,
                field_errors=getattr(exc, "field_errors", None) or None,
                retry_after=exc.retry_after,
                execution_record_id=exc.execution_record_id,
            )
        return cls(title=type(exc).__name__, message=str(exc) or type(exc).__name__)


@dataclass(frozen=True)
class RunSnapshot:
    view: RunView
    received: tuple[Received, ...]
    response: ExecuteResponse | None
    failure: RequestFailure | None
    elapsed_ms: float
    finished: bool


ClientFactory = Callable[[], FruxonClient]


class RunHandle:
    """Starts one run on a daemon thread; thread-safe snapshots and cancel."""

    def __init__(self, kind: RunKind, agent: str, request: dict[str, Any], client_factory: ClientFactory) -> None:
        self.id = uuid.uuid4().hex
        self.kind = kind
        self.agent = agent
        self.request = request  # wire JSON as sent (the key is not in it)
        self.started_at_wall_ms = int(time.time() * 1000)
        self._client_factory = client_factory
        self._lock = threading.Lock()
        self._received: list[Received] = []
        self._view = RunView()
        self._folded = 0
        self._response: ExecuteResponse | None = None
        self._failure: RequestFailure | None = None
        self._final_phase: tuple[Phase, str | None] | None = None
        self._cancelled = threading.Event()
        self._finished = threading.Event()
        self._closer: Callable[[], None] | None = None
        self._t0 = time.monotonic()
        self._ended_at: float | None = None
        self._thread = threading.Thread(target=self._run, name=f"fruxon-run-{self.id[:8]}", daemon=True)

    # -- control ----------------------------------------------------------------------------------
    def start(self) -> RunHandle:
        self._thread.start()
        return self

    def cancel(self) -> None:
        """Stop the run from any thread: closes the connection; everything received is kept."""
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

    # -- reading ----------------------------------------------------------------------------------
    def snapshot(self) -> RunSnapshot:
        with self._lock:
            view = self._view
            for item in self._received[self._folded:]:
                view = fold(view, item)
            self._folded = len(self._received)
            if self._final_phase is not None:
                view = end_of_stream(view, *self._final_phase)
            self._view = view
            received = tuple(self._received)
            ended = self._ended_at
        now = ended if ended is not None else time.monotonic()
        return RunSnapshot(
            view=view,
            received=received,
            response=self._response,
            failure=self._failure,
            elapsed_ms=(now - self._t0) * 1000.0,
            finished=self._finished.is_set(),
        )

    # -- worker -----------------------------------------------------------------------------------
    def _run(self) -> None:
        client = None
        try:
            client = self._client_factory()
            if self._cancelled.is_set():
                self._end(Phase.STOPPED, "Stopped before the request was sent.")
                return
            if self.kind.streamed:
                self._run_stream(client)
            else:
                self._run_sync(client)
        except Exception as exc:  # the worker must never die silently
            if self._cancelled.is_set():
                self._end(Phase.STOPPED, "Stopped by you.")
            else:
                self._failure = RequestFailure.from_exception(exc)
                self._end(Phase.FAILED, self._failure.message)
        finally:
            if client is not None:
                client.close()
            with self._lock:
                self._closer = None
                if self._final_phase is None and self._cancelled.is_set():
                    self._final_phase = (Phase.STOPPED, "Stopped by you.")
                self._ended_at = time.monotonic()
            self._finished.set()

    def _run_stream(self, client: FruxonClient) -> None:
        opener = client.stream if self.kind is RunKind.STREAM else client.stream_test
        with opener(self.agent, self.request) as stream:
            with self._lock:
                self._closer = stream.cancel
            if self._cancelled.is_set():
                stream.cancel()
            try:
                for event in stream:
                    item = Received(event, (time.monotonic() - self._t0) * 1000.0)
                    with self._lock:
                        self._received.append(item)
            except err.StreamInterrupted:
                self._end(Phase.INTERRUPTED, "The connection closed before the run finished (no done or error event).")
                return
        if self._cancelled.is_set():
            self._end(Phase.STOPPED, "Stopped by you.")

    def _run_sync(self, client: FruxonClient) -> None:
        with self._lock:
            self._closer = client.close
        call = client.execute if self.kind is RunKind.EXECUTE else client.test
        response = call(self.agent, self.request)
        self._response = response
        status = normalize_enum(response.status)
        if status in {"WAITINGFORHUMAN"} or response.human_approval_request_id:
            phase = Phase.WAITING_FOR_HUMAN
        elif status in {"FAILED", "ERROR"}:
            phase = Phase.FAILED
        else:
            phase = Phase.COMPLETED
        with self._lock:
            self._view = replace(
                self._view,
                phase=phase,
                text=response.response or "",
                execution_record_id=response.execution_record_id,
                session_id=response.session_id,
                approval_request_id=response.human_approval_request_id,
            )

    def _end(self, phase: Phase, message: str | None) -> None:
        with self._lock:
            if self._final_phase is None:
                self._final_phase = (phase, message)


class ReplayHandle(RunHandle):
    """Plays a saved stream back through the same fold and panel, at its own pace × `speed`. No API call."""

    def __init__(self, kind: RunKind, agent: str, request: dict[str, Any], events: list[dict[str, Any]],
                 speed: float = 1.0) -> None:
        super().__init__(kind, agent, request, client_factory=lambda: None)  # type: ignore[arg-type,return-value]
        self._saved = events
        self._speed = max(speed, 0.01)
        self.is_replay = True

    def _run(self) -> None:
        try:
            for item in self._saved:
                due = self._t0 + float(item.get("t_ms") or 0) / 1000 / self._speed
                while not self._cancelled.is_set() and time.monotonic() < due:
                    time.sleep(min(0.05, due - time.monotonic()))
                if self._cancelled.is_set():
                    self._end(Phase.STOPPED, "Replay stopped.")
                    return
                event = parse_event(ServerSentEvent(str(item.get("event") or "message"), str(item.get("data") or "")))
                with self._lock:
                    self._received.append(Received(event, (time.monotonic() - self._t0) * 1000.0))
            self._end(Phase.INTERRUPTED, "The recording ends here (it had no done or error event).")
        finally:
            with self._lock:
                self._ended_at = time.monotonic()
            self._finished.set()
