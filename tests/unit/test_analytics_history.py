"""The run history store (the analytics frames are tested in test_analytics_environments.py)."""

from __future__ import annotations

import sqlite3

import pytest

from fruxon_playground.history import HistoryUnavailable, RunStore, SavedRun


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
