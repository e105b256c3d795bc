"""Pydantic models of the Fruxon API (contract: shared/fruxon-api.md).

Conventions: Python attributes are snake_case, the wire is camelCase (aliases); unknown fields
are kept (`extra="allow"`) and dumped back; enum-like fields are plain strings so an unknown value
never raises — compare them with `normalize_enum`. Dump with `to_wire()` (by alias, unset fields
left out) to get back exactly what was parsed.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any, Generic, TypeVar

from pydantic import AliasChoices, BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from fruxon_playground.contract.enums import (  # noqa: F401 (re-exported)
    TERMINAL_RECORD_STATUSES,
    is_failure,
    is_waiting_for_human,
    normalize_enum,
)

Money = int | float | str  # USD; some endpoints send decimal strings


def to_decimal(value: object) -> Decimal:
    """Money as a Decimal; anything missing or unreadable is 0."""
    if value is None or isinstance(value, bool):
        return Decimal(0)
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return Decimal(0)


class WireModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="allow")

    def to_wire(self) -> dict[str, Any]:
        """The JSON body: camelCase, only what was set, nulls left out."""
        return self.model_dump(mode="json", by_alias=True, exclude_unset=True, exclude_none=True)

    def dump(self) -> dict[str, Any]:
        """Exactly what was parsed (nulls included), for round trips and storage."""
        return self.model_dump(mode="json", by_alias=True, exclude_unset=True)


# -- parameters --------------------------------------------------------------------------------
class ParameterOption(WireModel):
    value: Any = None
    label: str | None = None


class Range(WireModel):
    min: float | None = None
    max: float | None = None


class ParameterMetadata(WireModel):
    name: str
    type: str | None = None
    type_name: str | None = None
    required: bool = False
    default_value: str | None = None
    description: str | None = None
    display_name: str | None = None
    options: list[ParameterOption] | None = None
    integer_range: Range | None = None
    float_range: Range | None = None
    index: int | None = None
    secret: bool | None = None

    @property
    def kind(self) -> str:
        """Normalized type (`STRINGARRAY`, `OPTION`…); `type` wins over `typeName`."""
        return normalize_enum(self.type or self.type_name or "STRING")


class ParametersResponse(WireModel):
    parameters: list[str] = []
    metadata: list[ParameterMetadata] = []


# -- requests ----------------------------------------------------------------------------------
class FileLink(WireModel):
    file_id: str
    file_type: str | None = None
    content_type: str | None = None
    prompt_link: str | None = None
    display_name: str | None = None
    is_vectorized: bool | None = None


class ChatUser(WireModel):
    id: str | None = None
    display_name: str | None = None
    email: str | None = None
    phone: str | None = None
    locale: str | None = None


def _without_unspecified_mode(body: dict[str, Any]) -> dict[str, Any]:
    if normalize_enum(body.get("mode")) in {"", "UNSPECIFIED"}:
        body.pop("mode", None)
    return body


class ExecuteRequest(WireModel):
    model_config = ConfigDict(extra="forbid")  # the schema allows no other top-level keys

    parameters: dict[str, Any] | None = None
    attachments: list[FileLink] | None = None
    chat_user: ChatUser | None = None
    session_id: str | None = None
    environment_slug: str | None = None
    mode: str | None = None

    def to_wire(self) -> dict[str, Any]:
        return _without_unspecified_mode(super().to_wire())


class Edge(WireModel):
    source: str = ""
    target: str = ""


class FlowStep(WireModel):
    type: str
    identifier: str = ""
    name: str | None = None


class Flow(WireModel):
    steps: list[FlowStep] = []
    edges: list[Edge] = []


class AssetRef(WireModel):
    id: str


class LlmConfig(WireModel):
    provider_id: str | None = None
    parameters: dict[str, Any] | None = None


class IntegrationConfig(WireModel):
    id: str | None = None
    integration_id: str | None = None
    display_name: str | None = None
    parameters: dict[str, Any] | None = None


class SubAgent(WireModel):
    id: str | None = None
    slug: str | None = None
    agent_id: str | None = None
    display_name: str | None = None
    flow: Flow | None = None
    parameters_metadata: list[ParameterMetadata] | None = None


class TestRequest(WireModel):
    __test__ = False  # not a pytest test class
    model_config = ConfigDict(extra="forbid")

    assets: list[AssetRef] | None = None
    flow: Flow | None = None
    parameters_metadata: list[ParameterMetadata] | None = None
    sub_agents: list[SubAgent] | None = None
    parameters: dict[str, Any] | None = None
    attachments: list[FileLink] | None = None
    integration_configs: list[IntegrationConfig] | None = None
    integration_bindings: dict[str, str] | None = None
    llm_configs: list[LlmConfig] | None = None
    base_revision: int | None = None
    mode: str | None = None
    session_id: str | None = None

    def to_wire(self) -> dict[str, Any]:
        return _without_unspecified_mode(super().to_wire())


# -- traces ------------------------------------------------------------------------------------
class Result(WireModel):
    str_value: str | None = None
    json_value: Any = None
    file_link: FileLink | None = None


class ToolKey(WireModel):
    integration_id: str | None = None
    id: str | None = None
    name: str | None = None


class ToolTrace(WireModel):
    tool: ToolKey | None = None
    display_name: str | None = None
    tool_type: str | None = None
    parameters: Any = None
    cost: Money | None = None


class HitlTrace(WireModel):
    request_id: str | None = None
    gate_type: str | None = None
    tool_key: str | None = None
    step_identifier: str | None = None
    requested_at: int | None = None
    responded_at: int | None = None
    responded_by: str | None = None
    decision: str | None = None
    response_text: str | None = None
    outbound_message: str | None = None
    proposed_parameters: Any = None


class StepTrace(WireModel):
    id: str | None = None
    display_name: str | None = None
    type: str | None = None
    status: str | None = None
    error: str | None = None
    start_time: int | None = None
    end_time: int | None = None
    duration: int | float | None = None
    llm_step_trace: dict[str, Any] | None = None
    tool_trace: ToolTrace | None = None
    hitl_trace: HitlTrace | None = None
    result: Result | None = None
    steps: list[StepTrace] | None = None

    @property
    def is_failure(self) -> bool:
        return is_failure(self.status)

    @property
    def is_running(self) -> bool:
        """Start frames carry `endTime: 0` and a negative duration (contract §9.8)."""
        return not self.end_time or self.duration is None or self.duration < 0


class ExecutionTrace(WireModel):
    agent_id: str | None = None
    agent_revision: int | None = None
    created_at: int | None = None
    parameters: dict[str, Any] | None = None
    start_time: int | None = None
    end_time: int | None = None
    duration: int | float | None = None
    traces: list[StepTrace] | None = None
    result: Result | None = None
    input_cost: Money | None = None
    output_cost: Money | None = None
    total_cost: Money | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None

    @property
    def is_draft(self) -> bool:
        return self.agent_revision is not None and self.agent_revision <= 0

    @property
    def cost(self) -> Decimal:
        return to_decimal(self.total_cost)


class ExecuteResponse(WireModel):
    response: str | None = None
    trace: ExecutionTrace | None = None
    session_id: str | None = None
    links: list[FileLink] | None = None
    execution_record_id: str | None = None
    status: str | None = None
    human_approval_request_id: str | None = None

    @property
    def is_waiting_for_human(self) -> bool:
        return is_waiting_for_human(self.status) or bool(self.human_approval_request_id)


# -- execution records -------------------------------------------------------------------------


class WaitingFor(WireModel):
    kind: str | None = None
    display_name: str | None = None
    waiting_since: int | None = None
    expires_at: int | None = None


class ExecutionRecord(WireModel):
    id: str
    agent_id: str | None = None
    agent_revision: int | None = None
    status: str | None = None
    start_time: int | None = None
    end_time: int | None = None
    created_at: int | None = None
    environment_slug: str | None = None
    origin: str | None = None
    session_id: str | None = None
    subject: str | None = None
    run_type: str | None = None
    trigger: Any = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    input_cost: Money | None = None
    output_cost: Money | None = None
    total_cost: Money | None = None
    has_result: bool | None = None
    has_trace: bool | None = None
    waiting_for: WaitingFor | None = None
    rejection_reason: str | None = None

    @property
    def is_terminal(self) -> bool:
        return normalize_enum(self.status) in TERMINAL_RECORD_STATUSES

    @property
    def is_live(self) -> bool:
        """Live states, and anything unknown (treated as still going)."""
        return not self.is_terminal

    @property
    def duration_ms(self) -> int | None:
        if self.start_time and self.end_time and self.end_time >= self.start_time:
            return self.end_time - self.start_time
        return None

    @property
    def cost(self) -> Decimal:
        return to_decimal(self.total_cost)


class TraceEnvelope(WireModel):
    """`GET …/trace`: the envelope of current servers; bare traces are wrapped on parse (client)."""

    status: str | None = None
    run_type: str | None = None
    root_execution_id: str | None = None
    waiting_for: WaitingFor | None = None
    trace: ExecutionTrace | None = None


class ExecutionResult(WireModel):
    agent_id: str | None = None
    agent_revision: int | None = None
    created_at: int | None = None
    parameters: dict[str, Any] | None = None
    result: Result | None = None


T = TypeVar("T")


class Page(WireModel, Generic[T]):
    items: list[T] = []
    next_page_token: str | None = None


# -- environments, summaries, costs ------------------------------------------------------------
class Environment(WireModel):
    id: str | None = None
    slug: str | None = None
    display_name: str | None = None
    description: str | None = None
    provenance: str | None = None
    is_system: bool | None = None
    contact_count: int | None = None
    created_at: int | None = None
    modified_at: int | None = None


class EnvironmentSummary(WireModel):
    environment_slug: str = Field(validation_alias=AliasChoices("environmentSlug", "slug", "environment_slug"),
                                  serialization_alias="environmentSlug")
    execution_count: int = 0
    total_cost: Money = 0
    last_activity_at: int | None = Field(
        default=None,
        validation_alias=AliasChoices("lastActivityAt", "lastExecutionAt", "lastActivityTime", "last_activity_at"),
        serialization_alias="lastActivityAt",
    )
    display_name: str | None = None
    failed_count: int | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None

    @property
    def cost(self) -> Decimal:
        return to_decimal(self.total_cost)


class CostRollup(WireModel):
    agent_id: str | None = None
    revision: int | None = None
    input_cost: Money | None = None
    output_cost: Money | None = None
    total_cost: Money | None = None
    execution_count: int | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None


class CostAmounts(WireModel):
    input: Money | None = None
    output: Money | None = None
    total: Money | None = None


class TokenAmounts(WireModel):
    input: int | None = None
    output: int | None = None


class CostBucket(WireModel):
    bucket_start_ms: int
    cost: CostAmounts | None = None
    tokens: TokenAmounts | None = None


class ExecutionBucket(WireModel):
    bucket_start_ms: int
    count: int = 0


class Window(WireModel):
    from_ms: int | None = None
    to_ms: int | None = None


class CostTimeseries(WireModel):
    agent_id: str | None = None
    revision: int | None = None
    interval: str | None = None
    window: Window | None = None
    cost: list[CostBucket] = []
    executions: list[ExecutionBucket] = []


class EnvironmentSeries(WireModel):
    slug: str
    cost: list[CostBucket] = []
    executions: list[ExecutionBucket] = []


class EnvironmentCostTimeseries(WireModel):
    agent_id: str | None = None
    revision: int | None = None
    interval: str | None = None
    window: Window | None = None
    environments: list[EnvironmentSeries] = []


# -- agents, approvals, auth -------------------------------------------------------------------
class Agent(WireModel):
    id: str
    display_name: str | None = None
    description: str | None = None
    tags: list[str] | None = None
    type: str | None = None
    enabled: bool | None = None
    current_revision: int | None = None
    created_at: int | None = None
    modified_at: int | None = None
    deleted_at: int | None = None


class Approval(WireModel):
    id: str
    status: str | None = None
    gate_type: str | None = None
    step_identifier: str | None = None
    tool_key: str | None = None
    outbound_message: str | None = None
    proposed_parameters: Any = None
    expires_at: int | None = None
    decision: str | None = None
    agent_id: str | None = None
    responded_by: str | None = None
    responded_at: int | None = None
    created_at: int | None = None


class AuthHealth(WireModel):
    authentication_source: str | None = None
    token_name: str | None = None
    email: str | None = None
    scopes: list[str] | None = None
    token_expires_at: int | None = None


class Problem(WireModel):
    """RFC 9457 problem details, with the ASP.NET `errors` map and Fruxon's extensions."""

    type: str | None = None
    title: str | None = None
    status: int | None = None
    detail: str | None = None
    instance: str | None = None
    errors: dict[str, list[str]] | None = None
    trace_id: str | None = None
    code: str | None = None
    execution_record_id: str | None = None


# -- revisions (contract §7.1) -----------------------------------------------------------------
class AgentRevisionSummary(WireModel):
    """A row of `GET agents/{agent}/revisions`, newest first; never the revision's body."""

    agent_id: str | None = None
    agent_revision: int
    comment: str | None = None
    created_by: str | None = None
    actor: str | None = None  # the tool that authored it: web, cli, claude-code, …
    created_at: int | None = None
    is_current: bool | None = None  # the revision executions run; None when the server did not say
    last_deployed_at: int | None = None  # None for a first revision (live at creation) or one never deployed


class AgentRevision(AgentRevisionSummary):
    """`GET agents/{agent}/revisions/{rev}`: one published revision.

    `definition` is its one agent in the SDK 2.x authoring shape (None for a revision of several
    agent steps); `flow` is the stored flow when the server sends it (the sandbox does)."""

    definition: dict[str, Any] | None = None
    flow: Flow | None = None
    parameters_metadata: list[ParameterMetadata] = []
    integration_slots: list[Any] = []
    integration_bindings: dict[str, Any] = {}
    assets: list[Any] = []
    slots: list[Any] = []

    def draft_head(self) -> dict[str, Any] | None:
        """The body `PUT …/revisions/{rev}/draft` takes to start a draft from this revision, or
        None when it has no single agent definition."""
        if self.definition is None:
            return None
        return {"comment": self.comment, "definition": self.definition,
                "parametersMetadata": [m.dump() for m in self.parameters_metadata],
                "integrationSlots": self.integration_slots, "integrationBindings": self.integration_bindings,
                "assets": [{"id": a["id"]} for a in self.assets if isinstance(a, dict) and a.get("id")],
                "slots": self.slots}


# -- stored drafts (contract §4.6, E7) ---------------------------------------------------------
class AgentDraft(WireModel):
    """`GET`/`PUT agents/{agent}/revisions/{rev}/draft`: the draft stored for one base revision.

    `version` is what the next `If-Match` names; `head_data` is the SDK 2.x draft payload
    (`definition`, `parametersMetadata`, `assets`, …)."""

    agent_id: str | None = None
    base_revision: int | None = None
    version: int = 0
    history_cursor: int | None = None
    can_undo: bool | None = None
    can_redo: bool | None = None
    updated_at: int | None = None
    head_data: dict[str, Any] = {}
