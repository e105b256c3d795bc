"""The SQLite case store: per owner, tenant and agent; names unique; secrets masked; 0600; shares the history file."""

from __future__ import annotations

import os
import stat

import pytest

from fruxon_playground.cases.batch import BatchResult, CaseOutcome, CaseStatus
from fruxon_playground.cases.demo import demo_cases, load_demo_cases
from fruxon_playground.cases.evaluate import CaseResult, CheckResult
from fruxon_playground.cases.model import TestCase, check_from_json
from fruxon_playground.cases.sqlite_store import SqliteCaseStore
from fruxon_playground.cases.store import CaseScope, DuplicateCaseName
from fruxon_playground.history import SavedRun, open_store

ADA = CaseScope("browser:ada", "demo", "support_agent")


@pytest.fixture
def store(tmp_path) -> SqliteCaseStore:
    return SqliteCaseStore(tmp_path / "history.sqlite3")


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


def test_secret_shaped_inputs_are_masked_before_they_reach_the_file(store, tmp_path) -> None:
    store.save_case(ADA, case("Leaky", parameters={"apiKey": "hunter2hunter2", "text": "key fx_pat_abcdefghijkl"},
                              chat_user={"id": "u", "token": "tok_123456789"}))
    raw = (tmp_path / "history.sqlite3").read_bytes()
    assert b"hunter2hunter2" not in raw and b"fx_pat_abcdefghijkl" not in raw and b"tok_123456789" not in raw
    assert store.list_cases(ADA)[0].parameters["apiKey"] == "••••"


def test_the_file_is_private_and_shared_with_the_run_history(tmp_path) -> None:
    path = tmp_path / "data" / "history.sqlite3"
    cases = SqliteCaseStore(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    cases.save_case(ADA, case("Refunds"))
    runs = open_store(path)  # the history store migrates the same file after the case tables exist
    saved = runs.save(SavedRun(kind="stream", agent_id="support_agent", request={}, status="completed", owner="o"))
    assert runs.get(saved.id) is not None and [c.name for c in SqliteCaseStore(path).list_cases(ADA)] == ["Refunds"]


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


def test_a_saved_batch_keeps_no_secret_it_quoted(store, tmp_path) -> None:
    leaky = CaseResult(passed=False, outcome="failed", cost_usd=None, total_ms=10.0, first_text_ms=None,
                       error="401: key fx_pat_leaked_key_000000042 rejected",
                       checks=(CheckResult("contains", "answer contains “x”", False,
                                           "the answer contains “Bearer abcdefghijkl”"),))
    batch = BatchResult(id="b1", agent="support_agent", target={"label": "deployed"}, concurrency=1, started_at_ms=1,
                        ended_at_ms=2, outcomes=(CaseOutcome("c1", "Leaky", CaseStatus.FAILED, leaky),))
    store.save_batch(ADA, batch.masked(("connection-key-1234",)))
    raw = (tmp_path / "history.sqlite3").read_bytes()
    assert b"fx_pat_leaked_key_000000042" not in raw and b"abcdefghijkl" not in raw
    assert store.get_batch(ADA, "b1").outcomes[0].result.error == "401: key •••• rejected"
