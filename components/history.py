"""Run history in the UI: the shared store, saving finished runs, and drawing a saved run."""

from __future__ import annotations

import json
import os
from typing import Any

import pandas as pd
import streamlit as st

from components import state
from components.draft_editor import load_base
from components.live_panel import format_ms
from components.parameter_form import set_form_values
from components.run_result import run_trace, trace_section
from fruxon_playground.history import (
    HistoryUnavailable,
    RunStore,
    RunSummary,
    SavedRun,
    answer_of,
    history_location,
    open_store,
    stale_after_s,
)
from fruxon_playground.runs.handle import RunHandle, RunSnapshot


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


def run_store() -> RunStore | None:
    try:
        location = history_location(os.environ, _secrets())
    except HistoryUnavailable as exc:
        st.warning(f"Run history is off: {exc}")
        return None
    store = _store(location, stale_after_s(os.environ))
    if isinstance(store, str):
        st.warning(f"Run history is off: {store}")
        return None
    return store


def saved_run_from(handle: RunHandle, snapshot: RunSnapshot, *, base_url: str, tenant: str, owner: str) -> SavedRun:
    view = snapshot.view
    trace = run_trace(snapshot) or {}
    response: dict[str, Any] | None = None
    if snapshot.response is not None:
        response = snapshot.response.dump()
    elif view.done is not None and view.done.raw:
        try:
            response = json.loads(view.done.raw)
        except ValueError:
            response = {"_raw": view.done.raw}
    error = snapshot.failure.message if snapshot.failure else view.error_message
    return SavedRun(
        kind=handle.kind.value, agent_id=handle.agent, request=handle.request, status=view.phase.value, owner=owner,
        base_url=base_url, tenant=tenant, error=error, started_at_ms=handle.started_at_wall_ms,
        duration_ms=snapshot.elapsed_ms, total_cost=float(trace.get("totalCost") or 0.0),
        input_tokens=int(trace.get("inputTokens") or view.usage.get("inputTokens") or 0),
        output_tokens=int(trace.get("outputTokens") or view.usage.get("outputTokens") or 0),
        execution_record_id=view.execution_record_id, session_id=view.session_id,
        environment_slug=handle.request.get("environmentSlug"), response=response,
        events=[{"event": r.event.event, "data": r.event.raw, "t_ms": round(r.t_ms, 1)} for r in snapshot.received],
        trace=trace or None,
    )


def save_finished_run(handle: RunHandle, snapshot: RunSnapshot, *, base_url: str, tenant: str) -> None:
    """Saves each finished run once (success, failure, stop or interruption alike)."""
    if getattr(handle, "saved_id", None) or getattr(handle, "is_replay", False):
        return
    store = run_store()
    if store is None:
        return
    try:
        connection = st.session_state.get(state.CONNECTION)
        key = connection.settings.api_key if connection is not None else None
        saved = store.save(saved_run_from(handle, snapshot, base_url=base_url, tenant=tenant,
                                          owner=st.session_state[state.OWNER]), secrets=(key,))
    except HistoryUnavailable as exc:
        st.warning(f"This run was not saved: {exc}")
        return
    handle.saved_id = saved.id  # type: ignore[attr-defined]


def prepare_rerun(run: SavedRun) -> None:
    """Button callback (runs before the script, so widget state may still change): fill the form of
    the run's page with its request."""
    if run.kind in ("test", "stream_test"):
        load_base(run.request)
        return
    set_form_values("execute.params", run.request.get("parameters") or {})
    st.session_state["execute.session_id"] = run.request.get("sessionId") or ""
    st.session_state["execute.environment"] = run.request.get("environmentSlug")
    st.session_state[state.AGENT] = run.agent_id


def runs_frame(runs: list[RunSummary]) -> pd.DataFrame:
    return pd.DataFrame(
        [{"When": pd.Timestamp(r.created_at_ms, unit="ms", tz="UTC").strftime("%Y-%m-%d %H:%M:%S"),
          "Kind": r.kind, "Agent": r.agent_id, "Status": r.status, "Duration": format_ms(r.duration_ms),
          "Cost ($)": round(r.total_cost, 7), "Tokens": r.input_tokens + r.output_tokens,
          "Environment": r.environment_slug or "", "Record": r.execution_record_id or ""} for r in runs],
        columns=["When", "Kind", "Agent", "Status", "Duration", "Cost ($)", "Tokens", "Environment", "Record"],
    )


def draw_saved_run(run: SavedRun, *, key: str) -> None:
    """A saved run, read-only: what was asked, what came back, the events and the trace."""
    where = f"{run.base_url or ''} · tenant {run.tenant or '—'}"
    st.caption(f"{run.kind} · {run.agent_id} · {run.status} · {format_ms(run.duration_ms)} · ${run.total_cost:.7f} · "
               f"{run.input_tokens + run.output_tokens:,} tokens · {where}")
    if run.error:
        st.error(run.error)
    answer = run.answer if run.answer is not None else answer_of(run.response, run.events)
    if answer:
        st.caption("Response")
        st.text(answer)
    with st.expander("Request (secrets removed)"):
        st.json(run.request)
    if run.events:
        with st.expander(f"Events ({len(run.events)})"):
            st.dataframe(pd.DataFrame(run.events, columns=["t_ms", "event", "data"]), hide_index=True, width="stretch",
                         height=260)
    st.subheader("Trace")
    trace_section(run.trace, key=f"{key}.trace")

