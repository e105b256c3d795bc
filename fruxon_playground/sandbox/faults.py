"""Fault injection, per request or per agent.

Per request, with the header `X-Sandbox-Fault: <spec>`; per agent, with `SandboxConfig.agent_faults`
(or `FRUXON_SANDBOX_FAULTS="agent=<spec>,other=<spec>"`). A spec is `;`-separated `name=value` items:

| item              | effect                                                                    |
|-------------------|---------------------------------------------------------------------------|
| `latency=MS`      | wait MS milliseconds (× speed) before answering                           |
| `status=CODE`     | answer CODE with a problem body before running (`Retry-After: 2` on 429/503) |
| `error_after=N`   | streams: an `error` event after N events (the record is stored FAILED)    |
| `drop_after=N`    | streams: close the connection abruptly after N events (no done/error)     |
| `silence_ms=MS`   | streams: a silence of MS (× speed) after the first event, with keep-alive comments |
| `large_kb=KB`     | an answer of about KB kilobytes (streamed as many text chunks)            |

Scenario switches inside parameter values (`[[sandbox:error]]` …) are the other way in; see engine.py.
"""

from __future__ import annotations

from dataclasses import dataclass

FAULT_HEADER = "x-sandbox-fault"


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

    def merged(self, other: Faults) -> Faults:
        """`other` (the request's) wins over `self` (the agent's) item by item."""
        return Faults(
            latency_ms=other.latency_ms or self.latency_ms,
            status=other.status or self.status,
            error_after=other.error_after if other.error_after is not None else self.error_after,
            drop_after=other.drop_after if other.drop_after is not None else self.drop_after,
            silence_ms=other.silence_ms or self.silence_ms,
            large_kb=other.large_kb or self.large_kb,
        )


_FIELDS = {"latency": "latency_ms", "latency_ms": "latency_ms", "status": "status", "error_after": "error_after",
           "drop_after": "drop_after", "silence_ms": "silence_ms", "silence": "silence_ms", "large_kb": "large_kb"}


def parse_faults(spec: str | None) -> Faults:
    if not spec:
        return Faults()
    values: dict[str, int] = {}
    for item in spec.split(";"):
        item = item.strip()
        if not item:
            continue
        name, sep, value = item.partition("=")
        field = _FIELDS.get(name.strip().lower())
        if not sep or field is None:
            raise FaultSpecError(f"Unknown fault item {item!r}; use {', '.join(sorted(set(_FIELDS)))} as name=value.")
        try:
            number = int(value.strip())
        except ValueError as exc:
            raise FaultSpecError(f"Fault {name} needs a whole number, not {value!r}.") from exc
        if number < 0 or (field == "status" and not 100 <= number <= 599):
            raise FaultSpecError(f"Fault {name}={number} is out of range.")
        values[field] = number
    return Faults(**values)
