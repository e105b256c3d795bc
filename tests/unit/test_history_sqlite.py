"""What only the SQLite history does: migrate v1 files, private file modes, corrupt and locked files."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
from pathlib import Path

import pytest

from fruxon_playground.history import HistoryUnavailable, RunQuery, SavedRun, open_store
from fruxon_playground.history import sqlite as sqlite_backend
from fruxon_playground.history.sqlite import SqliteRunStore

# The schema the first release wrote (PRAGMA user_version = 2, one table, bodies inline).
V1_SCHEMA = [
    """CREATE TABLE runs (
        id TEXT PRIMARY KEY, owner TEXT NOT NULL, created_at_ms INTEGER NOT NULL, kind TEXT NOT NULL,
        agent_id TEXT NOT NULL, base_url TEXT, tenant TEXT, status TEXT NOT NULL, error TEXT,
        started_at_ms INTEGER, duration_ms REAL, total_cost REAL, input_tokens INTEGER, output_tokens INTEGER,
        execution_record_id TEXT, session_id TEXT, environment_slug TEXT,
        request TEXT NOT NULL, response TEXT, events TEXT NOT NULL, trace TEXT)""",
    "CREATE INDEX runs_owner_time ON runs (owner, created_at_ms DESC)",
]


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def run(**changes) -> SavedRun:
    return SavedRun(**{"kind": "stream", "agent_id": "a", "status": "completed", "owner": "me",
                       "request": {"parameters": {"q": "hello"}}, **changes})


def write_v1_file(path: Path) -> None:
    db = sqlite3.connect(path)
    for statement in V1_SCHEMA:
        db.execute(statement)
    rows = [
        ("r1", "me", 1000, "stream", "support_agent", "http://127.0.0.1:8000", "demo", "completed", None, 990, 812.5,
         0.002, 10, 20, "rec-1", "s-1", "acme", json.dumps({"parameters": {"question": "Where is my parcel?"}}),
         None, json.dumps([{"event": "text", "data": json.dumps({"chunk": "It ships "}), "t_ms": 1.0},
                           {"event": "text", "data": json.dumps({"chunk": "on Monday. sk_live_oldleakedvalue9"}), "t_ms": 2.0}]),
         json.dumps({"totalCost": 0.002, "steps": [{"name": "Agent", "input": {"apiKey": "plain-old-key-1234"}}]})),
        ("r2", "someone", 2000, "execute", "echo_agent", None, None, "failed", "500 from upstream", None, None,
         None, None, None, None, None, None, json.dumps({"parameters": {"message": "ping"}}),
         json.dumps({"response": "pong", "debug": {"authorization": "Bearer old-bearer-token-xyz"}}), "[]", None),
    ]
    db.executemany(f"INSERT INTO runs VALUES ({', '.join('?' * 21)})", rows)
    db.execute("PRAGMA user_version = 2")
    db.commit()
    db.close()


def test_a_v1_history_file_is_migrated_forward_with_its_runs_masked_and_searchable(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    write_v1_file(path)
    assert b"sk_live_oldleakedvalue9" in path.read_bytes()  # v1 only masked requests
    store = open_store(path)
    try:
        assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == 4
        page = store.list(RunQuery(None))
        assert [r.id for r in page.items] == ["r2", "r1"] and page.total == 2
        first = store.get("r1")
        assert first.answer == "It ships on Monday. ••••" and first.environment_slug == "acme"
        assert first.updated_at_ms == 1000 and first.revision is None and first.events[0]["t_ms"] == 1.0
        assert first.trace["steps"][0]["input"]["apiKey"] == "••••"
        second = store.get("r2")
        assert second.total_cost == 0.0 and second.answer == "pong" and second.error == "500 from upstream"
        assert [r.id for r in store.list(RunQuery(None, text="parcel")).items] == ["r1"]  # input parameters
        assert [r.id for r in store.list(RunQuery(None, text="monday")).items] == ["r1"]  # streamed answer
        assert [r.id for r in store.list(RunQuery("someone", text="upstream")).items] == ["r2"]  # error
        assert store.distinct_agents(None) == ["echo_agent", "support_agent"]
    finally:
        store.close()
    data = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    for secret in (b"sk_live_oldleakedvalue9", b"plain-old-key-1234", b"old-bearer-token-xyz"):
        assert secret not in data  # masked, and the old pages zeroed


def test_an_empty_old_file_is_migrated_too(tmp_path: Path) -> None:
    old = tmp_path / "old.sqlite3"
    sqlite3.connect(old).execute("PRAGMA user_version = 0").connection.close()
    open_store(old).save(run())
    assert sqlite3.connect(old).execute("PRAGMA user_version").fetchone()[0] == 4


def test_history_files_are_private_to_their_user(tmp_path: Path) -> None:
    path = tmp_path / "new" / "nested" / "history.sqlite3"
    store = open_store(path)
    store.save(run())
    assert mode(path) == 0o600
    assert mode(path.parent) == 0o700 and mode(path.parent.parent) == 0o700
    for companion in (Path(f"{path}-wal"), Path(f"{path}-shm")):
        assert companion.exists() and mode(companion) == 0o600
    store.close()
    loose = tmp_path / "loose.sqlite3"
    loose.touch()
    os.chmod(loose, 0o644)
    open_store(loose).close()
    assert mode(loose) == 0o600


def test_a_folder_we_did_not_create_keeps_its_mode(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o755)
    open_store(shared / "history.sqlite3").close()
    assert mode(shared) == 0o755 and mode(shared / "history.sqlite3") == 0o600


def test_corrupt_or_locked_files_explain_what_to_do(tmp_path: Path) -> None:
    corrupt = tmp_path / "corrupt.sqlite3"
    corrupt.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(HistoryUnavailable, match="not a readable SQLite file.*Move it aside"):
        open_store(corrupt)
    locked = tmp_path / "locked.sqlite3"
    open_store(locked).close()
    holder = sqlite3.connect(locked, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(HistoryUnavailable, match="locked by another program"):
            open_store(locked).save(run())
    finally:
        holder.execute("ROLLBACK")


@pytest.mark.parametrize("common_after", [2000, 2], ids=["index", "scan-when-common"])
def test_search_gives_the_same_runs_with_and_without_the_trigram_index(tmp_path: Path, common_after: int,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    # With 2 the index answers only texts found in one run; the others take the scan that common texts take.
    monkeypatch.setattr(sqlite_backend, "_SELECTIVE_MATCHES", common_after)
    store = SqliteRunStore(tmp_path / "h.sqlite3")
    assert store.search_indexed  # this SQLite has FTS5 with the trigram tokenizer
    texts = ["Ünïcode Straße", "quote \" inside", "50% off_sale", "MiXeD CaSe", "tab\tand newline\nhere", "ab"]
    for i, text in enumerate(texts * 3):
        store.save(run(answer=f"{text} #{i}", created_at_ms=i, owner=("me", "you")[i % 2]))
    queries = ["straße", "ünï", 'quote "', "50%", "off_", "mixed case", "and newline", "ab", "#1", "e \" i", "zzz", "ab #"]
    for owner in ("me", None):
        indexed = {q: [r.id for r in store.list(RunQuery(owner, text=q, limit=100)).items] for q in queries}
        store.search_indexed = False
        scanned = {q: [r.id for r in store.list(RunQuery(owner, text=q, limit=100)).items] for q in queries}
        store.search_indexed = True
        assert indexed == scanned
    assert len(indexed["straße"]) == 3 and len(indexed["ab"]) == 6  # "ab #…" and "tab…"
