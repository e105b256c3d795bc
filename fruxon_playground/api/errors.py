"""Every error the client raises, in one tree, with one status-to-exception table.

    FruxonError
    ├── FruxonAPIError (status, title, detail, method, path, problem, retry_after, trace_id, …)
    │   ├── ValidationError (400, 422; field_errors)    ├── ConflictError (409)
    │   ├── AuthenticationError (401)                   ├── RateLimitedError (429)
    │   ├── ForbiddenError (403; required_scope)        └── ServerError (5xx)
    │   ├── NotFoundError (404)                             └── ServiceUnavailableError (503)
    │   └── MethodNotAllowedError (405)
    ├── RedirectedError (3xx: never followed, the key would go along)
    ├── UnsafePathSegment (an id that cannot be one path segment: "", "." or "..")
    ├── FruxonConnectionError ── FruxonTimeoutError
    └── StreamInterrupted (the stream ended before a done or error event)

Messages never contain the API key: they are built only from the method, path and response body.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

from fruxon_playground.contract.secrets import mask_text

MAX_TEXT_BODY = 500


class FruxonError(Exception):
    """Base of everything the Fruxon client raises."""


class FruxonAPIError(FruxonError):
    def __init__(
        self,
        status: int,
        *,
        title: str | None = None,
        detail: str | None = None,
        method: str = "",
        path: str = "",
        problem: dict[str, Any] | None = None,
        retry_after: float | None = None,
        body_text: str | None = None,
    ) -> None:
        self.status = status
        self.title = title
        self.detail = detail
        self.method = method
        self.path = path
        self.problem = problem or {}
        self.retry_after = retry_after
        self.body_text = body_text
        self.trace_id = self.problem.get("traceId")
        self.execution_record_id = self.problem.get("executionRecordId")
        self.code = self.problem.get("code")
        super().__init__(self._message())

    def _message(self) -> str:
        head = self.title or f"HTTP {self.status}"
        text = f"{head} ({self.status}"
        if self.method or self.path:
            text += f" on {self.method} {self.path}".rstrip()
        text += ")"
        if self.detail and self.detail != self.title:
            text += f": {self.detail}"
        elif self.body_text and not self.problem:
            text += f": {self.body_text}"
        return text


class ValidationError(FruxonAPIError):
    """400 or 422: the request or the draft is invalid; `field_errors` maps field paths to messages."""

    @property
    def field_errors(self) -> dict[str, list[str]]:
        errors = self.problem.get("errors")
        if not isinstance(errors, Mapping):
            return {}
        out: dict[str, list[str]] = {}
        for field, messages in errors.items():
            if isinstance(messages, list):
                out[str(field)] = [str(m) for m in messages]
            elif messages is not None:
                out[str(field)] = [str(messages)]
        return out

    def _message(self) -> str:
        text = super()._message()
        extra = [f"{field}: {'; '.join(messages)}" for field, messages in self.field_errors.items()]
        if len(extra) > 1 or (extra and self.detail is None):
            text += " — " + " | ".join(extra)
        return text


class AuthenticationError(FruxonAPIError):
    """401: no key, or the key was rejected."""


class ForbiddenError(FruxonAPIError):
    """403: the key is not bound to this tenant, or lacks a scope."""

    @property
    def required_scope(self) -> str | None:
        value = self.problem.get("required")
        return str(value) if value else None


class NotFoundError(FruxonAPIError):
    """404: unknown agent, record or revision (or an agent never deployed, on :execute)."""


class MethodNotAllowedError(FruxonAPIError):
    """405: the endpoint does not exist on this (older) deployment."""


class ConflictError(FruxonAPIError):
    """409: a stale draft version, or a run already in a terminal state."""

    @property
    def current_version(self) -> int | None:
        """The stored draft's version when a stale `If-Match` was refused (`currentVersion`), if said."""
        value = self.problem.get("currentVersion")
        return value if isinstance(value, int) and not isinstance(value, bool) else None


class RateLimitedError(FruxonAPIError):
    """429: slow down; `retry_after` says for how many seconds."""


class ServerError(FruxonAPIError):
    """5xx."""


class ServiceUnavailableError(ServerError):
    """503: unavailable; `retry_after` when the server said."""


class RedirectedError(FruxonError):
    """The server answered 3xx. Redirects are never followed: the key would travel with them."""

    def __init__(self, status: int, location: str, *, method: str = "", path: str = "") -> None:
        self.status = status
        self.location = location  # untrusted, as the server sent it (may be relative)
        self.method = method
        self.path = path
        super().__init__(f"The server redirected to {self.target}; the key was not sent there "
                         f"({status} on {method} {path}).")

    @property
    def target(self) -> str:
        """Where the redirect pointed, as scheme://host (or the relative location), capped."""
        try:
            parts = urlsplit(self.location)
        except ValueError:
            return self.location[:200]
        target = f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else self.location or "nowhere"
        return target[:200]


class UnsafePathSegment(FruxonError, ValueError):
    """An id that cannot be sent as one URL path segment (empty, "." or ".."): refused, not sent."""


class FruxonConnectionError(FruxonError):
    """The server could not be reached (DNS, refused, TLS, dropped before a response)."""


class FruxonTimeoutError(FruxonConnectionError):
    """No answer in time."""


class StreamInterrupted(FruxonError):
    """The connection ended before a `done` or `error` event (whoever iterated kept the events)."""

    def __init__(self, received: int) -> None:
        self.received = received
        super().__init__(f"The stream ended after {received} event(s) without a done or error event.")


STATUS_TO_EXCEPTION: dict[int, type[FruxonAPIError]] = {
    400: ValidationError,
    401: AuthenticationError,
    403: ForbiddenError,
    404: NotFoundError,
    405: MethodNotAllowedError,
    409: ConflictError,
    422: ValidationError,
    429: RateLimitedError,
    503: ServiceUnavailableError,
}


def exception_class(status: int) -> type[FruxonAPIError]:
    if status in STATUS_TO_EXCEPTION:
        return STATUS_TO_EXCEPTION[status]
    if status >= 500:
        return ServerError
    return FruxonAPIError


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds from `Retry-After`, given as seconds or as an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def error_from_response(
    status: int, headers: Mapping[str, str], body: bytes, *, method: str, path: str, secrets: Iterable[str] = ()
) -> FruxonAPIError:
    """Builds the matching exception from any error body: problem+json, `message`/`details`, text, empty.

    A server may echo the request's headers back: `secrets` (the caller's key) and anything
    secret-shaped are masked in the body before any of it reaches a message.
    """
    problem: dict[str, Any] = {}
    text = mask_text(body.decode("utf-8", errors="replace").strip(), secrets) if body else ""
    if text:
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = None
        if isinstance(parsed, dict):
            problem = parsed
    title = problem.get("title") or problem.get("error") if problem else None
    detail = problem.get("detail") or problem.get("message") or problem.get("details") if problem else None
    if detail is not None and not isinstance(detail, str):
        detail = json.dumps(detail, ensure_ascii=False)
    return exception_class(status)(
        status,
        title=str(title) if title else None,
        detail=detail,
        method=method,
        path=path,
        problem=problem,
        retry_after=parse_retry_after(headers.get("retry-after")),
        body_text=None if problem else (text[:MAX_TEXT_BODY] or None),
    )
