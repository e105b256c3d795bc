"""The run store interface both backends implement, and what they share: masking and bundles.

One store instance is shared by every session of a Streamlit server, so every method is
thread-safe. Reads (`get`, `list`) turn runs whose process stopped heartbeating into "interrupted".
"""

from __future__ import annotations

import builtins
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any

from fruxon_playground.contract.secrets import mask_json_text, mask_secrets, mask_text, strip_url_credentials
from fruxon_playground.history.model import (
    INTERRUPTED,
    LIVE_STATUSES,
    RunPage,
    RunQuery,
    RunSummary,
    SavedRun,
    answer_of,
    as_dict,
    now_ms,
)
from fruxon_playground.trace import build_trace
from fruxon_playground.trace.rows import TraceView

BUNDLE_FORMAT = "fruxon-playground-run"
BUNDLE_VERSION = 1
DEFAULT_STALE_AFTER_S = 30.0
MAX_PAGE = 500
SWEEP_EVERY_MS = 1000


class HistoryUnavailable(Exception):
    """The history cannot be used; the message names where it is (never a password) and what to do."""


def newer_schema(location: str, found: int, known: int) -> HistoryUnavailable:
    return HistoryUnavailable(f"The run history at {location} was written by a newer version of the playground "
                              f"(schema {found}; this version knows {known}). Upgrade the app on every replica.")


def masked(run: SavedRun, secrets: Iterable[str | None] = ()) -> SavedRun:
    """The run with every secret removed from everything it carries (defence in depth)."""
    known = tuple(secrets)
    answer = run.answer if run.answer is not None else answer_of(run.response, run.events)
    return replace(
        run,
        request=mask_secrets(run.request, known),
        response=mask_secrets(run.response, known) if run.response is not None else None,
        events=[{**e, "data": mask_json_text(e["data"], known)} if isinstance(e.get("data"), str) else e
                for e in run.events],
        trace=mask_secrets(run.trace, known) if run.trace is not None else None,
        error=mask_text(run.error, known) if run.error else run.error,
        answer=mask_text(answer, known) if answer else answer,
        label=mask_text(run.label, known) if run.label else run.label,
        base_url=strip_url_credentials(run.base_url),
    )


def trace_view_of(run: SavedRun) -> bytes | None:
    """What the trace viewer draws, packed once when a run that ended is saved (`TraceView`): opening
    it reads these bytes instead of parsing and building the trace again (100k steps: seconds)."""
    if not run.trace or run.status in LIVE_STATUSES:
        return None
    return TraceView.of(build_trace(run.trace)).to_bytes()


def clamp(query: RunQuery) -> tuple[int, int]:
    return max(1, min(query.limit, MAX_PAGE)), max(0, query.offset)


class RunStore(ABC):
    """Saved runs of every owner; `owner` arguments scope lists and deletes (None = every owner)."""

    location: str  # where the history lives, for messages (never with a password)
    search_indexed: bool  # text search uses an index (FTS5 trigram / pg_trgm) rather than a scan

    def __init__(self, *, stale_after_s: float = DEFAULT_STALE_AFTER_S, clock: Callable[[], int] = now_ms) -> None:
        self.stale_after_ms = int(stale_after_s * 1000)
        self.clock = clock
        self._next_sweep_ms = 0

    @abstractmethod
    def save(self, run: SavedRun, *, secrets: Iterable[str | None] = ()) -> SavedRun:
        """Upsert by id, masked, stamped with `updated_at_ms`; returns what was stored."""

    @abstractmethod
    def heartbeat(self, run_id: str, at_ms: int) -> None:
        """The process running `run_id` is alive at `at_ms`."""

    @abstractmethod
    def get(self, run_id: str) -> SavedRun | None: ...

    @abstractmethod
    def summary(self, run_id: str) -> RunSummary | None:
        """The run's light columns (who, what, when, how it ended): nothing of its bodies is read."""

    @abstractmethod
    def trace_view(self, run_id: str) -> bytes | None:
        """The `TraceView` stored with the run (`trace_view_of`), or None: no trace, not ended yet, or
        saved by a version that did not store views."""

    @abstractmethod
    def trace_text(self, run_id: str) -> str | None:
        """The run's trace as JSON text, as stored (for a download: nothing is parsed)."""

    @abstractmethod
    def list(self, query: RunQuery) -> RunPage:
        """Light summaries, newest first, and how many runs match in all."""

    @abstractmethod
    def distinct_agents(self, owner: str | None) -> builtins.list[str]: ...

    @abstractmethod
    def distinct_statuses(self, owner: str | None) -> builtins.list[str]: ...

    @abstractmethod
    def delete(self, run_id: str, owner: str | None) -> bool:
        """Deletes the run if `owner` owns it (None = any run); True when something was deleted."""

    @abstractmethod
    def close(self) -> None: ...

    # -- staleness ------------------------------------------------------------------------------------
    def sweep_due(self) -> bool:
        """Lists look for stale runs at most once a second (their delay is counted in tens of seconds)."""
        now = self.clock()
        if now < self._next_sweep_ms:
            return False
        self._next_sweep_ms = now + SWEEP_EVERY_MS
        return True

    def stale_cutoff_ms(self) -> int:
        return self.clock() - self.stale_after_ms

    def is_stale(self, run: SavedRun) -> bool:
        last = max(run.heartbeat_at_ms or 0, run.updated_at_ms)
        return run.status in LIVE_STATUSES and last < self.stale_cutoff_ms()

    # -- bundles --------------------------------------------------------------------------------------
    def export_bundle(self, run_id: str, *, secrets: Iterable[str | None] = ()) -> dict[str, Any]:
        """A portable copy of the run, masked again (runs saved by older versions included), no owner."""
        run = self.get(run_id)
        if run is None:
            raise KeyError(run_id)
        data = as_dict(masked(run, secrets))
        data.pop("owner")
        return {"format": BUNDLE_FORMAT, "version": BUNDLE_VERSION, "run": data}

    def import_bundle(self, bundle: Any, owner: str) -> SavedRun:
        """Saves a bundle's run as a new run of `owner`; a run that was in flight arrives interrupted."""
        if not isinstance(bundle, dict) or bundle.get("format") != BUNDLE_FORMAT:
            raise ValueError("not a Fruxon Playground run bundle (its \"format\" is missing or different)")
        if bundle.get("version") != BUNDLE_VERSION:
            raise ValueError(f"bundle version {bundle.get('version')!r} is not supported (this app reads {BUNDLE_VERSION})")
        data = bundle.get("run")
        if not isinstance(data, dict):
            raise ValueError("the bundle has no run")
        known = {f for f in SavedRun.__dataclass_fields__ if f not in ("id", "owner", "updated_at_ms", "heartbeat_at_ms")}
        try:
            run = SavedRun(**{k: v for k, v in data.items() if k in known}, owner=owner)
        except TypeError as exc:
            raise ValueError(f"the bundle's run is incomplete: {exc}") from exc
        if not isinstance(run.request, dict) or not isinstance(run.events, list):
            raise ValueError("the bundle's run has no request or events")
        if run.status in LIVE_STATUSES:
            run = replace(run, status=INTERRUPTED)
        return self.save(run)
