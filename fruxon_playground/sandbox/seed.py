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
from fruxon_playground.sandbox.faults import Switch
from fruxon_playground.sandbox.store import Store

DAY_MS = 86_400_000
ENVIRONMENT_WEIGHTS = [("acme_corp", 5), ("globex", 3), ("initech", 2), (None, 2)]


def _parameters(agent: catalog.DemoAgent, revision: int, rng: random.Random) -> dict[str, Any]:
    """Sample values for the inputs that revision declares."""
    declared = {m["name"] for m in agent.parameters_of(revision) or []}
    return {name: rng.choice(values) for name, values in agent.samples.items() if name in declared}


def seed_history(store: Store, tenant: str, *, seed: int, now: int, count: int = 360) -> int:
    """Writes `count` records spread over the 30 days before `now`; returns how many."""
    rng = random.Random(seed)
    agents = [a for a in catalog.DEMO_AGENTS.values() if a.current_revision > 0 and a.history_weight > 0]
    population = [a for a in agents for _ in range(a.history_weight)]
    slugs = [slug for slug, w in ENVIRONMENT_WEIGHTS for _ in range(w)]
    records = []
    for _ in range(count):
        agent = rng.choice(population)
        is_test = rng.random() < 0.15
        start = now - rng.randint(60_000, 30 * DAY_MS)
        # One run in five is of the revision before the current one (the rollout overlaps).
        revision = max(1, agent.current_revision - (rng.random() < 0.2))
        parameters = _parameters(agent, revision, rng)
        roll = rng.random()
        scenario: set[str] = set()
        if roll < 0.06:
            scenario.add(Switch.ERROR)
        elif roll < 0.09:
            scenario.add(Switch.TOOL_FAIL)
        spec = RunSpec(agent_id=agent.id, revision=-1 if is_test else revision,
                       flow=agent.flow(revision) or {}, parameters=parameters,
                       parameters_metadata=agent.parameters_of(revision) or [], start_ms=start,
                       session_id=("ts_" if is_test else "") + uuid.UUID(int=rng.getrandbits(128)).hex,
                       environment_slug=None if is_test else rng.choice(slugs), is_test=is_test,
                       scenario=frozenset(scenario))
        record_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        plan = engine.plan_run(spec, record_id)
        outcome = plan.outcome
        status = outcome.status
        pending = outcome.pending_approval
        if pending is not None and rng.random() < 0.7:
            status = "COMPLETED"  # most old approvals were answered
            plan = engine.resume_run(spec, record_id, pending, True, "approve", start + 120_000)
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
            "waiting_for": {"kind": "APPROVAL", "displayName": pending.tool_key, "waitingSince": start + outcome.end_offset_ms,
                            "expiresAt": now + DAY_MS} if pending is not None and status == "WAITING_FOR_ASYNC" else None,
            "parameters": parameters, "trace": None if rejected else outcome.trace,
            "result": outcome.result if status == "COMPLETED" and not rejected else None, "run_spec": None,
        })
    store.save_records(records)
    return len(records)
