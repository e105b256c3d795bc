"""Run history in the UI: the one store of the server, the History table, and re-running a saved run."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from components import state
from components.connection import Connection
from components.draft_editor import load_base
from components.execute_form import fill_form, form_prefix
from components.live_panel import format_ms
from components.run_result import revision_label
from components.safe import md
from fruxon_playground.history import HistoryUnavailable, RunStore, SavedRun
from fruxon_playground.settings import PlaygroundSettings


@st.cache_resource
def _store(path: str) -> RunStore | str:
    """One store per file for the whole server: thread-safe, and it holds no per-session state."""
    try:
        return RunStore(path)
    except HistoryUnavailable as exc:
        return str(exc)


def run_store() -> RunStore | None:
    store = _store(PlaygroundSettings.from_environment().history_path)
    if isinstance(store, str):
        st.warning("Run history is off: " + md(store))
        return None
    return store


def prepare_rerun(run: SavedRun) -> None:
    """Button callback (runs before the script, so widget state may still change): fill the form of
    the run's page and agent with its request."""
    st.session_state[state.AGENT] = run.agent_id
    if run.kind in ("test", "stream_test"):
        load_base(run.request)
        return
    conn: Connection | None = st.session_state.get(state.CONNECTION)
    if conn is not None:
        fill_form(form_prefix(Connection(conn.settings, run.agent_id)), run.request)


def runs_frame(runs: list[SavedRun]) -> pd.DataFrame:
    return pd.DataFrame(
        [{"When": pd.Timestamp(r.created_at_ms, unit="ms", tz="UTC").strftime("%Y-%m-%d %H:%M:%S"),
          "Kind": r.kind, "Revision": _revision(r), "Agent": r.agent_id, "Status": r.status,
          "Duration": format_ms(r.duration_ms),
          "Cost ($)": round(r.total_cost, 7), "Tokens": r.input_tokens + r.output_tokens,
          "Environment": r.environment_slug or "", "Record": r.execution_record_id or ""} for r in runs],
        columns=["When", "Kind", "Revision", "Agent", "Status", "Duration", "Cost ($)", "Tokens", "Environment", "Record"],
    )


def _revision(run: SavedRun) -> str:
    """The revision that ran, from the saved trace ("rev N" / "draft"); blank when it never said."""
    revision = (run.trace or {}).get("agentRevision")
    return revision_label(revision) if isinstance(revision, int) and not isinstance(revision, bool) else ""


def saved_run_caption(run: SavedRun) -> str:
    """Where and when a saved run ran, escaped (agent ids, URLs and tenants are untrusted)."""
    when = pd.Timestamp(run.created_at_ms, unit="ms", tz="UTC").strftime("%Y-%m-%d %H:%M UTC")
    return " · ".join([when, md(run.agent_id, limit=80), f":{run.kind}", md(run.base_url or "", limit=120),
                       f"tenant {md(run.tenant or '—', limit=80)}"])
