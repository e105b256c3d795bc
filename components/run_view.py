"""One run on a page — live, finished or saved — drawn by one code path.

While a run runs, the live panel redraws what changed. Once it ended (or for a saved run) the page
shows the outcome, the answer, the approval controls when a person must decide, the figures, and
tabs with the trace, tool calls, steps, events and request right under the answer. The page never
saves anything: the run handle saves itself.
"""

from __future__ import annotations

from itertools import islice
from typing import Any, Protocol

import streamlit as st

from components import state
from components.approval import approval_controls
from components.connection import Connection
from components.history import run_store
from components.live_panel import TOOL_CARDS_SHOWN, LivePanel, draw_tool_card, split_blocks, stats_line
from components.run_options import continue_session
from components.run_result import event_log, outcome_banner, summary, trace_download, trace_section
from components.stored_draft import open_in_draft_editor
from components.trace_viewer import stored_trace_viewer
from components.url_state import live_runs, show_run
from fruxon_playground.contract import mask_secrets
from fruxon_playground.runs import Phase, RunContext, RunHandle, RunKind, RunRecorder, RunSnapshot
from fruxon_playground.runs.fold import RunState, trace_to_show
from fruxon_playground.runs.record import FrozenRun


class RunSource(Protocol):
    """What a panel reads: a live `RunHandle` or a saved run (`FrozenRun`)."""

    id: Any
    kind: Any
    agent: Any
    request: Any

    @property
    def finished(self) -> bool: ...

    def snapshot(self) -> RunSnapshot: ...


def start_run(conn: Connection, kind: RunKind, agent: str, request: dict[str, Any], slot: str, *,
              page: str, draft_revision: int | None = None) -> RunHandle:
    """Starts a run that saves itself to the history store; it becomes the page's open run (URL)."""
    previous: RunHandle | None = st.session_state.get(slot)
    if previous is not None and not previous.finished:
        previous.cancel()
    store = run_store()
    recorder = None
    if store is not None:
        settings = conn.settings
        context = RunContext(owner=st.session_state[state.OWNER], base_url=settings.base_url, tenant=settings.tenant,
                             secrets=(settings.api_key,))
        recorder = RunRecorder(store, context)
    handle = RunHandle(kind, agent, request, conn.client, recorder=recorder, draft_revision=draft_revision)
    live_runs().add(handle)
    st.session_state[slot] = handle
    show_run(page, agent, handle.id)
    return handle.start()


def server_field_errors(run: RunSource | None) -> dict[str, list[str]]:
    """Per-field messages of a 400/422 answer, to be shown next to the fields that caused them."""
    if run is None or not run.finished:
        return {}
    failure = run.snapshot().state.failure
    return dict(failure.field_errors or {}) if failure is not None else {}


class RunView:
    def __init__(self, run: RunSource | None, conn: Connection | None, *, key: str,
                 session_prefix: str | None = None) -> None:
        self.run = run
        self.conn = conn
        self.key = key
        self.session_prefix = session_prefix  # the form whose conversation "Continue" sets
        self.panel: LivePanel | None = None
        self.snapshot: RunSnapshot | None = None

    def draw(self, *, empty_hint: str = "Run the agent to see its answer, tool calls, trace and events here.") -> None:
        run = self.run
        if run is None:
            st.caption(empty_hint)
            return
        if not run.finished and isinstance(run, RunHandle):
            self.panel = LivePanel(run, key=self.key)
            self.snapshot = self.panel.draw()
            if not self.snapshot.finished:
                return
        self._draw_finished(run)

    def follow(self) -> None:
        if self.panel is not None:
            self.panel.follow()

    def _draw_finished(self, run: RunSource) -> None:
        # Same shape as the live panel (components/live_panel.py): a container with the status, then
        # one with the answer. When a live run ends, the answer's blocks keep their place instead of
        # collapsing and being drawn again.
        status_box, answer_box, more_box = st.container(), st.container(), st.container()
        trace_tab, tools_tab, events_tab, request_tab = st.tabs(["Trace", "Tool calls", "Events", "Request"])
        with trace_tab:  # first: a saved run's stored view is on screen before its events are read
            self._trace(run)
        snapshot = self.snapshot = run.snapshot()
        state_ = snapshot.state
        with status_box:
            st.markdown(stats_line(snapshot, streamed=run.kind.streamed))
            tenant = self.conn.settings.tenant if self.conn else ""
            outcome_banner(snapshot, tenant=tenant, agent=run.agent, action=run.kind.action)
        with answer_box:
            for block in split_blocks(state_.text) if state_.text else []:
                st.text(block)
        with more_box:
            self._after_answer(run, snapshot)
        with tools_tab:
            self._tools(state_)
        with events_tab:
            event_log(snapshot.received, key=f"{self.key}.log.{run.id}")
        with request_tab:
            st.caption(f"POST :{run.kind.action} · secrets removed")
            recorder = run.recorder if isinstance(run, RunHandle) else None
            st.json(mask_secrets(run.request, recorder.context.secrets if recorder else ()), expanded=False)

    def _after_answer(self, run: RunSource, snapshot: RunSnapshot) -> None:
        state_ = snapshot.state
        if state_.phase is Phase.WAITING_FOR_HUMAN and isinstance(run, RunHandle) and self.conn is not None:
            approval_controls(self.conn, run, snapshot, key=self.key)
        if state_.failure is None or state_.health.event_count:
            summary(snapshot)
        if state_.session_id and self.session_prefix and state_.phase.is_final:
            st.button("Continue this conversation", icon=":material/forum:", key=f"{self.key}.continue",
                      on_click=continue_session, args=(self.session_prefix, state_.session_id),
                      help="The next run of this agent sends this run's session id")
        if state_.phase.is_final:
            open_in_draft_editor(run)
        recorder_error = getattr(getattr(run, "recorder", None), "last_error", None)
        if recorder_error:
            st.warning("This run could not be saved to History: " + recorder_error)

    def _trace(self, run: RunSource) -> None:
        """The view stored with a saved run (or with a live run that ended and saved itself); else the
        trace built from what the run received."""
        key = f"{self.key}.trace.{run.id}"
        store = run_store() if _saved_ended(run) else None
        if store is not None:
            # What stands for this version of the run: a saved run is opened again when it changed;
            # a live one's final state changes only when an approval resumes it.
            version = run if isinstance(run, FrozenRun) else run.snapshot().state
            if stored_trace_viewer(store, run.id, version, key=key):
                trace_download(lambda: store.trace_text(run.id))
                return
        trace, from_steps = trace_to_show(run.snapshot().state)
        if from_steps:
            st.caption("The run ended before its trace arrived: these are the steps it streamed.")
        trace_section(trace, key=key)

    @staticmethod
    def _tools(state_: RunState) -> None:
        tools = state_.tools
        if not tools:
            st.caption("This run called no tools.")
            return
        where = " · read from the trace (this run's answer carried no tool events)" if state_.tools_from_trace else ""
        shown = f"; the first {TOOL_CARDS_SHOWN} are shown, the trace has them all (filter it by the tool kind)" \
            if len(tools) > TOOL_CARDS_SHOWN else ""
        st.caption(f"{len(tools):,} tool call{'s' if len(tools) != 1 else ''}{where}{shown}")
        for card in islice(tools.values(), TOOL_CARDS_SHOWN):
            draw_tool_card(card)


def _saved_ended(run: RunSource) -> bool:
    """A saved run, or a live one that ended and saved itself (its last save worked)."""
    if isinstance(run, FrozenRun):
        return True
    recorder = getattr(run, "recorder", None)
    return isinstance(run, RunHandle) and run.finished and recorder is not None and recorder.last_error is None
