"""The embedded history: one SQLite file (WAL), created 0600 in a 0700 folder.

The schema is versioned with `PRAGMA user_version` and migrated on open inside `BEGIN IMMEDIATE`,
so two processes opening one file at once migrate it once. Text search uses an FTS5 trigram index
when this SQLite has one, else a scan of the lowercased search column. A file that is corrupt or
locked raises `HistoryUnavailable` with what to do about it, never a raw sqlite error.
"""

from __future__ import annotations

import builtins
import json
import os
import sqlite3
import stat
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import replace
from pathlib import Path
from typing import Any

from fruxon_playground._gc import cyclic_gc_paused
from fruxon_playground.history._rows import (
    BODY_COLUMNS,
    JSON_COLUMNS,
    LISTED,
    RUN_COLUMNS,
    body_row,
    run_from,
    run_row,
    summary_from,
)
from fruxon_playground.history.base import (
    DEFAULT_STALE_AFTER_S,
    HistoryUnavailable,
    RunStore,
    clamp,
    masked,
    newer_schema,
    trace_view_of,
)
from fruxon_playground.history.model import (
    INTERRUPTED,
    INTERRUPTED_ERROR,
    LIVE_STATUSES,
    RunPage,
    RunQuery,
    RunSummary,
    SavedRun,
    now_ms,
)

_LIVE = "(" + ", ".join(f"'{s}'" for s in LIVE_STATUSES) + ")"
_V1 = [
    """CREATE TABLE runs (
        id TEXT PRIMARY KEY, owner TEXT NOT NULL, created_at_ms INTEGER NOT NULL, kind TEXT NOT NULL,
        agent_id TEXT NOT NULL, base_url TEXT, tenant TEXT, status TEXT NOT NULL, error TEXT,
        started_at_ms INTEGER, duration_ms REAL, total_cost REAL, input_tokens INTEGER, output_tokens INTEGER,
        execution_record_id TEXT, session_id TEXT, environment_slug TEXT,
        request TEXT NOT NULL, response TEXT, events TEXT NOT NULL, trace TEXT)""",
    "CREATE INDEX runs_owner_time ON runs (owner, created_at_ms DESC)",
]
# v2: light columns apart from the bodies, so lists and counts read small dense pages. `seq` is an
# explicit INTEGER PRIMARY KEY because VACUUM may renumber an implicit rowid, which the FTS index uses.
_V2 = [
    """CREATE TABLE runs (
        seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, owner TEXT NOT NULL, created_at_ms INTEGER NOT NULL,
        updated_at_ms INTEGER NOT NULL, heartbeat_at_ms INTEGER, kind TEXT NOT NULL, agent_id TEXT NOT NULL,
        status TEXT NOT NULL, revision INTEGER, group_id TEXT, label TEXT, base_url TEXT, tenant TEXT,
        started_at_ms INTEGER, duration_ms REAL, total_cost REAL NOT NULL DEFAULT 0,
        input_tokens INTEGER NOT NULL DEFAULT 0, output_tokens INTEGER NOT NULL DEFAULT 0,
        execution_record_id TEXT, session_id TEXT, environment_slug TEXT, error TEXT, answer_preview TEXT,
        search_text TEXT NOT NULL DEFAULT '')""",
    """CREATE TABLE run_bodies (
        id TEXT PRIMARY KEY, request TEXT NOT NULL, response TEXT, events TEXT NOT NULL, trace TEXT, answer TEXT)""",
    "CREATE INDEX runs_time ON runs (created_at_ms DESC)",
    "CREATE INDEX runs_owner_time ON runs (owner, created_at_ms DESC)",
    "CREATE INDEX runs_agent_time ON runs (agent_id, created_at_ms DESC)",
    "CREATE INDEX runs_owner_agent_time ON runs (owner, agent_id, created_at_ms DESC)",
    "CREATE INDEX runs_status_time ON runs (status, created_at_ms DESC)",
    "CREATE INDEX runs_owner_status_time ON runs (owner, status, created_at_ms DESC)",
    "CREATE INDEX runs_group ON runs (group_id, created_at_ms DESC) WHERE group_id IS NOT NULL",
    f"CREATE INDEX runs_live ON runs (status) WHERE status IN {_LIVE}",
]
_FTS = [
    "CREATE VIRTUAL TABLE runs_fts USING fts5(search_text, content='runs', content_rowid='seq', tokenize='trigram')",
    """CREATE TRIGGER runs_fts_insert AFTER INSERT ON runs BEGIN
        INSERT INTO runs_fts (rowid, search_text) VALUES (new.seq, new.search_text); END""",
    """CREATE TRIGGER runs_fts_delete AFTER DELETE ON runs BEGIN
        INSERT INTO runs_fts (runs_fts, rowid, search_text) VALUES ('delete', old.seq, old.search_text); END""",
    """CREATE TRIGGER runs_fts_update AFTER UPDATE OF search_text ON runs
        WHEN old.search_text IS NOT new.search_text BEGIN
        INSERT INTO runs_fts (runs_fts, rowid, search_text) VALUES ('delete', old.seq, old.search_text);
        INSERT INTO runs_fts (rowid, search_text) VALUES (new.seq, new.search_text); END""",
]
_MIN_TRIGRAM = 3  # shorter search texts scan the search column instead
_SELECTIVE_MATCHES = 2000
_MIGRATION_WAIT_S = 15.0  # another process may be migrating the same file
_BUSY_WAIT_S = 2.0

_UPSERT_RUN = (f"INSERT INTO runs ({', '.join(RUN_COLUMNS)}) VALUES ({', '.join('?' for _ in RUN_COLUMNS)}) "
               f"ON CONFLICT (id) DO UPDATE SET {', '.join(f'{c} = excluded.{c}' for c in RUN_COLUMNS[1:])}")
_UPSERT_BODY = (f"INSERT INTO run_bodies ({', '.join(BODY_COLUMNS)}) VALUES ({', '.join('?' for _ in BODY_COLUMNS)}) "
                f"ON CONFLICT (id) DO UPDATE SET {', '.join(f'{c} = excluded.{c}' for c in BODY_COLUMNS[1:])}")
_STALE = f"status IN {_LIVE} AND MAX(COALESCE(heartbeat_at_ms, 0), updated_at_ms) < ?"


def _write(db: sqlite3.Connection, run: SavedRun) -> None:
    row, body = run_row(run), body_row(run)
    db.execute(_UPSERT_RUN, tuple(row[c] for c in RUN_COLUMNS))
    db.execute(_UPSERT_BODY, tuple(json.dumps(body[c], ensure_ascii=False) if c in JSON_COLUMNS and body[c] is not None
                                   else body[c] for c in BODY_COLUMNS))


def _v1_to_v2(db: sqlite3.Connection) -> None:
    """Splits bodies from the listed columns, adds the new columns and the search text, and masks
    every old run's response, events, trace and error (v1 only masked requests)."""
    db.execute("ALTER TABLE runs RENAME TO runs_v1")
    db.execute("DROP INDEX runs_owner_time")
    for statement in _V2:
        db.execute(statement)
    try:
        for statement in _FTS:
            db.execute(statement)
    except sqlite3.OperationalError:  # this SQLite has no FTS5 or no trigram tokenizer: search scans
        db.execute("DROP TABLE IF EXISTS runs_fts")
    cursor = db.execute("SELECT * FROM runs_v1")
    names = [d[0] for d in cursor.description]
    while batch := cursor.fetchmany(500):
        for values in batch:
            data = dict(zip(names, values, strict=True))
            for column in JSON_COLUMNS:
                data[column] = json.loads(data[column]) if data[column] is not None else None
            data["total_cost"] = data["total_cost"] or 0.0
            data["input_tokens"] = data["input_tokens"] or 0
            data["output_tokens"] = data["output_tokens"] or 0
            run = SavedRun(**data, updated_at_ms=data["created_at_ms"])
            _write(db, masked(run))
    db.execute("DROP TABLE runs_v1")


def _statement(sql: str) -> Callable[[sqlite3.Connection], None]:
    def step(db: sqlite3.Connection) -> None:
        db.execute(sql)

    return step


# user_version N = the first N steps applied. The first release's two statements are steps 1 and 2,
# so its files (user_version 2) continue at step 3.
# Step 4: the trace as the viewer draws it (`trace_view_of`), written by `save` after the run's rows.
MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [
    *map(_statement, _V1), _v1_to_v2, _statement("ALTER TABLE run_bodies ADD COLUMN trace_view BLOB")]


def _create_private(path: Path) -> None:
    """The file 0600 (SQLite gives its -wal and -shm files the same mode) in folders we create 0700."""
    missing = []
    folder = path.parent
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    for created in reversed(missing):
        created.mkdir(mode=0o700, exist_ok=True)
        os.chmod(created, 0o700)
    if not path.exists():
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077 and path.stat().st_uid == os.getuid():
        os.chmod(path, mode & 0o700)


class SqliteRunStore(RunStore):
    def __init__(self, path: str | Path, *, stale_after_s: float = DEFAULT_STALE_AFTER_S,
                 clock: Callable[[], int] = now_ms) -> None:
        super().__init__(stale_after_s=stale_after_s, clock=clock)
        self.path = str(path)
        self.location = self.path
        self._lock = threading.Lock()
        try:
            if self.path != ":memory:":
                _create_private(Path(self.path).expanduser())
            self._db = sqlite3.connect(self.path, check_same_thread=False, timeout=_BUSY_WAIT_S, isolation_level=None)
            self._db.row_factory = sqlite3.Row
            if self.path != ":memory:":
                self._use_wal()
            self._db.execute("PRAGMA synchronous = NORMAL")
            self._migrate()
            self.search_indexed = bool(self._db.execute("SELECT 1 FROM sqlite_master WHERE name = 'runs_fts'").fetchone())
        except sqlite3.DatabaseError as exc:
            raise self._unavailable(exc) from exc
        except OSError as exc:
            raise HistoryUnavailable(f"The run history at {self.path} cannot be created ({exc.strerror}). "
                                     "Set PLAYGROUND_HISTORY_PATH to a writable file.") from exc

    def _unavailable(self, exc: Exception) -> HistoryUnavailable:
        text = str(exc).lower()
        if "locked" in text or "busy" in text:
            return HistoryUnavailable(f"The run history at {self.path} is locked by another program. "
                                      "Close it (or point PLAYGROUND_HISTORY_PATH elsewhere) and reload.")
        return HistoryUnavailable(f"The run history at {self.path} is not a readable SQLite file ({exc}). "
                                  "Move it aside to start a new history, or set PLAYGROUND_HISTORY_PATH.")

    def _use_wal(self) -> None:
        """Switches the file to WAL once. The switch needs the file to itself and SQLite reports a
        clash at once rather than waiting, so a process opening the file at the same moment retries."""
        deadline = time.monotonic() + _MIGRATION_WAIT_S
        while True:
            try:
                if self._db.execute("PRAGMA journal_mode = WAL").fetchone()[0] == "wal":
                    return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc):
                    raise
            if time.monotonic() > deadline:
                raise sqlite3.OperationalError("database is locked")
            time.sleep(0.05)

    def _migrate(self) -> None:
        found = self._db.execute("PRAGMA user_version").fetchone()[0]
        if found > len(MIGRATIONS):
            raise newer_schema(self.path, found, len(MIGRATIONS))
        if found == len(MIGRATIONS):
            return
        self._db.execute(f"PRAGMA busy_timeout = {int(_MIGRATION_WAIT_S * 1000)}")
        # Freed pages are zeroed, so what older versions stored unmasked does not linger in the file.
        self._db.execute("PRAGMA secure_delete = ON")
        try:
            while True:
                # The version is read again under the write lock: another process may have just migrated.
                self._db.execute("BEGIN IMMEDIATE")
                version = self._db.execute("PRAGMA user_version").fetchone()[0]
                if version >= len(MIGRATIONS):
                    self._db.execute("COMMIT")
                    break
                try:
                    MIGRATIONS[version](self._db)
                    self._db.execute(f"PRAGMA user_version = {version + 1}")
                    self._db.execute("COMMIT")
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
        finally:
            self._db.execute(f"PRAGMA busy_timeout = {int(_BUSY_WAIT_S * 1000)}")
            self._db.execute("PRAGMA secure_delete = OFF")
        if self.path != ":memory:":
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the migrated pages into the file itself
        self._db.execute("PRAGMA optimize")

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    yield self._db
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
                self._db.execute("COMMIT")
            except sqlite3.DatabaseError as exc:
                raise self._unavailable(exc) from exc

    def _read(self, sql: str, params: Iterable[Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            try:
                return self._db.execute(sql, tuple(params)).fetchall()
            except sqlite3.DatabaseError as exc:
                raise self._unavailable(exc) from exc

    # -- writing ------------------------------------------------------------------------------------
    def save(self, run: SavedRun, *, secrets: Iterable[str | None] = ()) -> SavedRun:
        run = replace(masked(run, secrets), updated_at_ms=self.clock())
        view = trace_view_of(run)  # outside the write lock: seconds for a huge trace
        with self._transaction() as db:
            _write(db, run)
            db.execute("UPDATE run_bodies SET trace_view = ? WHERE id = ?", (view, run.id))
        return run

    def heartbeat(self, run_id: str, at_ms: int) -> None:
        with self._transaction() as db:
            db.execute("UPDATE runs SET heartbeat_at_ms = ? WHERE id = ?", (at_ms, run_id))

    def delete(self, run_id: str, owner: str | None) -> bool:
        owned = "" if owner is None else " AND owner = ?"
        params = (run_id,) if owner is None else (run_id, owner)
        with self._transaction() as db:
            deleted = db.execute(f"DELETE FROM runs WHERE id = ?{owned}", params).rowcount
            if deleted:
                db.execute("DELETE FROM run_bodies WHERE id = ?", (run_id,))
        return bool(deleted)

    def _interrupt_stale(self, run_id: str | None = None) -> None:
        """Runs whose process stopped heartbeating end "interrupted", their events kept."""
        cutoff = self.stale_cutoff_ms()
        only = "" if run_id is None else " AND id = ?"
        params: tuple[Any, ...] = (cutoff,) if run_id is None else (cutoff, run_id)
        if not self._read(f"SELECT 1 FROM runs WHERE {_STALE}{only} LIMIT 1", params):
            return
        with self._transaction() as db:
            db.execute(f"UPDATE runs SET status = ?, error = COALESCE(error, ?), updated_at_ms = ? WHERE {_STALE}{only}",
                       (INTERRUPTED, INTERRUPTED_ERROR, self.clock(), *params))

    # -- reading ------------------------------------------------------------------------------------
    def _current(self, sql: str, run_id: str) -> dict[str, Any] | None:
        """The row of `sql` (which selects `runs.*` of one run), after marking the run interrupted
        when it is stale."""
        rows = self._read(sql, (run_id,))
        if not rows:
            return None
        data = dict(rows[0])
        if data["status"] in LIVE_STATUSES and max(data["heartbeat_at_ms"] or 0, data["updated_at_ms"]) < self.stale_cutoff_ms():
            self._interrupt_stale(run_id)
            return self._current(sql, run_id)
        return data

    def get(self, run_id: str) -> SavedRun | None:
        data = self._current("SELECT runs.*, b.request, b.response, b.events, b.trace, b.answer "
                             "FROM runs JOIN run_bodies AS b ON b.id = runs.id WHERE runs.id = ?", run_id)
        if data is None:
            return None
        with cyclic_gc_paused():  # a big trace: millions of objects at once (1.2 s → 0.4 s at 100k steps)
            for column in JSON_COLUMNS:
                data[column] = json.loads(data[column]) if data[column] is not None else None
        return run_from(data)

    def summary(self, run_id: str) -> RunSummary | None:
        data = self._current("SELECT * FROM runs WHERE id = ?", run_id)
        return summary_from(data) if data is not None else None

    def trace_view(self, run_id: str) -> bytes | None:
        rows = self._read("SELECT trace_view FROM run_bodies WHERE id = ?", (run_id,))
        return rows[0][0] if rows else None

    def trace_text(self, run_id: str) -> str | None:
        rows = self._read("SELECT trace FROM run_bodies WHERE id = ?", (run_id,))
        return rows[0][0] if rows else None

    def _where(self, query: RunQuery) -> tuple[str, list[Any]]:
        where: list[str] = []
        params: list[Any] = []
        for column in ("owner", "agent_id", "status", "kind", "group_id"):
            value = getattr(query, column)
            if value is not None and (value != "" or column == "owner"):
                where.append(f"{column} = ?")
                params.append(value)
        text = (query.text or "").strip().lower().replace("\x00", " ")
        if text:
            phrase = '"' + text.replace('"', '""') + '"'
            if self._selective(phrase):
                where.append("seq IN (SELECT rowid FROM runs_fts WHERE runs_fts MATCH ?)")
                params.append(phrase)
            else:  # the search column is lowercased like the text
                where.append("instr(search_text, ?) > 0")
                params.append(text)
        return (" WHERE " + " AND ".join(where)) if where else "", params

    def _selective(self, phrase: str) -> bool:
        """Whether the trigram index narrows this search down. Looking a few thousand runs up by id
        beats a scan; a text that most runs contain is found faster by scanning them in order."""
        if not self.search_indexed or len(phrase) - 2 < _MIN_TRIGRAM:
            return False
        probe = "SELECT COUNT(*) FROM (SELECT rowid FROM runs_fts WHERE runs_fts MATCH ? LIMIT ?)"
        return bool(self._read(probe, (phrase, _SELECTIVE_MATCHES))[0][0] < _SELECTIVE_MATCHES)

    def list(self, query: RunQuery) -> RunPage:
        if self.sweep_due():
            self._interrupt_stale()
        limit, offset = clamp(query)
        where, params = self._where(query)
        with self._lock:
            try:
                rows = self._db.execute(f"SELECT {', '.join(LISTED)} FROM runs{where} "
                                        "ORDER BY created_at_ms DESC, seq DESC LIMIT ? OFFSET ?",
                                        (*params, limit, offset)).fetchall()
                if offset == 0 and len(rows) < limit:
                    total = len(rows)
                else:
                    total = self._db.execute(f"SELECT COUNT(*) FROM runs{where}", params).fetchone()[0]
            except sqlite3.DatabaseError as exc:
                raise self._unavailable(exc) from exc
        return RunPage(items=[summary_from(r) for r in rows], total=total)

    def _distinct(self, column: str, owner: str | None) -> builtins.list[str]:
        # A loose index scan: one index seek per distinct value, not a pass over every run.
        owned = "" if owner is None else "owner = ? AND "
        params = () if owner is None else (owner, owner)
        sql = (f"WITH RECURSIVE d(v) AS (SELECT MIN({column}) FROM runs WHERE {owned}1 "
               f"UNION ALL SELECT (SELECT MIN({column}) FROM runs WHERE {owned}{column} > d.v) FROM d WHERE d.v IS NOT NULL) "
               "SELECT v FROM d WHERE v IS NOT NULL")
        return [r[0] for r in self._read(sql, params)]

    def distinct_agents(self, owner: str | None) -> builtins.list[str]:
        return self._distinct("agent_id", owner)

    def distinct_statuses(self, owner: str | None) -> builtins.list[str]:
        if self.sweep_due():
            self._interrupt_stale()
        return self._distinct("status", owner)

    def close(self) -> None:
        with self._lock:
            with suppress(sqlite3.DatabaseError):
                self._db.execute("PRAGMA optimize")
            self._db.close()
