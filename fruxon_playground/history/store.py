"""The playground's local run history: every run, saved with its secrets removed, in SQLite.

The schema is versioned (`PRAGMA user_version`) and migrated on open. A file that is corrupt or
locked raises `HistoryUnavailable` with what to do about it, never a raw sqlite error.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
import uuid
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from fruxon_playground.contract.secrets import mask_secrets

BUNDLE_FORMAT = "fruxon-playground-run"
BUNDLE_VERSION = 1
MIGRATIONS = [
    """CREATE TABLE runs (
        id TEXT PRIMARY KEY, owner TEXT NOT NULL, created_at_ms INTEGER NOT NULL, kind TEXT NOT NULL,
        agent_id TEXT NOT NULL, base_url TEXT, tenant TEXT, status TEXT NOT NULL, error TEXT,
        started_at_ms INTEGER, duration_ms REAL, total_cost REAL, input_tokens INTEGER, output_tokens INTEGER,
        execution_record_id TEXT, session_id TEXT, environment_slug TEXT,
        request TEXT NOT NULL, response TEXT, events TEXT NOT NULL, trace TEXT)""",
    "CREATE INDEX runs_owner_time ON runs (owner, created_at_ms DESC)",
]
SORTABLE = {"created_at_ms", "agent_id", "status", "duration_ms", "total_cost", "kind"}


class HistoryUnavailable(Exception):
    """The history file cannot be used; the message names the file and what to do."""


@dataclass(frozen=True)
class SavedRun:
    kind: str  # execute | stream | test | stream_test
    agent_id: str
    request: dict[str, Any]
    status: str  # completed | waiting_for_human | failed | interrupted | stopped
    owner: str = ""
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    created_at_ms: int = field(default_factory=lambda: int(time.time() * 1000))
    base_url: str | None = None  # never with credentials
    tenant: str | None = None
    error: str | None = None
    started_at_ms: int | None = None
    duration_ms: float | None = None
    total_cost: float = 0.0
    input_tokens: int = 0
    output_tokens: int = 0
    execution_record_id: str | None = None
    session_id: str | None = None
    environment_slug: str | None = None
    response: dict[str, Any] | None = None
    events: list[dict[str, Any]] = field(default_factory=list)  # {"event", "data" (raw text), "t_ms"}
    trace: dict[str, Any] | None = None

    @property
    def streamed(self) -> bool:
        return self.kind in ("stream", "stream_test")


def default_path() -> Path:
    if os.environ.get("PLAYGROUND_HISTORY_PATH"):
        return Path(os.environ["PLAYGROUND_HISTORY_PATH"])
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "fruxon-playground" / "history.sqlite3"


_JSON = ("request", "response", "events", "trace")


def _as_dict(run: SavedRun) -> dict[str, Any]:
    """Shallow, unlike `dataclasses.asdict`, which deep-copies (and recurses through) whole traces."""
    return {f.name: getattr(run, f.name) for f in fields(run)}


class RunStore:
    def __init__(self, path: str | Path | None = None) -> None:
        self.path = str(path or default_path())
        self._lock = threading.Lock()
        try:
            if self.path != ":memory:":
                Path(self.path).expanduser().parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, check_same_thread=False, timeout=2.0, isolation_level=None)
            self._migrate()
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

    def _migrate(self) -> None:
        with self._lock:
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
            for number, statement in enumerate(MIGRATIONS[version:], start=version + 1):
                self._db.execute("BEGIN IMMEDIATE")
                self._db.execute(statement)
                self._db.execute(f"PRAGMA user_version = {number}")
                self._db.execute("COMMIT")

    def _run(self, sql: str, params: tuple = ()) -> list[sqlite3.Row]:
        with self._lock:
            try:
                self._db.row_factory = sqlite3.Row
                return self._db.execute(sql, params).fetchall()
            except sqlite3.DatabaseError as exc:
                raise self._unavailable(exc) from exc

    # -- writing ------------------------------------------------------------------------------
    def save(self, run: SavedRun) -> SavedRun:
        """Stores the run with every secret removed from its request (defence in depth)."""
        run = replace(run, request=mask_secrets(run.request))
        row = _as_dict(run)
        columns = list(row)
        values = tuple(json.dumps(row[c], ensure_ascii=False) if c in _JSON else row[c] for c in columns)
        self._run(f"INSERT OR REPLACE INTO runs ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})", values)
        return run

    def delete(self, run_id: str, owner: str) -> bool:
        before = len(self._run("SELECT id FROM runs WHERE id = ? AND owner = ?", (run_id, owner)))
        self._run("DELETE FROM runs WHERE id = ? AND owner = ?", (run_id, owner))
        return bool(before)

    # -- reading ------------------------------------------------------------------------------
    @staticmethod
    def _from_row(row: sqlite3.Row) -> SavedRun:
        data = dict(row)
        for column in _JSON:
            if data[column] is not None:
                data[column] = json.loads(data[column])
        return SavedRun(**data)

    def get(self, run_id: str) -> SavedRun | None:
        rows = self._run("SELECT * FROM runs WHERE id = ?", (run_id,))
        return self._from_row(rows[0]) if rows else None

    def list(self, owner: str, *, agent_id: str | None = None, status: str | None = None, kind: str | None = None,
             text: str | None = None, limit: int = 200, offset: int = 0, order_by: str = "created_at_ms",
             descending: bool = True) -> list[SavedRun]:
        where, params = ["owner = ?"], [owner]
        for column, value in (("agent_id", agent_id), ("status", status), ("kind", kind)):
            if value:
                where.append(f"{column} = ?")
                params.append(value)
        if text:
            where.append("(LOWER(request) LIKE ? OR LOWER(COALESCE(response, '')) LIKE ? OR LOWER(COALESCE(error, '')) LIKE ?)")
            params += [f"%{text.lower()}%"] * 3
        column = order_by if order_by in SORTABLE else "created_at_ms"
        sql = (f"SELECT * FROM runs WHERE {' AND '.join(where)} ORDER BY {column} {'DESC' if descending else 'ASC'} "
               "LIMIT ? OFFSET ?")
        return [self._from_row(r) for r in self._run(sql, (*params, limit, offset))]

    # -- bundles ------------------------------------------------------------------------------
    def export_bundle(self, run_id: str) -> dict[str, Any]:
        run = self.get(run_id)
        if run is None:
            raise KeyError(run_id)
        data = _as_dict(replace(run, request=mask_secrets(run.request)))
        data.pop("owner")
        return {"format": BUNDLE_FORMAT, "version": BUNDLE_VERSION, "run": data}

    def import_bundle(self, bundle: Any, owner: str) -> SavedRun:
        if not isinstance(bundle, dict) or bundle.get("format") != BUNDLE_FORMAT:
            raise ValueError("not a Fruxon Playground run bundle (its \"format\" is missing or different)")
        if bundle.get("version") != BUNDLE_VERSION:
            raise ValueError(f"bundle version {bundle.get('version')!r} is not supported (this app reads {BUNDLE_VERSION})")
        data = bundle.get("run")
        if not isinstance(data, dict):
            raise ValueError("the bundle has no run")
        known = {f for f in SavedRun.__dataclass_fields__ if f not in ("id", "owner")}
        try:
            run = SavedRun(**{k: v for k, v in data.items() if k in known}, owner=owner)
        except TypeError as exc:
            raise ValueError(f"the bundle's run is incomplete: {exc}") from exc
        return self.save(run)
