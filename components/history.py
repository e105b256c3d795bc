"""Run history in the UI: the one store of the server, the History table, and re-running a saved run."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any

import pandas as pd
import streamlit as st

from components import state
from components.connection import Connection
from components.draft_editor import load_base
from components.execute_form import fill_form, form_prefix
from components.live_panel import format_ms
from components.run_result import revision_label
from components.safe import md
from fruxon_playground.history import (
    HistoryUnavailable,
    RunPage,
    RunQuery,
    RunStore,
    RunSummary,
    SavedRun,
    history_location,
    open_store,
    stale_after_s,
)


@st.cache_resource
def _store(location: str, stale_after: float) -> RunStore | str:
    """One store per location for the whole server: thread-safe, and it holds no per-session state."""
    try:
        return open_store(location, stale_after_s=stale_after)
    except HistoryUnavailable as exc:
        return str(exc)


def _secrets() -> dict[str, Any]:
    try:
        return {"history": dict(st.secrets.get("history", {}))}
    except Exception:  # no secrets file at all, or a malformed one: the environment decides
        return {}


def current_location() -> str:
    """Where this server keeps its history (secrets, then environment); raises HistoryUnavailable."""
    return history_location(os.environ, _secrets())


def run_store() -> RunStore | None:
    try:
        location = current_location()
    except HistoryUnavailable as exc:
        st.warning("Run history is off: " + md(exc))
        return None
    store = _store(location, stale_after_s(os.environ))
    if isinstance(store, str):
        st.warning("Run history is off: " + md(store))
        return None
    return store


def export_bundle_text(store: RunStore, run_id: str) -> Callable[[], str]:
    """The run's export bundle, made when the download is clicked (on Streamlit's download thread):
    a big run is not masked and encoded on every rerun, and only its id is held until then."""
    return lambda: json.dumps(store.export_bundle(run_id), indent=2, ensure_ascii=False)


def prepare_rerun(store: RunStore, run_id: str) -> None:
    """Button callback (runs before the script, so widget state may still change): fill the form of
    the run's page and agent with its request."""
    run = store.get(run_id)
    if run is None:
        return
    st.session_state[state.AGENT] = run.agent_id
    if run.kind in ("test", "stream_test"):
        load_base(run.request)
        return
    conn: Connection | None = st.session_state.get(state.CONNECTION)
    if conn is not None:
        fill_form(form_prefix(Connection(conn.settings, run.agent_id)), run.request)


PAGE_SIZE = 50
TABLE = "history.table"  # the runs table's selection
KINDS = ("execute", "stream", "test", "stream_test")


def history_filters(store: RunStore, scope: str | None) -> RunQuery:
    """Agent, status, kind and text search in one row; changing any of them starts at page 1."""
    agent_col, status_col, kind_col, text_col = st.columns([2, 2, 2, 3])
    agent = agent_col.selectbox("Agent", ["all", *store.distinct_agents(scope)], key="history.agent",
                                on_change=_first_page)
    status = status_col.selectbox("Status", ["all", *store.distinct_statuses(scope)], key="history.status",
                                  on_change=_first_page)
    kind = kind_col.selectbox("Kind", ["all", *KINDS], key="history.kind", on_change=_first_page)
    text = text_col.text_input("Search", key="history.text", on_change=_first_page,
                               placeholder="agent, input, answer or error text")
    page = st.session_state.setdefault("history.page", 1)
    return RunQuery(scope, agent_id=None if agent == "all" else agent, status=None if status == "all" else status,
                    kind=None if kind == "all" else kind, text=text.strip() or None, limit=PAGE_SIZE,
                    offset=(page - 1) * PAGE_SIZE)


def _first_page() -> None:
    st.session_state["history.page"] = 1
    st.session_state.pop(TABLE, None)  # row numbers of another page select other runs


def _turn(delta: int) -> None:
    st.session_state["history.page"] = max(1, st.session_state.get("history.page", 1) + delta)
    st.session_state.pop(TABLE, None)


def page_controls(page: RunPage, query: RunQuery) -> RunPage:
    """"Runs 51–100 of 1,234" and Previous/Next; newest first."""
    if not page.total:
        return page
    number = query.offset // PAGE_SIZE + 1
    pages = (page.total + PAGE_SIZE - 1) // PAGE_SIZE
    where_col, previous_col, next_col = st.columns([6, 1, 1], vertical_alignment="center")
    where_col.caption(f"Runs {query.offset + 1:,}–{query.offset + len(page.items):,} of {page.total:,} · newest first")
    previous_col.button("Previous", key="history.previous", disabled=number <= 1, on_click=_turn, args=(-1,),
                        icon=":material/chevron_left:", width="stretch")
    next_col.button("Next", key="history.next", disabled=number >= pages, on_click=_turn, args=(1,),
                    icon=":material/chevron_right:", width="stretch")
    return page


def runs_frame(runs: list[RunSummary]) -> pd.DataFrame:
    return pd.DataFrame(
        [{"When": pd.Timestamp(r.created_at_ms, unit="ms", tz="UTC").strftime("%Y-%m-%d %H:%M:%S"),
          "Agent": r.agent_id, "Status": r.status, "Kind": r.kind, "Revision": revision_label(r.revision),
          "Answer": (r.answer_preview or r.error or "")[:120], "Duration": format_ms(r.duration_ms),
          "Cost ($)": round(r.total_cost, 7), "Tokens": r.input_tokens + r.output_tokens,
          "Environment": r.environment_slug or ""} for r in runs],
        columns=["When", "Agent", "Status", "Kind", "Revision", "Answer", "Duration", "Cost ($)", "Tokens",
                 "Environment"],
    )


def saved_run_caption(run: SavedRun | RunSummary) -> str:
    """Where and when a saved run ran, escaped (agent ids, URLs and tenants are untrusted)."""
    when = pd.Timestamp(run.created_at_ms, unit="ms", tz="UTC").strftime("%Y-%m-%d %H:%M UTC")
    return " · ".join([run.kind, md(run.agent_id, limit=80), run.status, when, md(run.base_url or "", limit=120),
                       f"tenant {md(run.tenant or '—', limit=80)}"])
