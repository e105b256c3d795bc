"""What a finished run shows: summary figures, failure details, approval controls, trace, event log."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
import streamlit as st

from components.live_panel import format_ms
from components.trace_viewer import trace_viewer
from fruxon_playground.runs.fold import Phase, Received
from fruxon_playground.runs.handle import RequestFailure, RunSnapshot
from fruxon_playground.trace import build_trace


def _money(value: Any) -> str:
    try:
        return f"${float(value):.6f}"
    except (TypeError, ValueError):
        return "—"


def run_trace(snapshot: RunSnapshot) -> dict[str, Any] | None:
    """The ExecutionTrace of a finished run: from the sync response or the `done` event."""
    if snapshot.response is not None and snapshot.response.trace is not None:
        return snapshot.response.trace.model_dump(by_alias=True, exclude_unset=True)
    done = snapshot.view.done
    if done is not None and done.trace is not None:
        return done.trace.model_dump(by_alias=True, exclude_unset=True)
    return None


def summary(snapshot: RunSnapshot) -> None:
    view = snapshot.view
    trace = run_trace(snapshot) or {}
    tokens_in = trace.get("inputTokens", view.usage.get("inputTokens"))
    tokens_out = trace.get("outputTokens", view.usage.get("outputTokens"))
    server_ms = trace.get("duration")
    duration = server_ms if isinstance(server_ms, int | float) and server_ms >= 0 else snapshot.elapsed_ms
    revision = trace.get("agentRevision")
    shown_revision = "draft" if isinstance(revision, int) and revision <= 0 else (revision if revision is not None else "—")
    st.markdown(
        f"**Cost** {_money(trace.get('totalCost')) if trace else '—'} · "
        f"**Tokens** {tokens_in or 0:,} in / {tokens_out or 0:,} out · "
        f"**Duration** {format_ms(duration)} · **Revision** {shown_revision}"
    )
    ids = []
    if view.session_id:
        ids.append(f"session `{view.session_id}`")
    if view.execution_record_id:
        ids.append(f"execution record `{view.execution_record_id}`")
    if ids:
        st.caption(" · ".join(ids))
    links = []
    if snapshot.response is not None and snapshot.response.links:
        links = [link.model_dump(by_alias=True, exclude_none=True) for link in snapshot.response.links]
    elif view.done is not None and view.done.links:
        links = [link.model_dump(by_alias=True, exclude_none=True) for link in view.done.links]
    if links:
        st.caption("Files the run produced or referenced")
        st.dataframe(pd.DataFrame(links), hide_index=True, width="stretch")


def failure_message(failure: RequestFailure, *, tenant: str, agent: str, action: str) -> str:
    """The sentence a user reads first: what happened and what to do about it."""
    status = failure.status
    if status == 401:
        return f"The key was rejected for tenant “{tenant}”. Check the API key in the sidebar. Server said: {failure.message}"
    if status == 403:
        return f"This key cannot access tenant “{tenant}”. Server said: {failure.message}"
    if status == 404:
        hint = " No deployed revision? Test the draft instead." if action == "execute" or action == "stream" else ""
        return f"Not found: agent “{agent}” on tenant “{tenant}”.{hint} Server said: {failure.message}"
    if status in (400, 422):
        return f"Fix the request: {failure.message}"
    if status == 429:
        wait = f" Try again in {failure.retry_after:.0f} s." if failure.retry_after else ""
        return f"Rate limited.{wait} Runs are never retried automatically. Server said: {failure.message}"
    if status == 503:
        wait = f" Try again in {failure.retry_after:.0f} s." if failure.retry_after else ""
        return f"The service is unavailable.{wait} Server said: {failure.message}"
    if status is not None and status >= 500:
        record = f" (execution record {failure.execution_record_id})" if failure.execution_record_id else ""
        return f"The server failed{record}: {failure.message}"
    return failure.message


def outcome_banner(snapshot: RunSnapshot, *, tenant: str, agent: str, action: str) -> None:
    view = snapshot.view
    if snapshot.failure is not None:
        st.error(failure_message(snapshot.failure, tenant=tenant, agent=agent, action=action))
        extra = {k: v for k, v in (snapshot.failure.field_errors or {}).items() if not k.startswith("parameters.")}
        for field, messages in extra.items():
            st.caption(f"{field}: " + "; ".join(messages))
    elif view.phase is Phase.FAILED:
        code = f" ({view.error_code})" if view.error_code else ""
        st.error(f"The run failed{code}: {view.error_message}")
    elif view.phase is Phase.INTERRUPTED:
        st.warning(f"{view.error_message} Everything received so far is kept below.")
    elif view.phase is Phase.STOPPED:
        st.info("Stopped. The connection was closed; everything received so far is kept. The run may continue on the server.")
    elif view.phase is Phase.WAITING_FOR_HUMAN:
        st.warning("The run is waiting for a human to approve a tool call.")
    if snapshot.view.after_terminal:
        st.caption(f"{snapshot.view.after_terminal} event(s) arrived after the terminal event and were ignored.")


def event_label(received: Received) -> str:
    name = received.event.event
    return name if type(received.event).__name__ != "UnknownEvent" else f"{name} (unknown)"


def event_log(received: tuple[Received, ...], *, key: str) -> None:
    if not received:
        st.caption("No events were received.")
        return
    names = sorted({r.event.event for r in received})
    chosen = st.multiselect("Event types", names, default=names, key=f"{key}.types")
    rows = [
        {"#": index, "t": round(r.t_ms, 1), "event": event_label(r), "data": r.event.raw[:200]}
        for index, r in enumerate(received)
        if r.event.event in chosen
    ]
    st.dataframe(
        pd.DataFrame(rows, columns=["#", "t", "event", "data"]),
        hide_index=True,
        width="stretch",
        column_config={"t": st.column_config.NumberColumn("arrived (ms)", format="%.1f")},
        height=260,
    )
    if rows:
        index = st.selectbox(
            "Show event", [row["#"] for row in rows], key=f"{key}.pick",
            format_func=lambda i: f"#{i} · {event_label(received[i])} · {received[i].t_ms:.0f} ms",
        )
        item = received[index]
        st.json(_event_json(item), expanded=True)


def _event_json(item: Received) -> Any:
    raw = item.event.raw
    try:
        return json.loads(raw) if raw else {}
    except json.JSONDecodeError:
        return {"_raw": raw}


def trace_section(trace: dict[str, Any] | None, *, key: str) -> None:
    if not trace:
        st.caption("No trace yet: a run waiting for approval, or a failed run, has none.")
        return
    trace_viewer(build_trace(trace), key=key)
    st.download_button(
        "Download trace JSON",
        json.dumps(trace, indent=2, ensure_ascii=False),
        file_name="trace.json",
        mime="application/json",
    )
