"""One run on a page: the live panel while it streams, then the outcome, result, events and trace."""

from __future__ import annotations

from typing import Any

import streamlit as st

from components.connection import Connection
from components.history import save_finished_run
from components.live_panel import LivePanel
from components.run_result import event_log, outcome_banner, run_trace, summary, trace_section
from fruxon_playground.runs.fold import Phase
from fruxon_playground.runs.handle import RunHandle, RunKind, RunSnapshot


def start_run(conn: Connection, kind: RunKind, agent: str, request: dict[str, Any], state_key: str) -> RunHandle:
    previous: RunHandle | None = st.session_state.get(state_key)
    if previous is not None and not previous.finished:
        previous.cancel()
    handle = RunHandle(kind, agent, request, conn.client).start()
    st.session_state[state_key] = handle
    return handle


def server_field_errors(handle: RunHandle | None) -> dict[str, list[str]]:
    """Per-field messages of a 400/422 answer, to be shown next to the fields that caused them."""
    if handle is None or not handle.finished:
        return {}
    failure = handle.snapshot().failure
    return dict(failure.field_errors or {}) if failure is not None else {}


def _continue_session(field_key: str, session_id: str) -> None:
    st.session_state[field_key] = session_id


class RunView:
    def __init__(self, handle: RunHandle | None, conn: Connection | None, *, key: str, session_field: str) -> None:
        self.handle = handle
        self.conn = conn
        self.key = key
        self.session_field = session_field
        self.panel: LivePanel | None = None
        self.snapshot: RunSnapshot | None = None

    @property
    def waiting_for_approval(self) -> bool:
        return self.snapshot is not None and self.snapshot.finished and self.snapshot.view.phase is Phase.WAITING_FOR_HUMAN

    def draw(self) -> None:
        if self.handle is None:
            st.caption("Run the agent to see its answer, steps, tool calls and events here.")
            return
        handle = self.handle
        st.subheader(f"{'Streamed' if handle.kind.streamed else 'Synchronous'} run · :{handle.kind.action}")
        self.panel = LivePanel(handle, key=self.key)
        self.snapshot = self.panel.draw()
        if not self.snapshot.finished:
            return
        snapshot = self.snapshot
        base_url, tenant = (self.conn.settings.base_url, self.conn.settings.tenant) if self.conn else ("", "")
        save_finished_run(handle, snapshot, base_url=base_url, tenant=tenant)
        outcome_banner(snapshot, tenant=tenant, agent=handle.agent, action=handle.kind.action)
        if snapshot.failure is None or snapshot.view.health.event_count:
            summary(snapshot)
        session_id = snapshot.view.session_id
        if session_id and self.session_field:
            st.button(
                "Continue this session",
                icon=":material/forum:",
                key=f"{self.key}.continue",
                on_click=_continue_session,
                args=(self.session_field, session_id),
                help="Puts this run's session id into the form so the next run continues the conversation.",
            )
        if handle.kind.streamed:
            with st.expander(f"Event log ({len(snapshot.received)} events)"):
                event_log(snapshot.received, key=f"{self.key}.log")

    def draw_trace(self) -> None:
        """The finished run's trace, full width under the form and the run."""
        if self.snapshot is None or not self.snapshot.finished:
            return
        st.divider()
        st.subheader("Trace")
        trace_section(run_trace(self.snapshot), key=f"{self.key}.trace.{self.handle.id}")

    def follow(self) -> None:
        if self.panel is not None:
            self.panel.follow()
