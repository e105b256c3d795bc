"""The sandbox's HTTP surface: a FastAPI app that serves the Fruxon API contract.

Runs are planned by the pure engine (engine.py) and then played out in time: a synchronous run
waits for the whole plan, a stream writes each event at its offset (× speed). Every run is stored
before its terminal event or response goes out. Request headers and keys are never logged.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hmac
import json
import logging
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response, StreamingResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from fruxon_playground.contract import normalize_enum, validation
from fruxon_playground.contract.enums import RECORD_STATUSES
from fruxon_playground.sandbox import catalog, engine, replay
from fruxon_playground.sandbox.config import SandboxConfig
from fruxon_playground.sandbox.engine import PlannedEvent, RunPlan, RunSpec
from fruxon_playground.sandbox.faults import FAULT_HEADER, Faults, FaultSpecError, parse_faults
from fruxon_playground.sandbox.seed import seed_history
from fruxon_playground.sandbox.store import RecordFilter, Store

PROBLEM_TYPES = {
    400: "https://tools.ietf.org/html/rfc9110#section-15.5.1",
    401: "https://tools.ietf.org/html/rfc9110#section-15.5.2",
    403: "https://tools.ietf.org/html/rfc9110#section-15.5.4",
    404: "https://tools.ietf.org/html/rfc9110#section-15.5.5",
    405: "https://tools.ietf.org/html/rfc9110#section-15.5.6",
    409: "https://tools.ietf.org/html/rfc9110#section-15.5.10",
    422: "https://tools.ietf.org/html/rfc4918#section-11.2",
    429: "https://tools.ietf.org/html/rfc6585#section-4",
    500: "https://tools.ietf.org/html/rfc9110#section-15.6.1",
    503: "https://tools.ietf.org/html/rfc9110#section-15.6.4",
}
TITLES = {400: "One or more validation errors occurred.", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
          405: "Method Not Allowed", 409: "Conflict", 422: "Unprocessable Entity", 429: "Too Many Requests",
          500: "Internal Server Error", 503: "Service Unavailable"}
TEXT_TYPES = ("text/", "application/json", "application/xml", "application/csv", "application/x-ndjson")
DAY_MS = 86_400_000
INTERVALS = {"HOUR": 3_600_000, "DAY": DAY_MS, "WEEK": 7 * DAY_MS, "UNSPECIFIED": DAY_MS}
QUERY_WINDOW_MS = 31 * DAY_MS
log = logging.getLogger("fruxon_playground.sandbox")


def now_ms() -> int:
    return int(time.time() * 1000)


class Problem(Exception):
    """Raised anywhere in a handler; answered as RFC 9457 problem+json."""

    def __init__(self, status: int, detail: str, *, errors: dict[str, list[str]] | None = None,
                 headers: dict[str, str] | None = None, **extensions: Any) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.errors = errors
        self.headers = headers or {}
        self.extensions = extensions


class SimulatedDrop(Exception):
    """Raised inside a stream to make the server cut the connection without a terminal event."""


class _QuietDrops(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], SimulatedDrop))


logging.getLogger("uvicorn.error").addFilter(_QuietDrops())


def problem_response(request: Request, status: int, detail: str, *, errors: dict[str, list[str]] | None = None,
                     headers: dict[str, str] | None = None, **extensions: Any) -> JSONResponse:
    body: dict[str, Any] = {"type": PROBLEM_TYPES.get(status, "about:blank"), "title": TITLES.get(status, "Error"),
                            "status": status, "detail": detail, "instance": request.url.path}
    if errors:
        body["errors"] = errors
    body.update({k: v for k, v in extensions.items() if v is not None})
    body["traceId"] = f"00-{uuid.uuid4().hex}-{uuid.uuid4().hex[:16]}-01"
    return JSONResponse(body, status_code=status, headers=headers, media_type="application/problem+json")


def invalid(exc: validation.RequestInvalid) -> Problem:
    return Problem(exc.status, exc.problems[0].message, errors=exc.errors())


# ----------------------------------------------------------------------------------------------
# Sandbox state
# ----------------------------------------------------------------------------------------------
@dataclass
class Sandbox:
    config: SandboxConfig
    store: Store
    replays: dict[str, Any]
    run_times: dict[str, deque[float]] = field(default_factory=dict)

    def check_rate(self, key: str) -> None:
        window = self.run_times.setdefault(key, deque())
        now = time.monotonic()
        while window and now - window[0] > 60:
            window.popleft()
        if len(window) >= self.config.rate_limit:
            retry = max(1, int(60 - (now - window[0])) + 1)
            raise Problem(429, f"Rate limit of {self.config.rate_limit} runs per minute exceeded; retry in {retry} s.",
                          headers={"Retry-After": str(retry)})
        window.append(now)

    async def pause(self, seconds: float) -> None:
        if seconds > 0 and self.config.speed > 0:
            await asyncio.sleep(seconds * self.config.speed)


def _sandbox(request: Request) -> Sandbox:
    return request.app.state.sandbox


# ----------------------------------------------------------------------------------------------
# Auth and query helpers
# ----------------------------------------------------------------------------------------------
def authenticate(request: Request, tenant: str) -> None:
    """Either header on every endpoint; a wrong key in any presented header fails (§2)."""
    sandbox = _sandbox(request)
    expected = sandbox.config.api_key.encode()
    presented: list[str] = []
    api_key = request.headers.get("x-api-key")
    authorization = request.headers.get("authorization")
    challenge = {"WWW-Authenticate": "Bearer"}
    if api_key is None and authorization is None:
        raise Problem(401, "Missing API key: send Authorization: Bearer <key> or X-API-KEY.", headers=challenge)
    if authorization is not None:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Problem(401, "The Authorization header must use the Bearer scheme.", headers=challenge)
        presented.append(token.strip())
    if api_key is not None:
        presented.append(api_key.strip())
    if not all(hmac.compare_digest(p.encode(), expected) for p in presented):
        raise Problem(401, "The API key was rejected.", headers=challenge)
    if tenant != sandbox.config.tenant:
        raise Problem(403, f"The key is not bound to tenant {tenant!r}.")


def query_values(request: Request, *names: str) -> list[str]:
    """Values of a query parameter, matching its name case-insensitively (`PageSize` = `pageSize`)."""
    wanted = {n.lower() for n in names}
    return [v for k, v in request.query_params.multi_items() if k.lower() in wanted]


def query_value(request: Request, *names: str) -> str | None:
    values = query_values(request, *names)
    return values[0] if values else None


def query_int(request: Request, *names: str) -> int | None:
    value = query_value(request, *names)
    if value is None or value == "":
        return None
    try:
        return int(value)
    except ValueError as exc:
        raise Problem(400, f"Query parameter {names[0]} must be an integer.", errors={names[0]: ["must be an integer"]}) from exc


def origin_of(request: Request) -> str:
    origin = (query_value(request, "origin") or "PRODUCTION").upper()
    if origin not in ("PRODUCTION", "TEST"):
        raise Problem(400, "origin must be PRODUCTION or TEST.", errors={"origin": ["must be PRODUCTION or TEST"]})
    return origin


def page_window(request: Request, default_size: int = 10) -> tuple[int, int]:
    size = query_int(request, "pageSize") or default_size
    size = max(1, min(size, 100))
    offset = 0
    token = query_value(request, "pageToken", "PageToken.Cursor")
    skip = query_int(request, "PageToken.Skip")
    if token:
        try:
            offset = int(base64.urlsafe_b64decode(token.encode()).decode().removeprefix("offset:"))
        except (ValueError, binascii.Error) as exc:
            raise Problem(400, "pageToken is not a token this server issued.", errors={"pageToken": ["invalid"]}) from exc
    elif skip is not None:
        offset = max(0, skip)
    return offset, size


def page(items: list[Any], offset: int, size: int, has_more: bool) -> dict[str, Any]:
    token = base64.urlsafe_b64encode(f"offset:{offset + size}".encode()).decode() if has_more else None
    return {"items": items, "nextPageToken": token}


def find_agent(agent_id: str) -> catalog.DemoAgent:
    agent = catalog.DEMO_AGENTS.get(agent_id)
    if agent is None:
        raise Problem(404, f"Agent {agent_id!r} was not found.")
    return agent


def agent_exists(request: Request, agent_id: str) -> None:
    if agent_id not in catalog.DEMO_AGENTS and agent_id not in _sandbox(request).replays:
        raise Problem(404, f"Agent {agent_id!r} was not found.")


def agent_wire(agent: catalog.DemoAgent, tenant: str, started_ms: int) -> dict[str, Any]:
    created = started_ms - agent.created_at_offset_days * DAY_MS
    return {"id": agent.id, "displayName": agent.display_name, "description": agent.description,
            "tags": list(agent.tags), "type": "AGENT", "enabled": True, "currentRevision": agent.current_revision,
            "createdAt": created, "modifiedAt": created + DAY_MS, "tenantId": tenant, "networkId": None,
            "deletedAt": None}


# ----------------------------------------------------------------------------------------------
# Records
# ----------------------------------------------------------------------------------------------
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


def subject_of(parameters: dict[str, Any]) -> str | None:
    for value in parameters.values():
        if isinstance(value, str) and value.strip():
            text = value.strip().replace("\n", " ")
            return text[:80] + ("…" if len(text) > 80 else "")
    return None


def build_record(tenant: str, spec: RunSpec, record_id: str, *, status: str, plan: RunPlan | None = None,
                 end_time: int | None = None, error: str | None = None) -> dict[str, Any]:
    outcome = plan.outcome if plan else None
    row: dict[str, Any] = {
        "id": record_id, "tenant": tenant, "agent_id": spec.agent_id, "agent_revision": spec.revision,
        "origin": "TEST" if spec.is_test else "PRODUCTION", "trigger_type": "TEST" if spec.is_test else "API",
        "status": status, "start_time": spec.start_ms, "end_time": end_time, "created_at": spec.start_ms,
        "environment_slug": spec.environment_slug, "session_id": spec.session_id, "subject": subject_of(spec.parameters),
        "input_tokens": 0, "output_tokens": 0, "input_cost": 0.0, "output_cost": 0.0, "total_cost": 0.0,
        "tool_keys": [], "tool_errors": 0, "error": error, "rejection_reason": None, "waiting_for": None,
        "parameters": spec.parameters, "trace": None, "result": None, "run_spec": spec_to_json(spec),
    }
    if outcome is not None:
        row.update({
            "input_tokens": outcome.input_tokens, "output_tokens": outcome.output_tokens,
            "input_cost": outcome.input_cost, "output_cost": outcome.output_cost, "total_cost": outcome.total_cost,
            "tool_keys": list(outcome.tool_keys), "tool_errors": outcome.tool_error_count,
            "error": error or outcome.error, "trace": outcome.trace,
            "result": outcome.result if status == "COMPLETED" else None,
        })
        if outcome.pending_approval is not None and status == "WAITING_FOR_ASYNC":
            row["waiting_for"] = {"kind": "APPROVAL", "displayName": outcome.pending_approval.tool_key,
                                  "participantKind": "HUMAN", "topicId": None, "waitingSince": end_time or now_ms(),
                                  "expiresAt": (end_time or now_ms()) + DAY_MS, "childCount": 0}
    return row


def spec_to_json(spec: RunSpec) -> dict[str, Any]:
    data = asdict(spec)
    data["scenario"] = sorted(spec.scenario)
    data.pop("attachment_text", None)
    return data


def spec_from_json(data: dict[str, Any], attachment_text: dict[str, str]) -> RunSpec:
    return RunSpec(**{**data, "scenario": frozenset(data.get("scenario") or []), "attachment_text": attachment_text})


# ----------------------------------------------------------------------------------------------
# Preparing a run
# ----------------------------------------------------------------------------------------------
@dataclass
class PreparedRun:
    spec: RunSpec
    record_id: str
    plan: RunPlan
    faults: Faults
    tenant: str


async def read_json(request: Request) -> Any:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise Problem(400, f"The request body is not valid JSON: {exc}", errors={"$": ["invalid JSON"]}) from exc


def request_faults(request: Request, agent_id: str) -> Faults:
    sandbox = _sandbox(request)
    try:
        agent_faults = parse_faults(sandbox.config.agent_faults.get(agent_id))
        return agent_faults.merged(parse_faults(request.headers.get(FAULT_HEADER)))
    except FaultSpecError as exc:
        raise Problem(400, str(exc), errors={"X-Sandbox-Fault": [str(exc)]}) from exc


async def apply_pre_run_faults(request: Request, faults: Faults, scenario: frozenset[str]) -> None:
    sandbox = _sandbox(request)
    if faults.latency_ms:
        await sandbox.pause(faults.latency_ms / 1000)
    status = faults.status or next((engine.HTTP_SCENARIOS[s] for s in scenario if s in engine.HTTP_SCENARIOS), None)
    if status:
        headers = {"Retry-After": "2"} if status in (429, 503) else None
        raise Problem(status, f"Simulated HTTP {status} (sandbox fault injection).", headers=headers)


def attachment_texts(request: Request, tenant: str, attachments: list[dict[str, Any]]) -> dict[str, str]:
    store = _sandbox(request).store
    texts: dict[str, str] = {}
    problems: dict[str, list[str]] = {}
    for i, link in enumerate(attachments):
        stored = store.get_file(tenant, link.get("fileId", ""))
        if stored is None:
            problems[f"attachments[{i}].fileId"] = [f"File {link.get('fileId')!r} was not uploaded (POST storage first)."]
            continue
        if (stored["content_type"] or "").startswith(TEXT_TYPES) or stored["name"].endswith((".txt", ".md", ".csv", ".json")):
            texts[link["fileId"]] = bytes(stored["data"]).decode("utf-8", errors="replace")
    if problems:
        raise Problem(400, next(iter(problems.values()))[0], errors=problems)
    return texts


def enrich_links(request: Request, tenant: str, attachments: list[dict[str, Any]]) -> list[dict[str, Any]]:
    store = _sandbox(request).store
    out = []
    for link in attachments:
        stored = store.get_file(tenant, link["fileId"]) or {}
        out.append({"fileId": link["fileId"], "fileType": link.get("fileType") or stored.get("file_type") or "file",
                    "contentType": link.get("contentType") or stored.get("content_type"),
                    "promptLink": link.get("promptLink") or f"<{stored.get('file_type') or 'file'}:{link['fileId']}/>",
                    "displayName": link.get("displayName") or stored.get("name")})
    return out


async def prepare_run(request: Request, tenant: str, agent_id: str, *, test: bool, body: Any,
                      flow: dict[str, Any] | None = None, revision: int | None = None,
                      metadata: list[dict[str, Any]] | None = None, parameters: dict[str, Any] | None = None,
                      mode: str | None = None, session_id: str | None = None, environment_slug: str | None = None,
                      attachments: list[dict[str, Any]] | None = None, assets: list[dict[str, Any]] | None = None) -> PreparedRun:
    sandbox = _sandbox(request)
    faults = request_faults(request, agent_id)
    scenario = engine.scenario_from_parameters(parameters or {})
    await apply_pre_run_faults(request, faults, scenario)
    sandbox.check_rate(sandbox.config.api_key)
    links = enrich_links(request, tenant, attachments or [])
    texts = attachment_texts(request, tenant, links)
    if environment_slug:
        known = sandbox.store.environment_slugs(tenant)
        if environment_slug not in known:
            sandbox.store.ensure_environment(tenant, environment_slug, None, "Ambient", now_ms())
    if not session_id:
        session_id = ("ts_" + uuid.uuid4().hex[:24]) if test else str(uuid.uuid4())
    turn = sandbox.store.next_turn(session_id)
    extra: set[str] = set()
    if faults.large_kb:
        extra.add("long")
    spec = RunSpec(
        agent_id=agent_id, revision=-1 if test else int(revision or 0), flow=flow or {"steps": [], "edges": []},
        parameters=parameters or {}, parameters_metadata=metadata or [], start_ms=now_ms(), session_id=session_id,
        session_turn=turn, attachments=links, attachment_text=texts, assets=assets or [], mode=mode,
        environment_slug=environment_slug, is_test=test, scenario=frozenset(extra),
    )
    record_id = str(uuid.uuid4())
    plan = engine.plan_run(spec, record_id)
    plan = apply_stream_faults(plan, faults, record_id)
    sandbox.store.save_record(build_record(tenant, spec, record_id, status="IN_PROGRESS"))
    return PreparedRun(spec, record_id, plan, faults, tenant)


def apply_stream_faults(plan: RunPlan, faults: Faults, record_id: str) -> RunPlan:
    events = list(plan.events)
    if faults.large_kb:
        text = ("The quick brown fox jumps over the lazy dog. " * 64)[:1024]
        last = events[-1].offset_ms if events else 0
        insert_at = next((i for i, e in enumerate(events) if e.event in ("usage", "done", "error")), len(events))
        filler = [PlannedEvent(last, "text", {"chunk": text}) for _ in range(faults.large_kb)]
        events[insert_at:insert_at] = filler
    if faults.silence_ms and len(events) > 1:
        events = [events[0]] + [replace(e, offset_ms=e.offset_ms + faults.silence_ms) for e in events[1:]]
    outcome = plan.outcome
    drop_after = plan.drop_after_index
    if faults.error_after is not None and faults.error_after < len(events):
        cut = events[: faults.error_after]
        at = cut[-1].offset_ms if cut else 0
        message = f"Simulated error after {faults.error_after} events (X-Sandbox-Fault)."
        events = cut + [PlannedEvent(at, "error", {"message": message, "code": "SANDBOX_FAULT", "executionRecordId": record_id})]
        outcome = replace(outcome, status="FAILED", error=message, error_code="SANDBOX_FAULT", response_text=None, result=None,
                          pending_approval=None)
    elif faults.drop_after is not None and faults.drop_after < len(events):
        drop_after = faults.drop_after
        outcome = replace(outcome, status="FAILED", error="connection dropped (simulated)", response_text=None, result=None,
                          pending_approval=None)
    return RunPlan(events, outcome, drop_after)


def finish_record(sandbox: Sandbox, run: PreparedRun) -> dict[str, Any]:
    """Stores the run's final state; returns the row."""
    outcome = run.plan.outcome
    end = run.spec.start_ms + outcome.end_offset_ms if outcome.status != "WAITING_FOR_ASYNC" else None
    row = build_record(run.tenant, run.spec, run.record_id, status=outcome.status, plan=run.plan,
                       end_time=end if end is not None else None)
    if outcome.status == "WAITING_FOR_ASYNC":
        row["end_time"] = None
    sandbox.store.save_record(row)
    if outcome.pending_approval is not None and outcome.status == "WAITING_FOR_ASYNC":
        pending = outcome.pending_approval
        sandbox.store.save_approval({
            "id": pending.request_id, "tenant": run.tenant, "agent_id": run.spec.agent_id, "record_id": run.record_id,
            "status": "PENDING", "created_at": now_ms(), "expires_at": now_ms() + DAY_MS,
            "payload": {"gateType": "PROMPT_TOOL", "stepIdentifier": pending.step_identifier, "toolKey": pending.tool_key,
                        "outboundMessage": pending.outbound_message, "proposedParameters": pending.proposed_parameters,
                        "toolCallId": pending.tool_call_id, "authorizedApprovers": []},
        })
    return row


def sse_frame(event: PlannedEvent, *, last: bool) -> bytes:
    data = event.data
    if event.event == "text" and engine.SEND_TIME_MARKER in data.get("chunk", ""):
        data = {"chunk": data["chunk"].replace(engine.SEND_TIME_MARKER, str(now_ms()))}
    payload = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    # The final `done` frame ends with a single newline, as the real service does (contract §9.8).
    return f"event: {event.event}\ndata: {payload}\n{'' if last else chr(10)}".encode()


def stream_response(request: Request, run: PreparedRun) -> StreamingResponse:
    sandbox = _sandbox(request)
    events = run.plan.events if run.spec.is_test else [e for e in run.plan.events if e.event != "step_trace"]
    drop_after = run.plan.drop_after_index
    keepalive = sandbox.config.keepalive_s * sandbox.config.speed

    async def body() -> AsyncIterator[bytes]:
        finished = False
        loop = asyncio.get_running_loop()
        start = loop.time()
        last_write = start
        try:
            for index, event in enumerate(events):
                target = start + event.offset_ms / 1000 * sandbox.config.speed
                while True:
                    now = loop.time()
                    if now >= target:
                        break
                    if keepalive > 0 and now - last_write >= keepalive:
                        yield b": keep-alive\n\n"
                        last_write = now
                        continue
                    wait = target - now
                    if keepalive > 0:
                        wait = min(wait, keepalive - (now - last_write))
                    await asyncio.sleep(max(wait, 0.0))
                terminal = event.event in ("done", "error")
                if terminal:
                    finish_record(sandbox, run)
                    finished = True
                yield sse_frame(event, last=event.event == "done" and index == len(events) - 1)
                last_write = loop.time()
                if drop_after is not None and index + 1 >= drop_after:
                    finish_record(sandbox, run)
                    finished = True
                    raise SimulatedDrop()
            if not finished:
                finish_record(sandbox, run)
                finished = True
        finally:
            if not finished:
                # The client went away mid-run: the sandbox stops and records the run as cancelled.
                row = build_record(run.tenant, run.spec, run.record_id, status="CANCELLED", plan=None, end_time=now_ms(),
                                   error="client disconnected")
                sandbox.store.save_record(row)

    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no", "X-Execution-Record-Id": run.record_id}
    return StreamingResponse(body(), media_type="text/event-stream; charset=utf-8", headers=headers)


async def sync_response(request: Request, run: PreparedRun) -> JSONResponse:
    sandbox = _sandbox(request)
    outcome = run.plan.outcome
    await sandbox.pause(outcome.end_offset_ms / 1000)
    finish_record(sandbox, run)
    if outcome.status == "FAILED":
        raise Problem(500, outcome.error or "The run failed.", executionRecordId=run.record_id,
                      code=outcome.error_code)
    waiting = outcome.status == "WAITING_FOR_ASYNC"
    return JSONResponse({
        "response": outcome.response_text, "trace": outcome.trace, "sessionId": run.spec.session_id,
        "links": [{k: v for k, v in a.items() if k in ("fileId", "fileType", "promptLink")} for a in run.spec.attachments],
        "executionRecordId": run.record_id, "status": "WAITING_FOR_HUMAN" if waiting else "COMPLETED",
        "humanApprovalRequestId": outcome.pending_approval.request_id if waiting and outcome.pending_approval else None,
    })


# ----------------------------------------------------------------------------------------------
# Run endpoints
# ----------------------------------------------------------------------------------------------
async def run_deployed(request: Request, tenant: str, agent_id: str, *, streamed: bool) -> Response:
    authenticate(request, tenant)
    sandbox = _sandbox(request)
    if streamed and agent_id in sandbox.replays:
        return await replay_response(request, tenant, agent_id)
    agent = find_agent(agent_id)
    body = await read_json(request)
    parameters, problems = validation.validate_execute_body(body, agent.parameters_metadata)
    if problems:
        raise invalid(validation.RequestInvalid(400, problems))
    if agent.current_revision <= 0:
        raise Problem(404, f"Agent {agent_id!r} has no deployed revision.")
    run = await prepare_run(
        request, tenant, agent_id, test=False, body=body, flow=catalog.revision_flow(agent_id, agent.current_revision),
        revision=agent.current_revision, metadata=agent.parameters_metadata, parameters=parameters,
        mode=body.get("mode"), session_id=body.get("sessionId"), environment_slug=body.get("environmentSlug"),
        attachments=body.get("attachments"),
    )
    return stream_response(request, run) if streamed else await sync_response(request, run)


async def run_test(request: Request, tenant: str, agent_id: str, *, streamed: bool, body: Any | None = None,
                   base_revision: int | None = None) -> Response:
    sandbox = _sandbox(request)
    if streamed and agent_id in sandbox.replays:
        return await replay_response(request, tenant, agent_id)
    agent = find_agent(agent_id)
    if body is None:
        body = await read_json(request)
    if isinstance(body, dict) and base_revision is not None:
        body = {**body, "baseRevision": base_revision}
    requested = body.get("baseRevision") if isinstance(body, dict) else None
    stored = None
    if isinstance(requested, int) and not isinstance(requested, bool) and requested > 0:
        stored = catalog.revision_flow(agent_id, requested)
        if stored is None:
            raise Problem(404, f"Agent {agent_id!r} has no revision {requested}.", errors={"baseRevision": ["no such revision"]})
    try:
        test_input = validation.validate_test_body(body, stored_flow=stored)
    except validation.RequestInvalid as exc:
        raise invalid(exc) from exc
    run = await prepare_run(
        request, tenant, agent.id, test=True, body=body, flow=test_input.flow, metadata=test_input.metadata,
        parameters=test_input.parameters, mode=test_input.mode, session_id=test_input.session_id,
        attachments=test_input.attachments, assets=test_input.assets,
    )
    return stream_response(request, run) if streamed else await sync_response(request, run)


def draft_flow(head: dict[str, Any], agent: catalog.DemoAgent) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """An SDK 2.x draft head (one agent `definition`) as entry → agent → exit."""
    definition = dict(head.get("definition") or {})
    metadata = head.get("parametersMetadata") or agent.parameters_metadata
    step = {"type": "AGENT", "identifier": "agent", "name": definition.get("displayName") or agent.display_name,
            **{k: v for k, v in definition.items() if k not in ("type", "identifier")}}
    step.setdefault("userPrompt", {"template": " ".join(f"{{{{param.{m['name']}}}}}" for m in metadata) or "Hello"})
    steps = [{"type": "ENTRY_POINT", "identifier": "entry", "name": "Entry", "parameters": metadata}, step,
             {"type": "EXIT_POINT", "identifier": "exit", "name": "Exit"}]
    return {"steps": steps, "edges": [{"source": "entry", "target": "agent"}, {"source": "agent", "target": "exit"}]}, metadata


async def run_stored_draft(request: Request, tenant: str, agent_id: str, revision: int, *, streamed: bool) -> Response:
    authenticate(request, tenant)
    agent = find_agent(agent_id)
    sandbox = _sandbox(request)
    body = await read_json(request)
    if isinstance(body, dict) and "flow" in body:  # leniency: a full TestRequest also works here
        return await run_test(request, tenant, agent_id, streamed=streamed, body=body, base_revision=revision)
    draft = sandbox.store.get_draft(tenant, agent_id, revision)
    check_if_match(request, draft)
    if draft is not None:
        flow, metadata = draft_flow(draft["head"], agent)
    else:
        flow = catalog.revision_flow(agent_id, revision) or (catalog.build_flow(agent) if revision == 0 else None)
        metadata = agent.parameters_metadata
        if flow is None:
            raise Problem(404, f"Agent {agent_id!r} has no revision {revision}.")
    parameters, problems = validation.validate_execute_body(body, metadata, allowed=validation.DRAFT_RUN_KEYS)
    if problems:
        raise invalid(validation.RequestInvalid(400, problems))
    run = await prepare_run(
        request, tenant, agent_id, test=True, body=body, flow=flow, metadata=metadata, parameters=parameters,
        mode=body.get("mode"), session_id=body.get("sessionId"), environment_slug=body.get("environmentSlug"),
        attachments=body.get("attachments"),
    )
    return stream_response(request, run) if streamed else await sync_response(request, run)


def check_if_match(request: Request, draft: dict[str, Any] | None) -> None:
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


async def replay_response(request: Request, tenant: str, agent_id: str) -> StreamingResponse:
    authenticate(request, tenant)
    sandbox = _sandbox(request)
    payload = sandbox.replays[agent_id].read_bytes()
    parts = replay.chunks(payload, sandbox.config.replay_chunk_size)

    async def body() -> AsyncIterator[bytes]:
        for part in parts:
            yield part
            await sandbox.pause(sandbox.config.replay_delay_ms / 1000)

    return StreamingResponse(body(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})


# ----------------------------------------------------------------------------------------------
# The app
# ----------------------------------------------------------------------------------------------
def create_app(config: SandboxConfig) -> FastAPI:
    app = FastAPI(title="Fruxon sandbox", docs_url=None, redoc_url=None, openapi_url=None)
    store = Store(config.db_path)
    started = now_ms()
    for env in catalog.DEMO_ENVIRONMENTS:
        store.ensure_environment(config.tenant, env["slug"], env["displayName"], "Curated", started - 40 * DAY_MS)
    if config.seed_history and store.get_meta("seeded") is None:
        seed_history(store, config.tenant, seed=config.seed, now=started)
        store.set_meta("seeded", str(started))
    app.state.sandbox = Sandbox(config=config, store=store, replays=replay.replay_files(config.replay_dir))
    prefix = "/v1/tenants/{tenant}"

    @app.exception_handler(Problem)
    async def on_problem(request: Request, exc: Problem) -> JSONResponse:
        return problem_response(request, exc.status, exc.detail, errors=exc.errors, headers=exc.headers, **exc.extensions)

    @app.exception_handler(RequestValidationError)
    async def on_validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors: dict[str, list[str]] = {}
        for error in exc.errors():
            errors.setdefault("$." + ".".join(str(p) for p in error.get("loc", ())[1:]), []).append(error.get("msg", "invalid"))
        return problem_response(request, 400, next(iter(errors.values()))[0] if errors else "Invalid request.", errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def on_http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = "No such endpoint." if exc.status_code == 404 else str(exc.detail)
        return problem_response(request, exc.status_code, detail)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    # -- auth, agents, environments ---------------------------------------------------------------
    @app.get(prefix + "/auth/health")
    async def auth_health(request: Request, tenant: str) -> dict[str, Any]:
        authenticate(request, tenant)
        return {"authenticationSource": "API_KEY", "tokenName": "sandbox", "email": "sandbox@localhost",
                "scopes": ["agents:read", "agents:execute", "agents:test", "drafts:read", "drafts:write",
                           "executions:read", "traces:read", "workspace:read"], "tokenExpiresAt": None}

    @app.get(prefix + "/agents")
    async def list_agents(request: Request, tenant: str) -> dict[str, Any]:
        authenticate(request, tenant)
        query = (query_value(request, "query") or "").lower()
        agents = [agent_wire(a, tenant, started) for a in catalog.DEMO_AGENTS.values()]
        agents += [{"id": name, "displayName": f"Replay: {name}", "description": "Recorded stream (replay).",
                    "tags": ["replay"], "type": "AGENT", "enabled": True, "currentRevision": 1, "createdAt": started,
                    "modifiedAt": started, "tenantId": tenant, "networkId": None, "deletedAt": None}
                   for name in _sandbox(request).replays if name not in catalog.DEMO_AGENTS]
        if query:
            agents = [a for a in agents if query in a["id"] or query in a["displayName"].lower() or query in a["description"].lower()]
        offset, size = page_window(request, default_size=50)
        return page(agents[offset: offset + size], offset, size, offset + size < len(agents))

    @app.get(prefix + "/agents/{agent_id}")
    async def get_agent(request: Request, tenant: str, agent_id: str) -> dict[str, Any]:
        authenticate(request, tenant)
        return agent_wire(find_agent(agent_id), tenant, started)

    @app.get(prefix + "/agents/{agent_id}/revisions/{revision}/parameters")
    async def get_parameters(request: Request, tenant: str, agent_id: str, revision: str) -> dict[str, Any]:
        authenticate(request, tenant)
        agent = find_agent(agent_id)
        if revision not in ("*", "0") and (not revision.isdigit() or catalog.revision_flow(agent_id, int(revision)) is None):
            raise Problem(404, f"Agent {agent_id!r} has no revision {revision}.")
        return {"parameters": [m["name"] for m in agent.parameters_metadata], "metadata": agent.parameters_metadata}

    @app.get(prefix + "/environments")
    async def list_environments(request: Request, tenant: str) -> dict[str, Any]:
        authenticate(request, tenant)
        items = _sandbox(request).store.list_environments(tenant, query_value(request, "query"))
        offset, size = page_window(request, default_size=50)
        return page(items[offset: offset + size], offset, size, offset + size < len(items))

    @app.get(prefix + "/environments/{environment_id}")
    async def get_environment(request: Request, tenant: str, environment_id: str) -> dict[str, Any]:
        authenticate(request, tenant)
        env = _sandbox(request).store.get_environment(tenant, environment_id)
        if env is None:
            raise Problem(404, f"Environment {environment_id!r} was not found (this endpoint takes the UUID, not the slug).")
        return env

    # -- runs -------------------------------------------------------------------------------------
    @app.post(prefix + "/agents/{agent_id}:execute")
    async def execute(request: Request, tenant: str, agent_id: str) -> Response:
        return await run_deployed(request, tenant, agent_id, streamed=False)

    @app.post(prefix + "/agents/{agent_id}:stream")
    async def stream(request: Request, tenant: str, agent_id: str) -> Response:
        return await run_deployed(request, tenant, agent_id, streamed=True)

    @app.post(prefix + "/agents/{agent_id}:test")
    async def test(request: Request, tenant: str, agent_id: str) -> Response:
        authenticate(request, tenant)
        return await run_test(request, tenant, agent_id, streamed=False)

    @app.post(prefix + "/agents/{agent_id}:streamTest")
    async def stream_test(request: Request, tenant: str, agent_id: str) -> Response:
        authenticate(request, tenant)
        return await run_test(request, tenant, agent_id, streamed=True)

    @app.post(prefix + "/agents/{agent_id}/revisions/{revision}/draft:test")
    async def draft_test(request: Request, tenant: str, agent_id: str, revision: int) -> Response:
        return await run_stored_draft(request, tenant, agent_id, revision, streamed=False)

    @app.post(prefix + "/agents/{agent_id}/revisions/{revision}/draft:streamTest")
    async def draft_stream_test(request: Request, tenant: str, agent_id: str, revision: int) -> Response:
        return await run_stored_draft(request, tenant, agent_id, revision, streamed=True)

    @app.get(prefix + "/agents/{agent_id}/revisions/{revision}/draft")
    async def get_draft(request: Request, tenant: str, agent_id: str, revision: int) -> Response:
        authenticate(request, tenant)
        find_agent(agent_id)
        draft = _sandbox(request).store.get_draft(tenant, agent_id, revision)
        if draft is None:
            return Response(status_code=204)
        return JSONResponse(draft_envelope(draft))

    @app.put(prefix + "/agents/{agent_id}/revisions/{revision}/draft")
    async def put_draft(request: Request, tenant: str, agent_id: str, revision: int) -> dict[str, Any]:
        authenticate(request, tenant)
        find_agent(agent_id)
        store = _sandbox(request).store
        head = await read_json(request)
        if not isinstance(head, dict):
            raise Problem(400, "The draft head must be a JSON object.", errors={"$": ["must be an object"]})
        check_if_match(request, store.get_draft(tenant, agent_id, revision))
        return draft_envelope(store.put_draft(tenant, agent_id, revision, head, now_ms()))

    # -- records ----------------------------------------------------------------------------------
    async def list_records(request: Request, tenant: str, agent_id: str) -> dict[str, Any]:
        authenticate(request, tenant)
        agent_exists(request, agent_id)
        statuses = []
        for value in query_values(request, "status"):
            match = next((s for s in RECORD_STATUSES if normalize_enum(s) == normalize_enum(value)), None)
            if match is None:
                raise Problem(400, f"Unknown status {value!r}.", errors={"status": [f"unknown value {value!r}"]})
            statuses.append(match)
        revisions = []
        for value in query_values(request, "agentRevision"):
            try:
                revisions.append(int(value))
            except ValueError as exc:
                raise Problem(400, "agentRevision must be an integer.", errors={"agentRevision": ["must be an integer"]}) from exc
        start, end = query_int(request, "startTime"), query_int(request, "endTime")
        text = query_value(request, "query")
        if text:
            if start is None:
                raise Problem(400, "query needs startTime (and a window of at most 31 days).", errors={"query": ["requires startTime"]})
            if (end or now_ms()) - start > QUERY_WINDOW_MS:
                raise Problem(400, "The query window may span at most 31 days.", errors={"query": ["window longer than 31 days"]})
        flags = {name: (query_value(request, name) or "").lower() == "true" for name in ("withToolErrors", "hasToolCalls")}
        f = RecordFilter(
            statuses=statuses, revisions=revisions, origin=origin_of(request), environment=query_value(request, "environment"),
            session_id=query_value(request, "sessionId"), start_time=start, end_time=end,
            min_duration_ms=query_int(request, "minDurationMs"), max_duration_ms=query_int(request, "maxDurationMs"),
            with_tool_errors=flags["withToolErrors"], has_tool_calls=flags["hasToolCalls"],
            tools=query_values(request, "tools"), query=text, trigger_types=[t.upper() for t in query_values(request, "triggerType")],
        )
        offset, size = page_window(request)
        rows = _sandbox(request).store.list_records(tenant, agent_id, f, offset, size + 1)
        return page([record_wire(r) for r in rows[:size]], offset, size, len(rows) > size)

    app.get(prefix + "/agents/{agent_id}/executionRecords")(list_records)
    app.get(prefix + "/agents/{agent_id}/execution-records")(list_records)

    def load_record(request: Request, tenant: str, agent_id: str, record_id: str) -> dict[str, Any]:
        authenticate(request, tenant)
        agent_exists(request, agent_id)
        row = _sandbox(request).store.get_record(tenant, agent_id, record_id)
        if row is None:
            raise Problem(404, f"Execution record {record_id!r} was not found.")
        return row

    @app.get(prefix + "/agents/{agent_id}/executionRecords/{record_id}/trace")
    async def get_trace(request: Request, tenant: str, agent_id: str, record_id: str) -> dict[str, Any]:
        row = load_record(request, tenant, agent_id, record_id)
        if row["trace"] is None:
            raise Problem(404, f"Execution record {record_id!r} has no trace ({row['status']}).")
        trace = {"agentExecutionRecordId": row["id"], "tenantId": tenant, **row["trace"]}
        return {"status": row["status"], "runType": "ROOT", "rootExecutionId": row["id"], "waitingFor": row["waiting_for"],
                "trace": trace}

    @app.get(prefix + "/agents/{agent_id}/executionRecords/{record_id}/result")
    async def get_result(request: Request, tenant: str, agent_id: str, record_id: str) -> dict[str, Any]:
        row = load_record(request, tenant, agent_id, record_id)
        return {"agentId": row["agent_id"], "agentRevision": row["agent_revision"], "createdAt": row["created_at"],
                "parameters": row["parameters"], "result": row["result"]}

    @app.get(prefix + "/agents/{agent_id}/executionRecords/{record_id}/tree")
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

    @app.get(prefix + "/agents/{agent_id}/executionRecords/{record_ref}")
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

    # -- summaries and costs ----------------------------------------------------------------------
    @app.get(prefix + "/agents/{agent_id}/environmentSummaries")
    async def environment_summaries(request: Request, tenant: str, agent_id: str) -> list[dict[str, Any]]:
        authenticate(request, tenant)
        agent_exists(request, agent_id)
        from_ms, to_ms = query_int(request, "from"), query_int(request, "to")
        if from_ms is not None and to_ms is not None and from_ms >= to_ms:
            raise Problem(400, "from must be before to.", errors={"from": ["must be before to"]})
        return _sandbox(request).store.environment_summaries(tenant, agent_id, origin_of(request), from_ms, to_ms)

    def revision_filter(agent_id: str, revision: str) -> int | None:
        if revision == "*":
            return None
        if not revision.lstrip("-").isdigit():
            raise Problem(400, "The revision must be a number or *.", errors={"revision": ["must be a number or *"]})
        return int(revision)

    @app.get(prefix + "/agents/{agent_id}/revisions/{revision}/cost")
    async def cost(request: Request, tenant: str, agent_id: str, revision: str) -> dict[str, Any]:
        authenticate(request, tenant)
        agent_exists(request, agent_id)
        return _sandbox(request).store.cost_rollup(tenant, agent_id, revision_filter(agent_id, revision),
                                                   query_value(request, "environment"), origin_of(request))

    def series_window(request: Request) -> tuple[str, int, int, int]:
        interval = (query_value(request, "interval") or "DAY").upper()
        if interval not in INTERVALS:
            raise Problem(400, "interval must be HOUR, DAY or WEEK.", errors={"interval": ["must be HOUR, DAY or WEEK"]})
        bucket = INTERVALS[interval]
        to_ms = query_int(request, "to") or now_ms()
        from_ms = query_int(request, "from") or to_ms - 30 * DAY_MS
        if from_ms >= to_ms:
            raise Problem(400, "from must be before to.", errors={"from": ["must be before to"]})
        return ("DAY" if interval == "UNSPECIFIED" else interval), bucket, from_ms, to_ms

    @app.get(prefix + "/agents/{agent_id}/revisions/{revision}/costTimeseries")
    async def cost_timeseries(request: Request, tenant: str, agent_id: str, revision: str) -> dict[str, Any]:
        authenticate(request, tenant)
        agent_exists(request, agent_id)
        interval, bucket, from_ms, to_ms = series_window(request)
        rev = revision_filter(agent_id, revision)
        cost_rows, executions = _sandbox(request).store.cost_buckets(tenant, agent_id, rev, origin_of(request), bucket,
                                                                     from_ms, to_ms, None)
        return {"agentId": agent_id, "revision": rev, "interval": interval, "window": {"fromMs": from_ms, "toMs": to_ms},
                "cost": cost_rows, "executions": executions}

    @app.get(prefix + "/agents/{agent_id}/revisions/{revision}/environmentCostTimeseries")
    async def environment_cost_timeseries(request: Request, tenant: str, agent_id: str, revision: str) -> dict[str, Any]:
        authenticate(request, tenant)
        agent_exists(request, agent_id)
        slugs = query_values(request, "environment")
        if not slugs:
            raise Problem(400, "Name at least one environment.", errors={"environment": ["required"]})
        store = _sandbox(request).store
        unknown = [s for s in slugs if s not in store.environment_slugs(tenant)]
        if unknown:
            raise Problem(400, f"Unknown environment {unknown[0]!r}.", errors={"environment": [f"unknown slug {s!r}" for s in unknown]})
        interval, bucket, from_ms, to_ms = series_window(request)
        rev = revision_filter(agent_id, revision)
        series = []
        for slug in slugs:
            cost_rows, executions = store.cost_buckets(tenant, agent_id, rev, origin_of(request), bucket, from_ms, to_ms, slug)
            series.append({"slug": slug, "cost": cost_rows, "executions": executions})
        return {"agentId": agent_id, "revision": rev, "interval": interval, "window": {"fromMs": from_ms, "toMs": to_ms},
                "environments": series}

    # -- approvals --------------------------------------------------------------------------------
    @app.get(prefix + "/pendingApprovals")
    async def list_approvals(request: Request, tenant: str) -> dict[str, Any]:
        authenticate(request, tenant)
        status = (query_value(request, "status") or "").upper() or None
        items = [approval_wire(a) for a in _sandbox(request).store.list_approvals(tenant, query_value(request, "agentId"), status)]
        offset, size = page_window(request, default_size=50)
        return page(items[offset: offset + size], offset, size, offset + size < len(items))

    @app.get(prefix + "/agents/{agent_id}/pendingApprovals/{approval_id}")
    async def get_approval(request: Request, tenant: str, agent_id: str, approval_id: str) -> dict[str, Any]:
        authenticate(request, tenant)
        return approval_wire(load_approval(request, tenant, agent_id, approval_id))

    @app.post(prefix + "/agents/{agent_id}/pendingApprovals/{approval_ref}")
    async def act_on_approval(request: Request, tenant: str, agent_id: str, approval_ref: str) -> dict[str, Any]:
        authenticate(request, tenant)
        approval_id, _, action = approval_ref.partition(":")
        if action not in ("respond", "cancel"):
            raise Problem(404, "Use :respond or :cancel.")
        approval = load_approval(request, tenant, agent_id, approval_id)
        if approval["status"] != "PENDING":
            raise Problem(409, f"Approval {approval_id!r} was already {approval['status'].lower()}.", code="already_resolved")
        body = await read_json(request)
        if action == "respond":
            text = str((body or {}).get("text") or "").strip()
            if not text:
                raise Problem(400, "Send {\"text\": \"approve\"} or a rejection reason.", errors={"text": ["required"]})
            approved = text.lower().startswith("approve")
            return approval_wire(resolve_approval(request, tenant, approval, approved, text))
        return approval_wire(resolve_approval(request, tenant, approval, False, str((body or {}).get("reason") or "cancelled"),
                                              cancelled=True))

    # -- storage ----------------------------------------------------------------------------------
    @app.post(prefix + "/storage")
    async def upload(request: Request, tenant: str) -> dict[str, Any]:
        authenticate(request, tenant)
        sandbox = _sandbox(request)
        form = await request.form()
        upload_file = form.get("file")
        if upload_file is None or isinstance(upload_file, str):
            raise Problem(400, "Send the file as multipart form data in a part named 'file'.", errors={"file": ["required"]})
        data = await upload_file.read()
        if len(data) > sandbox.config.max_upload_bytes:
            raise Problem(400, f"The file is larger than {sandbox.config.max_upload_bytes} bytes.", errors={"file": ["too large"]})
        content_type = upload_file.content_type or "application/octet-stream"
        file_type = file_type_of(content_type)
        file_id = "f_" + uuid.uuid4().hex[:16]
        sandbox.store.save_file(tenant, file_id, upload_file.filename or file_id, content_type, file_type, data, now_ms())
        return {"fileId": file_id, "fileType": file_type, "contentType": content_type,
                "promptLink": f"<{file_type}:{file_id}/>", "displayName": upload_file.filename or file_id}

    @app.get(prefix + "/storage/{file_id}")
    async def download(request: Request, tenant: str, file_id: str) -> Response:
        authenticate(request, tenant)
        stored = _sandbox(request).store.get_file(tenant, file_id)
        if stored is None:
            raise Problem(404, f"File {file_id!r} was not found.")
        return Response(bytes(stored["data"]), media_type=stored["content_type"])

    return app


def file_type_of(content_type: str) -> str:
    major = content_type.split("/", 1)[0]
    if major in ("image", "audio", "video"):
        return major
    if content_type.startswith(("text/", "application/pdf", "application/msword", "application/vnd.openxmlformats")):
        return "document"
    return "file"


def draft_envelope(draft: dict[str, Any]) -> dict[str, Any]:
    return {"agentId": draft["agent_id"], "baseRevision": draft["base_revision"], "version": draft["version"],
            "historyCursor": draft["version"], "canUndo": draft["version"] > 1, "canRedo": False,
            "updatedAt": draft["updated_at"], "headData": draft["head"]}


def approval_wire(approval: dict[str, Any]) -> dict[str, Any]:
    payload = approval["payload"]
    return {"id": approval["id"], "status": approval["status"], "gateType": payload.get("gateType"),
            "stepIdentifier": payload.get("stepIdentifier"), "toolKey": payload.get("toolKey"),
            "outboundMessage": payload.get("outboundMessage"), "proposedParameters": payload.get("proposedParameters"),
            "authorizedApprovers": payload.get("authorizedApprovers", []), "expiresAt": approval["expires_at"],
            "decision": approval["decision"], "agentId": approval["agent_id"], "respondedBy": approval["responded_by"],
            "respondedAt": approval["responded_at"], "createdAt": approval["created_at"],
            "executionRecordId": approval["record_id"]}


def load_approval(request: Request, tenant: str, agent_id: str, approval_id: str) -> dict[str, Any]:
    approval = _sandbox(request).store.get_approval(tenant, approval_id)
    if approval is None or approval["agent_id"] != agent_id:
        raise Problem(404, f"Approval {approval_id!r} was not found.")
    return approval


def resolve_approval(request: Request, tenant: str, approval: dict[str, Any], approved: bool, text: str,
                     *, cancelled: bool = False) -> dict[str, Any]:
    """Records the decision and resumes the run: the same record moves on to its final state."""
    store = _sandbox(request).store
    row = store.get_record(tenant, approval["agent_id"], approval["record_id"])
    decided = now_ms()
    approval.update(status="CANCELLED" if cancelled else ("APPROVED" if approved else "REJECTED"),
                    decision=None if cancelled else ("APPROVE" if approved else "REJECT"),
                    responded_by="sandbox-user", responded_at=decided)
    store.save_approval(approval)
    if row is None or row["run_spec"] is None:
        return approval
    texts = attachment_texts(request, tenant, row["run_spec"].get("attachments") or [])
    spec = spec_from_json(row["run_spec"], texts)
    pending = engine.PendingApproval(approval["id"], approval["payload"].get("toolCallId", ""),
                                     approval["payload"].get("stepIdentifier", ""), approval["payload"].get("toolKey", ""),
                                     approval["payload"].get("outboundMessage", ""), approval["payload"].get("proposedParameters"))
    if cancelled:
        updated = build_record(tenant, spec, row["id"], status="CANCELLED", end_time=decided, error=f"approval cancelled: {text}")
        updated.update(trace=row["trace"], input_tokens=row["input_tokens"], output_tokens=row["output_tokens"],
                       input_cost=row["input_cost"], output_cost=row["output_cost"], total_cost=row["total_cost"])
    else:
        plan = engine.resume_run(spec, row["id"], pending, approved, text, decided)
        updated = build_record(tenant, spec, row["id"], status=plan.outcome.status, plan=plan,
                               end_time=spec.start_ms + plan.outcome.end_offset_ms)
    store.save_record(updated)
    return approval
