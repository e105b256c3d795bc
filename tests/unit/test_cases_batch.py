"""Batch logic without a server: targets' request bodies, saving runs under the batch, comparing, CSV."""

from __future__ import annotations

import csv
import dataclasses
import io
from collections.abc import Iterable

import pytest

from fruxon_playground.cases.batch import (
    BATCH_CSV_COLUMNS,
    BatchResult,
    BatchSaver,
    CaseOutcome,
    CaseStatus,
    Change,
    batch_csv,
    compare_batches,
)
from fruxon_playground.cases.evaluate import CaseResult, CheckResult
from fruxon_playground.cases.model import TestCase
from fruxon_playground.cases.target import Target, TargetKind
from fruxon_playground.drafts import TEMPLATES
from fruxon_playground.history import SavedRun
from fruxon_playground.runs import lifecycle as lc
from fruxon_playground.runs.handle import RunKind

CASE = TestCase(name="Refunds", agent="support_agent", parameters={"question": "Why was I charged twice?"},
                attachments=[{"fileId": "f_1"}], chat_user={"id": "user_42"})


def test_each_target_sends_the_cases_inputs_where_they_belong() -> None:
    deployed = Target(TargetKind.DEPLOYED)
    assert deployed.run_kind is RunKind.STREAM and Target(TargetKind.DEPLOYED, streamed=False).run_kind is RunKind.EXECUTE
    assert deployed.request(CASE) == {"parameters": {"question": "Why was I charged twice?"},
                                      "attachments": [{"fileId": "f_1"}], "chatUser": {"id": "user_42"}}
    revision = Target(TargetKind.REVISION, revision=2)
    assert revision.run_kind is RunKind.STREAM_TEST and revision.label == "revision 2"
    # A TestRequest has no chat user (contract §4.4).
    assert revision.request(CASE) == {"baseRevision": 2, "parameters": {"question": "Why was I charged twice?"},
                                      "attachments": [{"fileId": "f_1"}]}
    editor = {**TEMPLATES["llm_tool"].request, "sessionId": "editor-session", "baseRevision": 3}
    draft = Target(TargetKind.DRAFT, draft=editor, streamed=False)
    body = draft.request(CASE)
    assert draft.run_kind is RunKind.TEST and draft.label == "draft (base revision 3)"
    assert body["flow"] == editor["flow"] and body["parameters"] == CASE.parameters and "sessionId" not in body
    assert "chatUser" not in body and editor["parameters"] != CASE.parameters  # the editor's own values stay there


def test_targets_refuse_what_cannot_run() -> None:
    with pytest.raises(ValueError, match="revision number"):
        Target(TargetKind.REVISION)
    with pytest.raises(ValueError, match="flow"):
        Target(TargetKind.DRAFT, draft={"parameters": {}})


class Sink:
    def __init__(self) -> None:
        self.saved: list[tuple[SavedRun, tuple[str | None, ...]]] = []

    def save(self, run: SavedRun, *, secrets: Iterable[str | None] = ()) -> SavedRun:
        self.saved.append((run, tuple(secrets)))
        return run


def saved(status: str, events: list[lc.RunEvent]) -> SavedRun:
    return SavedRun(kind="stream", agent_id="support_agent", request={}, status=status,
                    events=[{"event": e.event, "data": e.raw, "t_ms": 1.0} for e in events])


def test_runs_are_saved_except_a_first_empty_save_and_a_429_refusal() -> None:
    sink = Sink()
    saver = BatchSaver(sink)
    saver.save(saved("running", []), secrets=("fx_key",))
    saver.save(saved("failed", [lc.RequestFailed(title="Too Many Requests", message="slow down", status=429,
                                                 retry_after=1.0)]), secrets=("fx_key",))
    refused_500 = saved("failed", [lc.RequestFailed(title="Server error", message="boom", status=500)])
    stopped = saved("stopped", [lc.StreamEnded("stopped", "Stopped by you.")])
    saver.save(refused_500, secrets=("fx_key",))
    saver.save(stopped, secrets=("fx_key",))
    assert sink.saved == [(refused_500, ("fx_key",)), (stopped, ("fx_key",))]  # the key goes on to be masked


def outcome(name: str, status: CaseStatus, checks: dict[str, bool] | None = None, cost: float = 0.0001,
            ms: float = 100.0) -> CaseOutcome:
    result = None
    if checks is not None:
        result = CaseResult(passed=all(checks.values()), outcome="completed", cost_usd=cost, total_ms=ms,
                            first_text_ms=20.0,
                            checks=tuple(CheckResult("contains", label, ok, "why") for label, ok in checks.items()))
    return CaseOutcome(f"id-{name}", name, status, result, "f" * 32 if result else None, 1)


def batch(label: str, *outcomes: CaseOutcome) -> BatchResult:
    return BatchResult(id=label, agent="support_agent", target={"kind": "deployed", "label": label}, concurrency=4,
                       started_at_ms=1, ended_at_ms=2, outcomes=outcomes)


def test_compare_finds_regressions_improvements_and_what_cannot_be_compared() -> None:
    draft = batch("draft",
                  outcome("kept", CaseStatus.PASSED, {"a": True}),
                  outcome("broken", CaseStatus.FAILED, {"a": True, "b": False}, cost=0.0003, ms=250),
                  outcome("fixed", CaseStatus.PASSED, {"a": True}),
                  outcome("still bad", CaseStatus.FAILED, {"a": False}),
                  outcome("new", CaseStatus.PASSED, {"a": True}),
                  outcome("stopped", CaseStatus.STOPPED, {"a": False}))
    deployed = batch("deployed",
                     outcome("kept", CaseStatus.PASSED, {"a": True}),
                     outcome("broken", CaseStatus.PASSED, {"a": True, "b": True}, cost=0.0001, ms=100),
                     outcome("fixed", CaseStatus.FAILED, {"a": False}),
                     outcome("still bad", CaseStatus.FAILED, {"a": False}),
                     outcome("gone", CaseStatus.PASSED, {"a": True}),
                     outcome("stopped", CaseStatus.PASSED, {"a": True}))
    comparison = compare_batches(deployed, draft)
    assert [(c.case_name, c.change) for c in comparison.changes] == [
        ("kept", Change.STILL_PASSING), ("broken", Change.REGRESSION), ("fixed", Change.IMPROVEMENT),
        ("still bad", Change.STILL_FAILING), ("new", Change.ADDED), ("stopped", Change.NOT_COMPARABLE),
        ("gone", Change.REMOVED)]
    (broken,) = comparison.of(Change.REGRESSION)
    assert broken.flipped == ("✓→✗ b",)
    assert broken.cost_delta == pytest.approx(0.0002) and broken.latency_delta_ms == 150
    assert comparison.of(Change.IMPROVEMENT)[0].flipped == ("✗→✓ a",)
    assert comparison.of(Change.ADDED)[0].cost_delta is None


def test_batch_results_round_trip_through_json() -> None:
    original = dataclasses.replace(
        batch("deployed", outcome("kept", CaseStatus.PASSED, {"answer contains “x”": True}),
              dataclasses.replace(outcome("waiting", CaseStatus.NOT_RUN), note="Rate limited (429) 1×")),
        cases=(CASE,))
    assert BatchResult.from_json(original.as_json()) == original
    assert original.summary == "1 passed · 1 not run"


def test_batch_csv_has_one_row_per_case_with_reasons_cost_latency_and_run() -> None:
    result = batch("deployed", outcome("kept", CaseStatus.PASSED, {"a": True}),
                   outcome("broken", CaseStatus.FAILED, {"a": True, "answer contains “500 EUR”": False}),
                   outcome("later", CaseStatus.NOT_RUN))
    rows = list(csv.DictReader(io.StringIO(batch_csv(result))))
    assert list(rows[0]) == BATCH_CSV_COLUMNS
    assert [(r["case"], r["status"], r["checks_passed"], r["checks_total"]) for r in rows] == [
        ("kept", "passed", "1", "1"), ("broken", "failed", "1", "2"), ("later", "not_run", "", "")]
    assert rows[1]["failed_checks"] == "answer contains “500 EUR”: why"
    assert rows[0]["cost_usd"] == "0.0001" and rows[0]["total_ms"] == "100" and rows[0]["run_id"] == "f" * 32
