"""Approve or reject a run that waits for a person; the run then follows its record to the end in place."""

from __future__ import annotations

from typing import Any

import streamlit as st

from components.connection import Connection
from components.safe import md
from fruxon_playground.api import FruxonError
from fruxon_playground.api import events as ev
from fruxon_playground.contract import normalize_enum
from fruxon_playground.runs import RunHandle, RunSnapshot


def _gate_from_stream(snapshot: RunSnapshot) -> dict[str, Any] | None:
    """The HITL gate's details as the stream reported them (test streams carry a HITL step)."""
    for received in reversed(snapshot.received):
        event = received.event
        if isinstance(event, ev.StepTraceEvent) and normalize_enum(event.type) == "HITL" and event.hitl_trace:
            return event.hitl_trace.model_dump(by_alias=True, exclude_none=True)
    return None


def _gate_details(conn: Connection, handle: RunHandle, snapshot: RunSnapshot, request_id: str) -> dict[str, Any] | str:
    cache_key = f"approval.details.{request_id}"
    if cache_key not in st.session_state:
        details: dict[str, Any] | str | None = _gate_from_stream(snapshot)
        if details is None:
            try:
                with conn.client() as client:
                    details = client.get_approval(handle.agent, request_id).model_dump(by_alias=True, exclude_none=True)
            except FruxonError as exc:
                details = f"The approval's details could not be loaded: {exc}"
        st.session_state[cache_key] = details
    return st.session_state[cache_key]


def approval_controls(conn: Connection, handle: RunHandle, snapshot: RunSnapshot, *, key: str) -> None:
    request_id = snapshot.state.approval_request_id
    with st.container(border=True):
        st.markdown("**:material/front_hand: Approval needed**")
        if not request_id:
            st.caption("The run is waiting, but the server sent no approval request id: answer it in Fruxon.")
            return
        st.caption(f"Approval request {md(request_id, limit=80)}")
        details = _gate_details(conn, handle, snapshot, request_id)
        if isinstance(details, str):
            st.caption(md(details))
        else:
            if details.get("outboundMessage"):
                st.text(str(details["outboundMessage"]))
            if details.get("toolKey"):
                st.caption(f"Tool: {md(details['toolKey'], limit=120)}")
            if details.get("proposedParameters") is not None:
                st.caption("Proposed parameters")
                st.json(details["proposedParameters"])
        reason_key = f"{key}.approval.{request_id}.reason"
        st.text_input("Reason (sent with a rejection)", key=reason_key)
        approve_col, reject_col = st.columns(2)
        approve_col.button("Approve", icon=":material/check:", key=f"{reason_key}.approve", type="primary",
                           width="stretch", on_click=handle.answer_approval, args=(True, ""))
        reject_col.button("Reject", icon=":material/block:", key=f"{reason_key}.reject", width="stretch",
                          on_click=lambda: handle.answer_approval(False, st.session_state.get(reason_key, "")))
