"""A frozen span model of an execution trace, with everything the viewer derives per step."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Kind(StrEnum):
    FLOW = "FLOW"
    LLM = "LLM"
    AGENT = "AGENT"
    TOOL = "TOOL"
    HITL = "HITL"
    JUDGE = "JUDGE"
    SUMMARIZATION = "SUMMARIZATION"
    UNKNOWN = "UNKNOWN"


class Status(StrEnum):
    SUCCESS = "SUCCESS"
    ERROR = "ERROR"
    RUNNING = "RUNNING"
    UNKNOWN = "UNKNOWN"


@dataclass(frozen=True, slots=True)
class Span:
    id: str
    parent_id: str | None
    name: str  # untrusted text, kept verbatim
    kind: Kind
    raw_type: str
    status: Status
    raw_status: str
    error: str | None
    start_ms: int | None
    end_ms: int | None
    duration_ms: int | None  # None while running or unknown (never a negative number)
    input_tokens: int
    output_tokens: int
    cost: float  # this step's own cost
    model: str | None
    tool_name: str | None
    arguments: Any
    result: Any
    llm: dict[str, Any] | None
    hitl: dict[str, Any] | None
    raw: dict[str, Any] = field(repr=False)
    depth: int = 0
    path: tuple[str, ...] = ()
    children: tuple[str, ...] = ()
    self_time_ms: int | None = None
    total_time_ms: int | None = None
    subtree_cost: float = 0.0
    subtree_input_tokens: int = 0
    subtree_output_tokens: int = 0
    error_count: int = 0  # failed steps in this subtree, this one included
    on_critical_path: bool = False
    on_error_path: bool = False  # this step or one below it failed
    orphan: bool = False  # its parent was not in the trace


@dataclass(frozen=True)
class Trace:
    spans: dict[str, Span]
    roots: tuple[str, ...]
    agent_id: str | None = None
    agent_revision: int | None = None  # None for drafts (revision ≤ 0)
    start_ms: int | None = None
    end_ms: int | None = None
    total_cost: float = 0.0
    input_tokens: int = 0
    output_tokens: int = 0
    warnings: tuple[str, ...] = ()

    @property
    def is_live(self) -> bool:
        return any(s.status is Status.RUNNING for s in self.spans.values())

    @property
    def orphans(self) -> tuple[str, ...]:
        return tuple(s.id for s in self.spans.values() if s.orphan)

    def children_of(self, span_id: str | None) -> list[Span]:
        ids = self.roots if span_id is None else self.spans[span_id].children
        return [self.spans[i] for i in ids]

    def walk(self) -> Iterator[Span]:
        """Pre-order, iteratively (traces can be deep)."""
        stack = list(reversed(self.roots))
        while stack:
            span = self.spans[stack.pop()]
            yield span
            stack.extend(reversed(span.children))

    def find(self, predicate: Callable[[Span], bool]) -> list[Span]:
        return [s for s in self.walk() if predicate(s)]

    def first_error_path(self) -> tuple[str, ...]:
        """Ids from a root down to the first failed step (pre-order); empty when nothing failed."""
        for span in self.walk():
            if span.status is Status.ERROR:
                chain = [span.id]
                while self.spans[chain[-1]].parent_id in self.spans:
                    chain.append(self.spans[chain[-1]].parent_id)  # type: ignore[arg-type]
                return tuple(reversed(chain))
        return ()
