"""Where test cases and batch results live: a small interface with two stores, both next to the run
history — `sqlite_store.SqliteCaseStore` (tables of its own in the history's file) and
`postgres_store.PostgresCaseStore` (the same tables in a team's history database, so every replica
sees the same cases). `open_case_store` picks the one for a history location."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from fruxon_playground.cases.batch import BatchResult
from fruxon_playground.cases.model import TestCase
from fruxon_playground.history.location import is_postgres


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

    def claim_demo(self, scope: CaseScope) -> bool:
        """Marks the demo cases as offered to this scope; True for the one caller that marked it first
        (of every session and replica), which then loads them."""
        ...

    def save_batch(self, scope: CaseScope, batch: BatchResult) -> None: ...

    def list_batches(self, scope: CaseScope, limit: int = 20) -> list[BatchSummary]:
        """Newest first."""
        ...

    def get_batch(self, scope: CaseScope, batch_id: str) -> BatchResult | None: ...


def stored_case(scope: CaseScope, case: TestCase) -> TestCase:
    """The case as a store keeps it: under the scope's agent, secret-shaped input values masked."""
    if case.agent != scope.agent:
        case = case.model_copy(update={"agent": scope.agent})
    return case.masked()


def import_by_name(store: CaseStore, scope: CaseScope, cases: list[TestCase]) -> tuple[int, int]:
    """`CaseStore.import_cases` on top of the store's own reads and writes."""
    by_name = {c.name.casefold(): c for c in store.list_cases(scope)}
    added = replaced = 0
    for case in cases:
        existing = by_name.get(case.name.casefold())
        if existing is not None:
            store.save_case(scope, case.model_copy(update={"id": existing.id}))
            replaced += 1
        else:
            store.save_case(scope, case)
            added += 1
    return added, replaced


def open_case_store(location: str) -> CaseStore:
    """The cases next to the run history at `location` (as `history.history_location` gives it): a
    `postgresql://…` URL keeps them in that database, anything else in that SQLite file (or ":memory:").
    Raises CaseStoreUnavailable."""
    if is_postgres(location):
        from fruxon_playground.cases.postgres_store import PostgresCaseStore

        return PostgresCaseStore(location)
    from fruxon_playground.cases.sqlite_store import SqliteCaseStore

    return SqliteCaseStore(Path(location).expanduser() if location != ":memory:" else location)
