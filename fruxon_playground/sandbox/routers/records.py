"""Execution records (contract §5): the filtered, paged list and one record's summary, trace,
result and spawn tree."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from fruxon_playground.sandbox.problems import Problem
from fruxon_playground.sandbox.query import page, page_window, record_filter
from fruxon_playground.sandbox.routers import tenant_router
from fruxon_playground.sandbox.state import sandbox_of
from fruxon_playground.sandbox.wire import record_wire

router = tenant_router()


@router.get("/agents/{agent_id}/executionRecords")
@router.get("/agents/{agent_id}/execution-records")  # the older spelling (R6)
async def list_records(request: Request, tenant: str, agent_id: str) -> dict[str, Any]:
    sandbox = sandbox_of(request)
    sandbox.agent(agent_id)
    offset, size = page_window(request)
    rows = sandbox.store.list_records(tenant, agent_id, record_filter(request), offset, size + 1)
    return page([record_wire(r) for r in rows[:size]], offset, size, len(rows) > size)


def load_record(request: Request, tenant: str, agent_id: str, record_id: str) -> dict[str, Any]:
    sandbox = sandbox_of(request)
    sandbox.agent(agent_id)
    row = sandbox.store.get_record(tenant, agent_id, record_id)
    if row is None:
        raise Problem(404, f"Execution record {record_id!r} was not found.")
    return row


@router.get("/agents/{agent_id}/executionRecords/{record_id}/trace")
async def get_trace(request: Request, tenant: str, agent_id: str, record_id: str) -> dict[str, Any]:
    row = load_record(request, tenant, agent_id, record_id)
    if row["trace"] is None:
        raise Problem(404, f"Execution record {record_id!r} has no trace ({row['status']}).")
    trace = {"agentExecutionRecordId": row["id"], "tenantId": tenant, **row["trace"]}
    return {"status": row["status"], "runType": "ROOT", "rootExecutionId": row["id"], "waitingFor": row["waiting_for"],
            "trace": trace}


@router.get("/agents/{agent_id}/executionRecords/{record_id}/result")
async def get_result(request: Request, tenant: str, agent_id: str, record_id: str) -> dict[str, Any]:
    row = load_record(request, tenant, agent_id, record_id)
    return {"agentId": row["agent_id"], "agentRevision": row["agent_revision"], "createdAt": row["created_at"],
            "parameters": row["parameters"], "result": row["result"]}


@router.get("/agents/{agent_id}/executionRecords/{record_id}/tree")
async def get_tree(request: Request, tenant: str, agent_id: str, record_id: str) -> dict[str, Any]:
    row = load_record(request, tenant, agent_id, record_id)
    duration = (row["end_time"] - row["start_time"]) if row["end_time"] else None
    node = {"id": row["id"], "agentId": row["agent_id"], "parentExecutionRecordId": None, "parentAsyncOperationId": None,
            "depth": 0, "runType": "ROOT", "status": row["status"], "startTime": row["start_time"],
            "endTime": row["end_time"], "durationMs": duration, "totalCost": row["total_cost"], "creditsCharged": None,
            "subject": row["subject"], "trigger": {"type": row["trigger_type"]}}
    return {"rootExecutionId": row["id"], "nodes": [node],
            "totals": {"runs": 1, "failed": int(row["status"] == "FAILED"), "cost": row["total_cost"], "credits": None,
                       "elapsedMs": duration, "truncatedByRetention": False}}


@router.get("/agents/{agent_id}/executionRecords/{record_ref}")
async def get_record(request: Request, tenant: str, agent_id: str, record_ref: str) -> dict[str, Any]:
    # `{id}:trace` and `{id}:result` are the docs' spellings of the two sub-resources.
    record_id, _, action = record_ref.partition(":")
    if action == "trace":
        return await get_trace(request, tenant, agent_id, record_id)
    if action == "result":
        return await get_result(request, tenant, agent_id, record_id)
    if action:
        raise Problem(404, f"Unknown action {action!r}.")
    return record_wire(load_record(request, tenant, agent_id, record_id))
