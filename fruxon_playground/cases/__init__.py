"""Test cases of an agent: the model and its checks, judging a run, JSONL/CSV files, the case store,
batches run against a target with bounded concurrency, batch comparison and the pytest export."""

from fruxon_playground.cases.batch import (
    BatchComparison,
    BatchProgress,
    BatchResult,
    BatchRunner,
    CaseOutcome,
    CaseStatus,
    Change,
    batch_csv,
    compare_batches,
)
from fruxon_playground.cases.evaluate import CaseResult, CheckResult, evaluate
from fruxon_playground.cases.io import CaseFormatError, from_csv, from_jsonl, to_csv, to_jsonl
from fruxon_playground.cases.model import Check, TestCase, case_from_request, check_from_json
from fruxon_playground.cases.store import CaseScope, CaseStore, CaseStoreUnavailable, DuplicateCaseName
from fruxon_playground.cases.target import Target, TargetKind

__all__ = [
    "BatchComparison", "BatchProgress", "BatchResult", "BatchRunner", "CaseFormatError", "CaseOutcome", "CaseResult",
    "CaseScope", "CaseStatus", "CaseStore", "CaseStoreUnavailable", "Change", "Check", "CheckResult",
    "DuplicateCaseName", "Target", "TargetKind", "TestCase", "batch_csv", "case_from_request", "check_from_json",
    "compare_batches", "evaluate", "from_csv", "from_jsonl", "to_csv", "to_jsonl",
]
