"""Batch limits against a purpose-built agent server on loopback: bounded concurrency, 429 Retry-After
(requeue, a hold for every lane, no refused run saved), and no other failed POST sent again."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from fruxon_playground.cases.batch import MAX_RATE_LIMITED, BatchRunner, CaseStatus, pooled_clients
from fruxon_playground.cases.model import TestCase, check_from_json
from fruxon_playground.cases.target import Target, TargetKind
from fruxon_playground.history import RunQuery, RunStore, open_store
from fruxon_playground.runs import RunContext
from tests.api._loopback import serve

KEY = "fx_pat_batch_limits_0000000000042"


@dataclass
class FakeAgent:
    """Streams `answer: <question>` after `latency_s`; refuses or fails chosen questions first."""

    latency_s: float = 0.0
    refusals: dict[str, int] = field(default_factory=dict)  # question -> how many 429s it gets first
    retry_after: str = "1"
    statuses: dict[str, int] = field(default_factory=dict)  # question -> a status it always gets
    log: list[tuple[float, str, int]] = field(default_factory=list)  # (arrival, question, status answered)
    in_flight: int = 0
    max_in_flight: int = 0

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/v1/tenants/{tenant}/agents/{action}")
        async def run(tenant: str, action: str, request: Request) -> Response:
            question = (await request.json())["parameters"]["question"]
            arrived = time.monotonic()
            if self.refusals.get(question, 0) > 0:
                self.refusals[question] -= 1
                self.log.append((arrived, question, 429))
                return JSONResponse({"title": "Too Many Requests", "status": 429, "detail": "Slow down."},
                                    status_code=429, headers={"Retry-After": self.retry_after})
            if question in self.statuses:
                self.log.append((arrived, question, self.statuses[question]))
                return JSONResponse({"title": "Boom", "status": self.statuses[question], "detail": "It broke."},
                                    status_code=self.statuses[question])
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            try:
                await asyncio.sleep(self.latency_s)
            finally:
                self.in_flight -= 1
            self.log.append((arrived, question, 200))
            done = {"status": "COMPLETED", "response": f"answer: {question}", "executionRecordId": "r",
                    "trace": {"totalCost": 0.0001, "traces": []}}
            body = (f"event: text\ndata: {json.dumps({'chunk': f'answer: {question}'})}\n\n"
                    f"event: done\ndata: {json.dumps(done)}\n\n")
            return Response(body, media_type="text/event-stream")

        return app

    def requests_for(self, question: str) -> list[tuple[float, str, int]]:
        return [entry for entry in self.log if entry[1] == question]


def cases(count: int) -> list[TestCase]:
    return [TestCase(name=f"case {i}", agent="bench_agent", parameters={"question": f"q{i}"},
                     checks=[check_from_json({"kind": "contains", "text": f"answer: q{i}"})]) for i in range(count)]


def runner(base_url: str, chosen: list[TestCase], *, history: RunStore | None = None, **options) -> BatchRunner:
    context = RunContext("browser:ada", base_url, "demo", (KEY,)) if history is not None else None
    return BatchRunner(chosen, Target(TargetKind.DEPLOYED), pooled_clients(base_url, KEY, "demo"), saver=history,
                       context=context, **options)


@pytest.mark.parametrize("concurrency", [1, 3])
def test_no_more_than_the_concurrency_runs_at_once(concurrency: int) -> None:
    agent = FakeAgent(latency_s=0.15)
    with serve(agent.app()) as base_url:
        batch = runner(base_url, cases(9), concurrency=concurrency).start()
        assert batch.wait(30)
    assert batch.result().summary == "9 passed"
    assert agent.max_in_flight == concurrency


def test_a_429_requeues_the_case_and_holds_every_lane_until_retry_after(tmp_path) -> None:
    history = open_store(tmp_path / "history.sqlite3")
    agent = FakeAgent(latency_s=0.1, refusals={"q1": 1, "q4": 2}, retry_after="1")
    with serve(agent.app()) as base_url:  # 24 cases keep 3 lanes sending for ~0.8 s without a hold
        batch = runner(base_url, cases(24), history=history, concurrency=3).start()
        assert batch.wait(30)
    result = batch.result()
    assert result.summary == "24 passed"
    assert [o.attempts for o in result.outcomes[:6]] == [1, 2, 1, 1, 3, 1]
    assert result.outcomes[4].note == "Rate limited (429) 2×; sent again after 1 s."
    for question in ("q1", "q4"):  # the refused case waits Retry-After before it is sent again
        arrivals = [t for t, _, _ in agent.requests_for(question)]
        assert all(later - earlier >= 0.95 for earlier, later in zip(arrivals, arrivals[1:], strict=False))
    for refused_at in [t for t, _, status in agent.log if status == 429]:
        # ...and so does every other lane (a request already on its way when the 429 came may still arrive)
        assert not [t - refused_at for t, _, _ in agent.log if refused_at + 0.5 < t < refused_at + 0.95]
    # Each case is one saved run: the refused requests were never runs.
    assert sorted(r.status for r in history.list(RunQuery("browser:ada")).items) == ["completed"] * 24
    assert {o.run_id for o in result.outcomes} == {r.id for r in history.list(RunQuery("browser:ada")).items}


def test_a_case_refused_again_and_again_fails_after_a_few_tries_and_the_others_go_on() -> None:
    agent = FakeAgent(refusals={"q0": 100}, retry_after="0")
    with serve(agent.app()) as base_url:
        batch = runner(base_url, cases(3), concurrency=2).start()
        assert batch.wait(30)
    first, *rest = batch.result().outcomes
    assert first.status is CaseStatus.FAILED and first.attempts == MAX_RATE_LIMITED + 1
    assert first.note == f"Rate limited (429) {MAX_RATE_LIMITED + 1}×; gave up." and first.run_id is None
    assert "Too Many Requests" in first.result.error or "Slow down" in first.result.error
    assert len(agent.requests_for("q0")) == MAX_RATE_LIMITED + 1
    assert [o.status for o in rest] == [CaseStatus.PASSED, CaseStatus.PASSED]


@pytest.mark.parametrize("status", [500, 503, 400])
def test_any_other_failed_request_is_never_sent_again(status: int) -> None:
    agent = FakeAgent(statuses={"q1": status})
    with serve(agent.app()) as base_url:
        batch = runner(base_url, cases(3)).start()
        assert batch.wait(30)
    outcome = batch.result().outcomes[1]
    assert outcome.status is CaseStatus.FAILED and outcome.attempts == 1
    assert outcome.result.failed_checks[0].reason == "the run gave no answer"
    assert len(agent.requests_for("q1")) == 1


def test_stop_during_a_rate_limit_hold_ends_at_once_and_leaves_the_queue_not_run() -> None:
    agent = FakeAgent(refusals={"q0": 1}, retry_after="30")
    with serve(agent.app()) as base_url:
        batch = runner(base_url, cases(4), concurrency=1).start()
        deadline = time.monotonic() + 10
        while batch.progress().hold_s < 20:
            assert time.monotonic() < deadline, "the 429 hold never began"
            time.sleep(0.02)
        assert batch.progress().waiting == 1
        batch.stop()
        assert batch.wait(2), "Stop waited for the hold"
    assert batch.result().summary == "4 not run"
    assert len(agent.log) == 1
