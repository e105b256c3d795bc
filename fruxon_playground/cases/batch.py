"""Running a set of test cases against one target, a few at a time, and comparing two such batches.

`BatchRunner` keeps `concurrency` lanes (threads) busy; each lane takes the next case, runs it as an
ordinary `RunHandle` (which saves itself to the run history like any other run) and judges it. A
429 answer puts the case back at the front of the queue and holds every lane until `Retry-After`
has passed; no other failed request is ever sent again (a POST that runs an agent is not safe to
repeat). Stop cancels the running cases and leaves the rest not run. The page reads `progress()`
and `result()` at its own pace; the runner hands its result to `on_finished` when it ends.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import httpx

from fruxon_playground.api import FruxonClient
from fruxon_playground.cases.evaluate import CaseResult, CheckResult, evaluate
from fruxon_playground.cases.model import TestCase
from fruxon_playground.cases.target import Target
from fruxon_playground.contract.secrets import mask_secrets
from fruxon_playground.history import SavedRun
from fruxon_playground.runs import lifecycle as lc
from fruxon_playground.runs.fold import Phase
from fruxon_playground.runs.handle import ClientFactory, RunHandle
from fruxon_playground.runs.record import RunContext, RunRecorder, RunSaver

DEFAULT_CONCURRENCY = 4
MAX_CONCURRENCY = 16
DEFAULT_RETRY_S = 2.0  # a 429 without Retry-After
MIN_RETRY_S = 0.05  # "Retry-After: 0" still lets the other lanes' answers arrive first
MAX_RETRY_S = 120.0
MAX_RATE_LIMITED = 5  # 429 answers one case may get before it counts as failed


class CaseStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    WAITING = "waiting"  # answered 429: back in the queue until Retry-After has passed
    PASSED = "passed"
    FAILED = "failed"
    STOPPED = "stopped"  # cancelled by Stop while it ran
    NOT_RUN = "not_run"  # Stop came before it started

    @property
    def final(self) -> bool:
        return self in (CaseStatus.PASSED, CaseStatus.FAILED, CaseStatus.STOPPED, CaseStatus.NOT_RUN)


@dataclass(frozen=True)
class CaseOutcome:
    case_id: str
    case_name: str
    status: CaseStatus = CaseStatus.PENDING
    result: CaseResult | None = None
    run_id: str | None = None  # the saved run (History, `?run=`)
    attempts: int = 0  # requests sent; each 429 answer adds one
    note: str | None = None  # what happened besides the checks (rate limits, a lost worker)

    def as_json(self) -> dict[str, Any]:
        result = self.result
        return {
            "caseId": self.case_id, "caseName": self.case_name, "status": self.status.value, "runId": self.run_id,
            "attempts": self.attempts, "note": self.note,
            "result": None if result is None else {
                "passed": result.passed, "outcome": result.outcome, "costUsd": result.cost_usd,
                "totalMs": result.total_ms, "firstTextMs": result.first_text_ms, "error": result.error,
                "checks": [c.as_json() for c in result.checks]},
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CaseOutcome:
        raw = data.get("result")
        result = None
        if isinstance(raw, Mapping):
            result = CaseResult(
                passed=raw.get("passed") is True, outcome=str(raw.get("outcome") or ""),
                checks=tuple(CheckResult.from_json(c) for c in raw.get("checks") or [] if isinstance(c, Mapping)),
                cost_usd=_float(raw.get("costUsd")), total_ms=_float(raw.get("totalMs")),
                first_text_ms=_float(raw.get("firstTextMs")), error=raw.get("error"))
        status = str(data.get("status") or "")
        return cls(case_id=str(data.get("caseId") or ""), case_name=str(data.get("caseName") or ""),
                   status=CaseStatus(status) if status in CaseStatus._value2member_map_ else CaseStatus.NOT_RUN,
                   result=result, run_id=data.get("runId"), attempts=int(data.get("attempts") or 0),
                   note=data.get("note"))


def _float(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


@dataclass(frozen=True)
class BatchResult:
    id: str
    agent: str
    target: Mapping[str, Any]  # Target.as_json(): kind, revision, streamed, label
    concurrency: int
    started_at_ms: int
    ended_at_ms: int | None
    outcomes: tuple[CaseOutcome, ...]
    stopped: bool = False
    cases: tuple[TestCase, ...] = ()  # the cases as they ran (for an export of exactly this batch)

    @property
    def finished(self) -> bool:
        return self.ended_at_ms is not None

    @property
    def target_label(self) -> str:
        return str(self.target.get("label") or self.target.get("kind") or "?")

    def count(self, status: CaseStatus) -> int:
        return sum(1 for o in self.outcomes if o.status is status)

    @property
    def summary(self) -> str:
        """One line: `12 passed · 1 failed · 2 not run` (zeros left out)."""
        parts = [f"{self.count(s)} {s.value.replace('_', ' ')}" for s in CaseStatus if self.count(s)]
        return " · ".join(parts) or "no cases"

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "agent": self.agent, "target": dict(self.target), "concurrency": self.concurrency,
                "startedAtMs": self.started_at_ms, "endedAtMs": self.ended_at_ms, "stopped": self.stopped,
                "outcomes": [o.as_json() for o in self.outcomes], "cases": [c.as_json() for c in self.cases]}

    def masked(self, secrets: tuple[str, ...] = ()) -> BatchResult:
        """The batch with secrets removed from everything it quotes (answers, errors, inputs)."""
        return BatchResult.from_json(mask_secrets(self.as_json(), secrets))

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> BatchResult:
        return cls(id=str(data["id"]), agent=str(data.get("agent") or ""), target=dict(data.get("target") or {}),
                   concurrency=int(data.get("concurrency") or 0), started_at_ms=int(data.get("startedAtMs") or 0),
                   ended_at_ms=data.get("endedAtMs"), stopped=data.get("stopped") is True,
                   outcomes=tuple(CaseOutcome.from_json(o) for o in data.get("outcomes") or []),
                   cases=tuple(_readable_cases(data.get("cases") or [])))


def _readable_cases(items: list[Any]) -> list[TestCase]:
    cases = []
    for item in items:
        try:
            cases.append(TestCase.model_validate(item))
        except ValueError:
            continue  # saved by a version whose cases this one cannot read: the outcomes still show
    return cases


@dataclass(frozen=True)
class BatchProgress:
    total: int
    done: int  # passed + failed + stopped + not run
    passed: int
    failed: int
    running: int
    waiting: int  # rate-limited cases back in the queue
    finished: bool
    stopping: bool
    elapsed_ms: float
    hold_s: float  # seconds until rate-limited lanes may send again (0 = none)

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 1.0


class BatchSaver:
    """Saves a batch's runs like any run (the recorder groups them under the batch and labels each
    with its case's name). A request the server refused with 429 was never run: it is not saved
    (the case is sent again), and neither is a run's first, empty save."""

    def __init__(self, store: RunSaver) -> None:
        self.store = store

    def save(self, run: SavedRun, *, secrets: Iterable[str | None] = ()) -> SavedRun:
        if not run.events and run.status == "running":
            return run
        if _refused_by_rate_limit(run):
            return run
        return self.store.save(run, secrets=secrets)


def _refused_by_rate_limit(run: SavedRun) -> bool:
    if run.status != "failed" or len(run.events) != 1:
        return False
    event = lc.parse_run_event(str(run.events[0].get("event") or ""), str(run.events[0].get("data") or ""))
    return isinstance(event, lc.RequestFailed) and event.status == 429


def pooled_clients(base_url: str, api_key: str, tenant: str, *, auth_header: str = "both") -> ClientFactory:
    """Clients for one batch's runs: each has its own connection pool (closing it stops only its
    run), all share one TLS context (building one costs ~30 ms of CPU while holding the GIL: 200
    of them stall the page for seconds)."""
    tls = httpx.create_ssl_context()

    def client() -> FruxonClient:
        return FruxonClient(base_url, api_key, tenant, auth_header=auth_header,
                            transport=httpx.HTTPTransport(verify=tls))

    return client


class BatchRunner:
    """One batch: `start()`, then read `progress()`/`result()`; `stop()` from any thread."""

    def __init__(self, cases: Sequence[TestCase], target: Target, client_factory: ClientFactory, *,
                 concurrency: int = DEFAULT_CONCURRENCY, saver: RunSaver | None = None,
                 context: RunContext | None = None, on_finished: Callable[[BatchResult], None] | None = None,
                 batch_id: str | None = None) -> None:
        if not 1 <= concurrency <= MAX_CONCURRENCY:
            raise ValueError(f"concurrency must be between 1 and {MAX_CONCURRENCY}")
        agents = {case.agent for case in cases}
        if len(agents) > 1:
            raise ValueError("a batch runs the cases of one agent")
        self.id = batch_id or uuid.uuid4().hex
        self.cases = tuple(cases)
        self.agent = next(iter(agents), "")
        self.target = target
        self.concurrency = concurrency
        self.save_error: str | None = None  # on_finished failed: why
        self._client_factory = client_factory
        self._saver = saver
        self._context = context
        self._on_finished = on_finished
        self._lock = threading.Condition()
        self._outcomes = [CaseOutcome(case.id, case.name) for case in self.cases]
        self._queue: deque[int] = deque(range(len(self.cases)))
        self._rate_limited = [0] * len(self.cases)
        self._active: dict[int, RunHandle] = {}
        self._hold_until = 0.0
        self._stopping = False
        self._lanes = 0
        self._started_at_ms = int(time.time() * 1000)
        self._t0 = time.monotonic()
        self._ended: float | None = None
        self._ended_at_ms: int | None = None
        self._done = threading.Event()

    # -- control -----------------------------------------------------------------------------------
    def start(self) -> BatchRunner:
        lanes = min(self.concurrency, len(self.cases))
        with self._lock:
            self._lanes = lanes
        for number in range(lanes):
            threading.Thread(target=self._lane, name=f"fruxon-batch-{self.id[:8]}-{number}", daemon=True).start()
        if not lanes:
            self._finish()
        return self

    def stop(self) -> None:
        """Cancel the running cases; the ones not started yet stay not run."""
        with self._lock:
            self._stopping = True
            running = list(self._active.values())
            self._lock.notify_all()
        for handle in running:
            handle.cancel()

    def wait(self, timeout: float | None = None) -> bool:
        return self._done.wait(timeout)

    @property
    def finished(self) -> bool:
        return self._done.is_set()

    # -- reading -----------------------------------------------------------------------------------
    def progress(self) -> BatchProgress:
        with self._lock:
            statuses = [o.status for o in self._outcomes]
            hold = max(0.0, self._hold_until - time.monotonic())
            stopping, ended = self._stopping, self._ended
        elapsed = ((ended if ended is not None else time.monotonic()) - self._t0) * 1000
        return BatchProgress(
            total=len(statuses), done=sum(s.final for s in statuses), passed=statuses.count(CaseStatus.PASSED),
            failed=statuses.count(CaseStatus.FAILED), running=statuses.count(CaseStatus.RUNNING),
            waiting=statuses.count(CaseStatus.WAITING), finished=self._done.is_set(), stopping=stopping,
            elapsed_ms=elapsed, hold_s=hold if not self._done.is_set() else 0.0)

    def result(self) -> BatchResult:
        with self._lock:
            outcomes = tuple(self._outcomes)
            stopping, ended_at = self._stopping, self._ended_at_ms
        return BatchResult(id=self.id, agent=self.agent, target=self.target.as_json(), concurrency=self.concurrency,
                           started_at_ms=self._started_at_ms, ended_at_ms=ended_at, outcomes=outcomes,
                           stopped=stopping, cases=self.cases)

    # -- lanes -------------------------------------------------------------------------------------
    def _next(self) -> int | None:
        """The next case to run, after any rate-limit hold; None when there is none or Stop was pressed."""
        with self._lock:
            while True:
                if self._stopping or not self._queue:
                    return None
                hold = self._hold_until - time.monotonic()
                if hold <= 0:
                    index = self._queue.popleft()
                    self._set(index, status=CaseStatus.RUNNING, attempts=self._outcomes[index].attempts + 1)
                    return index
                self._lock.wait(hold)

    def _set(self, index: int, **changes: Any) -> None:
        self._outcomes[index] = dataclasses.replace(self._outcomes[index], **changes)

    def _lane(self) -> None:
        try:
            while (index := self._next()) is not None:
                try:
                    self._run_case(index)
                except Exception as exc:  # a lane must never lose a case silently
                    with self._lock:
                        self._active.pop(index, None)
                        self._set(index, status=CaseStatus.FAILED, note=f"The case could not be run: {exc!r}")
        finally:
            with self._lock:
                self._lanes -= 1
                last = self._lanes == 0
            if last:
                self._finish()

    def _recorder(self, case: TestCase) -> RunRecorder | None:
        if self._saver is None or self._context is None:
            return None
        return RunRecorder(BatchSaver(self._saver),
                           dataclasses.replace(self._context, group_id=self.id, label=case.name))

    def _run_case(self, index: int) -> None:
        case = self.cases[index]
        handle = RunHandle(self.target.run_kind, case.agent, self.target.request(case), self._client_factory,
                           recorder=self._recorder(case))
        with self._lock:
            if self._stopping:  # Stop came between taking the case and here: nothing was sent
                self._set(index, status=CaseStatus.NOT_RUN)
                return
            self._active[index] = handle
            self._set(index, run_id=handle.id)
        handle.start()
        handle.wait()
        snapshot = handle.snapshot()
        failure = snapshot.state.failure
        with self._lock:
            self._active.pop(index, None)
            if (failure is not None and failure.status == 429 and not self._stopping
                    and self._rate_limited[index] < MAX_RATE_LIMITED):
                self._rate_limited[index] += 1
                wanted = DEFAULT_RETRY_S if failure.retry_after is None else failure.retry_after
                delay = min(max(wanted, MIN_RETRY_S), MAX_RETRY_S)
                self._hold_until = max(self._hold_until, time.monotonic() + delay)
                self._queue.appendleft(index)
                self._set(index, status=CaseStatus.WAITING, run_id=None,
                          note=f"Rate limited (429) {self._rate_limited[index]}×; sent again after {delay:g} s.")
                self._lock.notify_all()
                return
        result = evaluate(case, snapshot.state, snapshot.elapsed_ms)
        if snapshot.state.phase is Phase.STOPPED:
            status = CaseStatus.STOPPED
        else:
            status = CaseStatus.PASSED if result.passed else CaseStatus.FAILED
        refused = failure is not None and failure.status == 429  # not saved: see BatchSaver
        with self._lock:
            note = self._outcomes[index].note
            if refused and not self._stopping:
                note = f"Rate limited (429) {self._rate_limited[index] + 1}×; gave up."
            self._set(index, status=status, result=result, note=note,
                      run_id=handle.id if handle.recorder is not None and not refused else None)

    def _finish(self) -> None:
        with self._lock:
            for index in self._queue:
                self._set(index, status=CaseStatus.NOT_RUN)
            self._queue.clear()
            for index, outcome in enumerate(self._outcomes):
                if not outcome.status.final:  # cannot happen while lanes account for every case; never lose one
                    self._set(index, status=CaseStatus.NOT_RUN, note="The case was left unfinished.")
            self._ended = time.monotonic()
            self._ended_at_ms = int(time.time() * 1000)
        if self._on_finished is not None:
            try:
                self._on_finished(self.result())
            except Exception as exc:
                self.save_error = str(exc) or type(exc).__name__
        self._done.set()


# -- comparing two batches ------------------------------------------------------------------------------
class Change(StrEnum):
    REGRESSION = "regression"  # passed before, fails now
    IMPROVEMENT = "improvement"  # failed before, passes now
    STILL_PASSING = "still passing"
    STILL_FAILING = "still failing"
    ADDED = "only in the new batch"
    REMOVED = "only in the old batch"
    NOT_COMPARABLE = "not comparable"  # stopped or not run on one side


@dataclass(frozen=True)
class CaseChange:
    case_name: str
    change: Change
    before: CaseOutcome | None
    after: CaseOutcome | None
    flipped: tuple[str, ...] = ()  # checks that changed verdict: "✗→✓ answer contains …"

    @property
    def cost_delta(self) -> float | None:
        return _delta(self.before, self.after, lambda r: r.cost_usd)

    @property
    def latency_delta_ms(self) -> float | None:
        return _delta(self.before, self.after, lambda r: r.total_ms)


def _delta(before: CaseOutcome | None, after: CaseOutcome | None,
           read: Callable[[CaseResult], float | None]) -> float | None:
    if before is None or after is None or before.result is None or after.result is None:
        return None
    a, b = read(before.result), read(after.result)
    return None if a is None or b is None else b - a


@dataclass(frozen=True)
class BatchComparison:
    before: BatchResult
    after: BatchResult
    changes: tuple[CaseChange, ...]

    def of(self, change: Change) -> tuple[CaseChange, ...]:
        return tuple(c for c in self.changes if c.change is change)


_JUDGED = (CaseStatus.PASSED, CaseStatus.FAILED)


def compare_batches(before: BatchResult, after: BatchResult) -> BatchComparison:
    """Case by case (matched by name), in the new batch's order, then the cases only the old one had."""
    old = {o.case_name: o for o in before.outcomes}
    new_names = {o.case_name for o in after.outcomes}
    changes = [_change(old.get(o.case_name), o) for o in after.outcomes]
    changes += [CaseChange(o.case_name, Change.REMOVED, o, None) for o in before.outcomes if o.case_name not in new_names]
    return BatchComparison(before, after, tuple(changes))


def _change(before: CaseOutcome | None, after: CaseOutcome) -> CaseChange:
    if before is None:
        return CaseChange(after.case_name, Change.ADDED, None, after)
    if before.status not in _JUDGED or after.status not in _JUDGED:
        return CaseChange(after.case_name, Change.NOT_COMPARABLE, before, after)
    was, now = before.status is CaseStatus.PASSED, after.status is CaseStatus.PASSED
    change = {(True, False): Change.REGRESSION, (False, True): Change.IMPROVEMENT,
              (True, True): Change.STILL_PASSING, (False, False): Change.STILL_FAILING}[(was, now)]
    old_checks = {c.label: c.passed for c in before.result.checks} if before.result else {}
    flipped = tuple(f"{'✓' if old_checks[c.label] else '✗'}→{'✓' if c.passed else '✗'} {c.label}"
                    for c in (after.result.checks if after.result else ())
                    if c.label in old_checks and old_checks[c.label] != c.passed)
    return CaseChange(after.case_name, change, before, after, flipped)


# -- export ---------------------------------------------------------------------------------------------
BATCH_CSV_COLUMNS = ["case", "status", "checks_passed", "checks_total", "failed_checks", "cost_usd", "total_ms",
                     "first_text_ms", "outcome", "attempts", "run_id", "note", "error"]


def batch_csv(batch: BatchResult) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(BATCH_CSV_COLUMNS)
    for o in batch.outcomes:
        r = o.result
        failed = "; ".join(f"{c.label}: {c.reason}" for c in r.failed_checks) if r else ""
        writer.writerow([
            o.case_name, o.status.value, sum(c.passed for c in r.checks) if r else "", len(r.checks) if r else "",
            failed, _cell(r.cost_usd if r else None), _cell(r.total_ms if r else None),
            _cell(r.first_text_ms if r else None), r.outcome if r else "", o.attempts, o.run_id or "", o.note or "",
            (r.error or "") if r else "",
        ])
    return out.getvalue()


def _cell(value: float | None) -> str:
    return "" if value is None else f"{value:g}"
