"""`EventStream`: one SSE run, opened and closed by a context manager.

The response is always closed in `finally`. `cancel()` may be called from any thread: it shuts
the socket down, so a reader blocked in `recv` returns at once and the server sees the disconnect.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from array import array
from collections.abc import Iterator
from enum import StrEnum

import httpx

from fruxon_playground.api import errors as err
from fruxon_playground.api.events import TERMINAL_EVENTS, DoneEvent, ErrorEvent, StreamEvent, parse_event
from fruxon_playground.api.sse import SSEDecoder


class StreamOutcome(StrEnum):
    OPEN = "open"  # still reading
    COMPLETED = "completed"
    WAITING_FOR_HUMAN = "waiting_for_human"
    FAILED = "failed"  # an `error` event
    INTERRUPTED = "interrupted"  # ended without done/error
    STOPPED = "stopped"  # cancelled by us




class EventStream:
    """Iterate for typed events; `events` keeps every one with its arrival time."""

    def __init__(self, http: httpx.Client, request: httpx.Request, *, method: str, path: str) -> None:
        self._http = http
        self._request = request
        self._method = method
        self._path = path
        self._response: httpx.Response | None = None
        self._cancelled = threading.Event()
        self._lock = threading.Lock()
        self.events: list[StreamEvent] = []  # every event received, in order
        self.arrivals = array("d")  # time.monotonic() of each event's arrival (a flat array: no GC cost)
        self.opened_at_wall_ms: int | None = None
        self.outcome = StreamOutcome.OPEN
        self.done: DoneEvent | None = None
        self.error: ErrorEvent | None = None

    # -- context manager ---------------------------------------------------------------------------
    def __enter__(self) -> EventStream:
        try:
            response = self._http.send(self._request, stream=True)
        except httpx.TimeoutException as exc:
            raise err.FruxonTimeoutError(f"No answer from {self._request.url.host} in time ({self._method} {self._path}).") from exc
        except httpx.TransportError as exc:
            raise err.FruxonConnectionError(f"Cannot reach {self._request.url.host}: {exc.__class__.__name__}.") from exc
        with self._lock:
            self._response = response
        self.opened_at_wall_ms = int(time.time() * 1000)
        if response.status_code >= 400:
            try:
                body = response.read()
            finally:
                response.close()
            raise err.error_from_response(response.status_code, response.headers, body, method=self._method, path=self._path)
        content_type = response.headers.get("content-type", "")
        if "text/event-stream" not in content_type:
            body = response.read()
            response.close()
            raise err.FruxonAPIError(
                response.status_code,
                title="Expected an event stream",
                detail=f"The server answered {content_type or 'no content type'} instead of text/event-stream.",
                method=self._method,
                path=self._path,
                body_text=body[: err.MAX_TEXT_BODY].decode("utf-8", errors="replace"),
            )
        if self._cancelled.is_set():
            self._shutdown()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        with self._lock:
            response = self._response
        if response is not None:
            response.close()

    # -- cancel ------------------------------------------------------------------------------------
    def cancel(self) -> None:
        """Stop reading from any thread; the stream then ends quietly with outcome STOPPED."""
        self._cancelled.set()
        self._shutdown()

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    def _shutdown(self) -> None:
        with self._lock:
            response = self._response
        if response is None:
            return
        stream = response.extensions.get("network_stream")
        sock = stream.get_extra_info("socket") if stream is not None else None
        if isinstance(sock, socket.socket):
            with contextlib.suppress(OSError):  # already closed
                sock.shutdown(socket.SHUT_RDWR)

    # -- iteration ---------------------------------------------------------------------------------
    def __iter__(self) -> Iterator[StreamEvent]:
        if self._response is None:
            raise RuntimeError("Use the stream as a context manager: `with client.stream(...) as events:`")
        decoder = SSEDecoder()
        try:
            for chunk in self._response.iter_bytes():
                for sse in decoder.feed(chunk):
                    event = self._record(sse)
                    yield event
                    if self.outcome is not StreamOutcome.OPEN:
                        return
            for sse in [] if self._cancelled.is_set() else decoder.flush():
                event = self._record(sse)
                yield event
                if self.outcome is not StreamOutcome.OPEN:
                    return
        except (httpx.TransportError, httpx.StreamError, OSError) as exc:
            if not self._cancelled.is_set():
                self.outcome = StreamOutcome.INTERRUPTED
                raise err.StreamInterrupted(list(self.events)) from exc
        finally:
            self.close()
        if self._cancelled.is_set():
            self.outcome = StreamOutcome.STOPPED
            return
        self.outcome = StreamOutcome.INTERRUPTED
        raise err.StreamInterrupted(list(self.events))

    def _record(self, sse) -> StreamEvent:
        event = parse_event(sse)
        self.events.append(event)
        self.arrivals.append(time.monotonic())
        if event.event in TERMINAL_EVENTS:
            if isinstance(event, DoneEvent):
                self.done = event
                self.outcome = StreamOutcome.WAITING_FOR_HUMAN if event.is_waiting_for_human else StreamOutcome.COMPLETED
            elif isinstance(event, ErrorEvent):
                self.error = event
                self.outcome = StreamOutcome.FAILED
        return event

    def raise_for_outcome(self) -> None:
        """After iterating: raise `StreamError` when the run failed."""
        if self.outcome is StreamOutcome.FAILED and self.error is not None:
            raise err.StreamError(
                self.error.message or "The run failed.",
                code=self.error.code,
                execution_record_id=self.error.execution_record_id,
                events=list(self.events),
            )
