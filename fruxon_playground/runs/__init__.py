"""A run's life: the pure fold, the run handle that owns a run from request to saved record, the
playground's lifecycle events, and how a run is saved and rebuilt."""

from fruxon_playground.runs.fold import Phase, Received, RunState, StepRow, ToolCard, fold, fold_all
from fruxon_playground.runs.handle import ReplayHandle, RunHandle, RunKind, RunSnapshot
from fruxon_playground.runs.record import RunContext, RunRecorder, saved_run_from, snapshot_of_saved

__all__ = [
    "Phase", "Received", "ReplayHandle", "RunContext", "RunHandle", "RunKind", "RunRecorder", "RunSnapshot",
    "RunState", "StepRow", "ToolCard", "fold", "fold_all", "saved_run_from", "snapshot_of_saved",
]
