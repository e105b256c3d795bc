"""Test cases and batch results in a team's PostgreSQL: the SQLite store's tables, in the run
history's database, so every replica of a deployment reads and writes the same cases.

The tables are created with `IF NOT EXISTS` inside one transaction holding an advisory lock of their
own, so replicas that start together do not race, and the history's migrations are never touched.
Connections, retries and error texts are the history store's (`history.postgres.PostgresPool`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import psycopg
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
from fruxon_playground.history.model import now_ms
from fruxon_playground.history.postgres import PostgresPool, jsonb, nul_free

T = TypeVar("T")
_LOCK_KEY = 0x46_72_75_78_6F_6E_43  # "FruxonC": the advisory lock every replica creates the case tables under
SCOPE = "owner = %s AND tenant = %s AND agent = %s"

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS playground_test_cases (
        id text PRIMARY KEY, owner text NOT NULL, tenant text NOT NULL, agent text NOT NULL,
        name text NOT NULL, name_key text NOT NULL, position integer NOT NULL,
        created_at_ms bigint NOT NULL, updated_at_ms bigint NOT NULL, body jsonb NOT NULL,
        UNIQUE (owner, tenant, agent, name_key))""",
    """CREATE TABLE IF NOT EXISTS playground_test_case_demo_loads (
        owner text NOT NULL, tenant text NOT NULL, agent text NOT NULL, loaded_at_ms bigint NOT NULL,
        PRIMARY KEY (owner, tenant, agent))""",
    """CREATE TABLE IF NOT EXISTS playground_test_batches (
        id text PRIMARY KEY, owner text NOT NULL, tenant text NOT NULL, agent text NOT NULL,
        created_at_ms bigint NOT NULL, target_label text NOT NULL, summary text NOT NULL,
        total integer NOT NULL, passed integer NOT NULL, failed integer NOT NULL, body jsonb NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS playground_test_batches_scope ON playground_test_batches (owner, tenant, agent, created_at_ms DESC)",
)

# One statement, so it needs no transaction block: a new case goes last in its scope; an existing id
# is updated only within its own scope. A clash on the name key is left to raise UniqueViolation.
_SAVE_CASE = f"""INSERT INTO playground_test_cases AS c (id, owner, tenant, agent, name, name_key, position, created_at_ms,
        updated_at_ms, body)
    SELECT %s, %s, %s, %s, %s, %s, COALESCE(MAX(position), 0) + 1, %s, %s, %s FROM playground_test_cases WHERE {SCOPE}
    ON CONFLICT (id) DO UPDATE SET name = excluded.name, name_key = excluded.name_key,
        updated_at_ms = excluded.updated_at_ms, body = excluded.body
    WHERE c.owner = excluded.owner AND c.tenant = excluded.tenant AND c.agent = excluded.agent"""
_BATCH_COLUMNS = ("id", "owner", "tenant", "agent", "created_at_ms", "target_label", "summary", "total", "passed",
                  "failed", "body")
_SAVE_BATCH = (f"INSERT INTO playground_test_batches ({', '.join(_BATCH_COLUMNS)}) "
               f"VALUES ({', '.join('%s' for _ in _BATCH_COLUMNS)}) ON CONFLICT (id) DO UPDATE SET "
               + ", ".join(f"{c} = excluded.{c}" for c in _BATCH_COLUMNS[1:]))


def _create_tables(conn: psycopg.Connection[Any]) -> None:
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
        for statement in SCHEMA:
            conn.execute(statement)


def _scope(scope: CaseScope) -> tuple[str, str, str]:
    return nul_free(scope.owner), nul_free(scope.tenant), nul_free(scope.agent)


class PostgresCaseStore:
    def __init__(self, url: str, *, max_connections: int = 4, connect_timeout_s: float = 10.0) -> None:
        self._db = PostgresPool(url, what="test cases", error=CaseStoreUnavailable, setup=_create_tables,
                                name="playground-cases", max_connections=max_connections,
                                connect_timeout_s=connect_timeout_s)
        self.location = self._db.location

    def _call(self, work: Callable[[psycopg.Connection[Any]], T]) -> T:
        try:
            return self._db.call(work)
        except psycopg.Error as exc:  # e.g. the tables were dropped under a running server
            raise self._db.unavailable(exc) from exc

    def _rows(self, sql: str, params: tuple[Any, ...]) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = self._call(lambda conn: conn.execute(sql, params).fetchall())
        return rows

    def close(self) -> None:
        self._db.close()

    # -- cases ---------------------------------------------------------------------------------------
    def list_cases(self, scope: CaseScope) -> list[TestCase]:
        rows = self._rows(f"SELECT body FROM playground_test_cases WHERE {SCOPE} ORDER BY position, created_at_ms", _scope(scope))
        cases = []
        for row in rows:
            try:
                cases.append(TestCase.model_validate(row["body"]))
            except ValidationError:
                continue  # a row written by a newer version that this one cannot read
        return cases

    def save_case(self, scope: CaseScope, case: TestCase) -> TestCase:
        case = stored_case(scope, case)
        now = now_ms()
        name = nul_free(case.name)
        params = (nul_free(case.id), *_scope(scope), name, name.casefold(), now, now, jsonb(case.as_json()),
                  *_scope(scope))

        def work(conn: psycopg.Connection[Any]) -> None:
            try:
                conn.execute(_SAVE_CASE, params)
            except psycopg.errors.UniqueViolation as exc:
                raise DuplicateCaseName(f"Another case of {scope.agent} is already named “{case.name}”.") from exc

        self._call(work)
        return case

    def import_cases(self, scope: CaseScope, cases: list[TestCase]) -> tuple[int, int]:
        return import_by_name(self, scope, cases)

    def delete_case(self, scope: CaseScope, case_id: str) -> bool:
        params = (nul_free(case_id), *_scope(scope))
        return self._call(lambda conn: conn.execute(f"DELETE FROM playground_test_cases WHERE id = %s AND {SCOPE}",
                                                    params).rowcount > 0)

    # -- demo cases ----------------------------------------------------------------------------------
    def demo_loaded(self, scope: CaseScope) -> bool:
        return bool(self._rows(f"SELECT 1 AS x FROM playground_test_case_demo_loads WHERE {SCOPE}", _scope(scope)))

    def claim_demo(self, scope: CaseScope) -> bool:
        return bool(self._rows("INSERT INTO playground_test_case_demo_loads (owner, tenant, agent, loaded_at_ms) "
                               "VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING RETURNING agent", (*_scope(scope), now_ms())))

    # -- batches -------------------------------------------------------------------------------------
    def save_batch(self, scope: CaseScope, batch: BatchResult) -> None:
        batch = batch.masked()  # secret-shaped text quoted by a check or an error stays out of the database
        params = (nul_free(batch.id), *_scope(scope), batch.started_at_ms, nul_free(batch.target_label),
                  batch.summary, len(batch.outcomes), batch.count(CaseStatus.PASSED), batch.count(CaseStatus.FAILED),
                  jsonb(batch.as_json()))
        self._call(lambda conn: conn.execute(_SAVE_BATCH, params))

    def list_batches(self, scope: CaseScope, limit: int = 20) -> list[BatchSummary]:
        rows = self._rows("SELECT id, created_at_ms, target_label, summary, total, passed, failed FROM playground_test_batches "
                          f"WHERE {SCOPE} ORDER BY created_at_ms DESC LIMIT %s", (*_scope(scope), limit))
        return [BatchSummary(row["id"], row["created_at_ms"], row["target_label"], row["summary"], row["total"],
                             row["passed"], row["failed"]) for row in rows]

    def get_batch(self, scope: CaseScope, batch_id: str) -> BatchResult | None:
        rows = self._rows(f"SELECT body FROM playground_test_batches WHERE id = %s AND {SCOPE}",
                          (nul_free(batch_id), *_scope(scope)))
        return BatchResult.from_json(rows[0]["body"]) if rows else None
