"""Where test cases and batch results live: a small interface, so the shared history store can take
them over later (today: `sqlite_store.SqliteCaseStore`, its own tables in the history's file)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from fruxon_playground.cases.batch import BatchResult
from fruxon_playground.cases.model import TestCase


class CaseStoreUnavailable(Exception):
    """The cases cannot be read or written; the message names the file and what to do."""


class DuplicateCaseName(ValueError):
    """Another case of the same agent already has this name."""


@dataclass(frozen=True)
class CaseScope:
    """Whose cases of which agent: the run owner, the tenant (a sandbox's port changes, its tenant
    does not) and the agent id."""

    owner: str
    tenant: str
    agent: str


@dataclass(frozen=True)
class BatchSummary:
    id: str
    created_at_ms: int
    target_label: str
    summary: str  # "12 passed · 1 failed"
    total: int
    passed: int
    failed: int


class CaseStore(Protocol):
    def list_cases(self, scope: CaseScope) -> list[TestCase]:
        """The agent's cases, oldest first."""
        ...

    def save_case(self, scope: CaseScope, case: TestCase) -> TestCase:
        """Adds the case, or replaces the one with its id; raises DuplicateCaseName."""
        ...

    def import_cases(self, scope: CaseScope, cases: list[TestCase]) -> tuple[int, int]:
        """Adds the cases; one named like an existing case replaces it (keeping its id). (added, replaced)."""
        ...

    def delete_case(self, scope: CaseScope, case_id: str) -> bool: ...

    def demo_loaded(self, scope: CaseScope) -> bool:
        """Whether the demo cases were offered to this scope once already (they are never forced again)."""
        ...

    def mark_demo_loaded(self, scope: CaseScope) -> None: ...

    def save_batch(self, scope: CaseScope, batch: BatchResult) -> None: ...

    def list_batches(self, scope: CaseScope, limit: int = 20) -> list[BatchSummary]:
        """Newest first."""
        ...

    def get_batch(self, scope: CaseScope, batch_id: str) -> BatchResult | None: ...
