"""Runs (contract §4): the deployed revision (`:execute`, `:stream`) and inline drafts or a pinned
revision (`:test`, `:streamTest`). The body is always read in full before anything is answered."""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response

from fruxon_playground.contract import validation
from fruxon_playground.sandbox.lifecycle import RunInput, prepare_run
from fruxon_playground.sandbox.playback import replay_response, respond
from fruxon_playground.sandbox.problems import Problem, invalid
from fruxon_playground.sandbox.query import read_json
from fruxon_playground.sandbox.routers import tenant_router
from fruxon_playground.sandbox.state import sandbox_of

router = tenant_router()


@router.post("/agents/{agent_id}:execute")
async def execute(request: Request, tenant: str, agent_id: str) -> Response:
    return await run_deployed(request, tenant, agent_id, streamed=False)


@router.post("/agents/{agent_id}:stream")
async def stream(request: Request, tenant: str, agent_id: str) -> Response:
    return await run_deployed(request, tenant, agent_id, streamed=True)


@router.post("/agents/{agent_id}:test")
async def test(request: Request, tenant: str, agent_id: str) -> Response:
    return await run_test(request, tenant, agent_id, await read_json(request), streamed=False)


@router.post("/agents/{agent_id}:streamTest")
async def stream_test(request: Request, tenant: str, agent_id: str) -> Response:
    return await run_test(request, tenant, agent_id, await read_json(request), streamed=True)


async def run_deployed(request: Request, tenant: str, agent_id: str, *, streamed: bool) -> Response:
    agent = sandbox_of(request).agent(agent_id)
    body = await read_json(request)
    if agent.recording:
        return await replay_response(request, agent.id, agent.recording, body, streamed=streamed)
    metadata = agent.parameters_of(agent.current_revision) or []
    parameters, problems = validation.validate_execute_body(body, metadata)
    if problems:
        raise invalid(validation.RequestInvalid(400, problems))
    flow = agent.flow(agent.current_revision)
    if flow is None:
        raise Problem(404, f"Agent {agent_id!r} has no deployed revision.")
    run = RunInput(agent.id, flow, agent.current_revision, is_test=False, metadata=metadata,
                   parameters=parameters, mode=body.get("mode"), session_id=body.get("sessionId"),
                   environment_slug=body.get("environmentSlug"), attachments=body.get("attachments") or [])
    return await respond(sandbox_of(request), await prepare_run(request, tenant, run), streamed=streamed)


async def run_test(request: Request, tenant: str, agent_id: str, body: Any, *, streamed: bool) -> Response:
    """An inline flow runs as a draft (revision −1); no flow and `baseRevision = N` runs revision N."""
    agent = sandbox_of(request).agent(agent_id)
    if agent.recording:
        return await replay_response(request, agent.id, agent.recording, body, streamed=streamed)
    requested = body.get("baseRevision") if isinstance(body, dict) else None
    stored = None
    if isinstance(requested, int) and not isinstance(requested, bool) and requested > 0:
        stored = agent.flow(requested)
        if stored is None:
            raise Problem(404, f"Agent {agent_id!r} has no revision {requested}.", errors={"baseRevision": ["no such revision"]})
    try:
        checked = validation.validate_test_body(body, stored_flow=stored)
    except validation.RequestInvalid as exc:
        raise invalid(exc) from exc
    pinned = stored is not None and body.get("flow") is None
    flow = checked.flow or {"steps": [], "edges": []}  # never empty here: no flow and no revision is a 422
    run = RunInput(agent.id, flow, checked.base_revision if pinned else -1, is_test=True, metadata=checked.metadata,
                   parameters=checked.parameters, mode=checked.mode, session_id=checked.session_id,
                   attachments=checked.attachments, assets=checked.assets)
    return await respond(sandbox_of(request), await prepare_run(request, tenant, run), streamed=streamed)
