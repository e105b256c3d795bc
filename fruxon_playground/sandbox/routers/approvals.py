"""Human-in-the-loop gates (contract §7, §9.6): list, read, respond, cancel. A decision resumes the
paused record."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from fruxon_playground.sandbox.lifecycle import decide
from fruxon_playground.sandbox.problems import Problem
from fruxon_playground.sandbox.query import paged, query_value, read_json
from fruxon_playground.sandbox.routers import tenant_router
from fruxon_playground.sandbox.state import sandbox_of
from fruxon_playground.sandbox.wire import approval_wire

router = tenant_router()


@router.get("/pendingApprovals")
async def list_approvals(request: Request, tenant: str) -> dict[str, Any]:
    status = (query_value(request, "status") or "").upper() or None
    approvals = sandbox_of(request).store.list_approvals(tenant, query_value(request, "agentId"), status)
    return paged(request, [approval_wire(a) for a in approvals], default_size=50)


@router.get("/agents/{agent_id}/pendingApprovals/{approval_id}")
async def get_approval(request: Request, tenant: str, agent_id: str, approval_id: str) -> dict[str, Any]:
    return approval_wire(load_approval(request, tenant, agent_id, approval_id))


@router.post("/agents/{agent_id}/pendingApprovals/{approval_ref}")
async def act_on_approval(request: Request, tenant: str, agent_id: str, approval_ref: str) -> dict[str, Any]:
    """`{id}:respond {"text"}` (text starting "approve" approves) or `{id}:cancel {"reason"?}`."""
    approval_id, _, action = approval_ref.partition(":")
    if action not in ("respond", "cancel"):
        raise Problem(404, "Use :respond or :cancel.")
    body = await read_json(request)
    approval = load_approval(request, tenant, agent_id, approval_id)
    if approval["status"] != "PENDING":
        raise Problem(409, f"Approval {approval_id!r} was already {approval['status'].lower()}.", code="already_resolved")
    sandbox = sandbox_of(request)
    if action == "cancel":
        reason = str((body or {}).get("reason") or "cancelled")
        return approval_wire(decide(sandbox, tenant, approval, False, reason, cancelled=True))
    text = str((body or {}).get("text") or "").strip()
    if not text:
        raise Problem(400, "Send {\"text\": \"approve\"} or a rejection reason.", errors={"text": ["required"]})
    return approval_wire(decide(sandbox, tenant, approval, text.lower().startswith("approve"), text))


def load_approval(request: Request, tenant: str, agent_id: str, approval_id: str) -> dict[str, Any]:
    approval = sandbox_of(request).store.get_approval(tenant, approval_id)
    if approval is None or approval["agent_id"] != agent_id:
        raise Problem(404, f"Approval {approval_id!r} was not found.")
    return approval
