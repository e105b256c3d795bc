"""Frames the Environments page draws: one row per environment, and one per environment and bucket.

Inputs are what the client's pydantic models dump (`EnvironmentSummary.dump()`,
`EnvironmentCostTimeseries.dump()`): camelCase keys, money as numbers or decimal strings.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

DAY_MS = 86_400_000
INTERVAL_MS = {"HOUR": 3_600_000, "DAY": DAY_MS, "WEEK": 7 * DAY_MS}
SUMMARY_COLUMNS = ["environment_slug", "label", "runs", "cost", "failed", "failure_rate", "avg_cost", "last_run",
                   "days_idle", "stale", "runs_all_time", "cost_all_time"]
SERIES_COLUMNS = ["environment_slug", "bucket", "runs", "cost"]


def _money(value: Any) -> float:
    if value is None or isinstance(value, bool):
        return 0.0
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


def environment_labels(slugs: Sequence[str], names: Sequence[str | None]) -> list[str]:
    """What people read for each environment: its display name, made unique with the slug when two
    environments share one (a chart category must name exactly one environment)."""
    shown = [(name.strip() if isinstance(name, str) else "") or slug for slug, name in zip(slugs, names, strict=True)]
    counts: dict[str, int] = {}
    for label in shown:
        counts[label] = counts.get(label, 0) + 1
    return [label if counts[label] == 1 or label == slug else f"{label} ({slug})"
            for label, slug in zip(shown, slugs, strict=True)]


def _summary_table(items: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    rows = [(item.get("environmentSlug") or item.get("slug"), item.get("displayName"), int(item.get("executionCount") or 0),
             _money(item.get("totalCost")), int(item.get("failedCount") or 0),
             item.get("lastActivityAt") or item.get("lastExecutionAt") or item.get("lastActivityTime"))
            for item in items]
    frame = pd.DataFrame(rows, columns=["environment_slug", "display_name", "runs", "cost", "failed", "last_ms"])
    frame = frame[frame["environment_slug"].notna()]
    return frame.drop_duplicates("environment_slug", keep="first").reset_index(drop=True)


def summaries_frame(all_time: Iterable[Mapping[str, Any]], in_range: Iterable[Mapping[str, Any]] | None = None, *,
                    now: pd.Timestamp | None = None, stale_days: float = 7) -> pd.DataFrame:
    """One row per environment, most recently active first.

    `all_time` (summaries without a window) lists every environment and its last run, so an
    environment idle for longer than the chosen range is still listed and flagged stale;
    `in_range` (the same endpoint with `from`/`to`) gives the runs, cost and failures shown.
    Without `in_range` the all-time figures are shown."""
    everything = _summary_table(all_time)
    window = everything if in_range is None else _summary_table(in_range)
    frame = everything[["environment_slug", "display_name", "runs", "cost", "last_ms"]].rename(
        columns={"runs": "runs_all_time", "cost": "cost_all_time"})
    # An environment may show up only in the window's answer (created between the two reads).
    missing = window[~window["environment_slug"].isin(frame["environment_slug"])]
    if not missing.empty:
        frame = pd.concat([frame, missing[["environment_slug", "display_name", "last_ms"]].assign(
            runs_all_time=missing["runs"], cost_all_time=missing["cost"])], ignore_index=True)
    frame = frame.merge(window[["environment_slug", "runs", "cost", "failed"]], on="environment_slug", how="left")
    frame[["runs", "failed"]] = frame[["runs", "failed"]].fillna(0).astype("int64")
    frame["cost"] = frame["cost"].fillna(0.0).astype("float64")
    frame["label"] = environment_labels(frame["environment_slug"].tolist(), frame["display_name"].tolist())
    runs = frame["runs"].where(frame["runs"] > 0)
    frame["failure_rate"] = (frame["failed"] / runs).astype("float64")
    frame["avg_cost"] = (frame["cost"] / runs).astype("float64")
    frame["last_run"] = pd.to_datetime(pd.to_numeric(frame["last_ms"], errors="coerce"), unit="ms", utc=True)
    now = now if now is not None else pd.Timestamp.now(tz="UTC")
    frame["days_idle"] = ((now - frame["last_run"]).dt.total_seconds() / 86_400).astype("float64")
    # Never run counts as stale too: nothing has happened there.
    frame["stale"] = (frame["days_idle"] > stale_days) | frame["last_run"].isna()
    frame = frame.sort_values("last_run", ascending=False, na_position="last", ignore_index=True)
    return frame[SUMMARY_COLUMNS]


@dataclass(frozen=True)
class Kpis:
    runs: int
    cost: float
    failed: int
    failure_rate: float | None  # None when there were no runs
    active: int  # environments with at least one run in the range
    environments: int
    stale: int


def kpis(frame: pd.DataFrame) -> Kpis:
    """The dashboard's headline figures for the range, from `summaries_frame`."""
    runs = int(frame["runs"].sum())
    failed = int(frame["failed"].sum())
    return Kpis(runs=runs, cost=float(frame["cost"].sum()), failed=failed,
                failure_rate=failed / runs if runs else None, active=int((frame["runs"] > 0).sum()),
                environments=len(frame), stale=int(frame["stale"].sum()))


def series_frame(response: Mapping[str, Any]) -> pd.DataFrame:
    """An environment cost timeseries response → one row per environment and bucket, with runs and
    cost; every bucket of the window is present for every environment (missing buckets are zero).

    Cost buckets without model usage are omitted by the server, and execution buckets are
    independent of cost buckets (runs that failed before any model call), so both are merged.
    Buckets start at multiples of the interval since the epoch (UTC), as the contract says."""
    step = INTERVAL_MS.get(str(response.get("interval") or "DAY").upper(), DAY_MS)
    slugs: list[str] = []
    keys: list[tuple[str, int]] = []
    runs: list[int] = []
    costs: list[float] = []
    for env in response.get("environments") or []:
        slug = env.get("slug")
        if not slug:
            continue
        slugs.append(slug)
        for bucket in env.get("executions") or []:
            keys.append((slug, int(bucket["bucketStartMs"])))
            runs.append(int(bucket.get("count") or 0))
            costs.append(0.0)
        for bucket in env.get("cost") or []:
            keys.append((slug, int(bucket["bucketStartMs"])))
            runs.append(0)
            costs.append(_money((bucket.get("cost") or {}).get("total")))
    seen = np.array([k[1] for k in keys], dtype="int64")
    window = response.get("window") or {}
    first = window.get("fromMs") if window.get("fromMs") is not None else (int(seen.min()) if len(seen) else None)
    end = window.get("toMs") if window.get("toMs") is not None else (int(seen.max()) + step if len(seen) else None)
    buckets = np.unique(seen)
    if first is not None and end is not None:  # never drop a bucket the server sent, even outside its window
        buckets = np.union1d(np.arange(int(first) // step * step, int(end), step, dtype="int64"), seen)
    unique_slugs = list(dict.fromkeys(slugs))
    grid = pd.MultiIndex.from_product([unique_slugs, buckets], names=["environment_slug", "bucket"])
    index = pd.MultiIndex.from_arrays([[k[0] for k in keys], seen], names=grid.names)
    frame = pd.DataFrame({"runs": np.array(runs, dtype="int64"), "cost": np.array(costs, dtype="float64")}, index=index)
    frame = frame.groupby(level=[0, 1]).sum().reindex(grid, fill_value=0).reset_index()
    frame["bucket"] = pd.to_datetime(frame["bucket"], unit="ms", utc=True)
    frame["runs"] = frame["runs"].astype("int64")
    frame["cost"] = frame["cost"].astype("float64")
    return frame[SERIES_COLUMNS]
