"""Analytics frames (the run history store is tested in test_history_*.py)."""

from __future__ import annotations

import pandas as pd

from fruxon_playground.analytics import (
    aggregate_records,
    records_frame,
    series_frame,
    status_breakdown,
    summaries_frame,
)

NOW = pd.Timestamp("2026-01-31", tz="UTC")
RECORDS = [
    {"id": "1", "environmentSlug": "acme", "status": "COMPLETED", "totalCost": "0.5", "startTime": 1767225600000},
    {"id": "2", "environmentSlug": "acme", "status": "Failed", "totalCost": 0.25, "startTime": 1767312000000},
    {"id": "3", "environmentSlug": "globex", "status": "COMPLETED", "totalCost": 1, "startTime": 1766620800000},
    {"id": "4", "environmentSlug": None, "status": "COMPLETED", "totalCost": 9, "startTime": 1767312000000},
]


def test_client_side_aggregation_matches_the_summaries_shape() -> None:
    frame = aggregate_records(RECORDS, now=NOW, stale_days=7)
    assert list(frame["environment_slug"]) == ["acme", "globex"]  # newest activity first, no env-less runs
    acme = frame.iloc[0]
    assert acme["execution_count"] == 2 and acme["total_cost"] == 0.75 and acme["failed_count"] == 1
    assert acme["avg_cost_per_run"] == 0.375 and bool(acme["is_stale"])
    from_api = summaries_frame([{"slug": "acme", "executionCount": 2, "totalCost": "0.75", "lastExecutionAt": 1767312000000,
                                 "failedCount": 1}], now=NOW)
    assert from_api.iloc[0][["execution_count", "total_cost", "failed_count"]].tolist() == [2, 0.75, 1]
    breakdown = status_breakdown(records_frame(RECORDS))
    assert set(map(tuple, breakdown.values.tolist())) == {("acme", "COMPLETED", 1), ("acme", "FAILED", 1), ("globex", "COMPLETED", 1)}


def test_series_fill_gaps_with_zero_and_keep_executions_without_cost() -> None:
    day = 86_400_000
    response = {"interval": "DAY", "window": {"fromMs": 0, "toMs": 3 * day},
                "environments": [{"slug": "acme", "cost": [{"bucketStartMs": 0, "cost": {"total": "0.5"}}],
                                  "executions": [{"bucketStartMs": 0, "count": 2}, {"bucketStartMs": 2 * day, "count": 1}]}]}
    frame = series_frame(response)
    assert frame["executions"].tolist() == [2, 0, 1, 0] and frame["cost"].tolist() == [0.5, 0.0, 0.0, 0.0]
