"""Frames the Environments page charts: one row per environment, or per environment and day."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

SUMMARY_COLUMNS = ["environment_slug", "display_name", "execution_count", "total_cost", "last_activity",
                   "failed_count", "avg_cost_per_run", "days_idle", "is_stale"]


def _finish(frame: pd.DataFrame, now: pd.Timestamp, stale_days: int) -> pd.DataFrame:
    frame["avg_cost_per_run"] = (frame["total_cost"] / frame["execution_count"].where(frame["execution_count"] > 0)).fillna(0.0)
    frame["days_idle"] = ((now - frame["last_activity"]).dt.total_seconds() / 86_400).round(1)
    frame["is_stale"] = frame["days_idle"] > stale_days
    return frame[SUMMARY_COLUMNS].sort_values("last_activity", ascending=False, ignore_index=True)


def summaries_frame(items: Iterable[Mapping[str, Any]], *, now: pd.Timestamp | None = None, stale_days: int = 7) -> pd.DataFrame:
    """From the summaries endpoint's items (any accepted spelling; costs as numbers or strings)."""
    rows = []
    for item in items:
        rows.append({
            "environment_slug": item.get("environmentSlug") or item.get("slug"),
            "display_name": item.get("displayName") or item.get("environmentSlug") or item.get("slug"),
            "execution_count": int(item.get("executionCount") or 0),
            "total_cost": float(item.get("totalCost") or 0),
            "last_activity": item.get("lastActivityAt") or item.get("lastExecutionAt") or item.get("lastActivityTime"),
            "failed_count": int(item.get("failedCount") or 0),
        })
    frame = pd.DataFrame(rows, columns=SUMMARY_COLUMNS[:6])
    frame["last_activity"] = pd.to_datetime(frame["last_activity"], unit="ms", utc=True)
    return _finish(frame, now or pd.Timestamp.now(tz="UTC"), stale_days)


def _upper(column: pd.Series) -> pd.Series:
    """Upper-cased statuses; mapping the few distinct values is much faster than string ops per row."""
    return column.map({value: str(value).upper() for value in pd.unique(column)})


def records_frame(records: Iterable[Mapping[str, Any]] | Mapping[str, list] | pd.DataFrame) -> pd.DataFrame:
    """Execution records (wire dicts, a dict of columns, or a frame) → environment, status, cost, start."""
    if isinstance(records, pd.DataFrame):
        frame = records
    elif isinstance(records, Mapping):
        frame = pd.DataFrame(records)
    else:
        frame = pd.DataFrame.from_records(list(records), columns=["environmentSlug", "status", "totalCost", "startTime", "id"])
    out = pd.DataFrame({
        "environment_slug": frame["environmentSlug"],
        "status": _upper(frame["status"]),
        "total_cost": pd.to_numeric(frame["totalCost"], errors="coerce").fillna(0.0),
        "start": pd.to_datetime(frame["startTime"], unit="ms", utc=True),
    })
    if "id" in frame:
        out["id"] = frame["id"]
    return out


def aggregate_records(records: Any, *, now: pd.Timestamp | None = None, stale_days: int = 7) -> pd.DataFrame:
    """The summaries computed client-side (when the server has no summaries endpoint); vectorised."""
    frame = records if isinstance(records, pd.DataFrame) and "environment_slug" in records else records_frame(records)
    frame = frame[frame["environment_slug"].notna()].assign(failed=lambda f: f["status"] == "FAILED")
    grouped = frame.groupby("environment_slug", sort=False).agg(
        execution_count=("failed", "size"),
        total_cost=("total_cost", "sum"),
        last_activity=("start", "max"),
        failed_count=("failed", "sum"),
    ).reset_index()
    grouped["display_name"] = grouped["environment_slug"]
    return _finish(grouped, now or pd.Timestamp.now(tz="UTC"), stale_days)


def status_breakdown(records: pd.DataFrame) -> pd.DataFrame:
    """Runs per environment and status (environment-less runs left out)."""
    frame = records[records["environment_slug"].notna()]
    return frame.groupby(["environment_slug", "status"]).size().rename("runs").reset_index()


def series_frame(response: Mapping[str, Any]) -> pd.DataFrame:
    """An environment cost timeseries response → environment × bucket with executions and cost.

    Missing buckets are zero (cost buckets without model usage are omitted by the server);
    execution buckets are independent of cost buckets."""
    window = response.get("window") or {}
    interval = {"HOUR": "h", "WEEK": "7D"}.get(str(response.get("interval") or "DAY").upper(), "D")
    rows = []
    for env in response.get("environments") or []:
        executions = {b["bucketStartMs"]: b.get("count", 0) for b in env.get("executions") or []}
        costs = {b["bucketStartMs"]: float((b.get("cost") or {}).get("total") or 0) for b in env.get("cost") or []}
        for bucket in sorted(set(executions) | set(costs)):
            rows.append({"environment_slug": env.get("slug"), "bucket": bucket,
                         "executions": executions.get(bucket, 0), "cost": costs.get(bucket, 0.0)})
    frame = pd.DataFrame(rows, columns=["environment_slug", "bucket", "executions", "cost"])
    if frame.empty:
        return frame
    frame["bucket"] = pd.to_datetime(frame["bucket"], unit="ms", utc=True)
    start = pd.to_datetime(window.get("fromMs"), unit="ms", utc=True) if window.get("fromMs") else frame["bucket"].min()
    end = pd.to_datetime(window.get("toMs"), unit="ms", utc=True) if window.get("toMs") else frame["bucket"].max()
    full = pd.date_range(start.floor(interval) if interval != "7D" else frame["bucket"].min(), end, freq=interval, tz="UTC")
    filled = []
    for slug, group in frame.groupby("environment_slug"):
        g = group.set_index("bucket")[["executions", "cost"]].reindex(full.union(group["bucket"]), fill_value=0)
        g["environment_slug"] = slug
        filled.append(g.rename_axis("bucket").reset_index())
    return pd.concat(filled, ignore_index=True)
