"""A run from request to stored record.

Faults and the rate limit come first, then the engine plans the whole run, the record is stored
IN_PROGRESS, and its final state is stored before the terminal event or response goes out
(contract §10.7). An approval decision resumes the same record.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass, field
from typing import Any

from fastapi import Request

from fruxon_playground.sandbox import engine, faults
from fruxon_playground.sandbox.faults import FAULT_HEADER, Faults, FaultSpecError
from fruxon_playground.sandbox.plan import PendingApproval, RunPlan, RunSpec
from fruxon_playground.sandbox.problems import Problem
from fruxon_playground.sandbox.state import DAY_MS, Sandbox, now_ms, sandbox_of
from fruxon_playground.sandbox.store import Store

TEXT_TYPES = ("text/", "application/json", "application/xml", "application/csv", "application/x-ndjson")


@dataclass(frozen=True)
class RunInput:
    """A validated request to run something."""

    agent_id: str
    flow: dict[str, Any]
    revision: int  # the revision that runs, or -1 for a draft
    is_test: bool  # TEST origin (`:test`, `:streamTest`, the draft paths)
    metadata: list[dict[str, Any]]
    parameters: dict[str, Any]
    mode: str | None = None
    session_id: str | None = None
    environment_slug: str | None = None
    attachments: list[dict[str, Any]] = field(default_factory=list)
    assets: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class PreparedRun:
    spec: RunSpec
    record_id: str
    plan: RunPlan
    tenant: str


def request_faults(request: Request, agent_id: str, parameters: Any) -> Faults:
    """The agent's faults ⊕ the `X-Sandbox-Fault` header ⊕ the parameters' `[[sandbox:…]]` switches."""
    try:
        return faults.for_request(sandbox_of(request).config.agent_faults.get(agent_id),
                                  request.headers.get(FAULT_HEADER), parameters)
    except FaultSpecError as exc:
        raise Problem(400, str(exc), errors={"X-Sandbox-Fault": [str(exc)]}) from exc


async def before_run(sandbox: Sandbox, active: Faults) -> None:
    """Latency, then a simulated status instead of the run (no record, no stream bytes)."""
    if active.latency_ms:
        await sandbox.pause(active.latency_ms / 1000)
    status = active.http_status
    if status:
        headers = {"Retry-After": "2"} if status in (429, 503) else None
        raise Problem(status, f"Simulated HTTP {status} (sandbox fault injection).", headers=headers)


async def prepare_run(request: Request, tenant: str, run: RunInput) -> PreparedRun:
    sandbox = sandbox_of(request)
    active = request_faults(request, run.agent_id, run.parameters)
    await before_run(sandbox, active)
    sandbox.check_rate(sandbox.config.api_key)
    links = enrich_links(sandbox.store, tenant, run.attachments)
    texts = attachment_texts(sandbox.store, tenant, links)
    if run.environment_slug and run.environment_slug not in sandbox.store.environment_slugs(tenant):
        sandbox.store.ensure_environment(tenant, run.environment_slug, None, "Ambient", now_ms())
    session_id = run.session_id or (("ts_" + uuid.uuid4().hex[:24]) if run.is_test else str(uuid.uuid4()))
    spec = RunSpec(
        agent_id=run.agent_id, revision=run.revision, flow=run.flow, parameters=run.parameters,
        parameters_metadata=run.metadata, start_ms=now_ms(), session_id=session_id,
        session_turn=sandbox.store.next_turn(session_id), attachments=links, attachment_text=texts, assets=run.assets,
        mode=run.mode, environment_slug=run.environment_slug, is_test=run.is_test,
        scenario=frozenset(active.switches),  # stored with the record, so a resumed run keeps them
    )
    record_id = str(uuid.uuid4())
    plan = engine.plan_run(spec, record_id, active)
    sandbox.store.save_record(build_record(tenant, spec, record_id, status="IN_PROGRESS"))
    return PreparedRun(spec, record_id, plan, tenant)


def finish_record(sandbox: Sandbox, run: PreparedRun) -> dict[str, Any]:
    """Stores the run's final state (and its pending approval, if it paused); returns the row."""
    outcome = run.plan.outcome
    waiting = outcome.status == "WAITING_FOR_ASYNC"
    row = build_record(run.tenant, run.spec, run.record_id, status=outcome.status, plan=run.plan,
                       end_time=None if waiting else run.spec.start_ms + outcome.end_offset_ms)
    sandbox.store.save_record(row)
    if outcome.pending_approval is not None and waiting:
        pending = outcome.pending_approval
        sandbox.store.save_approval({
            "id": pending.request_id, "tenant": run.tenant, "agent_id": run.spec.agent_id, "record_id": run.record_id,
            "status": "PENDING", "created_at": now_ms(), "expires_at": now_ms() + DAY_MS,
            "payload": {"gateType": "PROMPT_TOOL", "stepIdentifier": pending.step_identifier, "toolKey": pending.tool_key,
                        "outboundMessage": pending.outbound_message, "proposedParameters": pending.proposed_parameters,
                        "toolCallId": pending.tool_call_id, "authorizedApprovers": []},
        })
    return row


def cancel_record(sandbox: Sandbox, run: PreparedRun) -> None:
    """The client went away mid-run: the sandbox stops and records the run as cancelled."""
    sandbox.store.save_record(build_record(run.tenant, run.spec, run.record_id, status="CANCELLED", end_time=now_ms(),
                                           error="client disconnected"))


def decide(sandbox: Sandbox, tenant: str, approval: dict[str, Any], approved: bool, text: str,
           *, cancelled: bool = False) -> dict[str, Any]:
    """Records a human's decision and resumes the run: the same record moves on to its final state."""
    store = sandbox.store
    row = store.get_record(tenant, approval["agent_id"], approval["record_id"])
    decided = now_ms()
    approval.update(status="CANCELLED" if cancelled else ("APPROVED" if approved else "REJECTED"),
                    decision=None if cancelled else ("APPROVE" if approved else "REJECT"),
                    responded_by="sandbox-user", responded_at=decided)
    store.save_approval(approval)
    if row is None or row["run_spec"] is None:  # seeded history keeps no spec to resume from
        return approval
    texts = attachment_texts(store, tenant, row["run_spec"].get("attachments") or [])
    spec = spec_from_json(row["run_spec"], texts)
    payload = approval["payload"]
    pending = PendingApproval(approval["id"], payload.get("toolCallId", ""), payload.get("stepIdentifier", ""),
                              payload.get("toolKey", ""), payload.get("outboundMessage", ""), payload.get("proposedParameters"))
    if cancelled:
        updated = build_record(tenant, spec, row["id"], status="CANCELLED", end_time=decided, error=f"approval cancelled: {text}")
        updated.update({k: row[k] for k in ("trace", "input_tokens", "output_tokens", "input_cost", "output_cost", "total_cost")})
    else:
        plan = engine.resume_run(spec, row["id"], pending, approved, text, decided)
        updated = build_record(tenant, spec, row["id"], status=plan.outcome.status, plan=plan,
                               end_time=spec.start_ms + plan.outcome.end_offset_ms)
    store.save_record(updated)
    return approval


def build_record(tenant: str, spec: RunSpec, record_id: str, *, status: str, plan: RunPlan | None = None,
                 end_time: int | None = None, error: str | None = None) -> dict[str, Any]:
    """A store row; with a plan, its tokens, cost, trace and result."""
    row: dict[str, Any] = {
        "id": record_id, "tenant": tenant, "agent_id": spec.agent_id, "agent_revision": spec.revision,
        "origin": "TEST" if spec.is_test else "PRODUCTION", "trigger_type": "TEST" if spec.is_test else "API",
        "status": status, "start_time": spec.start_ms, "end_time": end_time, "created_at": spec.start_ms,
        "environment_slug": spec.environment_slug, "session_id": spec.session_id, "subject": subject_of(spec.parameters),
        "input_tokens": 0, "output_tokens": 0, "input_cost": 0.0, "output_cost": 0.0, "total_cost": 0.0,
        "tool_keys": [], "tool_errors": 0, "error": error, "rejection_reason": None, "waiting_for": None,
        "parameters": spec.parameters, "trace": None, "result": None, "run_spec": spec_to_json(spec),
    }
    if plan is None:
        return row
    outcome = plan.outcome
    row.update({
        "input_tokens": outcome.input_tokens, "output_tokens": outcome.output_tokens, "input_cost": outcome.input_cost,
        "output_cost": outcome.output_cost, "total_cost": outcome.total_cost, "tool_keys": list(outcome.tool_keys),
        "tool_errors": outcome.tool_error_count, "error": error or outcome.error, "trace": outcome.trace,
        "result": outcome.result if status == "COMPLETED" else None,
    })
    if outcome.pending_approval is not None and status == "WAITING_FOR_ASYNC":
        since = end_time or now_ms()
        row["waiting_for"] = {"kind": "APPROVAL", "displayName": outcome.pending_approval.tool_key,
                              "participantKind": "HUMAN", "topicId": None, "waitingSince": since,
                              "expiresAt": since + DAY_MS, "childCount": 0}
    return row


def subject_of(parameters: dict[str, Any]) -> str | None:
    for value in parameters.values():
        if isinstance(value, str) and value.strip():
            text = value.strip().replace("\n", " ")
            return text[:80] + ("…" if len(text) > 80 else "")
    return None


def spec_to_json(spec: RunSpec) -> dict[str, Any]:
    data = asdict(spec)
    data["scenario"] = sorted(spec.scenario)
    data.pop("attachment_text", None)
    return data


def spec_from_json(data: dict[str, Any], attachment_text: dict[str, str]) -> RunSpec:
    return RunSpec(**{**data, "scenario": frozenset(data.get("scenario") or []), "attachment_text": attachment_text})


def attachment_texts(store: Store, tenant: str, attachments: list[dict[str, Any]]) -> dict[str, str]:
    """fileId → text of every attached text file; an attachment that was never uploaded is a 400."""
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


def enrich_links(store: Store, tenant: str, attachments: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """FileLinks completed from the stored files (type, content type, prompt link, name)."""
    out = []
    for link in attachments:
        stored = store.get_file(tenant, link["fileId"]) or {}
        out.append({"fileId": link["fileId"], "fileType": link.get("fileType") or stored.get("file_type") or "file",
                    "contentType": link.get("contentType") or stored.get("content_type"),
                    "promptLink": link.get("promptLink") or f"<{stored.get('file_type') or 'file'}:{link['fileId']}/>",
                    "displayName": link.get("displayName") or stored.get("name")})
    return out
