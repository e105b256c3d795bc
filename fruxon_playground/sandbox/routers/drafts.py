"""The stored draft (contract §4.6, E5–E7): read and save it with If-Match, and run it."""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response
from fastapi.responses import JSONResponse

from fruxon_playground.contract import validation
from fruxon_playground.sandbox.catalog import build_flow
from fruxon_playground.sandbox.definitions import flow_of
from fruxon_playground.sandbox.lifecycle import RunInput, prepare_run
from fruxon_playground.sandbox.playback import replay_response, respond
from fruxon_playground.sandbox.problems import Problem, invalid
from fruxon_playground.sandbox.query import read_json
from fruxon_playground.sandbox.routers import tenant_router
from fruxon_playground.sandbox.routers.runs import run_test
from fruxon_playground.sandbox.state import now_ms, sandbox_of
from fruxon_playground.sandbox.wire import draft_envelope

router = tenant_router()


@router.get("/agents/{agent_id}/revisions/{revision}/draft")
async def get_draft(request: Request, tenant: str, agent_id: str, revision: int) -> Response:
    sandbox = sandbox_of(request)
    sandbox.agent(agent_id)
    draft = sandbox.store.get_draft(tenant, agent_id, revision)
    return Response(status_code=204) if draft is None else JSONResponse(draft_envelope(draft))


@router.put("/agents/{agent_id}/revisions/{revision}/draft")
async def put_draft(request: Request, tenant: str, agent_id: str, revision: int) -> dict[str, Any]:
    sandbox = sandbox_of(request)
    sandbox.agent(agent_id)
    head = await read_json(request)
    if not isinstance(head, dict):
        raise Problem(400, "The draft head must be a JSON object.", errors={"$": ["must be an object"]})
    check_if_match(request, sandbox.store.get_draft(tenant, agent_id, revision))
    return draft_envelope(sandbox.store.put_draft(tenant, agent_id, revision, head, now_ms()))


@router.post("/agents/{agent_id}/revisions/{revision}/draft:test")
async def draft_test(request: Request, tenant: str, agent_id: str, revision: int) -> Response:
    return await run_stored_draft(request, tenant, agent_id, revision, streamed=False)


@router.post("/agents/{agent_id}/revisions/{revision}/draft:streamTest")
async def draft_stream_test(request: Request, tenant: str, agent_id: str, revision: int) -> Response:
    return await run_stored_draft(request, tenant, agent_id, revision, streamed=True)


async def run_stored_draft(request: Request, tenant: str, agent_id: str, revision: int, *, streamed: bool) -> Response:
    """The draft stored for `revision`, else that revision's flow; always a draft run (revision −1)."""
    sandbox = sandbox_of(request)
    agent = sandbox.agent(agent_id)
    body = await read_json(request)
    if agent.recording:
        return await replay_response(request, agent.id, agent.recording, body, streamed=streamed)
    if isinstance(body, dict) and "flow" in body:  # leniency: a full TestRequest also works here
        return await run_test(request, tenant, agent_id, {**body, "baseRevision": revision}, streamed=streamed)
    draft = sandbox.store.get_draft(tenant, agent_id, revision)
    check_if_match(request, draft)
    if draft is not None:
        flow, metadata = flow_of(draft["head"], agent.parameters_metadata, agent.display_name)
    else:
        stored = agent.flow(revision) or (build_flow(agent) if revision == 0 else None)
        if stored is None:
            raise Problem(404, f"Agent {agent_id!r} has no revision {revision}.")
        flow, metadata = stored, agent.parameters_of(revision) or []
    parameters, problems = validation.validate_execute_body(body, metadata, allowed=validation.DRAFT_RUN_KEYS)
    if problems:
        raise invalid(validation.RequestInvalid(400, problems))
    run = RunInput(agent.id, flow, -1, is_test=True, metadata=metadata, parameters=parameters, mode=body.get("mode"),
                   session_id=body.get("sessionId"), environment_slug=body.get("environmentSlug"),
                   attachments=body.get("attachments") or [])
    return await respond(sandbox, await prepare_run(request, tenant, run), streamed=streamed)


def check_if_match(request: Request, draft: dict[str, Any] | None) -> None:
    """`If-Match: <version>` (a plain integer) must name the current version, else 409 stale_draft."""
    header = request.headers.get("if-match")
    if header is None:
        return
    current = draft["version"] if draft else 0
    try:
        wanted = int(header.strip().strip('"'))
    except ValueError as exc:
        raise Problem(400, "If-Match must be the integer draft version.", errors={"If-Match": ["not an integer"]}) from exc
    if wanted != current:
        raise Problem(409, f"The draft is at version {current}, not {wanted}: reload it.", code="stale_draft",
                      currentVersion=current)
