"""Filters and the table for the tenant's execution records."""

from __future__ import annotations

import time
from typing import Any

import pandas as pd
import streamlit as st

from components.live_panel import format_ms
from fruxon_playground.api.models import RECORD_STATUSES, ExecutionRecord

DAY_MS = 86_400_000


def record_filters(*, key: str) -> dict[str, Any]:
    """Time range, environment, status, revision and origin, as `list_execution_records` keywords."""
    range_col, env_col, status_col, revision_col, origin_col = st.columns(5)
    days = range_col.selectbox("Time range", [1, 7, 30, 90], index=2, format_func=lambda d: f"last {d} day(s)",
                               key=f"{key}.days")
    environment = env_col.text_input("Environment slug", key=f"{key}.env", placeholder="any")
    statuses = status_col.multiselect("Status", RECORD_STATUSES, key=f"{key}.status", placeholder="any")
    revision = revision_col.text_input("Revision", key=f"{key}.revision", placeholder="any")
    origin = origin_col.radio("Origin", ["PRODUCTION", "TEST"], horizontal=True, key=f"{key}.origin")
    filters: dict[str, Any] = {"start_time": int(time.time() * 1000) - days * DAY_MS, "origin": origin,
                               "status": statuses}
    if environment.strip():
        filters["environment"] = environment.strip()
    if revision.strip():
        if revision.strip().lstrip("-").isdigit():
            filters["revision"] = [int(revision.strip())]
        else:
            st.error("Revision must be a whole number (-1 for drafts).")
    return filters


def records_frame_for_table(records: list[ExecutionRecord]) -> pd.DataFrame:
    return pd.DataFrame(
        [{"Started": pd.Timestamp(r.start_time or 0, unit="ms", tz="UTC").strftime("%Y-%m-%d %H:%M:%S"),
          "Status": r.status, "Revision": "draft" if (r.agent_revision or 0) <= 0 else r.agent_revision,
          "Environment": r.environment_slug or "", "Duration": format_ms(r.duration_ms),
          "Cost ($)": float(r.cost), "Tokens": (r.input_tokens or 0) + (r.output_tokens or 0),
          "Subject": r.subject or "", "Id": r.id} for r in records],
    )
