"""What the run history stores and returns: a saved run, its light summary, a query and a page."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field, fields
from typing import Any

RUNNING = "running"
INTERRUPTED = "interrupted"
# Saved while a run is in flight; a reader turns them into "interrupted" once their heartbeat is stale.
LIVE_STATUSES = ("running", "connecting")
INTERRUPTED_ERROR = "The app process running it stopped before it finished."
DRAFT_REVISION = -1  # `revision` of a run of the unsaved draft
PREVIEW_CHARS = 200


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass(frozen=True)
class SavedRun:
    kind: str  # execute | stream | test | stream_test
    agent_id: str
    request: dict[str, Any]
    # running | completed | waiting_for_human | failed | interrupted | stopped | rejected
    status: str
    owner: str = ""
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    created_at_ms: int = field(default_factory=now_ms)
    base_url: str | None = None  # never with credentials
    tenant: str | None = None
    error: str | None = None
    started_at_ms: int | None = None
    duration_ms: float | None = None
    total_cost: float = 0.0
    input_tokens: int = 0
    output_tokens: int = 0
    execution_record_id: str | None = None
    session_id: str | None = None
    environment_slug: str | None = None
    response: dict[str, Any] | None = None
    events: list[dict[str, Any]] = field(default_factory=list)  # {"event", "data" (raw text), "t_ms"}
    trace: dict[str, Any] | None = None
    updated_at_ms: int = field(default_factory=now_ms)  # set by the store on every save
    heartbeat_at_ms: int | None = None
    revision: int | None = None  # agent revision used; None = deployed/unknown, -1 = the draft
    group_id: str | None = None  # runs started together: a side-by-side pair or a batch
    label: str | None = None  # "draft", "rev 3", a test-case name
    answer: str | None = None  # the final answer text; derived from response/events when None

    @property
    def streamed(self) -> bool:
        return self.kind in ("stream", "stream_test")


@dataclass(frozen=True)
class RunSummary:
    """The light columns of a run, for lists: never its request, events, trace or response."""

    id: str
    owner: str
    created_at_ms: int
    kind: str
    agent_id: str
    status: str
    duration_ms: float | None
    total_cost: float
    input_tokens: int
    output_tokens: int
    environment_slug: str | None
    execution_record_id: str | None
    revision: int | None
    group_id: str | None
    label: str | None
    error: str | None  # at most PREVIEW_CHARS characters
    answer_preview: str | None  # at most PREVIEW_CHARS characters
    updated_at_ms: int
    base_url: str | None = None  # never with credentials
    tenant: str | None = None

    @property
    def streamed(self) -> bool:
        return self.kind in ("stream", "stream_test")


@dataclass(frozen=True)
class RunQuery:
    owner: str | None  # None = every owner (a loopback-only server, an administrator)
    agent_id: str | None = None
    status: str | None = None
    kind: str | None = None
    text: str | None = None  # case-insensitive substring of agent id, input parameters, answer, error, label
    group_id: str | None = None
    limit: int = 50
    offset: int = 0


@dataclass(frozen=True)
class RunPage:
    items: list[RunSummary]
    total: int  # runs matching the query, across all pages


SUMMARY_COLUMNS = tuple(f.name for f in fields(RunSummary))


def as_dict(run: SavedRun) -> dict[str, Any]:
    """Shallow, unlike `dataclasses.asdict`, which deep-copies (and recurses through) whole traces."""
    return {f.name: getattr(run, f.name) for f in fields(run)}


def preview(text: str | None, limit: int = PREVIEW_CHARS) -> str | None:
    if text is None or len(text) <= limit:
        return text
    return text[: limit - 1] + "…"


def answer_of(response: dict[str, Any] | None, events: list[dict[str, Any]]) -> str | None:
    """The answer a run gave: the response's `response` field, else its streamed text chunks."""
    answer = (response or {}).get("response")
    if isinstance(answer, str):
        return answer
    chunks = []
    for event in events:
        data = event.get("data")
        if event.get("event") != "text" or not isinstance(data, str) or not data.startswith("{"):
            continue
        try:
            chunk = json.loads(data).get("chunk")
        except (ValueError, AttributeError):
            continue
        if isinstance(chunk, str):
            chunks.append(chunk)
    return "".join(chunks) or None


def _flatten(value: Any, out: list[str]) -> None:
    if isinstance(value, dict):
        for item in value.values():
            _flatten(item, out)
    elif isinstance(value, list | tuple):
        for item in value:
            _flatten(item, out)
    elif value is not None:
        out.append(str(value))


def search_text(run: SavedRun) -> str:
    """What the History search box looks in, lowercased: agent id, input parameters, answer, error, label."""
    parts = [run.agent_id]
    _flatten(run.request.get("parameters"), parts)
    parts += [run.answer or "", run.error or "", run.label or ""]
    return "\n".join(p for p in parts if p).lower().replace("\x00", " ")  # SQL text functions stop at NUL
