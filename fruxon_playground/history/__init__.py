"""Local run history: a SQLite store with migrations, redaction and portable bundles."""

from fruxon_playground.history.store import HistoryUnavailable, RunStore, SavedRun, default_path

__all__ = ["HistoryUnavailable", "RunStore", "SavedRun", "default_path"]
