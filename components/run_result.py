"""What a finished run shows: summary figures, failure details, approval controls, trace, event log."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

import pandas as pd
import streamlit as st

from components.live_panel import format_ms
from components.safe import md
from components.trace_viewer import trace_viewer
from fruxon_playground.runs import lifecycle as lc
from fruxon_playground.runs.fold import Phase, Received
from fruxon_playground.runs.handle import RunSnapshot


def _money(value: Any) -> str:
    try:
        return f"${float(value):.6f}"
    except (TypeError, ValueError):
        return "—"


def summary(snapshot: RunSnapshot) -> None:
    """Cost, tokens, duration and revision of a finished run, then its ids and files."""
    state = snapshot.state
    trace = state.trace or {}
    tokens_in = trace.get("inputTokens", state.usage.get("inputTokens"))
    tokens_out = trace.get("outputTokens", state.usage.get("outputTokens"))
    server_ms = trace.get("duration")
    duration = server_ms if isinstance(server_ms, int | float) and server_ms >= 0 else snapshot.elapsed_ms
    st.markdown(
        f"**Cost** {_money(trace.get('totalCost')) if trace else '—'} · "
        f"**Tokens** {_count(tokens_in)} in / {_count(tokens_out)} out · "
        f"**Duration** {format_ms(duration)} · **Revision** {revision_label(state.revision)}"
    )
    ids = []
    if state.session_id:
        ids.append(f"session {md(state.session_id, limit=80)}")
    if state.execution_record_id:
        ids.append(f"execution record {md(state.execution_record_id, limit=80)}")
    if ids:
        st.caption(" · ".join(ids))
    if state.links:
        st.caption("Files the run produced or referenced")
        st.dataframe(pd.DataFrame([{k: str(v) for k, v in link.items()} for link in state.links]), hide_index=True,
                     width="stretch")


def _count(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else "0"


def revision_label(revision: int | None) -> str:
    """`draft` for revisions ≤ 0 (contract §9.7: never "rev -1")."""
    if revision is None:
        return "—"
    return "draft" if revision <= 0 else f"rev {revision}"


def failure_message(failure: lc.RequestFailed, *, tenant: str, agent: str, action: str) -> str:
    """The sentence a user reads first: what happened and what to do, then the server's words (escaped)."""
    status = failure.status
    said = f" Server said: {md(failure.message)}" if failure.message else ""
    tenant_md, agent_md = md(tenant, limit=80), md(agent, limit=80)
    if status == 401:
        return f"The key was rejected for tenant “{tenant_md}”. Check the API key in the sidebar.{said}"
    if status == 403:
        return f"This key cannot access tenant “{tenant_md}”.{said}"
    if status == 404:
        hint = " No deployed revision? Test the draft instead." if action in ("execute", "stream") else ""
        return f"Not found: agent “{agent_md}” on tenant “{tenant_md}”.{hint}{said}"
    if status in (400, 422):
        return f"Fix the request.{said}"
    if status in (429, 503):
        wait = f" Try again in {failure.retry_after:.0f} s." if failure.retry_after else ""
        what = "Rate limited." if status == 429 else "The service is unavailable."
        return f"{what}{wait} Runs are never retried automatically.{said}"
    if status is not None and status >= 500:
        record = f" (execution record {md(failure.execution_record_id, limit=80)})" if failure.execution_record_id else ""
        return f"The server failed{record}.{said}"
    return f"The request could not be sent ({md(failure.title, limit=80)}).{said}"


def outcome_banner(snapshot: RunSnapshot, *, tenant: str, agent: str, action: str) -> None:
    state = snapshot.state
    if state.failure is not None:
        st.error(failure_message(state.failure, tenant=tenant, agent=agent, action=action))
        extra = {k: v for k, v in (state.failure.field_errors or {}).items() if not k.startswith("parameters.")}
        for field, messages in extra.items():
            st.caption(f"{md(field, limit=80)}: " + "; ".join(md(m) for m in messages))
    elif state.phase is Phase.FAILED:
        code = f" ({md(state.error_code, limit=80)})" if state.error_code else ""
        st.error(f"The run failed{code}: {md(state.error_message)}")
    elif state.phase is Phase.REJECTED:
        st.error(md(state.error_message or "The tool call was rejected."))
    elif state.phase is Phase.INTERRUPTED:
        st.warning(f"{md(state.error_message)} Everything received so far is kept below.")
    elif state.phase is Phase.STOPPED:
        st.info("Stopped. The connection was closed; everything received so far is kept. "
                "The run may continue on the server.")
    elif state.phase is Phase.WAITING_FOR_HUMAN:
        note = f" {md(state.error_message)}" if state.error_message else ""
        st.warning(f"The run is waiting for a person to approve a tool call.{note}")
    if state.after_terminal:
        st.caption(f"{state.after_terminal} event(s) arrived after the terminal event and were ignored.")


def event_label(received: Received) -> str:
    name = received.event.event
    return name if type(received.event).__name__ != "UnknownEvent" else f"{name} (unknown)"


def event_log(received: tuple[Received, ...], *, key: str) -> None:
    if not received:
        st.caption("No events were received.")
        return
    st.caption(f"{len(received):,} event{'s' if len(received) != 1 else ''} received")
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
        if len(item.event.raw) > EVENT_SHOWN_CHARS:  # a done frame with a huge trace: the trace tab shows it
            st.caption(f"This event's data is {len(item.event.raw):,} characters; the first "
                       f"{EVENT_SHOWN_CHARS:,} are shown.")
            st.code(item.event.raw[:EVENT_SHOWN_CHARS], language=None, height=300)
        else:
            st.json(_event_json(item), expanded=True)


EVENT_SHOWN_CHARS = 100_000
PRETTY_TRACE_CHARS = 2_000_000  # about 2,000 steps


def _event_json(item: Received) -> Any:
    raw = item.event.raw
    try:
        return json.loads(raw) if raw else {}
    except json.JSONDecodeError:
        return {"_raw": raw}


def trace_section(trace: Mapping[str, Any] | None, *, key: str) -> None:
    """The trace viewer and a download of the trace as received."""
    if not trace:
        st.caption("No trace yet: a run waiting for approval, or a failed run, has none.")
        return
    trace_viewer(trace, key=key)
    trace_download(lambda: json.dumps(trace, ensure_ascii=False))


def trace_download(text: Callable[[], str | None]) -> None:
    """A download of the trace JSON `text()` gives, made when clicked (on the download thread):
    encoding a big trace on every rerun costs seconds."""
    st.download_button("Download trace JSON", lambda: _readable(text() or "{}"), file_name="trace.json",
                       mime="application/json")


def _readable(text: str) -> str:
    """Indented while small; a big trace stays compact (indenting uses the pure-Python encoder)."""
    if len(text) > PRETTY_TRACE_CHARS:
        return text
    try:
        return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    except ValueError:
        return text
