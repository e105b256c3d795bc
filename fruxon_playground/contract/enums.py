"""Enum values of the contract (§1, §4.7, §5.2, §9.3) and how to compare them.

Enums arrive as UPPER_SNAKE, PascalCase or kebab-case depending on the server's age and the
endpoint; they are compared case-insensitively with `_`, `-` and spaces removed. Unknown values
are never an error: they fall in none of the sets below and are shown verbatim as neutral.
"""

from __future__ import annotations

from functools import lru_cache

_DROP = str.maketrans("", "", "_- ")


@lru_cache(maxsize=2048)
def _key(text: str) -> str:
    return text.upper().translate(_DROP)


def normalize_enum(value: object) -> str:
    """`WaitingForHuman`, `WAITING_FOR_HUMAN` and `waiting-for-human` all become `WAITINGFORHUMAN`."""
    if value is None:
        return ""
    return _key(value if type(value) is str else str(value))


# Step, tool-call and run statuses that mean it failed (§4.7 StepStatus, §9.3 tool_result.status).
FAILURE_STATUSES = frozenset({"ERROR", "FAILED", "FAILURE", "CANCELLED", "CANCELED"})
# ... and that mean it succeeded.
SUCCESS_STATUSES = frozenset({"SUCCESS", "SUCCEEDED", "COMPLETED", "OK", "DONE"})
# A step or run that has not finished yet.
IN_FLIGHT_STATUSES = frozenset({"RUNNING", "INPROGRESS", "PENDING", "STARTED", "WAITINGFORHUMAN", "WAITINGFORASYNC"})
# Paused for a person: `WaitingForHuman` on streams, `WAITING_FOR_HUMAN` in JSON bodies, and the
# record's `WAITING_FOR_ASYNC` (§5.2).
WAITING_STATUSES = frozenset({"WAITINGFORHUMAN", "WAITINGFORASYNC"})
# Record statuses (§5.2): live ones, and the four terminal ones.
LIVE_RECORD_STATUSES = frozenset({"INPROGRESS", "WAITINGFORASYNC"})
TERMINAL_RECORD_STATUSES = frozenset({"COMPLETED", "FAILED", "CANCELLED", "REJECTED"})
RECORD_STATUSES = ("IN_PROGRESS", "WAITING_FOR_ASYNC", "COMPLETED", "FAILED", "CANCELLED", "REJECTED")
# The zero values every enum has ("no value given").
ZERO_VALUES = frozenset({"", "UNSPECIFIED", "UNKNOWN", "UNDEFINED", "NONE"})
MODES = ("UNSPECIFIED", "PRODUCTION", "SANDBOX")
ORIGINS = ("PRODUCTION", "TEST")


def is_failure(status: object) -> bool:
    return normalize_enum(status) in FAILURE_STATUSES


def is_success(status: object) -> bool:
    return normalize_enum(status) in SUCCESS_STATUSES


def is_waiting_for_human(status: object) -> bool:
    """A run paused for an approval (or another person), whichever spelling the server used."""
    return normalize_enum(status) in WAITING_STATUSES
