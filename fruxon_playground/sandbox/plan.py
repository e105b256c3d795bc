"""The values a run is made of: what to run (`RunSpec`) and what the engine planned (`RunPlan`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class RunSpec:
    """Everything the engine needs to simulate one run. Built by the server after validation."""

    agent_id: str
    revision: int  # the revision that runs (deployed, or pinned with baseRevision), or -1 for drafts
    flow: dict[str, Any]  # validated {"steps": [...], "edges": [...]}
    parameters: dict[str, Any]  # values with defaults applied
    parameters_metadata: list[dict[str, Any]]
    start_ms: int  # epoch ms at which the run starts (from the server's clock)
    session_id: str
    session_turn: int = 0  # 0 for the first turn of a session; changes the simulated text
    attachments: list[dict[str, Any]] = field(default_factory=list)  # FileLink dicts
    attachment_text: dict[str, str] = field(default_factory=dict)  # fileId -> decoded text content
    assets: list[dict[str, Any]] = field(default_factory=list)
    mode: str | None = None
    environment_slug: str | None = None
    is_test: bool = False  # TEST origin: step_trace events are planned only for test runs
    scenario: frozenset[str] = frozenset()  # switches beyond the parameters' own (faults.Switch names)


@dataclass(frozen=True)
class PlannedEvent:
    """One SSE event: ``offset_ms`` after the run start (simulated time, before speed scaling)."""

    offset_ms: int
    event: str  # "text", "tool_call", "tool_result", "step_trace", "status", "usage", "done", "error"
    data: dict[str, Any]


@dataclass(frozen=True)
class PendingApproval:
    """A HITL gate the run stopped at; the server stores it and resumes with ``resume_run``."""

    request_id: str
    tool_call_id: str
    step_identifier: str
    tool_key: str  # "integration.tool"
    outbound_message: str
    proposed_parameters: dict[str, Any]


@dataclass(frozen=True)
class RunOutcome:
    """How the run ended; the server turns it into a stored execution record."""

    status: str  # record status: COMPLETED | FAILED | WAITING_FOR_ASYNC | CANCELLED
    response_text: str | None
    trace: dict[str, Any]  # ExecutionTrace (contract 4.7), never None
    result: dict[str, Any] | None  # Result {strValue, jsonValue, fileLink} or None when no output
    end_offset_ms: int
    input_tokens: int
    output_tokens: int
    input_cost: float
    output_cost: float
    error: str | None = None  # message for FAILED runs
    error_code: str | None = None
    pending_approval: PendingApproval | None = None
    tool_error_count: int = 0
    tool_keys: tuple[str, ...] = ()  # "integration.tool" of every tool called

    @property
    def total_cost(self) -> float:
        return self.input_cost + self.output_cost


@dataclass(frozen=True)
class RunPlan:
    events: list[PlannedEvent]
    outcome: RunOutcome
    # Index into ``events`` after which the connection is dropped with no done/error ("drop" scenario);
    # None for normal runs. The outcome of a dropped run is FAILED "connection dropped (simulated)".
    drop_after_index: int | None = None
