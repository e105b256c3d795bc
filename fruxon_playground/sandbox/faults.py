"""The one fault system of the sandbox: every way to make a run misbehave, parsed, merged and applied here.

Three ways in, one `Faults` value out:

- scenario switches inside parameter values, `[[sandbox:<name>]]` (contract §10.5);
- the request header `X-Sandbox-Fault: <spec>`;
- per agent, `SandboxConfig.agent_faults` (or `FRUXON_SANDBOX_FAULTS="agent=<spec>,other=<spec>"`).

A spec is `;`-separated `name=value` items; the request's items win over the agent's one by one:

| item              | effect                                                                    |
|-------------------|---------------------------------------------------------------------------|
| `latency=MS`      | wait MS milliseconds (× speed) before answering                           |
| `status=CODE`     | answer CODE with a problem body before running (`Retry-After: 2` on 429/503) |
| `error_after=N`   | streams: an `error` event after N events (the record is stored FAILED)    |
| `drop_after=N`    | streams: close the connection abruptly after N events (no done/error)     |
| `silence_ms=MS`   | streams: a silence of MS (× speed) after the first event, with keep-alive comments |
| `large_kb=KB`     | about KB kilobytes of extra text chunks before the end of the stream      |
| `scenario=NAME`   | the same as `[[sandbox:NAME]]` in a parameter (repeatable)                |

The engine simulates the switches that shape a run as it is planned (`Switch`); `apply` then does
what acts on the planned event list (drops, cut-offs, silences, padding).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from fruxon_playground.sandbox.plan import PlannedEvent, RunPlan

FAULT_HEADER = "x-sandbox-fault"
DROP_MESSAGE = "connection dropped (simulated)"


class Switch(StrEnum):
    """Scenario switches of contract §10.5."""

    HITL = "hitl"  # the first tool call waits for a human
    ERROR = "error"  # an `error` event after the third text chunk
    TOOL_FAIL = "tool_fail"  # every tool result fails; the run still completes
    SLOW = "slow"  # 10× delays, so keep-alive comments appear
    LONG = "long"  # thousands of text chunks
    HTML = "html"  # hostile HTML/script strings in the answer and tool output
    DROP = "drop"  # the connection closes mid-stream without done/error
    STATUS_429 = "status_429"
    STATUS_500 = "status_500"
    STATUS_503 = "status_503"


HTTP_SWITCHES = {Switch.STATUS_429: 429, Switch.STATUS_500: 500, Switch.STATUS_503: 503}
_SWITCH_MARK = re.compile(r"\[\[sandbox:([a-z0-9_]+)\]\]")
_SWITCH_NAMES = {s.value for s in Switch}


class FaultSpecError(ValueError):
    pass


@dataclass(frozen=True)
class Faults:
    latency_ms: int = 0
    status: int | None = None
    error_after: int | None = None
    drop_after: int | None = None
    silence_ms: int = 0
    large_kb: int = 0
    switches: frozenset[Switch] = frozenset()

    def merged(self, other: Faults) -> Faults:
        """`other` (the request's) wins over `self` (the agent's) item by item; switches add up."""
        return Faults(
            latency_ms=other.latency_ms or self.latency_ms,
            status=other.status or self.status,
            error_after=other.error_after if other.error_after is not None else self.error_after,
            drop_after=other.drop_after if other.drop_after is not None else self.drop_after,
            silence_ms=other.silence_ms or self.silence_ms,
            large_kb=other.large_kb or self.large_kb,
            switches=self.switches | other.switches,
        )

    @property
    def http_status(self) -> int | None:
        """The status to answer instead of running, if any (`status=` wins over a status switch)."""
        return self.status or next((code for switch, code in HTTP_SWITCHES.items() if switch in self.switches), None)


_FIELDS = {"latency": "latency_ms", "latency_ms": "latency_ms", "status": "status", "error_after": "error_after",
           "drop_after": "drop_after", "silence_ms": "silence_ms", "silence": "silence_ms", "large_kb": "large_kb"}


def parse_faults(spec: str | None) -> Faults:
    """A header or per-agent spec; raises FaultSpecError with a message fit for a 400 answer."""
    if not spec:
        return Faults()
    values: dict[str, int] = {}
    switches: set[Switch] = set()
    for item in spec.split(";"):
        item = item.strip()
        if not item:
            continue
        name, sep, value = item.partition("=")
        name, value = name.strip().lower(), value.strip()
        if sep and name == "scenario":
            if value not in _SWITCH_NAMES:
                raise FaultSpecError(f"Unknown scenario {value!r}; use one of {', '.join(sorted(_SWITCH_NAMES))}.")
            switches.add(Switch(value))
            continue
        field = _FIELDS.get(name)
        if not sep or field is None:
            names = ", ".join(sorted({*_FIELDS, "scenario"}))
            raise FaultSpecError(f"Unknown fault item {item!r}; use {names} as name=value.")
        try:
            number = int(value)
        except ValueError as exc:
            raise FaultSpecError(f"Fault {name} needs a whole number, not {value!r}.") from exc
        if number < 0 or (field == "status" and not 100 <= number <= 599):
            raise FaultSpecError(f"Fault {name}={number} is out of range.")
        values[field] = number
    return Faults(**values, switches=frozenset(switches))


def switches_in(parameters: Any) -> frozenset[Switch]:
    """`[[sandbox:<name>]]` inside any string value, however deeply nested; unknown names are text."""
    found: set[Switch] = set()
    stack = [parameters]
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            found.update(Switch(m) for m in _SWITCH_MARK.findall(value) if m in _SWITCH_NAMES)
        elif isinstance(value, dict):
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return frozenset(found)


def for_request(agent_spec: str | None, header_spec: str | None, parameters: Any) -> Faults:
    """Everything that applies to one run: the agent's spec ⊕ the header's ⊕ the parameters' switches."""
    merged = parse_faults(agent_spec).merged(parse_faults(header_spec))
    return replace(merged, switches=merged.switches | switches_in(parameters))


def as_switches(names: Iterable[str]) -> frozenset[Switch]:
    return frozenset(Switch(n) for n in names if n in _SWITCH_NAMES)


_PADDING = ("The quick brown fox jumps over the lazy dog. " * 64)[:1024]


def apply(plan: RunPlan, faults: Faults, record_id: str) -> RunPlan:
    """What acts on the planned event list: the `drop` switch, padding, silence, cut-offs."""
    events = list(plan.events)
    outcome = plan.outcome
    drop_after = plan.drop_after_index
    if Switch.DROP in faults.switches and outcome.status == "COMPLETED" and len(events) > 2:
        drop_after = max(1, int(len(events) * 0.4))
        outcome = replace(outcome, status="FAILED", error=DROP_MESSAGE, error_code="SANDBOX_SIMULATED_DROP",
                          response_text=None, result=None, trace={**outcome.trace, "result": None})
    if faults.large_kb:
        last = events[-1].offset_ms if events else 0
        insert_at = next((i for i, e in enumerate(events) if e.event in ("usage", "done", "error")), len(events))
        events[insert_at:insert_at] = [PlannedEvent(last, "text", {"chunk": _PADDING}) for _ in range(faults.large_kb)]
    if faults.silence_ms and len(events) > 1:
        events = [events[0]] + [replace(e, offset_ms=e.offset_ms + faults.silence_ms) for e in events[1:]]
    if faults.error_after is not None and faults.error_after < len(events):
        cut = events[: faults.error_after]
        at = cut[-1].offset_ms if cut else 0
        message = f"Simulated error after {faults.error_after} events (X-Sandbox-Fault)."
        events = cut + [PlannedEvent(at, "error", {"message": message, "code": "SANDBOX_FAULT", "executionRecordId": record_id})]
        outcome = replace(outcome, status="FAILED", error=message, error_code="SANDBOX_FAULT", response_text=None,
                          result=None, pending_approval=None)
        drop_after = None
    elif faults.drop_after is not None and faults.drop_after < len(events):
        drop_after = faults.drop_after
        outcome = replace(outcome, status="FAILED", error=DROP_MESSAGE, error_code="SANDBOX_SIMULATED_DROP",
                          response_text=None, result=None, pending_approval=None)
    return RunPlan(events, outcome, drop_after)
