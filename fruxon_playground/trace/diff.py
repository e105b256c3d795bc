"""Compare two traces step by step: steps are aligned by their path (names from the root, with an
index among same-named siblings)."""

from __future__ import annotations

from dataclasses import dataclass

from fruxon_playground.trace.model import Span, Trace


@dataclass(frozen=True)
class StepChange:
    path: tuple[str, ...]
    change: str  # "added" | "removed" | "changed"
    before: Span | None
    after: Span | None
    duration_delta_ms: int | None
    cost_delta: float
    tokens_delta: int
    changed_fields: tuple[str, ...]  # what differs besides the numbers: status, arguments, result, error, model


@dataclass(frozen=True)
class TraceDiff:
    changes: tuple[StepChange, ...]
    duration_delta_ms: int | None
    cost_delta: float
    tokens_delta: int

    @property
    def identical(self) -> bool:
        return not self.changes


def _tokens(span: Span | None) -> int:
    return 0 if span is None else span.input_tokens + span.output_tokens


def _duration(trace: Trace) -> int | None:
    if trace.start_ms and trace.end_ms:
        return trace.end_ms - trace.start_ms
    roots = [trace.spans[r].duration_ms for r in trace.roots]
    return sum(roots) if roots and None not in roots else None


def diff_traces(before: Trace, after: Trace) -> TraceDiff:
    old = {s.path: s for s in before.walk()}
    new = {s.path: s for s in after.walk()}
    changes: list[StepChange] = []
    for path in [*old, *(p for p in new if p not in old)]:
        a, b = old.get(path), new.get(path)
        if a is not None and b is not None:
            fields = tuple(name for name in ("status", "arguments", "result", "error", "model", "raw_type")
                           if getattr(a, name) != getattr(b, name))
            delta = None if a.duration_ms is None or b.duration_ms is None else b.duration_ms - a.duration_ms
            if not fields and not delta and a.cost == b.cost and _tokens(a) == _tokens(b):
                continue
            change = "changed"
        else:
            fields, delta, change = (), None, ("added" if a is None else "removed")
        changes.append(StepChange(path, change, a, b, delta, (b.cost if b else 0.0) - (a.cost if a else 0.0),
                                  _tokens(b) - _tokens(a), fields))
    d_before, d_after = _duration(before), _duration(after)
    return TraceDiff(
        changes=tuple(changes),
        duration_delta_ms=None if d_before is None or d_after is None else d_after - d_before,
        cost_delta=after.total_cost - before.total_cost,
        tokens_delta=(after.input_tokens + after.output_tokens) - (before.input_tokens + before.output_tokens),
    )
