"""Thirty days of varied history for the demo tenant, so charts and lists have data at first launch.

Deterministic from the seed: each record is planned by the real engine with a back-dated start,
so its trace, result, tokens and cost are consistent with what a live run would store.
"""

from __future__ import annotations

import random
import uuid
from typing import Any

from fruxon_playground.sandbox import catalog, engine
from fruxon_playground.sandbox.engine import RunSpec
from fruxon_playground.sandbox.store import Store

DAY_MS = 86_400_000
ENVIRONMENT_WEIGHTS = [("acme_corp", 5), ("globex", 3), ("initech", 2), (None, 2)]
QUESTIONS = [
    "How do I reset my password?", "Can I export my data?", "How do refunds work?", "How do I enable two-factor login?",
    "Where do I change my email address?", "How do I cancel my subscription?", "Why was I charged twice?",
]
REPOS = ["acme/app", "acme/billing", "globex/search", "initech/tps"]
CITIES = ["Lisbon", "Kyoto", "Oslo", "Montreal", "Nairobi"]


def _parameters(agent_id: str, rng: random.Random) -> dict[str, Any]:
    if agent_id == "support_agent":
        return {"question": rng.choice(QUESTIONS), "tone": rng.choice(["friendly", "formal"])}
    if agent_id == "release_digest":
        return {"repo": rng.choice(REPOS), "depth": rng.choice(["summary", "detailed"])}
    if agent_id == "refund_desk":
        return {"order_id": f"ord_{rng.randint(1000, 9999)}", "amount": round(rng.uniform(5, 400), 2)}
    if agent_id == "echo_agent":
        return {"message": rng.choice(["hello", "ping", "status check", "are you there?"])}
    if agent_id == "trip_planner":
        return {"city": rng.choice(CITIES), "days": rng.randint(2, 7), "budget_usd": float(rng.choice([800, 1200, 2500]))}
    if agent_id == "doc_reader":
        return {"question": rng.choice(["What is the deadline?", "Who approved the budget?"])}
    return {}


def seed_history(store: Store, tenant: str, *, seed: int, now: int, count: int = 360) -> int:
    """Writes `count` records spread over the 30 days before `now`; returns how many."""
    rng = random.Random(seed)
    agents = [a for a in catalog.DEMO_AGENTS.values() if a.current_revision > 0 and a.id != "stream_bench"]
    weights = {"support_agent": 6, "release_digest": 3, "trip_planner": 2, "echo_agent": 2, "refund_desk": 1, "doc_reader": 1}
    population = [a for a in agents for _ in range(weights.get(a.id, 1))]
    slugs = [slug for slug, w in ENVIRONMENT_WEIGHTS for _ in range(w)]
    flows = {a.id: catalog.revision_flow(a.id, a.current_revision) for a in agents}
    records = []
    for _ in range(count):
        agent = rng.choice(population)
        is_test = rng.random() < 0.15
        start = now - rng.randint(60_000, 30 * DAY_MS)
        parameters = _parameters(agent.id, rng)
        roll = rng.random()
        scenario: set[str] = set()
        if roll < 0.06:
            scenario.add("error")
        elif roll < 0.09:
            scenario.add("tool_fail")
        spec = RunSpec(agent_id=agent.id, revision=-1 if is_test else agent.current_revision - (rng.random() < 0.2),
                       flow=flows[agent.id], parameters=parameters, parameters_metadata=agent.parameters_metadata,
                       start_ms=start, session_id=("ts_" if is_test else "") + uuid.UUID(int=rng.getrandbits(128)).hex,
                       environment_slug=None if is_test else rng.choice(slugs), is_test=is_test,
                       scenario=frozenset(scenario))
        record_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        plan = engine.plan_run(spec, record_id)
        outcome = plan.outcome
        status = outcome.status
        if status == "WAITING_FOR_ASYNC" and rng.random() < 0.7:
            status = "COMPLETED"  # most old approvals were answered
            plan = engine.resume_run(spec, record_id, outcome.pending_approval, True, "approve", start + 120_000)
            outcome = plan.outcome
        rejected = status == "COMPLETED" and rng.random() < 0.02
        records.append({
            "id": record_id, "tenant": tenant, "agent_id": agent.id, "agent_revision": spec.revision,
            "origin": "TEST" if is_test else "PRODUCTION", "trigger_type": "TEST" if is_test else rng.choice(["API", "API", "CONNECTOR", "SCHEDULER"]),
            "status": "REJECTED" if rejected else status, "start_time": start,
            "end_time": None if status == "WAITING_FOR_ASYNC" else start + outcome.end_offset_ms, "created_at": start,
            "environment_slug": spec.environment_slug, "session_id": spec.session_id,
            "subject": next((v for v in parameters.values() if isinstance(v, str)), None),
            "input_tokens": 0 if rejected else outcome.input_tokens, "output_tokens": 0 if rejected else outcome.output_tokens,
            "input_cost": 0.0 if rejected else outcome.input_cost, "output_cost": 0.0 if rejected else outcome.output_cost,
            "total_cost": 0.0 if rejected else outcome.total_cost, "tool_keys": [] if rejected else list(outcome.tool_keys),
            "tool_errors": 0 if rejected else outcome.tool_error_count, "error": outcome.error,
            "rejection_reason": "BUDGET_EXCEEDED" if rejected else None,
            "waiting_for": {"kind": "APPROVAL", "displayName": "payments.issue_refund", "waitingSince": start + outcome.end_offset_ms,
                            "expiresAt": now + DAY_MS} if status == "WAITING_FOR_ASYNC" else None,
            "parameters": parameters, "trace": None if rejected else outcome.trace,
            "result": outcome.result if status == "COMPLETED" and not rejected else None, "run_spec": None,
        })
    store.save_records(records)
    return len(records)
