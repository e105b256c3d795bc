"""The runs this server process is running, by id, so a reloaded page or a new tab of the same
owner finds a live run again and keeps following it (the run's events live in its handle)."""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fruxon_playground.runs.handle import RunHandle

KEEP_FINISHED_S = 600.0  # after this a finished run is read from the store instead


class LiveRuns:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._runs: dict[str, tuple[RunHandle, float]] = {}

    def add(self, handle: RunHandle) -> None:
        with self._lock:
            self._prune()
            self._runs[handle.id] = (handle, time.monotonic())

    def get(self, run_id: str) -> RunHandle | None:
        with self._lock:
            entry = self._runs.get(run_id)
        return entry[0] if entry is not None else None

    def _prune(self) -> None:
        cutoff = time.monotonic() - KEEP_FINISHED_S
        for run_id in [i for i, (h, added) in self._runs.items() if h.finished and added < cutoff]:
            del self._runs[run_id]
