"""The case stores, the same suite against SQLite and against PostgreSQL on loopback: per owner, tenant
and agent; names unique; secrets masked; next to the run history (its 0600 file, or a team's database
that every replica shares)."""

from __future__ import annotations

import os
import socket
import stat
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
import streamlit.config

from components import state
from fruxon_playground.cases.batch import BatchResult, CaseOutcome, CaseStatus
from fruxon_playground.cases.demo import demo_cases, load_demo_cases
from fruxon_playground.cases.evaluate import CaseResult, CheckResult
from fruxon_playground.cases.model import TestCase, check_from_json
from fruxon_playground.cases.postgres_store import PostgresCaseStore
from fruxon_playground.cases.sqlite_store import SqliteCaseStore
from fruxon_playground.cases.store import (
    CaseScope,
    CaseStore,
    CaseStoreUnavailable,
    DuplicateCaseName,
    open_case_store,
)
from fruxon_playground.history import SavedRun, open_store
from tests.app.test_cases_page import frame_with, start, texts
from tests.team.postgres import local_postgres  # noqa: F401  (the session fixture)

ADA = CaseScope("browser:ada", "demo", "support_agent")
PG_TABLES = ("playground_test_cases", "playground_test_case_demo_loads", "playground_test_batches")


@pytest.fixture(params=["sqlite", "postgres"])
def location(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty history location of the backend under test: a file, or a fresh database."""
    if request.param == "sqlite":
        yield str(tmp_path / "history.sqlite3")
        return
    pg = request.getfixturevalue("local_postgres")
    url = pg.new_database()
    yield url
    pg.drop_database(url)


@pytest.fixture
def opener(location: str) -> Iterator[Callable[[], CaseStore]]:
    """Opens case stores on one location (several = the replicas of a deployment)."""
    stores: list[CaseStore] = []

    def open_() -> CaseStore:
        stores.append(open_case_store(location))
        return stores[-1]

    yield open_
    for opened in stores:
        opened.close()  # type: ignore[attr-defined]


@pytest.fixture
def store(opener: Callable[[], CaseStore]) -> CaseStore:
    return opener()


def stored_bytes(location: str) -> bytes:
    """All a backend keeps of the cases: the SQLite file, or every row of the case tables as text."""
    if not location.startswith("postgresql://"):
        return Path(location).read_bytes()
    with psycopg.connect(location) as conn:
        return "".join(row[0] for table in PG_TABLES for row in conn.execute(f"SELECT t::text FROM {table} AS t")).encode()


def case(name: str, **extra) -> TestCase:
    return TestCase(name=name, agent="support_agent", **extra)


def test_cases_are_kept_in_order_updated_in_place_and_deleted(store) -> None:
    first = store.save_case(ADA, case("Refunds", parameters={"question": "How do refunds work?"}))
    store.save_case(ADA, case("Passwords"))
    store.save_case(ADA, first.model_copy(update={"name": "Refund policy",
                                                  "checks": [check_from_json({"kind": "no_failure"})]}))
    listed = store.list_cases(ADA)
    assert [c.name for c in listed] == ["Refund policy", "Passwords"]  # an edit keeps its place
    assert listed[0].id == first.id and listed[0].checks[0].kind == "no_failure"
    assert store.delete_case(ADA, first.id) and not store.delete_case(ADA, first.id)
    assert [c.name for c in store.list_cases(ADA)] == ["Passwords"]


def test_names_are_unique_per_agent_ignoring_letter_case(store) -> None:
    store.save_case(ADA, case("Refunds"))
    with pytest.raises(DuplicateCaseName, match="already named “REFUNDS”"):
        store.save_case(ADA, case("REFUNDS"))
    store.save_case(CaseScope("browser:ada", "demo", "trip_planner"), case("Refunds"))  # another agent: fine


def test_scopes_do_not_see_each_others_cases(store) -> None:
    store.save_case(ADA, case("Ada's case"))
    for other in (CaseScope("browser:bob", "demo", "support_agent"), CaseScope("browser:ada", "acme", "support_agent"),
                  CaseScope("browser:ada", "demo", "echo_agent")):
        assert store.list_cases(other) == []
        assert not store.delete_case(other, store.list_cases(ADA)[0].id)
    assert len(store.list_cases(ADA)) == 1


def test_import_adds_new_names_and_replaces_same_names_keeping_the_id(store) -> None:
    kept = store.save_case(ADA, case("Refunds", parameters={"question": "old"}))
    added, replaced = store.import_cases(ADA, [case("refunds", parameters={"question": "new"}), case("Passwords")])
    assert (added, replaced) == (1, 1)
    by_name = {c.name: c for c in store.list_cases(ADA)}
    assert by_name["refunds"].id == kept.id and by_name["refunds"].parameters == {"question": "new"}


def test_secret_shaped_inputs_are_masked_before_they_are_stored(store, location) -> None:
    store.save_case(ADA, case("Leaky", parameters={"apiKey": "hunter2hunter2", "text": "key fx_pat_abcdefghijkl"},
                              chat_user={"id": "u", "token": "tok_123456789"}))
    raw = stored_bytes(location)
    assert b"Leaky" in raw and b"hunter2hunter2" not in raw and b"fx_pat_abcdefghijkl" not in raw and b"tok_123456789" not in raw
    assert store.list_cases(ADA)[0].parameters["apiKey"] == "••••"


def test_the_cases_live_next_to_the_run_history(location) -> None:
    cases = open_case_store(location)
    cases.save_case(ADA, case("Refunds"))
    runs = open_store(location)  # the history store migrates the same file or database after the case tables exist
    saved = runs.save(SavedRun(kind="stream", agent_id="support_agent", request={}, status="completed", owner="o"))
    reopened = open_case_store(location)
    try:
        assert runs.get(saved.id) is not None and [c.name for c in reopened.list_cases(ADA)] == ["Refunds"]
    finally:
        for opened in (cases, runs, reopened):
            opened.close()  # type: ignore[attr-defined]


def test_the_file_is_private(tmp_path) -> None:
    path = tmp_path / "data" / "history.sqlite3"
    open_case_store(str(path)).save_case(ADA, case("Refunds"))
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_a_loose_existing_file_is_tightened_to_0600(tmp_path) -> None:
    path = tmp_path / "history.sqlite3"
    open_store(path)
    os.chmod(path, 0o644)
    SqliteCaseStore(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def batch(batch_id: str, started: int, passed: bool) -> BatchResult:
    result = CaseResult(passed=passed, checks=(CheckResult("contains", "answer contains “x”", passed, "why"),),
                        outcome="completed", cost_usd=0.0001, total_ms=120.0, first_text_ms=40.0)
    return BatchResult(id=batch_id, agent="support_agent", target={"kind": "deployed", "label": "deployed"},
                       concurrency=4, started_at_ms=started, ended_at_ms=started + 900,
                       outcomes=(CaseOutcome("c1", "Refunds", CaseStatus.PASSED if passed else CaseStatus.FAILED,
                                             result, "r" * 32, 1),
                                 CaseOutcome("c2", "Later", CaseStatus.NOT_RUN)))


def test_batches_are_listed_newest_first_and_read_back_whole(store) -> None:
    store.save_batch(ADA, batch("b1", 1_000, passed=True))
    store.save_batch(ADA, batch("b2", 2_000, passed=False))
    listed = store.list_batches(ADA)
    assert [(b.id, b.summary, b.passed, b.failed, b.total) for b in listed] == [
        ("b2", "1 failed · 1 not run", 0, 1, 2), ("b1", "1 passed · 1 not run", 1, 0, 2)]
    assert store.get_batch(ADA, "b1") == batch("b1", 1_000, passed=True)
    assert store.get_batch(CaseScope("browser:bob", "demo", "support_agent"), "b1") is None


def test_demo_cases_load_once_for_an_agent_without_cases(store) -> None:
    assert load_demo_cases(store, ADA) == 5
    assert [c.name for c in store.list_cases(ADA)] == [c.name for c in demo_cases("support_agent")]
    for listed in store.list_cases(ADA):
        store.delete_case(ADA, listed.id)
    assert load_demo_cases(store, ADA) == 0 and store.list_cases(ADA) == []  # deleting them is final

    own = CaseScope("browser:bob", "demo", "trip_planner")
    store.save_case(own, TestCase(name="Mine", agent="trip_planner"))
    assert load_demo_cases(store, own) == 0 and [c.name for c in store.list_cases(own)] == ["Mine"]
    assert load_demo_cases(store, CaseScope("browser:bob", "demo", "echo_agent")) == 0


def test_the_demo_set_has_one_case_that_fails_on_purpose() -> None:
    support, trips = demo_cases("support_agent"), demo_cases("trip_planner")
    assert len(support) == 5 and len(trips) == 4
    assert [c.name for c in support + trips if "fails on purpose" in c.name] == ["Refund limit in euros (fails on purpose)"]
    kinds = {check.kind for c in support + trips for check in c.checks}
    assert kinds >= {"contains", "not_contains", "matches", "calls_tool", "no_failure", "max_cost",
                     "max_first_text_ms", "max_total_ms"}


def test_a_saved_batch_keeps_no_secret_it_quoted(store, location) -> None:
    leaky = CaseResult(passed=False, outcome="failed", cost_usd=None, total_ms=10.0, first_text_ms=None,
                       error="401: key fx_pat_leaked_key_000000042 rejected",
                       checks=(CheckResult("contains", "answer contains “x”", False,
                                           "the answer contains “Bearer abcdefghijkl”"),))
    batch = BatchResult(id="b1", agent="support_agent", target={"label": "deployed"}, concurrency=1, started_at_ms=1,
                        ended_at_ms=2, outcomes=(CaseOutcome("c1", "Leaky", CaseStatus.FAILED, leaky),))
    store.save_batch(ADA, batch.masked(("connection-key-1234",)))
    raw = stored_bytes(location)
    assert b"401: key" in raw and b"fx_pat_leaked_key_000000042" not in raw and b"abcdefghijkl" not in raw
    assert store.get_batch(ADA, "b1").outcomes[0].result.error == "401: key •••• rejected"


def test_replicas_share_one_set_of_cases_and_batches(opener, location) -> None:
    one, two = opener(), opener()
    saved = one.save_case(ADA, case("Refunds"))
    one.save_batch(ADA, batch("b1", 1_000, passed=True))
    assert [c.id for c in two.list_cases(ADA)] == [saved.id] and two.get_batch(ADA, "b1") is not None
    with pytest.raises(DuplicateCaseName):
        two.save_case(ADA, case("refunds"))
    two.save_case(ADA, saved.model_copy(update={"name": "Refund policy"}))
    assert [c.name for c in one.list_cases(ADA)] == ["Refund policy"]
    assert two.claim_demo(ADA) and not one.claim_demo(ADA)  # one claim, whoever asks
    assert one.demo_loaded(ADA) and load_demo_cases(one, ADA) == 0


def test_replicas_opening_the_page_at_once_load_the_demo_cases_once(opener) -> None:
    replicas = [opener() for _ in range(6)]
    start = threading.Barrier(len(replicas))
    added: list[int] = []

    def open_page(store: CaseStore) -> None:
        start.wait()
        added.append(load_demo_cases(store, ADA))

    threads = [threading.Thread(target=open_page, args=(store,)) for store in replicas]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(added) == [0] * (len(replicas) - 1) + [5]
    assert [c.name for c in replicas[0].list_cases(ADA)] == [c.name for c in demo_cases("support_agent")]


def test_replicas_starting_together_create_the_tables_once(opener) -> None:
    opened: list[CaseStore] = []
    failures: list[BaseException] = []
    start = threading.Barrier(4)

    def replica() -> None:
        start.wait()
        try:
            opened.append(opener())
        except BaseException as exc:  # reported by the assertion below
            failures.append(exc)

    threads = [threading.Thread(target=replica) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == [] and len(opened) == 4
    opened[0].save_case(ADA, case("Refunds"))
    assert all([c.name for c in each.list_cases(ADA)] == ["Refunds"] for each in opened)


def test_a_postgresql_url_keeps_the_cases_in_that_database_and_writes_no_file(local_postgres, tmp_path,  # noqa: F811
                                                                              monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)  # an earlier version made a relative "postgresql:/…/cases.sqlite3" here
    url = local_postgres.new_database()
    try:
        store = open_case_store(url)
        assert isinstance(store, PostgresCaseStore)
        store.save_case(ADA, case("Refunds"))
        store.close()
        assert list(tmp_path.iterdir()) == []
        with psycopg.connect(url) as conn:
            assert conn.execute("SELECT name FROM playground_test_cases").fetchall() == [("Refunds",)]
    finally:
        local_postgres.drop_database(url)


def test_any_other_location_is_a_sqlite_file_at_that_path(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    store = open_case_store("~/team/history.sqlite3")
    assert isinstance(store, SqliteCaseStore) and (tmp_path / "team" / "history.sqlite3").exists()
    assert isinstance(open_case_store(":memory:"), SqliteCaseStore)


def test_an_unreachable_database_is_reported_without_its_password() -> None:
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(CaseStoreUnavailable) as caught:
        PostgresCaseStore(f"postgresql://team:s3cret-pw@127.0.0.1:{port}/playground", connect_timeout_s=2)
    message = str(caught.value)
    assert f"test cases database at postgresql://127.0.0.1:{port}/playground cannot be reached" in message
    assert "s3cret-pw" not in message and "team:" not in message


def test_the_test_cases_page_of_a_team_deployment_keeps_its_cases_in_the_history_database(
        local_postgres, tmp_path, monkeypatch) -> None:  # noqa: F811
    url = local_postgres.new_database()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PLAYGROUND_HISTORY_URL", url)
    monkeypatch.delenv("PLAYGROUND_HISTORY_PATH", raising=False)
    for name in ("FRUXON_API_KEY", "FRUXON_BASE_URL", "FRUXON_TENANT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PLAYGROUND_SANDBOX_DB", ":memory:")
    monkeypatch.setenv("PLAYGROUND_SANDBOX_SPEED", "0")
    monkeypatch.setenv("PLAYGROUND_OWNER", "browser")
    other_replica = PostgresCaseStore(url)
    try:
        at = start()
        assert "ships 5 test cases for this agent" in texts(at) and "cannot be saved" not in texts(at)
        scope = CaseScope(at.session_state[state.OWNER], "demo", "support_agent")
        assert len(other_replica.list_cases(scope)) == 5
        other_replica.save_case(scope, case("Added on another replica"))
        assert "Added on another replica" in list(frame_with(at.run(), "What they check")["Name"])
        assert list(tmp_path.iterdir()) == []  # no stray SQLite file beside the app
    finally:
        other_replica.close()
        local_postgres.drop_database(url)
        # Streamlit read its config in tmp_path (no .streamlit/ there, so no loopback address):
        # read the project's again, or every later app test in this process runs as a public server.
        monkeypatch.chdir(Path(__file__).resolve().parents[2])
        streamlit.config.get_config_options(force_reparse=True)
