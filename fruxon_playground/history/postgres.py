"""The shared history for a team: PostgreSQL through psycopg 3 and a connection pool.

Migrations run on open inside one transaction holding an advisory lock, so replicas that start
together migrate once. Bodies are `jsonb`; text search uses a pg_trgm GIN index when the extension
can be created (it is a trusted extension: the database owner may create it).
"""

from __future__ import annotations

import builtins
import json
import re
from collections.abc import Callable, Iterable
from contextlib import suppress
from dataclasses import replace
from typing import Any, TypeVar
from urllib.parse import urlsplit

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool, PoolTimeout

from fruxon_playground._gc import cyclic_gc_paused
from fruxon_playground.contract.secrets import mask_text
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

T = TypeVar("T")
RUNS = "playground_runs"
BODIES = "playground_run_bodies"
COUNTS = "playground_run_counts"
VERSION_TABLE = "playground_history_version"
_MIN_TRIGRAM = 3
_LOCK_KEY = 0x46_72_75_78_6F_6E_48  # "FruxonH": the advisory lock every replica migrates under
_LIVE = "(" + ", ".join(f"'{s}'" for s in LIVE_STATUSES) + ")"
_STALE = f"status IN {_LIVE} AND GREATEST(heartbeat_at_ms, updated_at_ms) < %s"

_V1 = [
    f"""CREATE TABLE {RUNS} (
        id text PRIMARY KEY, owner text NOT NULL, created_at_ms bigint NOT NULL, updated_at_ms bigint NOT NULL,
        heartbeat_at_ms bigint, kind text NOT NULL, agent_id text NOT NULL, status text NOT NULL, revision integer,
        group_id text, label text, base_url text, tenant text, started_at_ms bigint, duration_ms double precision,
        total_cost double precision NOT NULL DEFAULT 0, input_tokens bigint NOT NULL DEFAULT 0,
        output_tokens bigint NOT NULL DEFAULT 0, execution_record_id text, session_id text, environment_slug text,
        error text, answer_preview text, search_text text NOT NULL DEFAULT '')""",
    f"""CREATE TABLE {BODIES} (
        id text PRIMARY KEY REFERENCES {RUNS} (id) ON DELETE CASCADE, request jsonb NOT NULL, response jsonb,
        events jsonb NOT NULL, trace jsonb, answer text)""",
    f"CREATE INDEX playground_runs_time ON {RUNS} (created_at_ms DESC, id DESC)",
    f"CREATE INDEX playground_runs_owner_time ON {RUNS} (owner, created_at_ms DESC, id DESC)",
    f"CREATE INDEX playground_runs_agent_time ON {RUNS} (agent_id, created_at_ms DESC, id DESC)",
    f"CREATE INDEX playground_runs_owner_agent_time ON {RUNS} (owner, agent_id, created_at_ms DESC, id DESC)",
    f"CREATE INDEX playground_runs_status_time ON {RUNS} (status, created_at_ms DESC, id DESC)",
    f"CREATE INDEX playground_runs_owner_status_time ON {RUNS} (owner, status, created_at_ms DESC, id DESC)",
    f"CREATE INDEX playground_runs_group ON {RUNS} (group_id, created_at_ms DESC) WHERE group_id IS NOT NULL",
    f"CREATE INDEX playground_runs_live ON {RUNS} (status) WHERE status IN {_LIVE}",
]
_TRIGRAM = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    f"CREATE INDEX playground_runs_search ON {RUNS} USING gin (search_text gin_trgm_ops)",
]


def _create_v1(conn: psycopg.Connection[Any]) -> None:
    for statement in _V1:
        conn.execute(statement)


def _trigram_search(conn: psycopg.Connection[Any]) -> None:
    try:
        with conn.transaction():  # a savepoint: without the extension, search still works, by scanning
            for statement in _TRIGRAM:
                conn.execute(statement)
    except psycopg.DatabaseError:  # no privilege to create it, or a server without contrib extensions
        pass


# Exact counts for the History pager without counting rows: one counter per (owner, agent, status,
# kind), kept by a trigger in the same transaction as the run. COUNT(*) over 100,000 runs costs
# PostgreSQL ~5-10 ms where SQLite's b-tree count takes ~1 ms.
_COUNTS = [
    f"""CREATE TABLE {COUNTS} (
        owner text NOT NULL, agent_id text NOT NULL, status text NOT NULL, kind text NOT NULL, n bigint NOT NULL,
        PRIMARY KEY (owner, agent_id, status, kind))""",
    f"""CREATE FUNCTION playground_bump_count(k text[], delta integer) RETURNS void LANGUAGE sql AS $$
        INSERT INTO {COUNTS} AS c VALUES (k[1], k[2], k[3], k[4], delta)
        ON CONFLICT (owner, agent_id, status, kind) DO UPDATE SET n = c.n + excluded.n $$""",
    """CREATE FUNCTION playground_count_run() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        before text[];
        after text[];
    BEGIN
        IF TG_OP <> 'INSERT' THEN before := ARRAY[OLD.owner, OLD.agent_id, OLD.status, OLD.kind]; END IF;
        IF TG_OP <> 'DELETE' THEN after := ARRAY[NEW.owner, NEW.agent_id, NEW.status, NEW.kind]; END IF;
        IF before IS NOT DISTINCT FROM after THEN RETURN NULL; END IF;
        -- Counters are locked in key order, so two transactions never wait for each other in a circle.
        IF before IS NOT NULL AND (after IS NULL OR before < after) THEN
            PERFORM playground_bump_count(before, -1);
            before := NULL;
        END IF;
        IF after IS NOT NULL THEN PERFORM playground_bump_count(after, 1); END IF;
        IF before IS NOT NULL THEN PERFORM playground_bump_count(before, -1); END IF;
        RETURN NULL;
    END $$""",
    f"""CREATE TRIGGER playground_runs_count AFTER INSERT OR DELETE OR UPDATE OF owner, agent_id, status, kind
        ON {RUNS} FOR EACH ROW EXECUTE FUNCTION playground_count_run()""",
    f"INSERT INTO {COUNTS} SELECT owner, agent_id, status, kind, count(*) FROM {RUNS} GROUP BY 1, 2, 3, 4",
]


def _counts(conn: psycopg.Connection[Any]) -> None:
    for statement in _COUNTS:
        conn.execute(statement)


def _trace_views(conn: psycopg.Connection[Any]) -> None:
    conn.execute(f"ALTER TABLE {BODIES} ADD COLUMN trace_view bytea")  # `trace_view_of`, written by `save`


MIGRATIONS: list[Callable[[psycopg.Connection[Any]], None]] = [_create_v1, _trigram_search, _counts, _trace_views]
_COUNTED = ("owner", "agent_id", "status", "kind")  # filters the counters answer; text and group count rows

_UPSERT_RUN = (f"INSERT INTO {RUNS} ({', '.join(RUN_COLUMNS)}) VALUES ({', '.join('%s' for _ in RUN_COLUMNS)}) "
               f"ON CONFLICT (id) DO UPDATE SET {', '.join(f'{c} = excluded.{c}' for c in RUN_COLUMNS[1:])}")
_SAVED_BODY = (*BODY_COLUMNS, "trace_view")
# Both rows in one statement: atomic without a transaction block, and one round trip.
_SAVE = (f"WITH saved AS ({_UPSERT_RUN} RETURNING id) "
         f"INSERT INTO {BODIES} ({', '.join(_SAVED_BODY)}) "
         f"SELECT saved.id, {', '.join('%s' for _ in _SAVED_BODY[1:])} FROM saved "
         f"ON CONFLICT (id) DO UPDATE SET {', '.join(f'{c} = excluded.{c}' for c in _SAVED_BODY[1:])}")
# PostgreSQL text cannot hold NUL: an escaped one in JSON text (an even run of backslashes before it)
# and a raw one in a text column both become U+FFFD.
_JSON_NUL = re.compile(r"(?<!\\)((?:\\\\)*)\\u0000")


def _dumps(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return _JSON_NUL.sub(r"\1\\ufffd", text) if "\\u0000" in text else text


def nul_free(value: Any) -> Any:
    """A text parameter PostgreSQL can hold (anything else unchanged)."""
    return value.replace("\x00", "\ufffd") if isinstance(value, str) and "\x00" in value else value


def jsonb(value: Any) -> Jsonb:
    """A jsonb parameter PostgreSQL can hold."""
    return Jsonb(value, dumps=_dumps)


def like_pattern(text: str) -> str:
    """A lowercased LIKE pattern matching `text` anywhere (PostgreSQL's LIKE escapes with a backslash)."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def describe(url: str) -> str:
    """Where a PostgreSQL URL points, without user, password or options."""
    parts = urlsplit(url)
    host = parts.hostname or "localhost"
    return f"postgresql://{host}{f':{parts.port}' if parts.port else ''}{parts.path}"


class PostgresPool:
    """Autocommit connections to one database for a store of the playground (run history, test cases).

    `setup` (the store's migrations) runs first on one direct connection: a wrong URL or a server
    that is down fails at once with libpq's reason, instead of the pool retrying until its timeout.
    Failures come out as `error(message)`, naming `what` and the database but never the password.
    """

    def __init__(self, url: str, *, what: str, error: Callable[[str], Exception],
                 setup: Callable[[psycopg.Connection[Any]], None], name: str, max_connections: int = 10,
                 connect_timeout_s: float = 10.0) -> None:
        self.location = describe(url)
        self._what = what
        self._error = error
        self._password = urlsplit(url).password
        timeout = max(1, int(connect_timeout_s))
        try:
            with psycopg.connect(url, autocommit=True, connect_timeout=timeout, row_factory=dict_row) as conn:
                setup(conn)
        except psycopg.OperationalError as exc:
            raise error(f"The {what} database at {self.location} cannot be reached ({self.reason(exc)}). "
                        "Check that PostgreSQL is running and PLAYGROUND_HISTORY_URL (user, password, "
                        "database).") from exc
        except psycopg.Error as exc:
            raise self.unavailable(exc) from exc
        self._pool = ConnectionPool(url, min_size=1, max_size=max_connections, open=False, name=name,
                                    kwargs={"autocommit": True, "connect_timeout": timeout, "row_factory": dict_row},
                                    timeout=connect_timeout_s)
        try:
            self._pool.open(wait=True, timeout=connect_timeout_s)
        except PoolTimeout as exc:
            self._pool.close()
            raise self.unavailable(exc) from exc

    def reason(self, exc: Exception) -> str:
        """The first line of a driver error, with the password masked should libpq ever quote it."""
        lines = str(exc).strip().splitlines()
        return mask_text(lines[0] if lines else type(exc).__name__, (self._password,))

    def unavailable(self, exc: Exception) -> Exception:
        return self._error(f"The {self._what} database at {self.location} failed ({self.reason(exc)}). "
                           "Check PostgreSQL and reload.")

    def call(self, work: Callable[[psycopg.Connection[Any]], T]) -> T:
        """`work` on a pooled connection. Every call is idempotent, so one dropped by the server (a
        PostgreSQL restart) is tried again on a fresh connection, and one PostgreSQL undid to break a
        deadlock is simply tried again."""
        for attempt in (1, 2, 3):
            try:
                with self._pool.connection() as conn:
                    return work(conn)
            except (psycopg.errors.DeadlockDetected, psycopg.errors.SerializationFailure) as exc:
                if attempt == 3:  # PostgreSQL chose this statement to undo: run it again
                    raise self.unavailable(exc) from exc
            except psycopg.OperationalError as exc:
                if attempt == 3 or not conn.broken:
                    raise self.unavailable(exc) from exc
                self._pool.check()  # drop every other idle connection that died with it
            except PoolTimeout as exc:
                raise self.unavailable(exc) from exc
        raise AssertionError("unreachable")

    def close(self) -> None:
        self._pool.close()


class PostgresRunStore(RunStore):
    def __init__(self, url: str, *, stale_after_s: float = DEFAULT_STALE_AFTER_S, clock: Callable[[], int] = now_ms,
                 max_connections: int = 10, connect_timeout_s: float = 10.0) -> None:
        super().__init__(stale_after_s=stale_after_s, clock=clock)
        self.location = describe(url)
        self._db = PostgresPool(url, what="run history", error=HistoryUnavailable, setup=self._migrate,
                                name="playground-history", max_connections=max_connections,
                                connect_timeout_s=connect_timeout_s)
        self.search_indexed = bool(self._one("SELECT 1 AS x FROM pg_indexes WHERE indexname = 'playground_runs_search'"))

    def _migrate(self, conn: psycopg.Connection[Any]) -> None:
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
            conn.execute(f"CREATE TABLE IF NOT EXISTS {VERSION_TABLE} (version integer NOT NULL)")
            row = conn.execute(f"SELECT version FROM {VERSION_TABLE}").fetchone()
            version = row["version"] if row else 0
            if version > len(MIGRATIONS):
                raise newer_schema(self.location, version, len(MIGRATIONS))
            for step in MIGRATIONS[version:]:
                step(conn)
            if row is None:
                conn.execute(f"INSERT INTO {VERSION_TABLE} (version) VALUES (%s)", (len(MIGRATIONS),))
            elif version < len(MIGRATIONS):
                conn.execute(f"UPDATE {VERSION_TABLE} SET version = %s", (len(MIGRATIONS),))

    def schema_version(self) -> int:
        row = self._one(f"SELECT version FROM {VERSION_TABLE}")
        return int(row["version"]) if row else 0

    def _one(self, sql: str, params: Iterable[Any] = ()) -> dict[str, Any] | None:
        row: dict[str, Any] | None = self._db.call(lambda conn: conn.execute(sql, tuple(params)).fetchone())
        return row

    # -- writing ------------------------------------------------------------------------------------
    def save(self, run: SavedRun, *, secrets: Iterable[str | None] = ()) -> SavedRun:
        run = replace(masked(run, secrets), updated_at_ms=self.clock())
        row, body = run_row(run), body_row(run)
        params = (*(nul_free(row[c]) for c in RUN_COLUMNS),
                  *(jsonb(body[c]) if c in JSON_COLUMNS and body[c] is not None else nul_free(body[c])
                    for c in BODY_COLUMNS[1:]),
                  trace_view_of(run))
        self._db.call(lambda conn: conn.execute(_SAVE, params))
        return run

    def heartbeat(self, run_id: str, at_ms: int) -> None:
        self._db.call(lambda conn: conn.execute(f"UPDATE {RUNS} SET heartbeat_at_ms = %s WHERE id = %s", (at_ms, run_id)))

    def delete(self, run_id: str, owner: str | None) -> bool:
        owned = "" if owner is None else " AND owner = %s"
        params = (run_id,) if owner is None else (run_id, owner)
        return self._db.call(lambda conn: conn.execute(f"DELETE FROM {RUNS} WHERE id = %s{owned}", params).rowcount > 0)

    def _interrupt_stale(self, conn: psycopg.Connection[Any], run_id: str | None = None) -> None:
        """Runs whose process stopped heartbeating end "interrupted", their events kept."""
        only = "" if run_id is None else " AND id = %s"
        params: tuple[Any, ...] = (self.stale_cutoff_ms(),) if run_id is None else (self.stale_cutoff_ms(), run_id)
        with suppress(psycopg.errors.DeadlockDetected):  # another replica is interrupting the same runs
            conn.execute(f"UPDATE {RUNS} SET status = %s, error = COALESCE(error, %s), updated_at_ms = %s "
                         f"WHERE {_STALE}{only}", (INTERRUPTED, INTERRUPTED_ERROR, self.clock(), *params))

    # -- reading ------------------------------------------------------------------------------------
    def _current(self, sql: str, run_id: str) -> dict[str, Any] | None:
        """The row of `sql` (which selects `r.*` of one run), after marking the run interrupted when
        it is stale."""
        def work(conn: psycopg.Connection[Any]) -> dict[str, Any] | None:
            with cyclic_gc_paused():  # a big trace's jsonb: millions of objects at once
                row: dict[str, Any] | None = conn.execute(sql, (run_id,)).fetchone()
            if row is not None and row["status"] in LIVE_STATUSES and \
                    max(row["heartbeat_at_ms"] or 0, row["updated_at_ms"]) < self.stale_cutoff_ms():
                self._interrupt_stale(conn, run_id)
                row = conn.execute(sql, (run_id,)).fetchone()
            return row

        return self._db.call(work)

    def get(self, run_id: str) -> SavedRun | None:
        row = self._current(f"SELECT r.*, b.request, b.response, b.events, b.trace, b.answer "
                            f"FROM {RUNS} AS r JOIN {BODIES} AS b ON b.id = r.id WHERE r.id = %s", run_id)
        return run_from(row) if row is not None else None

    def summary(self, run_id: str) -> RunSummary | None:
        row = self._current(f"SELECT r.* FROM {RUNS} AS r WHERE r.id = %s", run_id)
        return summary_from(row) if row is not None else None

    def trace_view(self, run_id: str) -> bytes | None:
        row = self._one(f"SELECT trace_view FROM {BODIES} WHERE id = %s", (run_id,))
        return bytes(row["trace_view"]) if row is not None and row["trace_view"] is not None else None

    def trace_text(self, run_id: str) -> str | None:
        row = self._one(f"SELECT trace::text AS trace FROM {BODIES} WHERE id = %s", (run_id,))
        return row["trace"] if row is not None else None

    def _where(self, query: RunQuery) -> tuple[str, list[Any]]:
        where: list[str] = []
        params: list[Any] = []
        for column in ("owner", "agent_id", "status", "kind", "group_id"):
            value = getattr(query, column)
            if value is not None and (value != "" or column == "owner"):
                where.append(f"{column} = %s")
                params.append(nul_free(value))
        text = (query.text or "").strip()
        if len(text) >= _MIN_TRIGRAM:
            where.append("search_text LIKE %s")  # the form pg_trgm's index answers
            params.append(nul_free(like_pattern(text)))
        elif text:  # too short for a trigram: LIKE would read the whole GIN index, a scan is faster
            where.append("strpos(search_text, %s) > 0")
            params.append(nul_free(text.lower()))
        return (" WHERE " + " AND ".join(where)) if where else "", params

    def list(self, query: RunQuery) -> RunPage:
        limit, offset = clamp(query)
        where, params = self._where(query)
        sweep = self.sweep_due()

        if (query.text or "").strip() or query.group_id is not None:
            count_sql, count_params = f"SELECT COUNT(*) AS n FROM {RUNS}{where}", params
        else:
            counted = [(c, getattr(query, c)) for c in _COUNTED if getattr(query, c) is not None]
            count_sql = (f"SELECT COALESCE(SUM(n), 0) AS n FROM {COUNTS}"
                         + (" WHERE " + " AND ".join(f"{c} = %s" for c, _ in counted) if counted else ""))
            count_params = [nul_free(v) for _, v in counted]

        def work(conn: psycopg.Connection[Any]) -> tuple[builtins.list[dict[str, Any]], int]:
            if sweep:
                self._interrupt_stale(conn)
            with conn.pipeline():  # the page and its count in one round trip
                page = conn.execute(f"SELECT {', '.join(LISTED)} FROM {RUNS}{where} "
                                    "ORDER BY created_at_ms DESC, id DESC LIMIT %s OFFSET %s", (*params, limit, offset))
                count = conn.execute(count_sql, count_params)
            return page.fetchall(), int(count.fetchone()["n"])  # type: ignore[index]

        rows, total = self._db.call(work)
        return RunPage(items=[summary_from(r) for r in rows], total=total)

    def _distinct(self, column: str, owner: str | None, *, sweep: bool = False) -> builtins.list[str]:
        owned = "" if owner is None else " AND owner = %s"
        params = () if owner is None else (owner,)

        def work(conn: psycopg.Connection[Any]) -> builtins.list[str]:
            if sweep:
                self._interrupt_stale(conn)
            rows = conn.execute(f"SELECT DISTINCT {column} AS v FROM {COUNTS} WHERE n > 0{owned} ORDER BY v", params)
            return [r["v"] for r in rows.fetchall()]

        return self._db.call(work)

    def distinct_agents(self, owner: str | None) -> builtins.list[str]:
        return self._distinct("agent_id", owner)

    def distinct_statuses(self, owner: str | None) -> builtins.list[str]:
        return self._distinct("status", owner, sweep=self.sweep_due())

    def close(self) -> None:
        self._db.close()
