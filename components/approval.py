"""Approve or reject a run that waits for a human, then show how it resumed."""

from __future__ import annotations

import streamlit as st

from components.connection import Connection
from components.run_result import trace_section
from fruxon_playground.api import FruxonError


def _hitl_step(view) -> dict | None:
    """The HITL gate's details as the stream reported them (test streams carry a HITL step)."""
    for received in reversed(view.snapshot.received):
        event = received.event
        if event.event == "step_trace" and (getattr(event, "type", "") or "").upper() == "HITL":
            hitl = getattr(event, "hitl_step_trace", None) or getattr(event, "hitl_trace", None)
            if hitl is not None:
                return hitl.model_dump(by_alias=True, exclude_none=True) if hasattr(hitl, "model_dump") else dict(hitl)
    return None


def approval_controls(conn: Connection, view) -> None:
    snapshot = view.snapshot
    request_id = snapshot.view.approval_request_id
    agent = view.handle.agent
    state_key = f"{view.key}.approval.{request_id}"
    with st.container(border=True):
        st.markdown("**:material/front_hand: Approval needed**")
        if not request_id:
            st.caption("The run is waiting, but the server sent no approval request id.")
            return
        st.caption(f"Approval request `{request_id}`")
        details = _hitl_step(view)
        if details is None:
            try:
                with conn.client() as client:
                    details = client.get_approval(agent, request_id).model_dump(by_alias=True, exclude_none=True)
            except FruxonError as exc:
                st.caption(f"The approval's details could not be loaded: {exc}")
        if details:
            if details.get("outboundMessage"):
                st.text(details["outboundMessage"])
            if details.get("toolKey"):
                st.caption(f"Tool: {details['toolKey']}")
            if details.get("proposedParameters") is not None:
                st.caption("Proposed parameters")
                st.json(details["proposedParameters"])
        outcome = st.session_state.get(state_key)
        if outcome is None:
            reason = st.text_input("Reason (sent with a rejection)", key=f"{state_key}.reason")
            approve_col, reject_col = st.columns(2)
            decision = None
            if approve_col.button("Approve", icon=":material/check:", key=f"{state_key}.approve", type="primary", width="stretch"):
                decision = "approve"
            if reject_col.button("Reject", icon=":material/block:", key=f"{state_key}.reject", width="stretch"):
                decision = "reject" + (f": {reason.strip()}" if reason.strip() else "")
            if decision:
                try:
                    with conn.client() as client:
                        approval = client.respond_to_approval(agent, request_id, decision)
                        record = None
                        trace = None
                        if snapshot.view.execution_record_id:
                            record = client.get_execution_record(agent, snapshot.view.execution_record_id)
                            trace = client.get_execution_trace(agent, snapshot.view.execution_record_id)
                    st.session_state[state_key] = {
                        "decision": approval.decision or decision.split(":")[0].upper(),
                        "status": record.status if record else None,
                        "trace": trace.trace.model_dump(by_alias=True, exclude_unset=True) if trace and trace.trace else None,
                    }
                    st.rerun()
                except FruxonError as exc:
                    st.error(f"The decision could not be sent: {exc}")
            return
        st.success(f"Decision sent: {outcome['decision']}. The run is now {outcome['status'] or 'resuming'}.")
        with st.expander("Trace after the decision"):
            trace_section(outcome["trace"], key=f"{state_key}.trace")
