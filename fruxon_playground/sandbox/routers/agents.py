"""Agents and their revisions (contract §7, §7.1): the picker, one agent, a revision's inputs, the
revision list (newest first) and one revision's body. Recordings are agents like the others."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from fruxon_playground.sandbox.catalog import DemoAgent, Revision
from fruxon_playground.sandbox.problems import Problem
from fruxon_playground.sandbox.query import paged, query_value
from fruxon_playground.sandbox.routers import tenant_router
from fruxon_playground.sandbox.state import sandbox_of
from fruxon_playground.sandbox.wire import agent_wire, revision_body, revision_summary

router = tenant_router()


@router.get("/agents")
async def list_agents(request: Request, tenant: str) -> dict[str, Any]:
    sandbox = sandbox_of(request)
    query = (query_value(request, "query") or "").lower()
    agents = [agent_wire(a, tenant, sandbox.started_ms) for a in sandbox.catalog.agents.values()]
    if query:
        agents = [a for a in agents if query in a["id"] or query in a["displayName"].lower() or query in a["description"].lower()]
    return paged(request, agents, default_size=50)


@router.get("/agents/{agent_id}")
async def get_agent(request: Request, tenant: str, agent_id: str) -> dict[str, Any]:
    sandbox = sandbox_of(request)
    return agent_wire(sandbox.agent(agent_id), tenant, sandbox.started_ms)


@router.get("/agents/{agent_id}/revisions/{revision}/parameters")
async def get_parameters(request: Request, tenant: str, agent_id: str, revision: str) -> dict[str, Any]:
    """`*` and `0` mean the newest definition; a number, that revision's inputs."""
    agent = sandbox_of(request).agent(agent_id)
    number = 0 if revision == "*" else int(revision) if revision.isdigit() else None
    metadata = None if number is None else agent.parameters_of(number)
    if metadata is None:
        raise Problem(404, f"Agent {agent_id!r} has no revision {revision}.")
    return {"parameters": [m["name"] for m in metadata], "metadata": metadata}


@router.get("/agents/{agent_id}/revisions")
async def list_revisions(request: Request, tenant: str, agent_id: str) -> dict[str, Any]:
    sandbox = sandbox_of(request)
    agent = sandbox.agent(agent_id)
    rows = [revision_summary(agent, r, sandbox.started_ms) for r in sorted(agent.revisions, key=lambda r: -r.number)]
    return paged(request, rows, default_size=50)


@router.get("/agents/{agent_id}/revisions/{revision}")
async def get_revision(request: Request, tenant: str, agent_id: str, revision: str) -> dict[str, Any]:
    sandbox = sandbox_of(request)
    agent = sandbox.agent(agent_id)
    return revision_body(agent, find_revision(agent, revision), sandbox.started_ms)


def find_revision(agent: DemoAgent, revision: str) -> Revision:
    found = agent.revision(int(revision)) if revision.isdigit() else None
    if found is None:
        raise Problem(404, f"Agent {agent.id!r} has no revision {revision}.")
    return found
