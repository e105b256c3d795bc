"""Run handles against the sandbox: the worker, snapshots, stop, failures, replay, and the run saving itself."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest

from fruxon_playground.api import FruxonClient
from fruxon_playground.drafts import TEMPLATES
from fruxon_playground.history import RunStore, open_store
from fruxon_playground.runs import Phase, ReplayHandle, RunContext, RunHandle, RunKind, RunRecorder
from fruxon_playground.runs.record import received_of_saved, snapshot_of_saved


def factory(sandbox):
    return lambda: FruxonClient(sandbox.base_url, sandbox.api_key, sandbox.tenant)


@pytest.fixture
def store(tmp_path) -> RunStore:
    return open_store(str(tmp_path / "history.sqlite3"))


def recorder(store: RunStore, sandbox, owner: str = "browser:ada") -> RunRecorder:
    return RunRecorder(store, RunContext(owner=owner, base_url=sandbox.base_url, tenant=sandbox.tenant,
                                         secrets=(sandbox.api_key,)))


def test_streamed_draft_run_folds_into_a_complete_state(sandbox) -> None:
    handle = RunHandle(RunKind.STREAM_TEST, "draft_only", TEMPLATES["calculator"].request, factory(sandbox)).start()
    assert handle.wait(20)
    state = handle.snapshot().state
    assert state.phase is Phase.COMPLETED and "gives 14" in state.text
    assert {card.name for card in state.tools.values()} == {"math.calculate", "units.convert"}
    assert any(step.type == "FLOW_STEP" for step in state.steps.values()) and state.execution_record_id
    assert state.trace and state.revision == -1


def test_sync_run_goes_through_the_same_fold(sandbox) -> None:
    ok = RunHandle(RunKind.EXECUTE, "echo_agent", {"parameters": {"message": "hi"}}, factory(sandbox)).start()
    assert ok.wait(20)
    snapshot = ok.snapshot()
    assert [r.event.event for r in snapshot.received] == ["done"]
    assert snapshot.state.phase is Phase.COMPLETED and "hi" in snapshot.state.text and snapshot.state.trace
    bad = RunHandle(RunKind.EXECUTE, "support_agent", {"parameters": {}}, factory(sandbox)).start()
    assert bad.wait(20)
    failure = bad.snapshot().state.failure
    assert bad.snapshot().state.phase is Phase.FAILED and failure.status == 400
    assert failure.field_errors == {"parameters.question": ["Parameter question is required"]}


def test_stop_keeps_everything_received(timed_sandbox) -> None:
    handle = RunHandle(RunKind.STREAM, "support_agent", {"parameters": {"question": "q [[sandbox:long]]"}},
                       factory(timed_sandbox)).start()
    while not handle.snapshot().state.text:
        handle.wait(0.05)
    handle.cancel()
    assert handle.wait(1.0)
    snapshot = handle.snapshot()
    assert snapshot.state.phase is Phase.STOPPED and snapshot.state.text and snapshot.received


def test_replay_of_a_saved_stream_gives_the_same_state(sandbox, store) -> None:
    live = RunHandle(RunKind.STREAM, "support_agent", {"parameters": {"question": "How do refunds work?"}},
                     factory(sandbox), recorder=recorder(store, sandbox)).start()
    assert live.wait(20)
    original = live.snapshot().state
    saved = store.get(live.id)
    replay = ReplayHandle(RunKind.STREAM, "support_agent", {}, received_of_saved(saved), speed=50).start()
    assert replay.wait(10)
    again = replay.snapshot().state
    assert again.phase is original.phase and again.text == original.text
    assert list(again.tools) == list(original.tools) and again.execution_record_id == original.execution_record_id


def test_the_run_saves_itself_with_no_page_drawing_it(sandbox, store) -> None:
    handle = RunHandle(RunKind.STREAM, "support_agent", {"parameters": {"question": "How do refunds work?"}},
                       factory(sandbox), recorder=recorder(store, sandbox)).start()
    assert handle.wait(20)
    deadline = time.monotonic() + 5
    while (saved := store.get(handle.id)) is None or saved.status == "running":
        assert time.monotonic() < deadline, "the run was not saved when it ended"
        time.sleep(0.05)
    assert saved.status == "completed" and saved.owner == "browser:ada" and saved.trace
    assert len(saved.events) == len(handle.snapshot().received)
    rebuilt = snapshot_of_saved(saved).state
    assert rebuilt.text == handle.snapshot().state.text and rebuilt.phase is Phase.COMPLETED


def test_a_sync_run_is_saved_with_its_trace_once_and_opens_with_it(sandbox, store) -> None:
    handle = RunHandle(RunKind.EXECUTE, "support_agent", {"parameters": {"question": "How do refunds work?"}},
                       factory(sandbox), recorder=recorder(store, sandbox)).start()
    assert handle.wait(20)
    saved = store.get(handle.id)
    assert saved.trace == handle.snapshot().state.trace and "trace" not in saved.response
    assert saved.response["response"] == handle.snapshot().state.text
    bodiless = snapshot_of_saved(replace(saved, events=[])).state  # as runs saved before events were kept
    assert bodiless.trace == saved.trace and bodiless.phase is Phase.COMPLETED and bodiless.tools


def test_a_stopped_and_a_failed_run_are_saved_too(timed_sandbox, sandbox, store) -> None:
    stopped = RunHandle(RunKind.STREAM, "support_agent", {"parameters": {"question": "q [[sandbox:long]]"}},
                        factory(timed_sandbox), recorder=recorder(store, timed_sandbox)).start()
    while not stopped.snapshot().state.text:
        stopped.wait(0.05)
    stopped.cancel()
    failed = RunHandle(RunKind.EXECUTE, "support_agent", {"parameters": {}}, factory(sandbox),
                       recorder=recorder(store, sandbox)).start()
    assert stopped.wait(2) and failed.wait(20)
    assert store.get(stopped.id).status == "stopped" and store.get(stopped.id).events
    saved_failure = store.get(failed.id)
    assert saved_failure.status == "failed" and "question" in saved_failure.error
    assert snapshot_of_saved(saved_failure).state.failure.status == 400


def test_a_long_run_is_saved_as_running_while_it_runs(timed_sandbox, store) -> None:
    handle = RunHandle(RunKind.STREAM, "support_agent", {"parameters": {"question": "q [[sandbox:long]]"}},
                       factory(timed_sandbox), recorder=recorder(store, timed_sandbox)).start()
    deadline = time.monotonic() + 10
    while (saved := store.get(handle.id)) is None or not saved.events:
        assert time.monotonic() < deadline, "no progress was saved while the run ran"
        time.sleep(0.2)
    assert saved.status == "running"
    handle.cancel()
    assert handle.wait(2)


def test_the_connections_key_never_reaches_the_store(sandbox, store) -> None:
    question = f"echo this back: {sandbox.api_key} and sk_live_abcdefghijkl"
    handle = RunHandle(RunKind.STREAM, "echo_agent", {"parameters": {"message": question}}, factory(sandbox),
                       recorder=recorder(store, sandbox)).start()
    assert handle.wait(20)
    assert sandbox.api_key in handle.snapshot().state.text  # the agent did echo it back
    with open(store.path, "rb") as file:
        stored = file.read()
    assert sandbox.api_key.encode() not in stored and b"sk_live_abcdefghijkl" not in stored


def test_approving_follows_the_record_to_its_end_and_updates_the_same_saved_run(sandbox, store) -> None:
    handle = RunHandle(RunKind.STREAM, "refund_desk", {"parameters": {"order_id": "A-1", "amount": 12.5}},
                       factory(sandbox), recorder=recorder(store, sandbox)).start()
    assert handle.wait(20)
    assert handle.snapshot().state.phase is Phase.WAITING_FOR_HUMAN
    assert store.get(handle.id).status == "waiting_for_human"
    handle.answer_approval(True)
    assert handle.wait(20)
    state = handle.snapshot().state
    assert state.phase is Phase.COMPLETED and state.text and state.trace
    saved = store.get(handle.id)
    assert saved.status == "completed" and saved.trace
    assert snapshot_of_saved(saved).state.text == state.text


def test_rejecting_shows_rejected_with_the_reason(sandbox, store) -> None:
    handle = RunHandle(RunKind.EXECUTE, "refund_desk", {"parameters": {"order_id": "A-2", "amount": 99}},
                       factory(sandbox), recorder=recorder(store, sandbox)).start()
    assert handle.wait(20) and handle.snapshot().state.phase is Phase.WAITING_FOR_HUMAN
    handle.answer_approval(False, "amount too large")
    assert handle.wait(20)
    state = handle.snapshot().state
    assert state.phase is Phase.REJECTED and "amount too large" in state.error_message
    assert store.get(handle.id).status == "rejected"
