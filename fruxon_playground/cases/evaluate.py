"""Judging one run of a case: `evaluate(case, state, elapsed_ms) -> CaseResult`. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fruxon_playground.cases import checks as portable
from fruxon_playground.cases.model import NoFailure, TestCase
from fruxon_playground.runs.fold import RunState

IMPLICIT_NOTE = " (implicit: the case has no checks)"


@dataclass(frozen=True)
class CheckResult:
    kind: str
    label: str  # what the check asks for
    passed: bool
    reason: str  # what the run did, in words

    def as_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "label": self.label, "passed": self.passed, "reason": self.reason}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CheckResult:
        return cls(str(data.get("kind", "")), str(data.get("label", "")), data.get("passed") is True,
                   str(data.get("reason", "")))


@dataclass(frozen=True)
class CaseResult:
    passed: bool
    checks: tuple[CheckResult, ...]
    outcome: str  # the run's final phase: completed, failed, stopped…
    cost_usd: float | None
    total_ms: float | None
    first_text_ms: float | None
    error: str | None = None

    @property
    def failed_checks(self) -> tuple[CheckResult, ...]:
        return tuple(c for c in self.checks if not c.passed)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if number == number and abs(number) != float("inf") else None


def observed(state: RunState, elapsed_ms: float) -> portable.Observed:
    """What the checks read from a run's folded state."""
    health = state.health
    # A sync run's text arrives all at once, in its only event.
    first_text = health.first_text_ms if health.first_text_ms is not None else (
        health.first_event_ms if state.text else None)
    return portable.Observed(
        outcome=state.phase.value,
        text=state.text,
        tools=tuple(portable.ToolCall(card.name, card.arguments) for card in state.tools.values()),
        cost_usd=_number((state.trace or {}).get("totalCost")),
        first_text_ms=first_text,
        total_ms=elapsed_ms,
        error=state.error_message,
    )


def evaluate(case: TestCase, state: RunState, elapsed_ms: float) -> CaseResult:
    """Every check of the case on one finished run. A case without checks must at least not fail."""
    run = observed(state, elapsed_ms)
    results = []
    for check in case.checks or [NoFailure()]:
        passed, reason = portable.run_check(check.as_json(), run)
        label = check.label + ("" if case.checks else IMPLICIT_NOTE)
        results.append(CheckResult(check.kind, label, passed, reason))
    return CaseResult(
        passed=all(r.passed for r in results), checks=tuple(results), outcome=run.outcome, cost_usd=run.cost_usd,
        total_ms=round(elapsed_ms, 1), first_text_ms=round(run.first_text_ms, 1) if run.first_text_ms is not None else None,
        error=run.error,
    )
