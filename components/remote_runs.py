"""The tenant's execution records: cached reads, the filter row, the records table and a record's trace.

API reads are cached per connection (keyed by `connection_fingerprint`, never by the key itself) for
`CACHE_TTL_S`: a rerun caused by a click that needs no new data sends no request.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd
import streamlit as st

from components import state
from components.connection import Connection, connection_fingerprint
from components.safe import md
from fruxon_playground.analytics import STATUS_ORDER, cost_decimals, status_label, usd
from fruxon_playground.api import FruxonError, NotFoundError
from fruxon_playground.contract import mask_text
from fruxon_playground.contract.enums import ORIGINS, RECORD_STATUSES

CACHE_TTL_S = 60
DAY_MS = 86_400_000
RANGES = {1: "Last 24 hours", 7: "Last 7 days", 30: "Last 30 days", 90: "Last 90 days"}
ORIGIN_LABELS = {"PRODUCTION": "Production", "TEST": "Test"}
# One colour per status, readable on light and dark backgrounds; failure is red everywhere.
STATUS_COLORS = {"Completed": "#1E9E5A", "Failed": "#D93025", "In progress": "#1A73E8",
                 "Waiting for approval": "#E8A100", "Cancelled": "#80868B", "Rejected": "#A0522D"}


@dataclass(frozen=True)
class Read:
    """An API answer as plain data, and when it was read (ms)."""

    value: Any
    read_at_ms: int


def now_ms() -> int:
    return int(time.time() * 1000)


def read_stamp(key: str = state.READ_STAMP, *, renew_after_s: float | None = CACHE_TTL_S) -> int:
    """When the current reads started: the end of every time window and part of every cache key.
    Renewed by "Refresh" and, unless `renew_after_s` is None, once cached answers have expired. A
    window that ends at the stamp gets the same records on every read, so a table stays put."""
    stamp = st.session_state.get(key)
    now = now_ms()
    if stamp is None or (renew_after_s is not None and now - stamp >= renew_after_s * 1000):
        stamp = now
        st.session_state[key] = stamp
    return int(stamp)


def _renew_stamp(key: str) -> None:
    st.session_state[key] = now_ms()


def browser_zone() -> ZoneInfo:
    try:
        return ZoneInfo(st.context.timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def local_time(ms: int, pattern: str = "%H:%M:%S") -> str:
    return datetime.fromtimestamp(ms / 1000, browser_zone()).strftime(pattern)


def refresh_control(read_at_ms: int | None, *, key: str, stamp_key: str = state.READ_STAMP, help: str) -> None:
    """"Refresh" (renews `stamp_key`) and the time the figures on screen were read (None: the read failed)."""
    button_col, time_col = st.columns([1, 2], vertical_alignment="center")
    button_col.button("Refresh", icon=":material/refresh:", key=key, on_click=_renew_stamp, args=(stamp_key,),
                      width="stretch", help=help)
    time_col.caption(f"Read at {local_time(read_at_ms)}" if read_at_ms is not None else "Not read")


def show_error(what: str, exc: FruxonError, conn: Connection) -> None:
    """A failed read, with the server's text shown literally and the connection's key masked."""
    st.error(f"{what}: " + md(mask_text(str(exc), [conn.settings.api_key])), icon=":material/error:")


# -- cached reads -----------------------------------------------------------------------------------
@st.cache_data(ttl=CACHE_TTL_S, max_entries=256, show_spinner=False)
def _records_page(fingerprint: str, agent: str, filters: tuple[tuple[str, Any], ...], token: str | None,
                  page_size: int, stamp: int, _conn: Connection) -> Read:
    with _conn.client() as client:
        page = client.list_execution_records_page(agent, page_token=token, page_size=page_size, **dict(filters))
    return Read(page.dump(), now_ms())


def records_page(conn: Connection, filters: dict[str, Any], *, stamp: int, token: str | None = None,
                 page_size: int = 25) -> Read:
    """One page of records (`{"items": [...], "nextPageToken": ...}`, items as wire dicts)."""
    frozen = tuple(sorted((name, tuple(value) if isinstance(value, list) else value) for name, value in filters.items()))
    return _records_page(connection_fingerprint(conn.settings), str(conn.agent), frozen, token, page_size, stamp, conn)


@st.cache_data(ttl=CACHE_TTL_S, max_entries=32, show_spinner=False)
def _trace(fingerprint: str, agent: str, record_id: str, stamp: int, _conn: Connection) -> Read:
    with _conn.client() as client:
        try:
            envelope = client.get_execution_trace(agent, record_id)
        except NotFoundError:  # a waiting, failed or cancelled record may have none: remember that too
            return Read(None, now_ms())
    return Read(envelope.trace.dump() if envelope.trace else None, now_ms())


def record_trace(conn: Connection, record_id: str, *, stamp: int) -> Read:
    """The record's ExecutionTrace as a wire dict, or None when it has none."""
    return _trace(connection_fingerprint(conn.settings), str(conn.agent), record_id, stamp, conn)


# -- filters ------------------------------------------------------------------------------------------
def parse_revision(text: str) -> int | None:
    """"3" → 3, "draft" → −1 (the contract's draft revision); raises ValueError otherwise."""
    value = text.strip().lower()
    if value in ("draft", "-1"):
        return -1
    if value.isdigit() and int(value) > 0:
        return int(value)
    raise ValueError(value)


def record_filters(environments: dict[str, str], *, stamp: int) -> tuple[dict[str, Any], int]:
    """The filter row: time range, environment, status, revision, origin and page size.

    `environments` maps slug → label (labels are shown as option text, never as Markdown). Returns
    `list_execution_records` keywords and the page size."""
    range_col, env_col, status_col, revision_col, origin_col, size_col = st.columns([1.2, 1.5, 2, 0.9, 1.7, 0.8])
    days = range_col.selectbox("Time range", list(RANGES), index=2, format_func=RANGES.__getitem__, key=state.REMOTE_DAYS)
    options = ["", *environments]  # "" is any environment
    if st.session_state.get(state.REMOTE_ENVIRONMENT) not in options:
        st.session_state[state.REMOTE_ENVIRONMENT] = ""
    environment = env_col.selectbox("Environment", options, key=state.REMOTE_ENVIRONMENT,
                                    format_func=lambda slug: environments[slug] if slug else "Any environment")
    statuses = status_col.multiselect("Status", list(RECORD_STATUSES), key=state.REMOTE_STATUS, format_func=status_label,
                                      placeholder="Any status")
    revision_text = revision_col.text_input("Revision", key=state.REMOTE_REVISION, placeholder="Any",
                                            help="A revision number, or `draft`.")
    origin = origin_col.segmented_control("Origin", list(ORIGINS), key=state.REMOTE_ORIGIN, default="PRODUCTION",
                                          required=True, format_func=ORIGIN_LABELS.__getitem__, width="stretch")
    page_size = size_col.selectbox("Rows", [25, 50, 100], key=state.REMOTE_PAGE_SIZE)
    filters: dict[str, Any] = {"start_time": stamp - days * DAY_MS, "end_time": stamp, "origin": origin or "PRODUCTION",
                               "status": list(statuses)}
    if environment:
        filters["environment"] = environment
    if revision_text.strip():
        try:
            filters["revision"] = [parse_revision(revision_text)]
        except ValueError:
            st.warning("Revision must be a number (1, 2, …) or “draft”; showing every revision.", icon=":material/warning:")
    return filters, int(page_size)


# -- the table ----------------------------------------------------------------------------------------
def money_format(costs: pd.Series) -> str:
    """A printf format with enough decimals for the typical cost in `costs` (runs cost fractions of a cent)."""
    positive = costs[costs > 0]
    return f"$%.{cost_decimals(float(positive.median()) if len(positive) else 1.0)}f"


def records_table(frame: pd.DataFrame, labels: dict[str, str], *, key: str, height: int | str = "auto",
                  show_environment: bool = True) -> list[int]:
    """The records of a `records_frame` with human columns and coloured statuses; returns the selected rows."""
    shown = pd.DataFrame({
        "Started": frame["started"].dt.tz_convert(browser_zone()),
        "Status": [[str(s)] for s in frame["status"]],
        "Environment": [labels.get(s, s) if isinstance(s, str) else "—" for s in frame["environment_slug"]],
        "Revision": frame["revision"].astype(str),
        "Duration": frame["duration_ms"] / 1000,
        "Cost (USD)": frame["cost"],
        "Tokens": frame["tokens"],
        "Subject": frame["subject"],
        "Record id": frame["id"],
    })
    statuses = list(dict.fromkeys([*STATUS_ORDER, *(str(s) for s in frame["status"])]))
    event = st.dataframe(
        shown, hide_index=True, width="stretch", height=height, key=key, on_select="rerun", selection_mode="single-row",
        column_order=[c for c in shown.columns if show_environment or c != "Environment"],
        column_config={
            "Started": st.column_config.DatetimeColumn(format="D MMM YYYY, HH:mm:ss"),
            "Status": st.column_config.MultiselectColumn(options=statuses,
                                                          color=[STATUS_COLORS.get(s, "#80868B") for s in statuses]),
            "Revision": st.column_config.TextColumn(help="Published revision number, or draft."),
            "Duration": st.column_config.NumberColumn(format="%.2f s"),
            "Cost (USD)": st.column_config.NumberColumn(format=money_format(frame["cost"])),
            "Tokens": st.column_config.NumberColumn(format="%,d", help="Input and output tokens."),
            "Record id": st.column_config.TextColumn(width="medium"),
        },
    )
    return list(event.selection.rows) if event is not None else []


def record_caption(row: pd.Series, labels: dict[str, str]) -> str:
    """One line about a record: status, cost, start, environment and id, as literal text."""
    environment = row["environment_slug"]
    parts = [str(row["status"]), usd(float(row["cost"])),
             local_time(int(row["started"].timestamp() * 1000), "%d %b %Y, %H:%M") if pd.notna(row["started"]) else "—",
             labels.get(environment, environment) if isinstance(environment, str) else "no environment",
             f"record {row['id']}"]
    return md(" · ".join(parts))
