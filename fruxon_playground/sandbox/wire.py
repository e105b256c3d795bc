"""The JSON shapes the sandbox answers with, built from store rows and catalog entries."""

from __future__ import annotations

from typing import Any

from fruxon_playground.sandbox.catalog import DemoAgent, Revision
from fruxon_playground.sandbox.definitions import definition_of
from fruxon_playground.sandbox.state import DAY_MS


def agent_wire(agent: DemoAgent, tenant: str, started_ms: int) -> dict[str, Any]:
    created = started_ms - agent.created_at_offset_days * DAY_MS
    newest = min((r.created_days_ago for r in agent.revisions), default=None)  # the last change is the newest revision
    modified = created + DAY_MS if newest is None else _days_before(started_ms, newest)
    return {"id": agent.id, "displayName": agent.display_name, "description": agent.description,
            "tags": list(agent.tags), "type": "AGENT", "enabled": True, "currentRevision": agent.current_revision,
            "createdAt": created, "modifiedAt": modified, "tenantId": tenant, "networkId": None, "deletedAt": None}


def revision_summary(agent: DemoAgent, revision: Revision, started_ms: int) -> dict[str, Any]:
    """A row of `GET agents/{agent}/revisions` (contract §7.1, the SDK's AgentRevisionSummary)."""
    deployed = revision.deployed_days_ago
    return {"agentId": agent.id, "agentRevision": revision.number, "comment": revision.comment,
            "createdBy": revision.created_by, "actor": revision.actor,
            "createdAt": _days_before(started_ms, revision.created_days_ago),
            "isCurrent": revision.number == agent.current_revision,
            "lastDeployedAt": None if deployed is None else _days_before(started_ms, deployed)}


def revision_body(agent: DemoAgent, revision: Revision, started_ms: int) -> dict[str, Any]:
    """`GET agents/{agent}/revisions/{rev}`: the SDK's definition shape plus the stored flow.

    `definition` is the revision's one agent, as the official CLI's `draft pull` reads it; a
    revision of several agent steps has none (`null`, as the real service answers for those) and
    is described by `flow` alone."""
    return {**revision_summary(agent, revision, started_ms), "definition": definition_of(revision.steps),
            "flow": agent.flow(revision.number),
            "parametersMetadata": agent.parameters_of(revision.number) or [], "integrationSlots": [],
            "integrationBindings": {}, "assets": [], "slots": []}


def record_wire(row: dict[str, Any]) -> dict[str, Any]:
    status = row["status"]
    return {
        "id": row["id"], "agentId": row["agent_id"], "agentRevision": row["agent_revision"],
        "remoteAgentRevision": str(row["agent_revision"]), "status": status, "startTime": row["start_time"],
        "endTime": row["end_time"], "createdAt": row["created_at"],
        "deliveryStatus": "DELIVERED" if status == "COMPLETED" else "NOT_APPLICABLE",
        "inputTokens": row["input_tokens"], "outputTokens": row["output_tokens"], "cachedTokens": 0,
        "cacheWriteTokens": 0, "webSearchCalls": 0, "inputCost": row["input_cost"], "outputCost": row["output_cost"],
        "cachedCost": 0.0, "cacheWriteCost": 0.0, "webSearchCost": 0.0, "thinkingCost": 0.0,
        "totalCost": row["total_cost"], "hasResult": row["result"] is not None, "hasTrace": row["trace"] is not None,
        "isSample": False, "trigger": {"type": row["trigger_type"], "id": None, "provider": None},
        "destinations": [], "environmentSlug": row["environment_slug"], "tenantId": row["tenant"], "networkId": None,
        "subject": row["subject"], "runType": "ROOT", "rootExecutionId": row["id"], "parentExecutionRecordId": None,
        "automationId": None, "rejectionReason": row["rejection_reason"], "rejectionDetail": None,
        "waitingFor": row["waiting_for"], "creditsCharged": None, "origin": row["origin"], "sessionId": row["session_id"],
        "error": row["error"],
    }


def approval_wire(approval: dict[str, Any]) -> dict[str, Any]:
    payload = approval["payload"]
    return {"id": approval["id"], "status": approval["status"], "gateType": payload.get("gateType"),
            "stepIdentifier": payload.get("stepIdentifier"), "toolKey": payload.get("toolKey"),
            "outboundMessage": payload.get("outboundMessage"), "proposedParameters": payload.get("proposedParameters"),
            "authorizedApprovers": payload.get("authorizedApprovers", []), "expiresAt": approval["expires_at"],
            "decision": approval["decision"], "agentId": approval["agent_id"], "respondedBy": approval["responded_by"],
            "respondedAt": approval["responded_at"], "createdAt": approval["created_at"],
            "executionRecordId": approval["record_id"]}


def draft_envelope(draft: dict[str, Any]) -> dict[str, Any]:
    return {"agentId": draft["agent_id"], "baseRevision": draft["base_revision"], "version": draft["version"],
            "historyCursor": draft["version"], "canUndo": draft["version"] > 1, "canRedo": False,
            "updatedAt": draft["updated_at"], "headData": draft["head"]}


def _days_before(started_ms: int, days: float) -> int:
    return started_ms - int(days * DAY_MS)
