"""The demo tenant's test cases: a small set for two sandbox agents, so the feature shows something
on first start. They ship as JSONL files next to this module (`demo/<agent>.jsonl`); one case
fails on purpose, so a first batch shows a failure and its reason."""

from __future__ import annotations

from importlib import resources

from fruxon_playground.cases.io import from_jsonl
from fruxon_playground.cases.model import TestCase
from fruxon_playground.cases.store import CaseScope, CaseStore

DEMO_AGENTS = ("support_agent", "trip_planner")


def demo_cases(agent: str) -> list[TestCase]:
    """The shipped cases of `agent` (none for an agent without a file)."""
    if agent not in DEMO_AGENTS:
        return []
    text = resources.files("fruxon_playground.cases").joinpath("demo", f"{agent}.jsonl").read_text("utf-8")
    return from_jsonl(text, agent)


def load_demo_cases(store: CaseStore, scope: CaseScope) -> int:
    """Gives an agent of the local sandbox its demo cases once: when it has none and never had them.

    Returns how many were added. Deleting them later does not bring them back. Two sessions (or
    replicas) opening the page at once load them once: only the one that claims them does."""
    if scope.agent not in DEMO_AGENTS or store.demo_loaded(scope) or not store.claim_demo(scope):
        return 0
    if store.list_cases(scope):
        return 0
    added, _ = store.import_cases(scope, demo_cases(scope.agent))
    return added
