"""What happens to a run besides its wire events, recorded as events of its own.

A run's life is one list: the server's events as they arrived, plus these playground events where
the run ended without a terminal event (stopped, interrupted), where its request failed, and where
a person answered its approval and the record resumed. The fold reads both kinds, so a live run, a
replay and a saved run rebuilt from storage go through the same code and look the same.

Their names start with `playground.` so they can never be mistaken for a server's event, and their
`raw` is compact JSON, stored like any event's data.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, ClassVar

from fruxon_playground.api.events import StreamEvent, parse_event
from fruxon_playground.api.sse import ServerSentEvent, decode_data

PREFIX = "playground."


def _raw(data: dict[str, Any]) -> str:
    return json.dumps({k: v for k, v in data.items() if v is not None}, ensure_ascii=False, separators=(",", ":"))


@dataclass(frozen=True)
class RequestFailed:
    """The request was refused or could not be sent (HTTP error before any event, connection error)."""

    event: ClassVar[str] = PREFIX + "request_failed"
    title: str
    message: str
    status: int | None = None
    field_errors: dict[str, list[str]] | None = None
    retry_after: float | None = None
    execution_record_id: str | None = None

    @property
    def raw(self) -> str:
        return _raw({"title": self.title, "message": self.message, "status": self.status,
                     "fieldErrors": self.field_errors, "retryAfter": self.retry_after,
                     "executionRecordId": self.execution_record_id})


@dataclass(frozen=True)
class StreamEnded:
    """The stream ended without a terminal event: `reason` is "stopped" or "interrupted"."""

    event: ClassVar[str] = PREFIX + "ended"
    reason: str
    message: str

    @property
    def raw(self) -> str:
        return _raw({"reason": self.reason, "message": self.message})


@dataclass(frozen=True)
class ApprovalAnswered:
    """Somebody approved or rejected the run's pending tool call; the record resumes on the server."""

    event: ClassVar[str] = PREFIX + "approval"
    approved: bool
    reason: str = ""

    @property
    def raw(self) -> str:
        return _raw({"approved": self.approved, "reason": self.reason or None})


@dataclass(frozen=True)
class RecordResumed:
    """Where the record went after the approval: its final status, answer and trace."""

    event: ClassVar[str] = PREFIX + "resumed"
    status: str
    response: str | None = None
    error: str | None = None
    trace: dict[str, Any] | None = field(default=None, repr=False)

    @property
    def raw(self) -> str:
        return _raw({"status": self.status, "response": self.response, "error": self.error, "trace": self.trace})


LifecycleEvent = RequestFailed | StreamEnded | ApprovalAnswered | RecordResumed
RunEvent = StreamEvent | LifecycleEvent


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def parse_run_event(name: str, data: str) -> RunEvent:
    """A saved event back into what the fold reads: a lifecycle event by name, else a wire event.

    Never raises: a damaged lifecycle record still ends the run in a neutral way.
    """
    if not name.startswith(PREFIX):
        return parse_event(ServerSentEvent(name, data))
    payload = decode_data(data)
    if name == RequestFailed.event:
        errors = payload.get("fieldErrors")
        status, retry = payload.get("status"), payload.get("retryAfter")
        return RequestFailed(
            title=_str(payload.get("title")) or "The request failed",
            message=_str(payload.get("message")) or "",
            status=status if isinstance(status, int) else None,
            field_errors=errors if isinstance(errors, dict) else None,
            retry_after=float(retry) if isinstance(retry, int | float) else None,
            execution_record_id=_str(payload.get("executionRecordId")),
        )
    if name == ApprovalAnswered.event:
        return ApprovalAnswered(approved=payload.get("approved") is True, reason=_str(payload.get("reason")) or "")
    if name == RecordResumed.event:
        trace = payload.get("trace")
        return RecordResumed(status=_str(payload.get("status")) or "", response=_str(payload.get("response")),
                             error=_str(payload.get("error")), trace=trace if isinstance(trace, dict) else None)
    reason = _str(payload.get("reason"))
    return StreamEnded(reason=reason if reason in ("stopped", "interrupted") else "interrupted",
                       message=_str(payload.get("message")) or "The run ended without a final event.")
