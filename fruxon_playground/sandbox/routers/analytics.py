"""Summaries and costs (contract §6.2–6.5), computed from the stored records."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from fruxon_playground.sandbox.problems import Problem
from fruxon_playground.sandbox.query import origin_of, query_int, query_value, query_values
from fruxon_playground.sandbox.routers import tenant_router
from fruxon_playground.sandbox.state import DAY_MS, now_ms, sandbox_of

INTERVALS = {"HOUR": 3_600_000, "DAY": DAY_MS, "WEEK": 7 * DAY_MS, "UNSPECIFIED": DAY_MS}
router = tenant_router()


@router.get("/agents/{agent_id}/environmentSummaries")
async def environment_summaries(request: Request, tenant: str, agent_id: str) -> list[dict[str, Any]]:
    sandbox = sandbox_of(request)
    sandbox.agent(agent_id)
    from_ms, to_ms = query_int(request, "from"), query_int(request, "to")
    if from_ms is not None and to_ms is not None and from_ms >= to_ms:
        raise Problem(400, "from must be before to.", errors={"from": ["must be before to"]})
    return sandbox.store.environment_summaries(tenant, agent_id, origin_of(request), from_ms, to_ms)


@router.get("/agents/{agent_id}/revisions/{revision}/cost")
async def cost(request: Request, tenant: str, agent_id: str, revision: str) -> dict[str, Any]:
    sandbox = sandbox_of(request)
    sandbox.agent(agent_id)
    return sandbox.store.cost_rollup(tenant, agent_id, revision_filter(revision), query_value(request, "environment"),
                                     origin_of(request))


@router.get("/agents/{agent_id}/revisions/{revision}/costTimeseries")
async def cost_timeseries(request: Request, tenant: str, agent_id: str, revision: str) -> dict[str, Any]:
    sandbox = sandbox_of(request)
    sandbox.agent(agent_id)
    interval, bucket, from_ms, to_ms = series_window(request)
    rev = revision_filter(revision)
    cost_rows, executions = sandbox.store.cost_buckets(tenant, agent_id, rev, origin_of(request), bucket, from_ms, to_ms, None)
    return {"agentId": agent_id, "revision": rev, "interval": interval, "window": {"fromMs": from_ms, "toMs": to_ms},
            "cost": cost_rows, "executions": executions}


@router.get("/agents/{agent_id}/revisions/{revision}/environmentCostTimeseries")
async def environment_cost_timeseries(request: Request, tenant: str, agent_id: str, revision: str) -> dict[str, Any]:
    sandbox = sandbox_of(request)
    sandbox.agent(agent_id)
    slugs = query_values(request, "environment")
    if not slugs:
        raise Problem(400, "Name at least one environment.", errors={"environment": ["required"]})
    unknown = [s for s in slugs if s not in sandbox.store.environment_slugs(tenant)]
    if unknown:
        raise Problem(400, f"Unknown environment {unknown[0]!r}.", errors={"environment": [f"unknown slug {s!r}" for s in unknown]})
    interval, bucket, from_ms, to_ms = series_window(request)
    rev = revision_filter(revision)
    series = []
    for slug in slugs:
        cost_rows, executions = sandbox.store.cost_buckets(tenant, agent_id, rev, origin_of(request), bucket, from_ms, to_ms, slug)
        series.append({"slug": slug, "cost": cost_rows, "executions": executions})
    return {"agentId": agent_id, "revision": rev, "interval": interval, "window": {"fromMs": from_ms, "toMs": to_ms},
            "environments": series}


def revision_filter(revision: str) -> int | None:
    """`*` = every revision; otherwise a number."""
    if revision == "*":
        return None
    if not revision.lstrip("-").isdigit():
        raise Problem(400, "The revision must be a number or *.", errors={"revision": ["must be a number or *"]})
    return int(revision)


def series_window(request: Request) -> tuple[str, int, int, int]:
    """(interval name, bucket ms, from, to): 30 days of days unless the query says otherwise."""
    interval = (query_value(request, "interval") or "DAY").upper()
    if interval not in INTERVALS:
        raise Problem(400, "interval must be HOUR, DAY or WEEK.", errors={"interval": ["must be HOUR, DAY or WEEK"]})
    to_ms = query_int(request, "to") or now_ms()
    from_ms = query_int(request, "from") or to_ms - 30 * DAY_MS
    if from_ms >= to_ms:
        raise Problem(400, "from must be before to.", errors={"from": ["must be before to"]})
    return ("DAY" if interval == "UNSPECIFIED" else interval), INTERVALS[interval], from_ms, to_ms
