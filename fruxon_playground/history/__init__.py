"""Run history: one `RunStore` interface, SQLite (default) or PostgreSQL (a team), with migrations,
secret masking, stale-run recovery and portable bundles."""

from fruxon_playground.history.base import BUNDLE_FORMAT, BUNDLE_VERSION, HistoryUnavailable, RunStore
from fruxon_playground.history.location import (
    default_path,
    history_location,
    is_postgres,
    open_store,
    stale_after_s,
)
from fruxon_playground.history.model import (
    DRAFT_REVISION,
    INTERRUPTED_ERROR,
    LIVE_STATUSES,
    RunPage,
    RunQuery,
    RunSummary,
    SavedRun,
    answer_of,
)

__all__ = [
    "BUNDLE_FORMAT",
    "BUNDLE_VERSION",
    "DRAFT_REVISION",
    "INTERRUPTED_ERROR",
    "LIVE_STATUSES",
    "HistoryUnavailable",
    "RunPage",
    "RunQuery",
    "RunStore",
    "RunSummary",
    "SavedRun",
    "answer_of",
    "default_path",
    "history_location",
    "is_postgres",
    "open_store",
    "stale_after_s",
]
