"""Frames the Environments page draws: one row per environment, and one per environment and bucket.

Inputs are what the client's pydantic models dump (`EnvironmentSummary.dump()`,
`EnvironmentCostTimeseries.dump()`): camelCase keys, money as numbers or decimal strings.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

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
    Without `in_range` the all-time figures are shown. There are a few dozen environments, so the
    rows are put together in Python and the frame is built once."""
    everything = _summaries(all_time)
    window = everything if in_range is None else _summaries(in_range)
    # An environment may show up only in the window's answer (created between the two reads).
    listed = {**everything, **{slug: s for slug, s in window.items() if slug not in everything}}
    empty = _Summary("", None, 0, 0.0, 0, math.nan)
    rows = []
    for slug, summary in listed.items():
        shown = window.get(slug, empty)
        rows.append((slug, summary.name, summary.runs, summary.cost, summary.last_ms, shown.runs, shown.cost, shown.failed))
    frame = pd.DataFrame(rows, columns=["environment_slug", "display_name", "runs_all_time", "cost_all_time", "last_ms",
                                        "runs", "cost", "failed"])
    frame = frame.astype({"runs_all_time": "int64", "cost_all_time": "float64", "last_ms": "float64", "runs": "int64",
                          "cost": "float64", "failed": "int64"})
    frame["label"] = environment_labels(frame["environment_slug"].tolist(), frame["display_name"].tolist())
    runs = frame["runs"].where(frame["runs"] > 0)
    frame["failure_rate"] = (frame["failed"] / runs).astype("float64")
    frame["avg_cost"] = (frame["cost"] / runs).astype("float64")
    frame["last_run"] = pd.to_datetime(frame["last_ms"], unit="ms", utc=True)
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
    zero = (0, 0.0)
    cells = [(slug, bucket, *grid.get(bucket, zero)) for slug, grid in grids.items() for bucket in timeline]
    frame = pd.DataFrame(cells, columns=SERIES_COLUMNS).astype({"runs": "int64", "cost": "float64"})
    frame["bucket"] = pd.to_datetime(frame["bucket"].astype("int64"), unit="ms", utc=True)
    return frame
