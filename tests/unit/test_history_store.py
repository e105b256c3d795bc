"""The run store's behaviour, the same suite against SQLite and against PostgreSQL 15 on loopback."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import psycopg
import pytest

from fruxon_playground.history import (
    INTERRUPTED_ERROR,
    HistoryUnavailable,
    RunQuery,
    RunStore,
    SavedRun,
    open_store,
)
from fruxon_playground.history.postgres import PostgresRunStore
from fruxon_playground.history.sqlite import SqliteRunStore
from fruxon_playground.trace.rows import TraceView, unpack_rows
from tests.team.postgres import LocalPostgres, local_postgres  # noqa: F401  (the session fixture)

ROOT = Path(__file__).resolve().parents[2]
KEY = "plain-connection-key-7731"  # the connection's own key: no known shape, masked by exact match
T0 = 1_800_000_000_000


class Clock:
    def __init__(self, now: int = T0) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def new_location(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], str]]:
    """Makes empty history locations of the backend under test (a file, or a fresh database)."""
    made: list[str] = []
    pg: LocalPostgres | None = request.getfixturevalue("local_postgres") if backend == "postgres" else None

    def make() -> str:
        location = pg.new_database() if pg else str(tmp_path / f"h{len(made)}" / "history.sqlite3")
        made.append(location)
        return location

    yield make
    for location in made if pg else ():
        pg.drop_database(location)  # type: ignore[union-attr]


@pytest.fixture
def opener(new_location: Callable[[], str]) -> Iterator[Callable[..., RunStore]]:
    """Opens stores on one location (several instances = several processes of a deployment)."""
    location = new_location()
    stores: list[RunStore] = []

    def open_(clock: Clock | None = None, stale_after_s: float = 30.0) -> RunStore:
        kind = PostgresRunStore if location.startswith("postgresql://") else SqliteRunStore
        store = kind(location, stale_after_s=stale_after_s, clock=clock or Clock())
        stores.append(store)
        return store

    open_.location = location  # type: ignore[attr-defined]
    yield open_
    for store in stores:
        store.close()


@pytest.fixture
def store(opener: Callable[..., RunStore]) -> RunStore:
    return opener()


def run(**changes) -> SavedRun:
    base = {"kind": "stream", "agent_id": "support_agent", "status": "completed", "owner": "me",
            "request": {"parameters": {"question": "How do I export my data?"}}}
    return SavedRun(**{**base, **changes})


def stored_text(location: str) -> str:
    """Everything the backend holds, as text: the SQLite file and its WAL, or every table's rows."""
    if location.startswith("postgresql://"):
        with psycopg.connect(location) as conn:
            rows = conn.execute("SELECT r::text FROM playground_runs r UNION ALL SELECT b::text FROM playground_run_bodies b")
            return "\n".join(r[0] for r in rows)
    path = Path(location)
    return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*")).decode("utf-8", "replace")


def test_a_run_round_trips_with_every_field(store: RunStore) -> None:
    events = [{"event": "text", "data": json.dumps({"chunk": f"part {i} "}), "t_ms": i * 10.5} for i in range(300)]
    trace = {"totalCost": 0.0012, "steps": [{"name": f"step {i}", "durationMs": i} for i in range(50)]}
    original = run(status="rejected", revision=3, group_id="pair-1", label="rev 3", events=events, trace=trace,
                   response={"response": "final words", "executionRecordId": "rec-1"}, duration_ms=1234.5,
                   total_cost=0.0012, input_tokens=10, output_tokens=20, environment_slug="acme",
                   execution_record_id="rec-1", session_id="s-1", started_at_ms=T0 - 5)
    saved = store.save(original)
    got = store.get(original.id)
    assert got == saved
    assert got.events == events and got.trace == trace and got.revision == 3 and got.label == "rev 3"
    assert got.answer == "final words"  # taken from the response when the caller gives none
    assert store.get("no-such-run") is None


def test_a_run_that_ended_is_stored_with_its_trace_view_and_opens_without_its_bodies(store: RunStore) -> None:
    tool = {"id": "t1", "displayName": "lookup", "type": "TOOL", "status": "SUCCESS", "startTime": T0 + 1,
            "endTime": T0 + 5, "toolTrace": {"parameters": {"apiKey": KEY, "city": "Oslo"}}, "steps": []}
    trace = {"agentId": "support_agent", "traces": [{"id": "a1", "displayName": "Agent", "type": "AGENT",
                                                     "status": "SUCCESS", "startTime": T0, "endTime": T0 + 9,
                                                     "steps": [tool]}]}
    ended = store.save(run(trace=trace, base_url="https://api.example", tenant="acme"), secrets=(KEY,))
    view = TraceView.from_bytes(store.trace_view(ended.id))
    assert unpack_rows(view.rows_payload())["name"] == ["Agent", "lookup"]
    detail = json.loads(view.details.get("t1"))
    assert detail["raw"]["toolTrace"]["parameters"] == {"apiKey": "••••", "city": "Oslo"}  # packed after masking
    head = store.summary(ended.id)
    assert (head.id, head.status, head.owner, head.base_url, head.tenant) == (ended.id, "completed", "me",
                                                                            "https://api.example", "acme")
    assert json.loads(store.trace_text(ended.id)) == store.get(ended.id).trace
    running = store.save(run(status="running", trace=trace))
    assert store.trace_view(running.id) is None and store.summary(running.id).status == "running"
    store.save(replace(running, status="failed"))  # ended since: packed now
    assert TraceView.from_bytes(store.trace_view(running.id)).digest == view.digest
    assert store.trace_view(store.save(run()).id) is None  # no trace, no view
    assert store.summary("no-such-run") is None and store.trace_view("no-such-run") is None
    assert store.trace_text("no-such-run") is None


def test_the_answer_of_a_streamed_run_comes_from_its_text_events(store: RunStore) -> None:
    events = [{"event": "text", "data": '{"chunk":"Hel"}', "t_ms": 1}, {"event": "step", "data": "{}", "t_ms": 2},
              {"event": "text", "data": '{"chunk":"lo"}', "t_ms": 3}, {"event": "text", "data": "not json", "t_ms": 4}]
    saved = store.save(run(events=events))
    assert saved.answer == "Hello"
    (summary,) = store.list(RunQuery("me")).items
    assert summary.answer_preview == "Hello"


def test_save_masks_secrets_everywhere_and_exports_mask_again(opener) -> None:
    store = opener()
    secret_run = run(
        request={"parameters": {"q": "fx_pat_leaked_key_000"}, "llmConfigs": [{"parameters": {"apiKey": "sk-secret-123456"}}]},
        response={"response": f"echo {KEY}", "debug": {"authorization": "Bearer abcdefghijklmnop"}},
        events=[{"event": "text", "data": json.dumps({"chunk": "sk_live_abcdefghijk", "password": "hunter22"}), "t_ms": 1}],
        trace={"steps": [{"input": {"token": "tok-123456789"}}]},
        error=f"401: the server echoed X-API-KEY: {KEY}",
        base_url="https://alice:s3cretpass@api.example.com/v1",
        status="failed",
    )
    saved = store.save(secret_run, secrets=(KEY,))
    text = stored_text(opener.location)
    for secret in ("fx_pat_leaked", "sk-secret", KEY, "abcdefghijklmnop", "sk_live_abc", "hunter22", "tok-123456789",
                   "s3cretpass", "alice"):
        assert secret not in text, secret
    assert saved.base_url == "https://api.example.com/v1"
    assert store.get(saved.id).error.startswith("401: the server echoed X-API-KEY: ••••")
    # A key saved before it was known (no exact match) is still masked when exported with it.
    other = store.save(run(error=f"echo {KEY}"))
    assert KEY in store.get(other.id).error
    bundle = store.export_bundle(other.id, secrets=(KEY,))
    assert KEY not in json.dumps(bundle) and "owner" not in bundle["run"]


def test_lists_are_newest_first_filtered_searched_and_paged(store: RunStore) -> None:
    for i in range(30):
        store.save(run(created_at_ms=T0 + i, agent_id=("support_agent", "trip_planner", "echo_agent")[i % 3],
                       status=("completed", "failed")[i % 2], kind=("stream", "execute")[i % 2],
                       request={"parameters": {"city": f"City {i:02d}", "note": "100%_sure" if i == 7 else "plain"}},
                       answer=f"Answer number {i}", error="Upstream TIMEOUT" if i == 13 else None,
                       group_id="batch-a" if i < 4 else None, label=f"case {i}"))
    store.save(run(owner="someone else", created_at_ms=T0 + 99, request={"parameters": {"city": "City 05"}}))

    page = store.list(RunQuery("me", limit=10))
    assert page.total == 30 and [r.created_at_ms for r in page.items] == [T0 + i for i in range(29, 19, -1)]
    pages = [store.list(RunQuery("me", limit=7, offset=o)).items for o in range(0, 30, 7)]
    assert [r.created_at_ms for p in pages for r in p] == [T0 + i for i in range(29, -1, -1)]
    assert store.list(RunQuery("me", offset=30)).items == [] and store.list(RunQuery("me", offset=30)).total == 30

    def ids(**filters) -> list[int]:
        return sorted(r.created_at_ms - T0 for r in store.list(RunQuery("me", limit=500, **filters)).items)

    assert ids(agent_id="trip_planner") == list(range(1, 30, 3))
    assert ids(status="failed", kind="execute") == list(range(1, 30, 2))
    assert ids(agent_id="echo_agent", status="completed") == [2, 8, 14, 20, 26]
    assert ids(group_id="batch-a") == [0, 1, 2, 3]
    assert ids(text="city 05") == [5]  # input parameters, case-insensitive
    assert ids(text="ANSWER NUMBER 2") == [2, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29]  # the answer
    assert ids(text="timeout") == [13]  # the error
    assert ids(text="trip_plan") == list(range(1, 30, 3))  # the agent id
    assert ids(text="100%_") == [7] and ids(text="0%") == [7]  # LIKE wildcards are plain characters
    assert ids(text="e 1") == [1, *range(10, 20)]  # the label: "case 1", "case 10"…
    assert ids(text="no such words") == []
    assert store.list(RunQuery("me", text="answer", limit=5)).total == 30
    assert store.list(RunQuery(None, text="City 05")).total == 2  # every owner


def test_totals_always_match_the_runs_listed(opener) -> None:
    clock = Clock(T0)
    store = opener(clock)
    saved = [store.save(run(owner=("me", "you")[i % 2], agent_id=("a", "b", "c")[i % 3], kind=("stream", "execute")[i % 2],
                            status=("running", "completed", "failed")[i % 3], created_at_ms=T0 + i)) for i in range(24)]
    for finished in saved[:6]:
        store.save(replace(finished, status="completed"))  # running → completed, completed stays
    store.delete(saved[7].id, None)
    store.delete(saved[9].id, "me")  # not mine: kept
    clock.now += 120_000  # the remaining running runs go stale
    store.list(RunQuery(None))
    queries = [RunQuery(owner, agent_id=agent, status=status, kind=kind, limit=500)
               for owner in ("me", "you", None) for agent in ("a", "b", None)
               for status in ("running", "completed", "failed", "interrupted", None) for kind in ("stream", None)]
    for query in queries:
        page = store.list(query)
        assert page.total == len(page.items), query
    assert store.list(RunQuery(None)).total == 23
    assert store.list(RunQuery(None, status="running")).total == 0
    assert store.list(RunQuery(None, status="interrupted")).total == 6
    assert store.distinct_statuses(None) == ["completed", "failed", "interrupted"]


def test_summaries_carry_light_columns_with_short_previews(store: RunStore) -> None:
    store.save(run(answer="x" * 5000, error="e" * 5000, events=[{"event": "text", "data": "{}", "t_ms": 1}] * 50))
    (summary,) = store.list(RunQuery("me")).items
    assert len(summary.answer_preview) == 200 and summary.answer_preview.endswith("…")
    assert len(summary.error) == 200
    assert not hasattr(summary, "events") and not hasattr(summary, "trace") and not hasattr(summary, "request")
    assert len(store.get(summary.id).answer) == 5000


def test_owners_see_and_delete_only_their_runs_but_anyone_opens_a_shared_id(store: RunStore) -> None:
    mine = store.save(run(owner="me", agent_id="a1", status="completed"))
    theirs = store.save(run(owner="them", agent_id="b2", status="failed"))
    assert [r.id for r in store.list(RunQuery("me")).items] == [mine.id]
    assert {r.id for r in store.list(RunQuery(None)).items} == {mine.id, theirs.id}
    assert store.distinct_agents("me") == ["a1"] and store.distinct_agents(None) == ["a1", "b2"]
    assert store.distinct_statuses("them") == ["failed"] and store.distinct_statuses(None) == ["completed", "failed"]
    assert store.get(theirs.id).owner == "them"  # a share link names a run, whoever owns it
    assert store.delete(theirs.id, "me") is False and store.get(theirs.id) is not None
    assert store.delete(theirs.id, "them") is True and store.get(theirs.id) is None
    assert store.delete(mine.id, None) is True and store.list(RunQuery(None)).total == 0
    assert store.delete(mine.id, None) is False


def test_a_running_run_whose_process_stopped_ends_interrupted_with_its_events(opener) -> None:
    writer_clock, reader_clock = Clock(T0), Clock(T0)
    replica_a, replica_b = opener(writer_clock), opener(reader_clock)
    events = [{"event": "text", "data": json.dumps({"chunk": f"w{i} "}), "t_ms": i} for i in range(40)]
    live = replica_a.save(run(status="running", events=events[:20]))
    abandoned = replica_a.save(run(status="running"))  # never saved again, no heartbeat
    writer_clock.now = T0 + 10_000
    replica_a.save(replace(live, events=events))  # a periodic save with the events so far
    writer_clock.now = T0 + 25_000
    replica_a.heartbeat(live.id, writer_clock.now)
    reader_clock.now = T0 + 50_000
    assert replica_b.get(live.id).status == "running"  # heartbeat 25 s ago: still alive
    assert replica_b.get(abandoned.id).status == "interrupted"  # 50 s without a sign of life
    # Replica A dies: no more heartbeats. The next reader turns the run interrupted, events kept.
    reader_clock.now = T0 + 25_000 + 30_001
    (listed,) = [r for r in replica_b.list(RunQuery("me")).items if r.id == live.id]
    assert listed.status == "interrupted" and listed.error == INTERRUPTED_ERROR
    got = replica_b.get(live.id)
    assert got.status == "interrupted" and got.events == events and got.answer.startswith("w0 w1 ")
    assert replica_b.distinct_statuses("me") == ["interrupted"]
    # A run that completed long ago is never touched; a replica that was only slow can still finish its run.
    done = replica_a.save(run(status="completed", created_at_ms=T0 - 10**9))
    assert replica_b.get(done.id).status == "completed"
    writer_clock.now = reader_clock.now
    replica_a.save(replace(got, status="completed", error=None))
    assert replica_b.get(live.id).status == "completed"


def test_a_stale_run_with_its_own_error_keeps_it(opener) -> None:
    clock = Clock(T0)
    store = opener(clock)
    saved = store.save(run(status="running", error="upstream said 503"))
    clock.now += 60_000
    assert store.get(saved.id).error == "upstream said 503" and store.get(saved.id).status == "interrupted"


def test_bundles_round_trip_to_a_new_owner(store: RunStore) -> None:
    first = store.save(run(request={"parameters": {"q": "fx_pat_leaked_key_000"}}, label="rev 2", revision=2))
    bundle = store.export_bundle(first.id)
    assert "owner" not in bundle["run"] and "fx_pat" not in json.dumps(bundle)
    imported = store.import_bundle(json.loads(json.dumps(bundle)), owner="friend")
    got = store.get(imported.id)
    assert imported.id != first.id and got.owner == "friend" and got.label == "rev 2" and got.revision == 2
    in_flight = store.export_bundle(store.save(run(status="running")).id)
    assert store.import_bundle(in_flight, owner="friend").status == "interrupted"
    old_format = {**bundle, "run": {k: v for k, v in bundle["run"].items() if k not in ("revision", "label", "answer")}}
    assert store.import_bundle(old_format, owner="x").revision is None  # bundles from before these fields
    with pytest.raises(ValueError, match="not a Fruxon Playground run bundle"):
        store.import_bundle({"format": "other"}, owner="x")
    with pytest.raises(ValueError, match="version"):
        store.import_bundle({**bundle, "version": 99}, owner="x")
    with pytest.raises(ValueError, match="incomplete"):
        store.import_bundle({**bundle, "run": {"kind": "stream"}}, owner="x")
    with pytest.raises(KeyError):
        store.export_bundle("missing")


def test_nul_characters_in_agent_output_do_not_break_saving(store: RunStore) -> None:
    saved = store.save(run(answer="before\x00after", request={"parameters": {"q": "a\x00b"}},
                           events=[{"event": "text", "data": '{"chunk":"x\\u0000y"}', "t_ms": 1}],
                           response={"response": "r\x00s", "raw": "\\u0000 kept as text"}))
    got = store.get(saved.id)
    assert got.answer.startswith("before") and got.answer.endswith("after")
    assert got.events[0]["data"] == '{"chunk":"x\\u0000y"}'  # raw event text is kept byte for byte
    assert got.response["raw"] == "\\u0000 kept as text"
    assert store.list(RunQuery("me", text="after")).total == 1


def test_twenty_concurrent_writers_lose_no_run(opener) -> None:
    shared, other_replica = opener(), opener()
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        store = shared if n % 2 else other_replica
        try:
            for i in range(15):
                live = store.save(run(owner=f"w{n}", status="running", label=f"{n}-{i}",
                                      events=[{"event": "text", "data": '{"chunk":"x"}', "t_ms": 1}] * 20))
                store.heartbeat(live.id, T0)
                store.save(replace(live, status="completed"))
                store.list(RunQuery(f"w{n}", limit=5))
        except BaseException as exc:  # collected: an exception in a thread would be lost
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert shared.list(RunQuery(None)).total == 300
    assert shared.list(RunQuery(None, status="completed")).total == 300
    assert sorted(shared.distinct_agents(None)) == ["support_agent"]
    assert {r.label for r in shared.list(RunQuery("w7", limit=500)).items} == {f"7-{i}" for i in range(15)}


def test_two_processes_opening_a_new_history_at_once_migrate_it_once(new_location: Callable[[], str]) -> None:
    script = ("import sys, time; from fruxon_playground.history import open_store, SavedRun\n"
              "location, start, name = sys.argv[1], float(sys.argv[2]), sys.argv[3]\n"
              "time.sleep(max(0.0, start - time.time()))\n"
              "store = open_store(location)\n"
              "store.save(SavedRun(kind='execute', agent_id=name, request={}, status='completed', owner='me'))\n")
    for _ in range(3):
        location = new_location()
        start = time.time() + 1.5  # both processes are up and importing by then
        procs = [subprocess.Popen([sys.executable, "-c", script, location, str(start), f"p{i}"], cwd=ROOT,
                                  stderr=subprocess.PIPE, text=True) for i in range(2)]
        for proc in procs:
            _, err = proc.communicate(timeout=60)
            assert proc.returncode == 0, err
        store = open_store(location)
        try:
            assert sorted(store.distinct_agents(None)) == ["p0", "p1"]
        finally:
            store.close()
        if location.startswith("postgresql://"):
            with psycopg.connect(location) as conn:
                assert conn.execute("SELECT version FROM playground_history_version").fetchall() == [(4,)]
        else:
            assert sqlite3.connect(location).execute("PRAGMA user_version").fetchone()[0] == 4


def test_a_database_from_before_the_counters_gets_them_on_upgrade(local_postgres: LocalPostgres) -> None:  # noqa: F811
    location = local_postgres.new_database()
    try:
        first = PostgresRunStore(location)
        for i in range(5):
            first.save(run(status=("completed", "failed")[i % 2], agent_id=f"agent{i % 2}"))
        first.close()
        with psycopg.connect(location, autocommit=True) as conn:  # back to schema 2, as the previous release left it
            conn.execute("DROP TABLE playground_run_counts; DROP TRIGGER playground_runs_count ON playground_runs; "
                         "DROP FUNCTION playground_count_run(); DROP FUNCTION playground_bump_count(text[], integer); "
                         "ALTER TABLE playground_run_bodies DROP COLUMN trace_view; "
                         "UPDATE playground_history_version SET version = 2")
        upgraded = PostgresRunStore(location)
        try:
            assert upgraded.list(RunQuery("me")).total == 5 and upgraded.list(RunQuery("me", status="failed")).total == 2
            assert upgraded.distinct_agents("me") == ["agent0", "agent1"]
            upgraded.save(run(status="failed"))
            assert upgraded.list(RunQuery("me", status="failed")).total == 3
        finally:
            upgraded.close()
    finally:
        local_postgres.drop_database(location)


def test_reopening_keeps_the_runs_and_does_not_migrate_again(opener) -> None:
    first = opener()
    saved = first.save(run())
    first.close()
    again = open_store(opener.location)
    try:
        assert again.get(saved.id) == saved
    finally:
        again.close()


def test_a_history_from_a_newer_version_is_refused_not_damaged(opener) -> None:
    opener().save(run())
    if opener.location.startswith("postgresql://"):
        with psycopg.connect(opener.location, autocommit=True) as conn:
            conn.execute("UPDATE playground_history_version SET version = 99")
    else:
        sqlite3.connect(opener.location).execute("PRAGMA user_version = 99").connection.close()
    with pytest.raises(HistoryUnavailable, match="newer version of the playground"):
        open_store(opener.location)


def test_an_unreachable_history_is_reported_without_a_raw_error(backend: str, tmp_path: Path) -> None:
    if backend == "postgres":
        location = "postgresql://playground:pw-do-not-show@127.0.0.1:9/playground"
        with pytest.raises(HistoryUnavailable, match="cannot be reached") as info:
            open_store(location)
        assert "pw-do-not-show" not in str(info.value) and "127.0.0.1:9/playground" in str(info.value)
    else:
        (tmp_path / "file").write_text("x")
        with pytest.raises(HistoryUnavailable, match="cannot be created"):
            open_store(tmp_path / "file" / "history.sqlite3")


def test_connections_the_server_dropped_are_replaced_without_an_error(local_postgres: LocalPostgres) -> None:  # noqa: F811
    location = local_postgres.new_database()
    store = PostgresRunStore(location)
    try:
        saved = store.save(run())
        workers = [threading.Thread(target=lambda: [store.list(RunQuery("me")) for _ in range(20)]) for _ in range(6)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()  # several pooled connections now
        with psycopg.connect(location, autocommit=True) as admin:  # what a PostgreSQL restart does to them
            killed = admin.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                   "WHERE datname = current_database() AND pid <> pg_backend_pid()").fetchone()[0]
        assert killed >= 2
        assert store.get(saved.id) == saved and store.list(RunQuery("me")).total == 1
    finally:
        store.close()
        local_postgres.drop_database(location)
