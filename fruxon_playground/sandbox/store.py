"""The sandbox's SQLite store: execution records (with trace and result), environments, sessions,
uploaded files, stored drafts and approvals. One connection guarded by one lock; aggregations in SQL.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT UNIQUE NOT NULL,
    tenant TEXT NOT NULL,
    agent_id TEXT NOT NULL,
    agent_revision INTEGER NOT NULL,
    origin TEXT NOT NULL,
    trigger_type TEXT NOT NULL,
    status TEXT NOT NULL,
    start_time INTEGER NOT NULL,
    end_time INTEGER,
    created_at INTEGER NOT NULL,
    environment_slug TEXT,
    session_id TEXT,
    subject TEXT,
    input_tokens INTEGER NOT NULL DEFAULT 0,
    output_tokens INTEGER NOT NULL DEFAULT 0,
    input_cost REAL NOT NULL DEFAULT 0,
    output_cost REAL NOT NULL DEFAULT 0,
    total_cost REAL NOT NULL DEFAULT 0,
    tool_keys TEXT NOT NULL DEFAULT '[]',
    tool_errors INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    rejection_reason TEXT,
    waiting_for TEXT,
    parameters TEXT,
    trace TEXT,
    result TEXT,
    run_spec TEXT
);
CREATE INDEX IF NOT EXISTS records_agent_time ON records (tenant, agent_id, start_time DESC);
CREATE INDEX IF NOT EXISTS records_env ON records (tenant, agent_id, environment_slug);
CREATE TABLE IF NOT EXISTS environments (
    id TEXT PRIMARY KEY, tenant TEXT NOT NULL, slug TEXT NOT NULL, display_name TEXT, provenance TEXT NOT NULL,
    created_at INTEGER NOT NULL, modified_at INTEGER NOT NULL, UNIQUE (tenant, slug)
);
CREATE TABLE IF NOT EXISTS sessions (id TEXT PRIMARY KEY, turns INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS files (
    id TEXT PRIMARY KEY, tenant TEXT NOT NULL, name TEXT, content_type TEXT, file_type TEXT, size INTEGER,
    data BLOB, created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS drafts (
    tenant TEXT NOT NULL, agent_id TEXT NOT NULL, base_revision INTEGER NOT NULL, version INTEGER NOT NULL,
    head TEXT NOT NULL, updated_at INTEGER NOT NULL, PRIMARY KEY (tenant, agent_id, base_revision)
);
CREATE TABLE IF NOT EXISTS approvals (
    id TEXT PRIMARY KEY, tenant TEXT NOT NULL, agent_id TEXT NOT NULL, record_id TEXT NOT NULL,
    status TEXT NOT NULL, payload TEXT NOT NULL, decision TEXT, responded_by TEXT, responded_at INTEGER,
    created_at INTEGER NOT NULL, expires_at INTEGER
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
"""

RECORD_COLUMNS = (
    "id", "tenant", "agent_id", "agent_revision", "origin", "trigger_type", "status", "start_time", "end_time",
    "created_at", "environment_slug", "session_id", "subject", "input_tokens", "output_tokens", "input_cost",
    "output_cost", "total_cost", "tool_keys", "tool_errors", "error", "rejection_reason", "waiting_for",
    "parameters", "trace", "result", "run_spec",
)
JSON_COLUMNS = {"tool_keys", "waiting_for", "parameters", "trace", "result", "run_spec"}


@dataclass
class RecordFilter:
    statuses: list[str]
    revisions: list[int]
    origin: str
    environment: str | None = None
    session_id: str | None = None
    start_time: int | None = None
    end_time: int | None = None
    min_duration_ms: int | None = None
    max_duration_ms: int | None = None
    with_tool_errors: bool = False
    has_tool_calls: bool = False
    tools: list[str] | None = None
    query: str | None = None
    trigger_types: list[str] | None = None


class Store:
    def __init__(self, path: str) -> None:
        if path != ":memory:":
            Path(path).expanduser().parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        with self._lock:
            if path != ":memory:":
                self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _query(self, sql: str, params: Iterable[Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._db.execute(sql, tuple(params)).fetchall()

    def _execute(self, sql: str, params: Iterable[Any] = ()) -> int:
        with self._lock:
            return self._db.execute(sql, tuple(params)).rowcount

    # -- meta ----------------------------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        rows = self._query("SELECT value FROM meta WHERE key = ?", (key,))
        return rows[0]["value"] if rows else None

    def set_meta(self, key: str, value: str) -> None:
        self._execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    # -- records -------------------------------------------------------------------------------
    def save_record(self, record: dict[str, Any]) -> None:
        values = [json.dumps(record.get(c)) if c in JSON_COLUMNS else record.get(c) for c in RECORD_COLUMNS]
        placeholders = ", ".join("?" for _ in RECORD_COLUMNS)
        updates = ", ".join(f"{c} = excluded.{c}" for c in RECORD_COLUMNS if c != "id")
        self._execute(
            f"INSERT INTO records ({', '.join(RECORD_COLUMNS)}) VALUES ({placeholders}) "
            f"ON CONFLICT(id) DO UPDATE SET {updates}",
            values,
        )

    def save_records(self, records: list[dict[str, Any]]) -> None:
        placeholders = ", ".join("?" for _ in RECORD_COLUMNS)
        rows = [[json.dumps(r.get(c)) if c in JSON_COLUMNS else r.get(c) for c in RECORD_COLUMNS] for r in records]
        with self._lock:
            self._db.execute("BEGIN")
            self._db.executemany(f"INSERT INTO records ({', '.join(RECORD_COLUMNS)}) VALUES ({placeholders})", rows)
            self._db.execute("COMMIT")

    @staticmethod
    def _row(row: sqlite3.Row) -> dict[str, Any]:
        out = dict(row)
        for column in JSON_COLUMNS:
            if out.get(column) is not None:
                out[column] = json.loads(out[column])
        return out

    def get_record(self, tenant: str, agent_id: str, record_id: str) -> dict[str, Any] | None:
        rows = self._query("SELECT * FROM records WHERE tenant = ? AND agent_id = ? AND id = ?", (tenant, agent_id, record_id))
        return self._row(rows[0]) if rows else None

    def list_records(self, tenant: str, agent_id: str, f: RecordFilter, offset: int, limit: int) -> list[dict[str, Any]]:
        where = ["tenant = ?", "agent_id = ?", "origin = ?"]
        params: list[Any] = [tenant, agent_id, f.origin]
        if f.statuses:
            where.append(f"status IN ({', '.join('?' for _ in f.statuses)})")
            params += f.statuses
        if f.revisions:
            where.append(f"agent_revision IN ({', '.join('?' for _ in f.revisions)})")
            params += f.revisions
        for column, op, value in (("environment_slug", "=", f.environment), ("session_id", "=", f.session_id),
                                  ("start_time", ">=", f.start_time), ("start_time", "<=", f.end_time)):
            if value is not None:
                where.append(f"{column} {op} ?")
                params.append(value)
        if f.min_duration_ms is not None:
            where.append("end_time IS NOT NULL AND end_time - start_time >= ?")
            params.append(f.min_duration_ms)
        if f.max_duration_ms is not None:
            where.append("end_time IS NOT NULL AND end_time - start_time <= ?")
            params.append(f.max_duration_ms)
        if f.with_tool_errors:
            where.append("tool_errors > 0")
        if f.has_tool_calls or f.with_tool_errors:
            where.append("tool_keys != '[]'")
        for tool in f.tools or []:
            where.append("tool_keys LIKE ?")
            params.append(f'%"{tool}"%')
        if f.trigger_types:
            where.append(f"trigger_type IN ({', '.join('?' for _ in f.trigger_types)})")
            params += f.trigger_types
        if f.query:
            where.append("(LOWER(COALESCE(subject, '')) LIKE ? OR LOWER(COALESCE(parameters, '')) LIKE ? OR LOWER(COALESCE(result, '')) LIKE ?)")
            needle = f"%{f.query.lower()}%"
            params += [needle, needle, needle]
        sql = f"SELECT * FROM records WHERE {' AND '.join(where)} ORDER BY start_time DESC, seq DESC LIMIT ? OFFSET ?"
        return [self._row(r) for r in self._query(sql, [*params, limit, offset])]

    def environment_summaries(self, tenant: str, agent_id: str, origin: str, from_ms: int | None, to_ms: int | None) -> list[dict[str, Any]]:
        sql = (
            "SELECT r.environment_slug AS slug, e.display_name AS display_name, COUNT(*) AS n, SUM(r.total_cost) AS cost, "
            "MAX(r.start_time) AS last, SUM(r.status = 'FAILED') AS failed, SUM(r.input_tokens) AS tin, "
            "SUM(r.output_tokens) AS tout FROM records r LEFT JOIN environments e "
            "ON e.tenant = r.tenant AND e.slug = r.environment_slug "
            "WHERE r.tenant = ? AND r.agent_id = ? AND r.origin = ? AND r.environment_slug IS NOT NULL "
            "AND (? IS NULL OR r.start_time >= ?) AND (? IS NULL OR r.start_time < ?) "
            "GROUP BY r.environment_slug ORDER BY last DESC"
        )
        rows = self._query(sql, (tenant, agent_id, origin, from_ms, from_ms, to_ms, to_ms))
        return [
            {"environmentSlug": r["slug"], "displayName": r["display_name"] or r["slug"], "executionCount": r["n"],
             "totalCost": round(r["cost"] or 0.0, 10), "lastActivityAt": r["last"], "failedCount": r["failed"],
             "inputTokens": r["tin"], "outputTokens": r["tout"]}
            for r in rows
        ]

    def cost_rollup(self, tenant: str, agent_id: str, revision: int | None, environment: str | None, origin: str) -> dict[str, Any]:
        sql = (
            "SELECT COUNT(*) AS n, COALESCE(SUM(input_cost), 0) AS ic, COALESCE(SUM(output_cost), 0) AS oc, "
            "COALESCE(SUM(total_cost), 0) AS tc, COALESCE(SUM(input_tokens), 0) AS tin, "
            "COALESCE(SUM(output_tokens), 0) AS tout FROM records WHERE tenant = ? AND agent_id = ? AND origin = ? "
            "AND (? IS NULL OR agent_revision = ?) AND (? IS NULL OR environment_slug = ?)"
        )
        r = self._query(sql, (tenant, agent_id, origin, revision, revision, environment, environment))[0]
        return {"agentId": agent_id, "revision": revision, "inputCost": round(r["ic"], 10), "outputCost": round(r["oc"], 10),
                "totalCost": round(r["tc"], 10), "executionCount": r["n"], "inputTokens": r["tin"], "outputTokens": r["tout"]}

    def cost_buckets(self, tenant: str, agent_id: str, revision: int | None, origin: str, bucket_ms: int,
                     from_ms: int, to_ms: int, environment: str | None) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        base = (
            "FROM records WHERE tenant = ? AND agent_id = ? AND origin = ? AND (? IS NULL OR agent_revision = ?) "
            "AND (? IS NULL OR environment_slug = ?) AND start_time >= ? AND start_time < ? "
        )
        params = (tenant, agent_id, origin, revision, revision, environment, environment, from_ms, to_ms)
        cost_rows = self._query(
            f"SELECT (start_time / {bucket_ms}) * {bucket_ms} AS b, SUM(input_cost) AS ic, SUM(output_cost) AS oc, "
            f"SUM(total_cost) AS tc, SUM(input_tokens) AS tin, SUM(output_tokens) AS tout {base}"
            "AND (input_tokens > 0 OR output_tokens > 0) GROUP BY b ORDER BY b",
            params,
        )
        exec_rows = self._query(f"SELECT (start_time / {bucket_ms}) * {bucket_ms} AS b, COUNT(*) AS n {base} GROUP BY b ORDER BY b", params)
        cost = [{"bucketStartMs": r["b"], "cost": {"input": round(r["ic"], 10), "output": round(r["oc"], 10), "total": round(r["tc"], 10)},
                 "tokens": {"input": r["tin"], "output": r["tout"]}} for r in cost_rows]
        executions = [{"bucketStartMs": r["b"], "count": r["n"]} for r in exec_rows]
        return cost, executions

    # -- environments --------------------------------------------------------------------------
    def ensure_environment(self, tenant: str, slug: str, display_name: str | None, provenance: str, now_ms: int) -> None:
        self._execute(
            "INSERT OR IGNORE INTO environments (id, tenant, slug, display_name, provenance, created_at, modified_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (str(uuid.uuid5(uuid.NAMESPACE_URL, f"{tenant}/{slug}")), tenant, slug, display_name or slug, provenance, now_ms, now_ms),
        )

    def list_environments(self, tenant: str, query: str | None) -> list[dict[str, Any]]:
        rows = self._query("SELECT * FROM environments WHERE tenant = ? ORDER BY slug", (tenant,))
        items = [_environment(r) for r in rows]
        if query:
            q = query.lower()
            items = [e for e in items if q in e["slug"].lower() or q in (e["displayName"] or "").lower()]
        return items

    def get_environment(self, tenant: str, environment_id: str) -> dict[str, Any] | None:
        rows = self._query("SELECT * FROM environments WHERE tenant = ? AND id = ?", (tenant, environment_id))
        return _environment(rows[0]) if rows else None

    def environment_slugs(self, tenant: str) -> set[str]:
        return {r["slug"] for r in self._query("SELECT slug FROM environments WHERE tenant = ?", (tenant,))}

    # -- sessions ------------------------------------------------------------------------------
    def next_turn(self, session_id: str) -> int:
        """The turn number of this run in its session (0 for the first)."""
        with self._lock:
            rows = self._db.execute("SELECT turns FROM sessions WHERE id = ?", (session_id,)).fetchall()
            turn = rows[0]["turns"] if rows else 0
            self._db.execute("INSERT OR REPLACE INTO sessions (id, turns) VALUES (?, ?)", (session_id, turn + 1))
            return turn

    # -- files ---------------------------------------------------------------------------------
    def save_file(self, tenant: str, file_id: str, name: str, content_type: str, file_type: str, data: bytes, now_ms: int) -> None:
        self._execute("INSERT INTO files (id, tenant, name, content_type, file_type, size, data, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                      (file_id, tenant, name, content_type, file_type, len(data), data, now_ms))

    def get_file(self, tenant: str, file_id: str) -> dict[str, Any] | None:
        rows = self._query("SELECT * FROM files WHERE tenant = ? AND id = ?", (tenant, file_id))
        return dict(rows[0]) if rows else None

    # -- drafts --------------------------------------------------------------------------------
    def get_draft(self, tenant: str, agent_id: str, base_revision: int) -> dict[str, Any] | None:
        rows = self._query("SELECT * FROM drafts WHERE tenant = ? AND agent_id = ? AND base_revision = ?", (tenant, agent_id, base_revision))
        if not rows:
            return None
        row = dict(rows[0])
        row["head"] = json.loads(row["head"])
        return row

    def put_draft(self, tenant: str, agent_id: str, base_revision: int, head: dict[str, Any], now_ms: int) -> dict[str, Any]:
        with self._lock:
            current = self.get_draft(tenant, agent_id, base_revision)
            if current is not None and current["head"] == head:
                return current
            version = (current["version"] if current else 0) + 1
            self._db.execute("INSERT OR REPLACE INTO drafts (tenant, agent_id, base_revision, version, head, updated_at) "
                             "VALUES (?, ?, ?, ?, ?, ?)", (tenant, agent_id, base_revision, version, json.dumps(head), now_ms))
            return {"tenant": tenant, "agent_id": agent_id, "base_revision": base_revision, "version": version,
                    "head": head, "updated_at": now_ms}

    # -- approvals -----------------------------------------------------------------------------
    def save_approval(self, approval: dict[str, Any]) -> None:
        self._execute(
            "INSERT OR REPLACE INTO approvals (id, tenant, agent_id, record_id, status, payload, decision, responded_by, "
            "responded_at, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (approval["id"], approval["tenant"], approval["agent_id"], approval["record_id"], approval["status"],
             json.dumps(approval["payload"]), approval.get("decision"), approval.get("responded_by"),
             approval.get("responded_at"), approval["created_at"], approval.get("expires_at")),
        )

    def get_approval(self, tenant: str, approval_id: str) -> dict[str, Any] | None:
        rows = self._query("SELECT * FROM approvals WHERE tenant = ? AND id = ?", (tenant, approval_id))
        return _approval(rows[0]) if rows else None

    def list_approvals(self, tenant: str, agent_id: str | None, status: str | None) -> list[dict[str, Any]]:
        rows = self._query(
            "SELECT * FROM approvals WHERE tenant = ? AND (? IS NULL OR agent_id = ?) AND (? IS NULL OR status = ?) "
            "ORDER BY created_at DESC", (tenant, agent_id, agent_id, status, status))
        return [_approval(r) for r in rows]


def _environment(row: sqlite3.Row) -> dict[str, Any]:
    return {"id": row["id"], "slug": row["slug"], "displayName": row["display_name"], "description": None,
            "isSystem": False, "provenance": row["provenance"], "attributes": {}, "contactCount": None,
            "createdAt": row["created_at"], "modifiedAt": row["modified_at"]}


def _approval(row: sqlite3.Row) -> dict[str, Any]:
    out = dict(row)
    out["payload"] = json.loads(out["payload"])
    return out
