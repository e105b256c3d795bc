"""A frozen span model of an execution trace, with everything the viewer derives per step.

Built only by `fruxon_playground.trace.builder`; renderers read it and never compute on it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from typing import Any, NamedTuple


class Kind(StrEnum):
    FLOW = "FLOW"
    LLM = "LLM"
    AGENT = "AGENT"
    TOOL = "TOOL"
    HITL = "HITL"
    JUDGE = "JUDGE"
    SUMMARIZATION = "SUMMARIZATION"
    UNKNOWN = "UNKNOWN"  # anything else: drawn as a generic step, `raw_type` says what it was

    __hash__ = str.__hash__  # Enum's own hash is a Python call; values equal names, so this is the same hash


class Status(StrEnum):
    SUCCESS = "SUCCESS"
    ERROR = "ERROR"
    RUNNING = "RUNNING"
    UNKNOWN = "UNKNOWN"  # a status we do not recognise: shown neutrally, `raw_status` says what it was

    __hash__ = str.__hash__


_RUNNING = Status.RUNNING  # a module constant: `Status.RUNNING` is a lookup through the Enum metaclass


class Span(NamedTuple):
    """One step, frozen. A named tuple because the builder makes one per step: a tuple is made in C
    in one call, where a frozen dataclass sets each of these 30 fields through `object.__setattr__`
    (10k steps: 3 ms against 126 ms, a third of the whole build). The builder fills every field, in
    this order. No more than 30: CPython builds a longer tuple display through a list."""

    id: str  # unique in the trace: a repeated id gets a `#2`, `#3`… suffix
    parent_id: str | None  # None for roots (orphans included)
    name: str  # displayName: untrusted text, kept verbatim
    kind: Kind
    raw_type: str  # `type` as received
    status: Status
    raw_status: str  # `status` as received
    error: str | None
    start_ms: int | None
    end_ms: int | None  # None while open (`endTime: 0`) or unknown
    duration_ms: int | None  # None while running or unknown: never a negative number
    input_tokens: int
    output_tokens: int
    cost: float  # this step's own cost: LLM input + output cost, plus toolTrace.cost
    model: str | None
    tool_name: str | None  # `integration.tool`, or the bare tool for provider built-ins
    arguments: Any  # toolTrace.parameters, decoded when it was JSON text
    result: Any  # jsonValue, else strValue (decoded when it holds JSON), else fileLink
    llm: dict[str, Any] | None  # llmStepTrace
    hitl: dict[str, Any] | None  # hitlTrace
    raw: dict[str, Any]  # the original node, nested `steps` included (left out of the repr)
    depth: int = 0
    children: tuple[str, ...] = ()
    self_time_ms: int | None = None  # own time not covered by any child (overlaps counted once)
    total_time_ms: int | None = None  # own duration, or the children's extent when the step has no times
    subtree_cost: float = 0.0
    subtree_input_tokens: int = 0
    subtree_output_tokens: int = 0
    error_count: int = 0  # failed steps in this subtree, this one included
    on_critical_path: bool = False  # on the chain that, from the root, always follows the child ending last

    @property
    def is_running(self) -> bool:
        return self.status is _RUNNING

    @property
    def on_error_path(self) -> bool:
        """This step or one below it failed."""
        return self.error_count > 0

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={value!r}" for name, value in zip(self._fields, self, strict=True) if name != "raw")
        return f"Span({shown})"


@dataclass(frozen=True)
class Trace:
    spans: dict[str, Span]  # in pre-order
    roots: tuple[str, ...]
    agent_id: str | None = None
    agent_revision: int | None = None  # None for drafts (revision ≤ 0): show "draft"
    start_ms: int | None = None  # the run's wall time comes from the envelope when it has one (contract §5.3)
    end_ms: int | None = None
    duration_ms: int | None = None
    total_cost: float = 0.0
    input_tokens: int = 0
    output_tokens: int = 0
    is_live: bool = False  # a step is still running, or the run itself is open
    orphans: tuple[str, ...] = ()  # ids made roots because their parent was missing (or cyclic, or too deep)
    warnings: tuple[str, ...] = ()  # what the builder tolerated, one line per kind of problem
    raw: dict[str, Any] = field(default_factory=dict, repr=False)  # the run-level object, without its steps

    @property
    def error_count(self) -> int:
        return sum(self.spans[root].error_count for root in self.roots)

    def children_of(self, span_id: str | None) -> tuple[Span, ...]:
        """The children of a step, or the roots for None."""
        ids = self.roots if span_id is None else self.spans[span_id].children
        return tuple(self.spans[i] for i in ids)

    def walk(self, start: str | None = None) -> Iterator[Span]:
        """Pre-order over the whole trace, or over the subtree of `start`. Iterative: traces can be deep."""
        if start is None:
            yield from self.spans.values()  # the builder stores them in pre-order
            return
        stack = [start]
        while stack:
            span = self.spans[stack.pop()]
            yield span
            stack.extend(reversed(span.children))

    def first_error_path(self) -> tuple[str, ...]:
        """Ids from a root down to the first failure's root cause: at each level the first child on the
        error path, until no child failed. Empty when nothing failed."""
        node = next((r for r in self.roots if self.spans[r].on_error_path), None)
        chain: list[str] = []
        while node is not None:
            chain.append(node)
            node = next((c for c in self.spans[node].children if self.spans[c].on_error_path), None)
        return tuple(chain)

    def critical_path(self) -> tuple[str, ...]:
        """Ids of the critical path, root first."""
        return tuple(span.id for span in self.spans.values() if span.on_critical_path)

    @cached_property
    def paths(self) -> dict[str, tuple[str, ...]]:
        """Every step's names from its root, by id. Same-named siblings get `[1]`, `[2]`… so paths are
        unique. Made on first use: only comparisons name steps by path."""
        paths: dict[str, tuple[str, ...]] = {}
        siblings = _Labeller()
        for root in self.roots:
            paths[root] = (siblings.label(self.spans[root].name),)
        for span in self.spans.values():  # pre-order: a step's path is known before its children's
            if span.children:
                own, siblings = paths[span.id], _Labeller()
                for child in span.children:
                    paths[child] = (*own, siblings.label(self.spans[child].name))
        return paths


class _Labeller:
    """Unique labels among siblings: a name, then `name[1]`, `name[2]`… for repeats (never colliding
    with a sibling literally named `name[1]`)."""

    __slots__ = ("seen", "used")

    def __init__(self) -> None:
        self.seen: dict[str, int] = {}
        self.used: set[str] = set()

    def label(self, name: str) -> str:
        count = self.seen.get(name, 0)
        label = name if count == 0 else f"{name}[{count}]"
        while label in self.used:
            count += 1
            label = f"{name}[{count}]"
        self.seen[name] = count + 1
        self.used.add(label)
        return label
