"""How a run maps onto the two tables both backends use: `runs` (light, listed) and `run_bodies`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fruxon_playground.history.model import RunSummary, SavedRun, preview, search_text

# Light columns: everything a list, a filter or the stale sweep needs.
RUN_COLUMNS = (
    "id", "owner", "created_at_ms", "updated_at_ms", "heartbeat_at_ms", "kind", "agent_id", "status",
    "revision", "group_id", "label", "base_url", "tenant", "started_at_ms", "duration_ms", "total_cost",
    "input_tokens", "output_tokens", "execution_record_id", "session_id", "environment_slug", "error",
    "answer_preview", "search_text",
)
JSON_COLUMNS = ("request", "response", "events", "trace")
BODY_COLUMNS = ("id", *JSON_COLUMNS, "answer")
LISTED = tuple(RunSummary.__dataclass_fields__)  # all of them live in `runs`


def run_row(run: SavedRun) -> dict[str, Any]:
    row = {c: getattr(run, c) for c in RUN_COLUMNS if c not in ("answer_preview", "search_text")}
    row["answer_preview"] = preview(run.answer)
    row["search_text"] = search_text(run)
    return row


def body_row(run: SavedRun) -> dict[str, Any]:
    return {c: getattr(run, c) for c in BODY_COLUMNS}


def summary_from(row: Mapping[str, Any]) -> RunSummary:
    data = {c: row[c] for c in RunSummary.__dataclass_fields__}
    data["error"] = preview(data["error"])
    return RunSummary(**data)


def run_from(row: Mapping[str, Any]) -> SavedRun:
    """A run from a joined row of both tables (JSON columns already decoded)."""
    data = {c: row[c] for c in SavedRun.__dataclass_fields__}
    data["events"] = data["events"] or []
    data["request"] = data["request"] or {}
    return SavedRun(**data)
