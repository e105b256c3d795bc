"""The Environments and Remote runs frames (ours, pandas) against a plain Python loop, on the same input.

    .venv/bin/python benchmarks/env_aggregate.py [--records 10000,100000,1000000] [--repeats 5]

Input is what the pages get: the client's pydantic models dumped to dicts (`ExecutionRecord.dump()`,
`EnvironmentSummary.dump()`, `EnvironmentCostTimeseries.dump()`). Each workload is the code the
page runs on it, and the loop computes the same answers from the same dicts:

- records (Remote runs table, drill-through): `records_frame` + `costliest` + `status_counts`;
  the loop builds the same rows (start times left as integers, which is cheaper than the page's
  datetimes), finds the most expensive record and counts statuses;
- summaries (dashboard table and KPIs): `summaries_frame(all_time, in_range)` + `kpis`;
- series (runs and cost per day): `series_frame`.

One warm-up pass per peer, then peers interleaved in alternating order in every repeat; the median
of the repeats is printed. Target: 1M records ≤ 1 s.
"""

from __future__ import annotations

import argparse
import gc
import math
import random
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fruxon_playground.analytics import (  # noqa: E402
    costliest,
    kpis,
    records_frame,
    revision_label,
    series_frame,
    status_counts,
    status_label,
    summaries_frame,
)
from fruxon_playground.api.models import EnvironmentCostTimeseries, EnvironmentSummary, ExecutionRecord  # noqa: E402
from fruxon_playground.contract import is_failure  # noqa: E402

DAY_MS = 86_400_000
NOW_MS = 1_767_225_600_000
TARGET_S = 1.0
ENVIRONMENTS = ["acme_corp", "globex", "initech", "umbrella", "hooli", None]
STATUSES = ["COMPLETED"] * 8 + ["FAILED", "WAITING_FOR_ASYNC", "REJECTED", "Completed"]


# -- inputs -----------------------------------------------------------------------------------------
def record_dicts(n: int, rng: random.Random) -> list[dict[str, Any]]:
    """`n` record dumps: 2,000 distinct records validated by the client's model, repeated with fresh
    ids (validating a million models would only time pydantic)."""
    base = []
    for i in range(2_000):
        start = NOW_MS - rng.randint(0, 30 * DAY_MS)
        base.append(ExecutionRecord.model_validate({
            "id": f"base-{i}", "agentId": "support_agent", "agentRevision": rng.choice([-1, 2, 3, 3]),
            "status": rng.choice(STATUSES), "startTime": start, "endTime": start + rng.randint(200, 9_000),
            "environmentSlug": rng.choice(ENVIRONMENTS), "origin": "PRODUCTION", "sessionId": f"s-{i}",
            "subject": rng.choice(["How do I reset my password?", "Refund order 1234", None]),
            "inputTokens": rng.randint(50, 900), "outputTokens": rng.randint(20, 400),
            "inputCost": 0.0001, "outputCost": 0.0002,
            "totalCost": rng.choice([round(rng.random() / 1000, 7), f"{rng.random() / 1000:.7f}"]),
            "hasResult": True, "hasTrace": True,
        }).dump())
    return [{**base[i % len(base)], "id": f"rec-{i}"} for i in range(n)]


def summary_dicts(n: int, rng: random.Random) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    all_time, in_range = [], []
    for i in range(n):
        item = {"environmentSlug": f"env_{i}", "displayName": f"Customer {i % (n // 2 + 1)}",
                "executionCount": rng.randint(0, 5_000), "totalCost": f"{rng.random() * 50:.6f}",
                "lastActivityAt": NOW_MS - rng.randint(0, 90 * DAY_MS), "failedCount": rng.randint(0, 50)}
        all_time.append(EnvironmentSummary.model_validate(item).dump())
        if rng.random() < 0.8:
            in_range.append(EnvironmentSummary.model_validate({**item, "executionCount": item["executionCount"] // 3}).dump())
    return all_time, in_range


def series_dict(environments: int, days: int, rng: random.Random) -> dict[str, Any]:
    start = NOW_MS - days * DAY_MS
    series = []
    for i in range(environments):
        active = [start + d * DAY_MS for d in range(days) if rng.random() < 0.7]
        series.append({"slug": f"env_{i}",
                       "executions": [{"bucketStartMs": b, "count": rng.randint(1, 40)} for b in active],
                       "cost": [{"bucketStartMs": b, "cost": {"total": round(rng.random() / 10, 6)}} for b in active
                                if rng.random() < 0.9]})
    return EnvironmentCostTimeseries.model_validate({"interval": "DAY", "window": {"fromMs": start, "toMs": NOW_MS},
                                                     "environments": series}).dump()


# -- ours: what the pages run ---------------------------------------------------------------------------
def ours_records(items: list[dict[str, Any]]) -> tuple[str | None, dict[str, int], float]:
    frame = records_frame(items)
    top = costliest(frame)
    return (None if top is None else str(top["id"])), status_counts(frame), float(frame["cost"].sum())


def ours_summaries(data: tuple[list[dict[str, Any]], list[dict[str, Any]]]) -> tuple[int, float, int]:
    figures = kpis(summaries_frame(data[0], data[1], stale_days=7))
    return figures.runs, round(figures.cost, 6), figures.stale


def ours_series(response: dict[str, Any]) -> tuple[int, int, float]:
    frame = series_frame(response)
    return len(frame), int(frame["runs"].sum()), round(float(frame["cost"].sum()), 6)


# -- the plain loops ----------------------------------------------------------------------------------
def _float(value: Any) -> float:
    try:
        return 0.0 if value is None else float(value)
    except (TypeError, ValueError):
        return 0.0


def loop_records(items: list[dict[str, Any]]) -> tuple[str | None, dict[str, int], float]:
    rows = []
    counts: dict[str, int] = {}
    labels: dict[Any, str] = {}
    best_id, best_cost, total = None, 0.0, 0.0
    for r in items:
        status = r.get("status")
        label = labels.get(status)
        if label is None:
            label = labels[status] = status_label(status)
        counts[label] = counts.get(label, 0) + 1
        cost = _float(r.get("totalCost"))
        total += cost
        if cost > best_cost:
            best_id, best_cost = r.get("id"), cost
        start, end = r.get("startTime"), r.get("endTime")
        rows.append((r.get("id"), start, label, revision_label(r.get("agentRevision")), r.get("environmentSlug"),
                     end - start if start is not None and end is not None and end >= start else None, cost,
                     (r.get("inputTokens") or 0) + (r.get("outputTokens") or 0), r.get("subject") or "",
                     is_failure(status)))
    return best_id, dict(sorted(counts.items(), key=lambda kv: -kv[1])), total


def loop_summaries(data: tuple[list[dict[str, Any]], list[dict[str, Any]]]) -> tuple[int, float, int]:
    now = time.time() * 1000
    window = {i["environmentSlug"]: i for i in data[1]}
    names = [item.get("displayName") or item["environmentSlug"] for item in data[0]]
    repeated = {name for name, count in Counter(names).items() if count > 1}
    rows = []
    for item, name in zip(data[0], names, strict=True):
        current = window.get(item["environmentSlug"], {})
        runs = int(current.get("executionCount") or 0)
        cost, failed = _float(current.get("totalCost")), int(current.get("failedCount") or 0)
        last = item.get("lastActivityAt")
        idle = (now - last) / DAY_MS if last is not None else None
        rows.append((item["environmentSlug"], f"{name} ({item['environmentSlug']})" if name in repeated else name,
                     runs, cost, failed, failed / runs if runs else None, cost / runs if runs else None, last, idle,
                     idle is None or idle > 7, int(item.get("executionCount") or 0), _float(item.get("totalCost"))))
    rows.sort(key=lambda row: row[7] or 0, reverse=True)
    return sum(r[2] for r in rows), round(sum(r[3] for r in rows), 6), sum(r[9] for r in rows)


def loop_series(response: dict[str, Any]) -> tuple[int, int, float]:
    window = response["window"]
    buckets = range(window["fromMs"] // DAY_MS * DAY_MS, window["toMs"], DAY_MS)
    rows = []
    for env in response["environments"]:
        grid = {b: [0, 0.0] for b in buckets}
        for bucket in env.get("executions") or []:
            grid.setdefault(bucket["bucketStartMs"], [0, 0.0])[0] += bucket["count"]
        for bucket in env.get("cost") or []:
            grid.setdefault(bucket["bucketStartMs"], [0, 0.0])[1] += _float((bucket.get("cost") or {}).get("total"))
        rows += [(env["slug"], bucket, runs, cost) for bucket, (runs, cost) in sorted(grid.items())]
    return len(rows), sum(r[2] for r in rows), round(sum(r[3] for r in rows), 6)


# -- timing -------------------------------------------------------------------------------------------
def _once(function: Callable[[Any], Any], data: Any) -> tuple[float, float]:
    """Wall and CPU seconds of one call (CPU time says how much of the wall time was waiting for a
    core: this machine is shared)."""
    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    function(data)
    return time.perf_counter() - wall, time.process_time() - cpu


def compare(name: str, ours: Callable[[Any], Any], loop: Callable[[Any], Any], data: Any, repeats: int) -> float:
    """Prints one line and returns our median wall time in seconds."""
    ours_answer, loop_answer = ours(data), loop(data)  # warm-up, and both must agree
    if isinstance(ours_answer[-1], float):
        assert math.isclose(ours_answer[-1], loop_answer[-1], rel_tol=1e-9), (ours_answer, loop_answer)
        ours_answer, loop_answer = ours_answer[:-1], loop_answer[:-1]
    assert ours_answer == loop_answer, (name, ours_answer, loop_answer)
    times: dict[str, list[tuple[float, float]]] = {"ours": [], "loop": []}
    for repeat in range(repeats):
        peers = [("ours", ours), ("loop", loop)]
        for peer, function in peers if repeat % 2 == 0 else reversed(peers):
            times[peer].append(_once(function, data))
    ours_s, loop_s = (statistics.median(t[0] for t in times[p]) for p in ("ours", "loop"))
    ours_cpu, loop_cpu = (statistics.median(t[1] for t in times[p]) for p in ("ours", "loop"))
    print(f"{name:<34} {ours_s:>9.3f} {loop_s:>9.3f} {loop_s / ours_s:>9.1f}x {ours_cpu:>9.3f} {loop_cpu:>9.3f}")
    return ours_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", default="10000,100000,1000000", help="record counts, comma separated")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    rng = random.Random(7)
    print(f"{'workload':<34} {'ours s':>9} {'loop s':>9} {'loop/ours':>10} {'ours cpu':>9} {'loop cpu':>9}"
          f"   (medians of {args.repeats}, interleaved)")
    at_million = None
    for n in (int(s) for s in args.records.split(",")):
        seconds = compare(f"records {n:,}", ours_records, loop_records, record_dicts(n, rng), args.repeats)
        if n == 1_000_000:
            at_million = seconds
    for n in (50, 5_000, 100_000):
        compare(f"summaries {n:,} environments", ours_summaries, loop_summaries, summary_dicts(n, rng), args.repeats)
    for environments, days in ((10, 30), (200, 90), (2_000, 90)):
        compare(f"series {environments:,} env × {days} days", ours_series, loop_series,
                series_dict(environments, days, rng), args.repeats)
    if at_million is not None:
        verdict = "met" if at_million <= TARGET_S else "NOT met"
        print(f"\ntarget: 1M records ≤ {TARGET_S:.0f} s — {at_million:.3f} s, {verdict}")


if __name__ == "__main__":
    main()
