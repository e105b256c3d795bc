"""Run history at scale, SQLite beside PostgreSQL: list/search pages over 100,000 saved runs, saves,
and 20 concurrent writers (targets: list page ≤ 50 ms p50 on both; PostgreSQL within 2× of SQLite
for single-user work; 0 runs lost).

Both stores get the same runs (seeded): most are synchronous runs with an answer of 100–1,200
characters, a third streamed with 10–40 events, and 5% long streams of 50–500 events with a trace of
20–60 steps. They are loaded in batches through each backend's own upsert (masking included), then
the stores are analysed as their autovacuum / `PRAGMA optimize` would. Every timed call is the
store's public API, the code path the History page runs; backends are interleaved call by call
after a warm-up, and each line is the p50/p95 of `--repeat` samples.

PostgreSQL 15 is started by scripts/team-local.sh with durable settings (fsync on,
synchronous_commit off), the counterpart of SQLite's WAL with synchronous=NORMAL.

    .venv/bin/python benchmarks/history_store.py [--runs 100000] [--repeat 25]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psycopg  # noqa: E402
from psycopg.types.json import Jsonb  # noqa: E402

from fruxon_playground.history import RunQuery, RunStore, SavedRun  # noqa: E402
from fruxon_playground.history import postgres as pg_backend  # noqa: E402
from fruxon_playground.history import sqlite as sqlite_backend  # noqa: E402
from fruxon_playground.history._rows import BODY_COLUMNS, JSON_COLUMNS, RUN_COLUMNS, body_row, run_row  # noqa: E402
from fruxon_playground.history.base import masked  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
AGENTS = ["support_agent", "trip_planner", "echo_agent", "doc_reader", "sales_assistant", "code_reviewer"]
STATUSES = ["completed"] * 16 + ["failed", "failed", "stopped", "waiting_for_human", "interrupted", "rejected"]
WORDS = ["the", "order", "refund", "shipping", "invoice", "account", "password", "reset", "travel", "hotel", "flight", "lisbon", "paris", "booking", "review", "diff", "function", "error", "timeout", "export", "data", "report", "summary", "customer", "ticket", "priority"]
RARE = "zanzibar-quokka"
T0 = 1_760_000_000_000


def sentence(rng: random.Random, chars: int) -> str:
    out: list[str] = []
    size = 0
    while size < chars:
        word = rng.choice(WORDS)
        out.append(word)
        size += len(word) + 1
    return " ".join(out).capitalize() + "."


def make_run(rng: random.Random, n: int) -> SavedRun:
    owner = "alice" if n % 2 == 0 else f"user{n % 49:02d}"
    agent = AGENTS[rng.randrange(len(AGENTS))]
    status = STATUSES[rng.randrange(len(STATUSES))]
    params = {"question": sentence(rng, rng.randint(20, 160)), "customerId": f"c-{rng.randrange(10**6)}"}
    if n == 4242:
        params["question"] += f" {RARE}"
    shape = rng.random()
    events: list[dict[str, Any]] = []
    trace = None
    answer = sentence(rng, rng.randint(100, 1200))
    kind = "execute"
    if shape < 0.05:  # long streams with a trace
        kind = "stream"
        count = rng.randint(50, 500)
        chunk = max(1, len(answer) // count)
        events = [{"event": "text", "data": json.dumps({"chunk": answer[i * chunk:(i + 1) * chunk]}), "t_ms": i * 12.5}
                  for i in range(count)]
        trace = {"totalCost": 0.004, "inputTokens": 900, "outputTokens": 400,
                 "steps": [{"id": f"s{i}", "name": f"Step {i}", "type": rng.choice(["LLM", "TOOL", "AGENT"]),
                            "durationMs": rng.randint(5, 900), "input": {"text": sentence(rng, 80)},
                            "output": {"text": sentence(rng, 120)}} for i in range(rng.randint(20, 60))]}
    elif shape < 0.40:
        kind = "stream"
        count = rng.randint(10, 40)
        events = [{"event": "text", "data": json.dumps({"chunk": w + " "}), "t_ms": i * 20.0}
                  for i, w in enumerate(answer.split()[:count])]
    return SavedRun(
        kind=kind, agent_id=agent, status=status, owner=owner, request={"parameters": params},
        created_at_ms=T0 + n * 1000, duration_ms=rng.uniform(50, 20_000), total_cost=rng.uniform(0, 0.01),
        input_tokens=rng.randint(10, 3000), output_tokens=rng.randint(10, 2000), environment_slug=rng.choice(["acme", "globex", None]),
        execution_record_id=f"rec-{n}", response={"response": answer} if kind == "execute" else None,
        events=events, trace=trace, error="Upstream timeout after 30 s" if status == "failed" else None,
        answer=answer, revision=rng.choice([None, None, 3, -1]), label=rng.choice([None, "rev 3", "draft"]),
    )


def generate(count: int, seed: int = 7) -> Iterator[list[SavedRun]]:
    rng = random.Random(seed)
    batch: list[SavedRun] = []
    for n in range(count):
        batch.append(masked(make_run(rng, n)))
        if len(batch) == 2000:
            yield batch
            batch = []
    if batch:
        yield batch


def bulk_sqlite(store: sqlite_backend.SqliteRunStore, runs: list[SavedRun]) -> None:
    with store._transaction() as db:  # the backend's own upsert, many runs per transaction
        for run in runs:
            sqlite_backend._write(db, run)


def bulk_postgres(url: str, runs: list[SavedRun]) -> None:
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        cur.executemany(pg_backend._UPSERT_RUN, [tuple(pg_backend._text(run_row(r)[c]) for c in RUN_COLUMNS) for r in runs])
        cur.executemany(pg_backend._UPSERT_BODY, [
            tuple(Jsonb(body_row(r)[c], dumps=pg_backend._dumps) if c in JSON_COLUMNS and body_row(r)[c] is not None
                  else pg_backend._text(body_row(r)[c]) for c in BODY_COLUMNS) for r in runs])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_postgres() -> tuple[dict[str, str], str]:
    team_dir = tempfile.mkdtemp(prefix="fruxon-bench-")
    env = {**os.environ, "TEAM_DIR": team_dir, "TEAM_PG_PORT": str(free_port()), "TEAM_PG_DURABLE": "1"}
    subprocess.run(["bash", str(ROOT / "scripts" / "team-local.sh"), "start", "--only", "postgres"], env=env, check=True,
                   stdout=subprocess.DEVNULL)
    values = dict(line.split("=", 1) for line in (Path(team_dir) / "env").read_text().splitlines())
    return env, values["TEAM_HISTORY_URL"]


def samples(action: Callable[[], Any], repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        out.append((time.perf_counter() - started) * 1000)
    return out


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[18] if len(values) >= 5 else max(values)


def compare(name: str, stores: dict[str, RunStore], action: Callable[[RunStore], Any], repeat: int) -> dict[str, float]:
    for store in stores.values():  # warm-up
        for _ in range(3):
            action(store)
    times: dict[str, list[float]] = {key: [] for key in stores}
    for _ in range(repeat):  # interleaved, one call each in turn
        for key, store in stores.items():
            times[key] += samples(lambda store=store: action(store), 1)
    p50 = {key: statistics.median(values) for key, values in times.items()}
    print(f"{name:<44} {p50['sqlite']:>8.2f} {p95(times['sqlite']):>8.2f} {p50['postgres']:>8.2f} "
          f"{p95(times['postgres']):>8.2f} {p50['postgres'] / p50['sqlite']:>6.2f}×")
    return p50


def concurrent_writers(store_factory: Callable[[], RunStore], writers: int, runs_each: int) -> tuple[float, int, int]:
    """`writers` threads over two store instances (two replicas), each run saved 5 times as it grows."""
    replicas = [store_factory(), store_factory()]
    errors: list[BaseException] = []
    rng = random.Random(3)
    template = make_run(rng, 1)

    def write(n: int) -> None:
        store = replicas[n % 2]
        try:
            for i in range(runs_each):
                run = replace(template, id=f"w{n}-{i}-{time.time_ns()}", owner=f"writer{n}", status="running", events=[])
                for step in range(4):
                    store.save(replace(run, events=[{"event": "text", "data": '{"chunk":"x "}', "t_ms": s}
                                                    for s in range(step * 50)]))
                    store.heartbeat(run.id, int(time.time() * 1000))
                store.save(replace(run, status="completed", events=[{"event": "text", "data": '{"chunk":"x "}', "t_ms": 1}] * 200))
        except BaseException as exc:  # noqa: BLE001  (counted and reported)
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    saved = sum(replicas[0].list(RunQuery(f"writer{n}", status="completed", limit=1)).total for n in range(writers))
    for replica in replicas:
        replica.close()
    if errors:
        print(f"  errors: {len(errors)}, first: {errors[0]!r}")
    return elapsed, saved, len(errors)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=25)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="fruxon-bench-sqlite-"))
    env, url = start_postgres()
    try:
        lite = sqlite_backend.SqliteRunStore(work / "history.sqlite3")
        pg = pg_backend.PostgresRunStore(url)
        stores: dict[str, RunStore] = {"sqlite": lite, "postgres": pg}
        print(f"search indexes: SQLite FTS5 trigram {lite.search_indexed}, PostgreSQL pg_trgm {pg.search_indexed}")

        loaded = {"sqlite": 0.0, "postgres": 0.0}
        started_all = time.perf_counter()
        for batch in generate(args.runs):
            started = time.perf_counter()
            bulk_sqlite(lite, batch)
            loaded["sqlite"] += time.perf_counter() - started
            started = time.perf_counter()
            bulk_postgres(url, batch)
            loaded["postgres"] += time.perf_counter() - started
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")
            size = conn.execute("SELECT pg_size_pretty(pg_database_size(current_database()))").fetchone()[0]
        lite._read("ANALYZE")
        lite._read("PRAGMA wal_checkpoint(TRUNCATE)")
        print(f"loaded {args.runs:,} runs in {time.perf_counter() - started_all:.0f} s "
              f"(bulk upserts: SQLite {loaded['sqlite']:.0f} s, PostgreSQL {loaded['postgres']:.0f} s); "
              f"SQLite file {(work / 'history.sqlite3').stat().st_size / 2**20:.0f} MiB, PostgreSQL database {size}")

        long_id = lite._read("SELECT id FROM run_bodies ORDER BY length(events) DESC LIMIT 1")[0][0]
        print(f"\n{'ms (p50 / p95 of ' + str(args.repeat) + ')':<44} {'SQLite':>8} {'p95':>8} {'Postgres':>8} {'p95':>8} {'ratio':>7}")
        results = {
            "list all owners, page 1": compare("list: all owners, page 1 (50 rows)", stores, lambda s: s.list(RunQuery(None)), args.repeat),
            "list owner": compare("list: one owner (50k runs), page 1", stores, lambda s: s.list(RunQuery("alice")), args.repeat),
            "list deep": compare("list: one owner, page 101 (offset 5,000)", stores,
                                 lambda s: s.list(RunQuery("alice", offset=5000)), args.repeat),
            "agent": compare("filter: owner + agent", stores, lambda s: s.list(RunQuery("alice", agent_id="trip_planner")), args.repeat),
            "status": compare("filter: owner + status failed", stores, lambda s: s.list(RunQuery("alice", status="failed")), args.repeat),
            "search common": compare("search: 'refund' (common word), one owner", stores,
                                     lambda s: s.list(RunQuery("alice", text="refund")), args.repeat),
            "search rare": compare(f"search: '{RARE}' (one run), all owners", stores,
                                   lambda s: s.list(RunQuery(None, text=RARE)), args.repeat),
            "search short": compare("search: 'zq' (2 letters: a scan), one owner", stores,
                                    lambda s: s.list(RunQuery("alice", text="zq")), args.repeat),
            "choices": compare("filter choices: distinct agents + statuses", stores,
                               lambda s: (s.distinct_agents("alice"), s.distinct_statuses("alice")), args.repeat),
            "get": compare("get: the longest stream (events + trace)", stores, lambda s: s.get(long_id), args.repeat),
        }
        rng = random.Random(11)
        fresh = [masked(make_run(rng, n)) for n in range(args.repeat * 2 + 6)]
        counter = iter(range(len(fresh)))
        results["save"] = compare("save: one run (upsert, masked)", stores,
                                  lambda s: s.save(replace(fresh[next(counter) % len(fresh)], id=os.urandom(8).hex())), args.repeat)
        page_load = {k: results["choices"][k] + results["list owner"][k] + results["get"][k] for k in stores}
        print(f"\nHistory page load (choices + list + open a run): SQLite {page_load['sqlite']:.1f} ms, "
              f"PostgreSQL {page_load['postgres']:.1f} ms ({page_load['postgres'] / page_load['sqlite']:.2f}×; target ≤ 2×)")
        worst = max(results[k][b] for k in ("list all owners, page 1", "list owner") for b in stores)
        print(f"list page p50, worst of both backends: {worst:.1f} ms (target ≤ 50 ms)")
        lite.close()
        pg.close()

        print("\n20 concurrent writers (2 store instances × 10 threads, each run saved 5× as it grows):")
        for name, factory in (("SQLite", lambda: sqlite_backend.SqliteRunStore(work / "writers.sqlite3")),
                              ("PostgreSQL", lambda: pg_backend.PostgresRunStore(url))):
            elapsed, saved, errors = concurrent_writers(factory, 20, 25)
            print(f"  {name:<10} {500 * 5 / elapsed:>7.0f} saves/s, {saved} of 500 runs saved completed, "
                  f"{500 - saved} lost, {errors} errors")
    finally:
        subprocess.run(["bash", str(ROOT / "scripts" / "team-local.sh"), "stop"], env=env, check=False, stdout=subprocess.DEVNULL)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
