"""Run handles against the sandbox: the worker thread, snapshots, stop, failures and replay."""

from __future__ import annotations

from fruxon_playground.api import FruxonClient
from fruxon_playground.drafts import TEMPLATES
from fruxon_playground.runs.fold import Phase
from fruxon_playground.runs.handle import ReplayHandle, RunHandle, RunKind


def factory(sandbox):
    return lambda: FruxonClient(sandbox.base_url, sandbox.api_key, sandbox.tenant)


def test_streamed_draft_run_folds_into_a_complete_view(sandbox) -> None:
    handle = RunHandle(RunKind.STREAM_TEST, "draft_only", TEMPLATES["calculator"].request, factory(sandbox)).start()
    assert handle.wait(20)
    snapshot = handle.snapshot()
    view = snapshot.view
    assert view.phase is Phase.COMPLETED and "gives 14" in view.text
    assert {card.name for card in view.tools.values()} == {"math.calculate", "units.convert"}
    assert any(step.type == "FLOW_STEP" for step in view.steps.values()) and view.execution_record_id


def test_sync_run_and_request_failure_keep_what_the_ui_needs(sandbox) -> None:
    ok = RunHandle(RunKind.EXECUTE, "echo_agent", {"parameters": {"message": "hi"}}, factory(sandbox)).start()
    assert ok.wait(20) and ok.snapshot().response.status == "COMPLETED" and "hi" in ok.snapshot().view.text
    bad = RunHandle(RunKind.EXECUTE, "support_agent", {"parameters": {}}, factory(sandbox)).start()
    assert bad.wait(20)
    failure = bad.snapshot().failure
    assert bad.snapshot().view.phase is Phase.FAILED and failure.status == 400
    assert failure.field_errors == {"parameters.question": ["Parameter question is required"]}


def test_stop_keeps_everything_received(timed_sandbox) -> None:
    handle = RunHandle(RunKind.STREAM, "support_agent", {"parameters": {"question": "q [[sandbox:long]]"}},
                       factory(timed_sandbox)).start()
    while not handle.snapshot().view.text:
        handle.wait(0.05)
    handle.cancel()
    assert handle.wait(1.0)
    snapshot = handle.snapshot()
    assert snapshot.view.phase is Phase.STOPPED and snapshot.view.text and snapshot.received


def test_replay_of_a_saved_stream_gives_the_same_view(sandbox) -> None:
    live = RunHandle(RunKind.STREAM, "support_agent", {"parameters": {"question": "How do refunds work?"}}, factory(sandbox)).start()
    assert live.wait(20)
    original = live.snapshot()
    saved = [{"event": r.event.event, "data": r.event.raw, "t_ms": r.t_ms} for r in original.received]
    replay = ReplayHandle(RunKind.STREAM, "support_agent", {}, saved, speed=50).start()
    assert replay.wait(10)
    again = replay.snapshot().view
    assert again.phase is original.view.phase and again.text == original.view.text
    assert list(again.tools) == list(original.view.tools) and again.execution_record_id == original.view.execution_record_id
