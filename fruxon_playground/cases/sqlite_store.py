"""Test cases and batch results in SQLite: tables of their own in the run history's file (mode 0600).

The history store versions its schema with `PRAGMA user_version`; these tables never touch it and
are created with `IF NOT EXISTS`, so either store may open the file first.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from fruxon_playground.cases.batch import BatchResult, CaseStatus
from fruxon_playground.cases.model import TestCase
from fruxon_playground.cases.store import (
    BatchSummary,
    CaseScope,
    CaseStoreUnavailable,
    DuplicateCaseName,
    import_by_name,
    stored_case,
)

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS test_cases (
        id TEXT PRIMARY KEY, owner TEXT NOT NULL, tenant TEXT NOT NULL, agent TEXT NOT NULL,
        name TEXT NOT NULL, name_key TEXT NOT NULL, position INTEGER NOT NULL,
        created_at_ms INTEGER NOT NULL, updated_at_ms INTEGER NOT NULL, body TEXT NOT NULL,
        UNIQUE (owner, tenant, agent, name_key))""",
    """CREATE TABLE IF NOT EXISTS test_case_demo_loads (
        owner TEXT NOT NULL, tenant TEXT NOT NULL, agent TEXT NOT NULL, loaded_at_ms INTEGER NOT NULL,
        PRIMARY KEY (owner, tenant, agent))""",
    """CREATE TABLE IF NOT EXISTS test_batches (
        id TEXT PRIMARY KEY, owner TEXT NOT NULL, tenant TEXT NOT NULL, agent TEXT NOT NULL,
        created_at_ms INTEGER NOT NULL, target_label TEXT NOT NULL, summary TEXT NOT NULL,
        total INTEGER NOT NULL, passed INTEGER NOT NULL, failed INTEGER NOT NULL, body TEXT NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS test_batches_scope ON test_batches (owner, tenant, agent, created_at_ms DESC)",
)


def _now() -> int:
    return int(time.time() * 1000)


def _private_file(path: str) -> None:
    """Create the file readable by its owner only; tighten it if it already exists."""
    if path == ":memory:":
        return
    file = Path(path).expanduser()
    file.parent.mkdir(parents=True, exist_ok=True)
    os.close(os.open(file, os.O_CREAT | os.O_WRONLY, 0o600))
    with contextlib.suppress(OSError):  # not ours to change (a shared file): keep what its owner chose
        os.chmod(file, 0o600)


class SqliteCaseStore:
    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._lock = threading.Lock()
        try:
            _private_file(self.path)
            self._db = sqlite3.connect(self.path, check_same_thread=False, timeout=5.0, isolation_level=None)
            self._db.row_factory = sqlite3.Row
            with self._lock:
                for statement in SCHEMA:
                    self._db.execute(statement)
        except sqlite3.DatabaseError as exc:
            raise self._unavailable(exc) from exc
        except OSError as exc:
            raise CaseStoreUnavailable(f"The test cases at {self.path} cannot be created ({exc.strerror}). "
                                       "Set PLAYGROUND_HISTORY_PATH to a writable file.") from exc

    def _unavailable(self, exc: Exception) -> CaseStoreUnavailable:
        if "locked" in str(exc).lower() or "busy" in str(exc).lower():
            return CaseStoreUnavailable(f"The test cases at {self.path} are locked by another program; "
                                        "close it and reload.")
        return CaseStoreUnavailable(f"The test cases at {self.path} cannot be read ({exc}). Move the file aside "
                                    "or set PLAYGROUND_HISTORY_PATH.")

    def _run(self, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        with self._lock:
            try:
                return self._db.execute(sql, params).fetchall()
            except sqlite3.IntegrityError:
                raise
            except sqlite3.DatabaseError as exc:
                raise self._unavailable(exc) from exc

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # -- cases ---------------------------------------------------------------------------------------
    def list_cases(self, scope: CaseScope) -> list[TestCase]:
        rows = self._run("SELECT body FROM test_cases WHERE owner = ? AND tenant = ? AND agent = ? "
                         "ORDER BY position, created_at_ms", (scope.owner, scope.tenant, scope.agent))
        cases = []
        for row in rows:
            try:
                cases.append(TestCase.model_validate_json(row["body"]))
            except ValidationError:
                continue  # a row written by a newer version that this one cannot read
        return cases

    def save_case(self, scope: CaseScope, case: TestCase) -> TestCase:
        case = stored_case(scope, case)
        body = json.dumps(case.as_json(), ensure_ascii=False)
        now = _now()
        try:
            with self._lock:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    existing = self._db.execute("SELECT position FROM test_cases WHERE id = ?", (case.id,)).fetchone()
                    if existing is None:
                        position = self._db.execute(
                            "SELECT COALESCE(MAX(position), 0) + 1 FROM test_cases WHERE owner = ? AND tenant = ? "
                            "AND agent = ?", (scope.owner, scope.tenant, scope.agent)).fetchone()[0]
                        self._db.execute(
                            "INSERT INTO test_cases (id, owner, tenant, agent, name, name_key, position, created_at_ms, "
                            "updated_at_ms, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                            (case.id, scope.owner, scope.tenant, scope.agent, case.name, case.name.casefold(), position,
                             now, now, body))
                    else:
                        self._db.execute(
                            "UPDATE test_cases SET name = ?, name_key = ?, updated_at_ms = ?, body = ? WHERE id = ? "
                            "AND owner = ? AND tenant = ? AND agent = ?",
                            (case.name, case.name.casefold(), now, body, case.id, scope.owner, scope.tenant, scope.agent))
                    self._db.execute("COMMIT")
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
        except sqlite3.IntegrityError as exc:
            raise DuplicateCaseName(f"Another case of {scope.agent} is already named “{case.name}”.") from exc
        except sqlite3.DatabaseError as exc:
            raise self._unavailable(exc) from exc
        return case

    def import_cases(self, scope: CaseScope, cases: list[TestCase]) -> tuple[int, int]:
        return import_by_name(self, scope, cases)

    def delete_case(self, scope: CaseScope, case_id: str) -> bool:
        where = "id = ? AND owner = ? AND tenant = ? AND agent = ?"
        params = (case_id, scope.owner, scope.tenant, scope.agent)
        found = bool(self._run(f"SELECT id FROM test_cases WHERE {where}", params))
        self._run(f"DELETE FROM test_cases WHERE {where}", params)
        return found

    # -- demo cases ----------------------------------------------------------------------------------
    def demo_loaded(self, scope: CaseScope) -> bool:
        return bool(self._run("SELECT 1 FROM test_case_demo_loads WHERE owner = ? AND tenant = ? AND agent = ?",
                              (scope.owner, scope.tenant, scope.agent)))

    def claim_demo(self, scope: CaseScope) -> bool:
        return bool(self._run("INSERT OR IGNORE INTO test_case_demo_loads (owner, tenant, agent, loaded_at_ms) "
                              "VALUES (?, ?, ?, ?) RETURNING agent", (scope.owner, scope.tenant, scope.agent, _now())))

    # -- batches -------------------------------------------------------------------------------------
    def save_batch(self, scope: CaseScope, batch: BatchResult) -> None:
        batch = batch.masked()  # secret-shaped text quoted by a check or an error stays out of the file
        self._run(
            "INSERT OR REPLACE INTO test_batches (id, owner, tenant, agent, created_at_ms, target_label, summary, total, "
            "passed, failed, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (batch.id, scope.owner, scope.tenant, scope.agent, batch.started_at_ms, batch.target_label, batch.summary,
             len(batch.outcomes), batch.count(CaseStatus.PASSED), batch.count(CaseStatus.FAILED),
             json.dumps(batch.as_json(), ensure_ascii=False)))

    def list_batches(self, scope: CaseScope, limit: int = 20) -> list[BatchSummary]:
        rows = self._run(
            "SELECT id, created_at_ms, target_label, summary, total, passed, failed FROM test_batches "
            "WHERE owner = ? AND tenant = ? AND agent = ? ORDER BY created_at_ms DESC LIMIT ?",
            (scope.owner, scope.tenant, scope.agent, limit))
        return [BatchSummary(row["id"], row["created_at_ms"], row["target_label"], row["summary"], row["total"],
                             row["passed"], row["failed"]) for row in rows]

    def get_batch(self, scope: CaseScope, batch_id: str) -> BatchResult | None:
        rows = self._run("SELECT body FROM test_batches WHERE id = ? AND owner = ? AND tenant = ? AND agent = ?",
                         (batch_id, scope.owner, scope.tenant, scope.agent))
        return BatchResult.from_json(json.loads(rows[0]["body"])) if rows else None
