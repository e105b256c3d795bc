"""Analytics frames and the run history store."""

from __future__ import annotations

import sqlite3

import pandas as pd
import pytest

from fruxon_playground.analytics import (
    aggregate_records,
    records_frame,
    series_frame,
    status_breakdown,
    summaries_frame,
)
from fruxon_playground.history import HistoryUnavailable, RunStore, SavedRun

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


def run(**changes) -> SavedRun:
    return SavedRun(**{"kind": "stream", "agent_id": "a", "status": "completed", "owner": "me",
                       "request": {"parameters": {"q": "hello"}, "llmConfigs": [{"parameters": {"apiKey": "sk-secret-123456"}}]},
                       **changes})


def test_store_redacts_filters_orders_and_round_trips_bundles(tmp_path) -> None:
    path = tmp_path / "h.sqlite3"
    store = RunStore(path)
    first = store.save(run(created_at_ms=1, request={"parameters": {"q": "fx_pat_leaked_key_000"}}))
    store.save(run(created_at_ms=2, status="failed", error="boom"))
    store.save(run(created_at_ms=3, owner="someone else"))
    assert b"sk-secret" not in path.read_bytes() and b"fx_pat_leaked" not in path.read_bytes()
    assert [r.created_at_ms for r in store.list("me")] == [2, 1]
    assert [r.status for r in store.list("me", status="failed")] == ["failed"]
    assert [r.created_at_ms for r in store.list("me", text="boom")] == [2]
    bundle = store.export_bundle(first.id)
    assert "owner" not in bundle["run"] and "fx_pat" not in str(bundle)
    imported = store.import_bundle(bundle, owner="friend")
    assert imported.id != first.id and store.get(imported.id).owner == "friend"
    with pytest.raises(ValueError, match="not a Fruxon Playground run bundle"):
        store.import_bundle({"format": "other"}, owner="x")
    assert store.delete(first.id, "someone else") is False and store.delete(first.id, "me") is True


def test_store_migrates_an_old_file_and_explains_corrupt_or_locked_files(tmp_path) -> None:
    old = tmp_path / "old.sqlite3"
    sqlite3.connect(old).execute("PRAGMA user_version = 0").connection.close()
    RunStore(old).save(run())
    assert sqlite3.connect(old).execute("PRAGMA user_version").fetchone()[0] == 2
    corrupt = tmp_path / "corrupt.sqlite3"
    corrupt.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(HistoryUnavailable, match="not a readable SQLite file"):
        RunStore(corrupt)
    locked = tmp_path / "locked.sqlite3"
    RunStore(locked)
    holder = sqlite3.connect(locked, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    with pytest.raises(HistoryUnavailable, match="locked"):
        RunStore(locked).save(run())
    holder.execute("ROLLBACK")
