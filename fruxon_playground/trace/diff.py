"""Compare two traces step by step.

Steps are aligned by their position in the tree: at every level, a step's name, its kind and its
order among siblings with the same name and kind. So a step that moved among differently named
siblings is still "the same step", and a repeated step (a retried tool) pairs up in order.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from fruxon_playground._gc import cyclic_gc_paused
from fruxon_playground.trace.model import Span, Trace

StepKey = tuple[tuple[str, str, int], ...]  # (name, kind, index among same name and kind), root first
MAX_KEY_PATHS = 50  # per payload: enough to say what changed without listing a whole document
_MAX_PAYLOAD_DEPTH = 8
# The same fields, in the same order, as `_compared`.
_COMPARED_FIELDS = ("raw_type", "status", "error", "model", "tool_name", "arguments", "result", "hitl")


class Change(StrEnum):
    ADDED = "added"
    REMOVED = "removed"
    CHANGED = "changed"


@dataclass(frozen=True, slots=True)
class StepChange:
    key: StepKey
    path: tuple[str, ...]  # the step's `path` (in the newer trace when it has the step)
    change: Change
    before: Span | None
    after: Span | None
    duration_delta_ms: int | None  # None when either side has no duration (running, unknown, absent)
    cost_delta: float  # own cost, after − before (an absent side counts as 0)
    input_tokens_delta: int
    output_tokens_delta: int
    changed_fields: tuple[str, ...]  # what differs besides the numbers, e.g. ("status", "arguments")
    argument_changes: tuple[
        str, ...
    ]  # where the arguments differ: "$.query", "$.filters[0]"; "$" = all of it
    result_changes: tuple[str, ...]

    @property
    def tokens_delta(self) -> int:
        return self.input_tokens_delta + self.output_tokens_delta


@dataclass(frozen=True, slots=True)
class TraceDiff:
    changes: tuple[
        StepChange, ...
    ]  # in tree order: the older trace's steps, added ones after their predecessor
    duration_delta_ms: int | None
    cost_delta: float
    input_tokens_delta: int
    output_tokens_delta: int
    step_count_delta: int
    error_count_delta: int

    @property
    def tokens_delta(self) -> int:
        return self.input_tokens_delta + self.output_tokens_delta

    @property
    def identical(self) -> bool:
        return (
            not self.changes and not self.cost_delta and not self.tokens_delta and not self.duration_delta_ms
        )

    @property
    def added(self) -> tuple[StepChange, ...]:
        return tuple(c for c in self.changes if c.change is Change.ADDED)

    @property
    def removed(self) -> tuple[StepChange, ...]:
        return tuple(c for c in self.changes if c.change is Change.REMOVED)

    @property
    def changed(self) -> tuple[StepChange, ...]:
        return tuple(c for c in self.changes if c.change is Change.CHANGED)


class _Keys:
    """Alignment keys interned as small integers, shared by both traces: a key is (its parent's
    number, name, kind, index), so comparing and hashing it never walks the whole path."""

    def __init__(self) -> None:
        self.numbers: dict[tuple[int, str, str, int], int] = {}
        self.parts: list[tuple[int, str, str, int]] = []

    def number(self, part: tuple[int, str, str, int]) -> int:
        found = self.numbers.get(part)
        if found is None:
            found = self.numbers[part] = len(self.parts)
            self.parts.append(part)
        return found

    def expand(self, number: int) -> StepKey:
        levels = []
        while number >= 0:
            parent, name, kind, index = self.parts[number]
            levels.append((name, kind, index))
            number = parent
        return tuple(reversed(levels))

    def of(self, trace: Trace) -> dict[int, Span]:
        """Every step of a trace under its key number, in pre-order (parents before children)."""
        numbers: dict[str | None, int] = {None: -1}
        groups: dict[str | None, dict[tuple[str, str], int]] = {}
        keyed: dict[int, Span] = {}
        for span in trace.spans.values():
            seen = groups.get(span.parent_id)
            if seen is None:
                seen = groups[span.parent_id] = {}
            group = (span.name, span.kind)
            index = seen.get(group, 0)
            seen[group] = index + 1
            number = self.number((numbers[span.parent_id], span.name, span.kind, index))
            numbers[span.id] = number
            keyed[number] = span
        return keyed


def step_keys(trace: Trace) -> dict[StepKey, Span]:
    """Every step under its alignment key, in pre-order."""
    keys = _Keys()
    return {keys.expand(number): span for number, span in keys.of(trace).items()}


def payload_changes(before: Any, after: Any) -> tuple[str, ...]:
    """Where two JSON values differ, as paths: "$" for the whole value, "$.key", "$.list[2]".
    Keys present on one side only count as changed. At most `MAX_KEY_PATHS` paths."""
    if _same(before, after):
        return ()
    found: list[str] = []
    stack: list[tuple[str, Any, Any, int]] = [("$", before, after, 0)]
    while stack and len(found) < MAX_KEY_PATHS:
        path, a, b, depth = stack.pop()
        if _same(a, b):
            continue
        if depth < _MAX_PAYLOAD_DEPTH and isinstance(a, dict) and isinstance(b, dict):
            keys = [*a, *(k for k in b if k not in a)]
            stack.extend(
                (f"{path}.{k}", a.get(k, _ABSENT), b.get(k, _ABSENT), depth + 1) for k in reversed(keys)
            )
        elif depth < _MAX_PAYLOAD_DEPTH and isinstance(a, list) and isinstance(b, list):
            items = range(max(len(a), len(b)))
            pairs = [(a[i] if i < len(a) else _ABSENT, b[i] if i < len(b) else _ABSENT) for i in items]
            stack.extend((f"{path}[{i}]", *pairs[i], depth + 1) for i in reversed(items))
        else:
            found.append(path)
    return tuple(found)


_ABSENT = object()  # a key or item one side does not have


def _same(a: Any, b: Any) -> bool:
    """JSON equality (1 and 1.0 are the same); a value that cannot be compared differs unless identical."""
    try:
        return a is b or bool(a == b)
    except (RecursionError, ValueError, TypeError):
        return False


def _compared(span: Span) -> tuple[Any, ...]:
    return tuple(getattr(span, name) for name in _COMPARED_FIELDS)


def _delta(before: float | None, after: float | None) -> float:
    delta = (after or 0.0) - (before or 0.0)
    return 0.0 if math.isclose(delta, 0.0, abs_tol=1e-15) else delta


def _changed_step(number: int, keys: _Keys, before: Span, after: Span, newer: Trace) -> StepChange | None:
    """How a step present in both traces changed, or None when nothing did (its key is only spelled
    out for a change: most steps of two runs of one agent do not change)."""
    if _same(_compared(before), _compared(after)):  # one comparison for the usual "nothing changed"
        fields: tuple[str, ...] = ()
    else:
        fields = tuple(
            name for name in _COMPARED_FIELDS if not _same(getattr(before, name), getattr(after, name))
        )
    if before.duration_ms is None or after.duration_ms is None:
        duration = 0 if before.duration_ms == after.duration_ms else None
    else:
        duration = after.duration_ms - before.duration_ms
    cost = _delta(before.cost, after.cost)
    tokens_in = after.input_tokens - before.input_tokens
    tokens_out = after.output_tokens - before.output_tokens
    if not fields and duration == 0 and not cost and not tokens_in and not tokens_out:
        return None
    return StepChange(
        key=keys.expand(number),
        path=newer.paths[after.id],
        change=Change.CHANGED,
        before=before,
        after=after,
        duration_delta_ms=duration,
        cost_delta=cost,
        input_tokens_delta=tokens_in,
        output_tokens_delta=tokens_out,
        changed_fields=fields,
        argument_changes=payload_changes(before.arguments, after.arguments) if "arguments" in fields else (),
        result_changes=payload_changes(before.result, after.result) if "result" in fields else (),
    )


def _added_or_removed(key: StepKey, before: Span | None, after: Span | None, older: Trace, newer: Trace) -> StepChange:
    span, sign, trace = (after, 1, newer) if after is not None else (before, -1, older)
    assert span is not None
    return StepChange(
        key=key,
        path=trace.paths[span.id],
        change=Change.ADDED if after is not None else Change.REMOVED,
        before=before,
        after=after,
        duration_delta_ms=None,
        cost_delta=sign * span.cost,
        input_tokens_delta=sign * span.input_tokens,
        output_tokens_delta=sign * span.output_tokens,
        changed_fields=(),
        argument_changes=(),
        result_changes=(),
    )


def _merged_order(old: dict[int, Span], new: dict[int, Span]) -> Iterator[int]:
    """The older trace's keys in order, each key only in the newer trace placed right after the key
    that precedes it there."""
    following: dict[int | None, list[int]] = {}
    anchor: int | None = None
    for key in new:
        if key in old:
            anchor = key
        else:
            following.setdefault(anchor, []).append(key)
    yield from following.get(None, ())
    for key in old:
        yield key
        yield from following.get(key, ())


def aligned_steps(before: Trace, after: Trace) -> list[tuple[Span | None, Span | None]]:
    """Every step of either trace paired with its counterpart (None where a side has none), in the
    order `diff_traces` lists changes: the older trace's steps, added ones after their predecessor."""
    keys = _Keys()
    with cyclic_gc_paused():
        old, new = keys.of(before), keys.of(after)
        return [(old.get(number), new.get(number)) for number in _merged_order(old, new)]


def diff_traces(before: Trace, after: Trace) -> TraceDiff:
    """What changed from `before` to `after`: added, removed and changed steps, and run-level deltas."""
    keys = _Keys()
    changes = []
    with cyclic_gc_paused():
        old, new = keys.of(before), keys.of(after)
        for number in _merged_order(old, new):
            before_step, after_step = old.get(number), new.get(number)
            if before_step is not None and after_step is not None:
                change = _changed_step(number, keys, before_step, after_step, after)
            else:
                change = _added_or_removed(keys.expand(number), before_step, after_step, before, after)
            if change is not None:
                changes.append(change)
    duration = None
    if before.duration_ms is not None and after.duration_ms is not None:
        duration = after.duration_ms - before.duration_ms
    return TraceDiff(
        changes=tuple(changes),
        duration_delta_ms=duration,
        cost_delta=_delta(before.total_cost, after.total_cost),
        input_tokens_delta=after.input_tokens - before.input_tokens,
        output_tokens_delta=after.output_tokens - before.output_tokens,
        step_count_delta=len(after.spans) - len(before.spans),
        error_count_delta=after.error_count - before.error_count,
    )
