"""The workspace around the agents: the connection check (contract §2) and environments (§6.1)."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from fruxon_playground.sandbox.problems import Problem
from fruxon_playground.sandbox.query import paged, query_value
from fruxon_playground.sandbox.routers import tenant_router
from fruxon_playground.sandbox.state import sandbox_of

SCOPES = ["agents:read", "agents:execute", "agents:test", "drafts:read", "drafts:write", "executions:read",
          "traces:read", "workspace:read"]
router = tenant_router()


@router.get("/auth/health")
async def auth_health(tenant: str) -> dict[str, Any]:
    return {"authenticationSource": "API_KEY", "tokenName": "sandbox", "email": "sandbox@localhost", "scopes": SCOPES,
            "tokenExpiresAt": None}


@router.get("/environments")
async def list_environments(request: Request, tenant: str) -> dict[str, Any]:
    items = sandbox_of(request).store.list_environments(tenant, query_value(request, "query"))
    return paged(request, items, default_size=50)


@router.get("/environments/{environment_id}")
async def get_environment(request: Request, tenant: str, environment_id: str) -> dict[str, Any]:
    env = sandbox_of(request).store.get_environment(tenant, environment_id)
    if env is None:
        raise Problem(404, f"Environment {environment_id!r} was not found (this endpoint takes the UUID, not the slug).")
    return env
