"""`EventStream`: one SSE run, opened and closed by a context manager.

The response is always closed in `finally`. `cancel()` may be called from any thread: it shuts
the socket down, so a reader blocked in `recv` returns at once and the server sees the disconnect.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator

import httpx

from fruxon_playground.api import errors as err
from fruxon_playground.api.events import TERMINAL_EVENTS, StreamEvent, parse_event
from fruxon_playground.api.sse import SSEDecoder
from fruxon_playground.contract.secrets import mask_text


class EventStream:
    """Iterate for typed events, in arrival order; iteration ends after `done` or `error`.

    A thin iterator (the shape of openai-python's `Stream`): it buffers nothing — whoever iterates
    keeps what it needs. An end of input before a terminal event raises `StreamInterrupted`; after
    `cancel()` the iteration just ends.
    """

    def __init__(self, http: httpx.Client, request: httpx.Request, *, method: str, path: str,
                 secrets: tuple[str, ...] = ()) -> None:
        self._secrets = secrets
        self._http = http
        self._request = request
        self._method = method
        self._path = path
        self._response: httpx.Response | None = None
        self._cancelled = threading.Event()
        self._lock = threading.Lock()
        self.received = 0  # how many events were yielded

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
        if response.status_code >= 400:
            try:
                body = response.read()
            finally:
                response.close()
            raise err.error_from_response(response.status_code, response.headers, body, method=self._method,
                                          path=self._path, secrets=self._secrets)
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
                body_text=mask_text(body[: err.MAX_TEXT_BODY].decode("utf-8", errors="replace"), self._secrets),
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
                    event = parse_event(sse)
                    self.received += 1
                    yield event
                    if event.event in TERMINAL_EVENTS:
                        return
            if not self._cancelled.is_set():
                for sse in decoder.flush():
                    event = parse_event(sse)
                    self.received += 1
                    yield event
                    if event.event in TERMINAL_EVENTS:
                        return
        except (httpx.TransportError, httpx.StreamError, OSError) as exc:
            if not self._cancelled.is_set():
                raise err.StreamInterrupted(self.received) from exc
            return
        finally:
            self.close()
        if not self._cancelled.is_set():
            raise err.StreamInterrupted(self.received)
