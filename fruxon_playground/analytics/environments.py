"""Frames the Environments page draws: one row per environment, and one per environment and bucket.

Inputs are what the client's pydantic models dump (`EnvironmentSummary.dump()`,
`EnvironmentCostTimeseries.dump()`): camelCase keys, money as numbers or decimal strings.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

DAY_MS = 86_400_000
INTERVAL_MS = {"HOUR": 3_600_000, "DAY": DAY_MS, "WEEK": 7 * DAY_MS}
SUMMARY_COLUMNS = ["environment_slug", "label", "runs", "cost", "failed", "failure_rate", "avg_cost", "last_run",
                   "days_idle", "stale", "runs_all_time", "cost_all_time"]
SUMMARY_DTYPES = {"environment_slug": "object", "label": "object", "runs": "int64", "cost": "float64", "failed": "int64",
                  "failure_rate": "float64", "avg_cost": "float64", "last_run": "float64", "days_idle": "float64",
                  "stale": "bool", "runs_all_time": "int64", "cost_all_time": "float64"}
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


@dataclass
class _Summary:
    slug: str
    name: str | None
    runs: int
    cost: float
    failed: int
    last_ms: float  # NaN when the server gave none


def _summaries(items: Iterable[Mapping[str, Any]]) -> dict[str, _Summary]:
    """The endpoint's items by slug (any accepted spelling; the first of a repeated slug wins)."""
    table: dict[str, _Summary] = {}
    for item in items:
        slug = item.get("environmentSlug") or item.get("slug")
        if not slug or slug in table:
            continue
        last = item.get("lastActivityAt") or item.get("lastExecutionAt") or item.get("lastActivityTime")
        table[str(slug)] = _Summary(str(slug), item.get("displayName"), int(item.get("executionCount") or 0),
                                    _money(item.get("totalCost")), int(item.get("failedCount") or 0),
                                    _money(last) if last is not None else math.nan)
    return table


def summaries_frame(all_time: Iterable[Mapping[str, Any]], in_range: Iterable[Mapping[str, Any]] | None = None, *,
                    now: pd.Timestamp | None = None, stale_days: float = 7) -> pd.DataFrame:
    """One row per environment, most recently active first.

    `all_time` (summaries without a window) lists every environment and its last run, so an
    environment idle for longer than the chosen range is still listed and flagged stale;
    `in_range` (the same endpoint with `from`/`to`) gives the runs, cost and failures shown.
    Without `in_range` the all-time figures are shown. An environment that never ran is stale too.
    There are a few dozen environments: rows are put together in Python and the frame built once."""
    everything = _summaries(all_time)
    window = everything if in_range is None else _summaries(in_range)
    # An environment may show up only in the window's answer (created between the two reads).
    listed = [*everything.values(), *(s for slug, s in window.items() if slug not in everything)]
    listed.sort(key=lambda s: math.inf if math.isnan(s.last_ms) else -s.last_ms)  # newest first, never-run last
    now_ms = (now if now is not None else pd.Timestamp.now(tz="UTC")).timestamp() * 1000
    empty = _Summary("", None, 0, 0.0, 0, math.nan)
    labels = environment_labels([s.slug for s in listed], [s.name for s in listed])
    rows = []
    for summary, label in zip(listed, labels, strict=True):
        shown = window.get(summary.slug, empty)
        idle = (now_ms - summary.last_ms) / DAY_MS  # NaN when it never ran
        rows.append((summary.slug, label, shown.runs, shown.cost, shown.failed,
                     shown.failed / shown.runs if shown.runs else math.nan, shown.cost / shown.runs if shown.runs else math.nan,
                     summary.last_ms, idle, math.isnan(idle) or idle > stale_days, summary.runs, summary.cost))
    columns = list(zip(*rows, strict=True)) if rows else [()] * len(SUMMARY_COLUMNS)
    frame = pd.DataFrame({name: np.array(values, dtype=SUMMARY_DTYPES[name])
                          for name, values in zip(SUMMARY_COLUMNS, columns, strict=True)})
    frame["last_run"] = pd.to_datetime(frame["last_run"], unit="ms", utc=True)
    return frame


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
    grids: dict[str, dict[int, list[float]]] = {}  # slug → bucket → [runs, cost]
    for env in response.get("environments") or []:
        slug = env.get("slug")
        if not slug:
            continue
        grid = grids.setdefault(str(slug), {})
        for bucket in env.get("executions") or []:
            grid.setdefault(int(bucket["bucketStartMs"]), [0, 0.0])[0] += int(bucket.get("count") or 0)
        for bucket in env.get("cost") or []:
            grid.setdefault(int(bucket["bucketStartMs"]), [0, 0.0])[1] += _money((bucket.get("cost") or {}).get("total"))
    seen = {bucket for grid in grids.values() for bucket in grid}
    window = response.get("window") or {}
    first = window.get("fromMs") if window.get("fromMs") is not None else min(seen, default=None)
    end = window.get("toMs") if window.get("toMs") is not None else (max(seen) + step if seen else None)
    buckets = set(range(int(first) // step * step, int(end), step)) if first is not None and end is not None else set()
    timeline = sorted(buckets | seen)  # never drop a bucket the server sent, even outside its window
    # Zero everywhere, then the buckets the server sent: only those are touched in Python.
    position = {bucket: i for i, bucket in enumerate(timeline)}
    runs = np.zeros(len(grids) * len(timeline), dtype="int64")
    costs = np.zeros(len(grids) * len(timeline), dtype="float64")
    for row, grid in enumerate(grids.values()):
        for bucket, (count, cost) in grid.items():
            runs[row * len(timeline) + position[bucket]] = count
            costs[row * len(timeline) + position[bucket]] = cost
    return pd.DataFrame({
        "environment_slug": np.repeat(np.array(list(grids), dtype=object), len(timeline)),
        "bucket": pd.to_datetime(np.tile(np.array(timeline, dtype="int64"), len(grids)), unit="ms", utc=True),
        "runs": runs,
        "cost": costs,
    }, columns=SERIES_COLUMNS)
