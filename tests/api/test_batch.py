"""Batches of test cases against the sandbox: verdicts, saved runs, targets, Stop, and the exported pytest file."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from fruxon_playground.cases.batch import (
    BatchResult,
    BatchRunner,
    CaseStatus,
    Change,
    compare_batches,
    pooled_clients,
)
from fruxon_playground.cases.demo import demo_cases
from fruxon_playground.cases.model import TestCase, check_from_json
from fruxon_playground.cases.pytest_export import pytest_file
from fruxon_playground.cases.target import Target, TargetKind
from fruxon_playground.drafts import TEMPLATES
from fruxon_playground.history import RunStore, open_store
from fruxon_playground.runs import RunContext

FAILS_ON_PURPOSE = "Refund limit in euros (fails on purpose)"


@pytest.fixture
def history(tmp_path) -> RunStore:
    return open_store(tmp_path / "history.sqlite3")


def run_batch(sandbox, cases, target: Target, history: RunStore | None = None, **options) -> BatchResult:
    finished: list[BatchResult] = []
    context = RunContext("browser:ada", sandbox.base_url, sandbox.tenant, (sandbox.api_key,))
    runner = BatchRunner(cases, target, pooled_clients(sandbox.base_url, sandbox.api_key, sandbox.tenant),
                         saver=history, context=context if history is not None else None,
                         on_finished=finished.append, **options).start()
    assert runner.wait(60), "the batch did not finish"
    assert finished == [runner.result()]  # handed over once, when it ended
    return runner.result()


def test_the_demo_cases_pass_except_the_one_that_fails_on_purpose(sandbox, history) -> None:
    result = run_batch(sandbox, demo_cases("support_agent"), Target(TargetKind.DEPLOYED), history)
    assert result.summary == "4 passed · 1 failed" and result.finished and not result.stopped
    (failed,) = [o for o in result.outcomes if o.status is CaseStatus.FAILED]
    assert failed.case_name == FAILS_ON_PURPOSE
    assert [(c.label, c.passed, c.reason) for c in failed.result.checks] == [
        ("answer contains “manager's approval”", True, "the answer contains “manager's approval”"),
        ("answer contains “500 EUR”", False, "the answer does not contain “500 EUR”")]
    for outcome in result.outcomes:  # every case run is a normal saved run
        saved = history.get(outcome.run_id)
        assert saved.status == "completed" and saved.kind == "stream" and saved.owner == "browser:ada"
        assert saved.request["parameters"] == next(c.parameters for c in demo_cases("support_agent")
                                                   if c.name == outcome.case_name)
        assert outcome.result.cost_usd == pytest.approx(saved.total_cost) and outcome.attempts == 1
        assert outcome.result.first_text_ms is not None and outcome.result.total_ms >= outcome.result.first_text_ms


def test_the_calculator_ish_demo_cases_all_pass(sandbox) -> None:
    result = run_batch(sandbox, demo_cases("trip_planner"), Target(TargetKind.DEPLOYED), concurrency=2)
    assert result.summary == "4 passed", [(o.case_name, o.result.failed_checks) for o in result.outcomes]
    assert all(o.run_id is None for o in result.outcomes)  # no store given: nothing saved


def test_sync_runs_give_the_same_verdicts(sandbox, history) -> None:
    result = run_batch(sandbox, demo_cases("support_agent"), Target(TargetKind.DEPLOYED, streamed=False), history)
    assert result.summary == "4 passed · 1 failed"
    assert {history.get(o.run_id).kind for o in result.outcomes} == {"execute"}


def test_revision_2_against_deployed_shows_the_tone_option_as_an_improvement(sandbox) -> None:
    cases = demo_cases("support_agent")
    old = run_batch(sandbox, cases, Target(TargetKind.REVISION, revision=2))
    new = run_batch(sandbox, cases, Target(TargetKind.DEPLOYED))
    formal = next(o for o in old.outcomes if o.case_name == "Formal tone greets the customer")
    assert formal.status is CaseStatus.FAILED and "tone" in formal.result.error  # revision 2 has no tone input
    comparison = compare_batches(old, new)
    assert [c.case_name for c in comparison.of(Change.IMPROVEMENT)] == ["Formal tone greets the customer"]
    assert comparison.of(Change.REGRESSION) == ()
    assert [c.case_name for c in comparison.of(Change.STILL_FAILING)] == [FAILS_ON_PURPOSE]


def test_a_draft_target_runs_the_editors_flow_with_each_cases_inputs(sandbox, history) -> None:
    cases = [c for c in demo_cases("support_agent") if set(c.parameters) == {"question"}]
    result = run_batch(sandbox, cases, Target(TargetKind.DRAFT, draft=TEMPLATES["llm_tool"].request), history)
    assert result.count(CaseStatus.PASSED) == len(cases) - 1
    saved = [history.get(o.run_id) for o in result.outcomes]
    assert {s.kind for s in saved} == {"stream_test"}
    assert all(s.request["flow"] == TEMPLATES["llm_tool"].request["flow"] for s in saved)
    assert [s.request["parameters"] for s in saved] == [c.parameters for c in cases]


def test_stop_cancels_the_running_cases_and_leaves_the_rest_not_run(timed_sandbox, tmp_path) -> None:
    history = open_store(tmp_path / "history.sqlite3")
    cases = [TestCase(name=f"long {i}", agent="support_agent", parameters={"question": f"q{i} [[sandbox:long]]"},
                      checks=[check_from_json({"kind": "no_failure"})]) for i in range(8)]
    context = RunContext("browser:ada", timed_sandbox.base_url, timed_sandbox.tenant, (timed_sandbox.api_key,))
    runner = BatchRunner(cases, Target(TargetKind.DEPLOYED),
                         pooled_clients(timed_sandbox.base_url, timed_sandbox.api_key, timed_sandbox.tenant),
                         concurrency=2, saver=history, context=context).start()
    deadline = time.monotonic() + 10
    while runner.progress().running < 2:
        assert time.monotonic() < deadline, "the first cases did not start"
        time.sleep(0.05)
    time.sleep(0.5)
    stopped_at = time.monotonic()
    runner.stop()
    assert runner.wait(3), "Stop did not end the batch"
    assert time.monotonic() - stopped_at < 2.0
    result, progress = runner.result(), runner.progress()
    assert result.summary == "2 stopped · 6 not run" and result.stopped
    assert progress.done == progress.total == 8 and progress.running == 0 and progress.finished
    for outcome in result.outcomes:
        if outcome.status is CaseStatus.STOPPED:
            assert history.get(outcome.run_id).status == "stopped"
        else:
            assert outcome.run_id is None and outcome.attempts == 0


def test_the_exported_pytest_file_passes_and_fails_like_the_batch(sandbox, tmp_path) -> None:
    cases = demo_cases("support_agent")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FRUXON_", "PYTEST_"))}
    env |= {"FRUXON_API_KEY": sandbox.api_key, "FRUXON_TENANT": sandbox.tenant, "FRUXON_BASE_URL": sandbox.base_url}

    def pytest_run(name: str, chosen: list[TestCase]) -> subprocess.CompletedProcess[str]:
        path = tmp_path / name
        path.write_text(pytest_file("support_agent", chosen, source=" from a test"), encoding="utf-8")
        assert sandbox.api_key not in path.read_text(encoding="utf-8")
        return subprocess.run([sys.executable, "-m", "pytest", str(path), "-q", "-p", "no:cacheprovider",
                               "-o", "addopts=", "--rootdir", str(tmp_path)],
                              cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)

    passing = pytest_run("test_support_passing.py", [c for c in cases if c.name != FAILS_ON_PURPOSE])
    assert passing.returncode == 0, passing.stdout + passing.stderr
    assert "4 passed" in passing.stdout
    everything = pytest_run("test_support_all.py", cases)
    assert everything.returncode == 1
    assert "1 failed, 4 passed" in everything.stdout
    assert "answer contains “500 EUR”: the answer does not contain “500 EUR”" in everything.stdout
    no_key = subprocess.run([sys.executable, "-m", "pytest", str(tmp_path / "test_support_passing.py"), "-q",
                             "-p", "no:cacheprovider", "-o", "addopts=", "--rootdir", str(tmp_path)], cwd=tmp_path,
                            env={k: v for k, v in env.items() if k != "FRUXON_API_KEY"}, capture_output=True, text=True,
                            timeout=120)
    assert no_key.returncode == 1 and "Set FRUXON_API_KEY" in no_key.stdout  # fails, never silently skips
