"""Remote runs: the tenant's execution records for the selected agent, filtered and paged; open any trace."""

import time

import streamlit as st

from components import state
from components.connection import require_agent
from components.remote_runs import record_filters, records_frame_for_table
from components.run_result import trace_section
from components.stored_draft import open_record_in_draft_editor
from fruxon_playground.api import FruxonError

state.require_app("pages/remote_runs.py")
st.title("Remote runs")
conn = require_agent("its execution records are listed here.")
filters = record_filters(key="remote")

tokens_key = "remote.tokens"  # page tokens seen so far, so "Previous" works without the server's help
# The window's start moves with the clock; what the user chose is the range, not the millisecond.
signature = repr(sorted((k, v) for k, v in filters.items() if k != "start_time")) + str(st.session_state["remote.days"])
if st.session_state.get("remote.signature") != signature:
    st.session_state["remote.signature"] = signature
    st.session_state[tokens_key] = [None]
tokens: list[str | None] = st.session_state[tokens_key]
try:
    with conn.client() as client:
        page = client.list_execution_records_page(conn.agent, page_token=tokens[-1], page_size=25, **filters)
except FruxonError as exc:
    st.error(f"The execution records could not be listed: {exc}")
    st.stop()

st.caption(f"Page {len(tokens)} · {len(page.items)} record(s) · newest first · fetched {time.strftime('%H:%M:%S')}")
previous_col, next_col = st.columns(2)
if previous_col.button("Previous page", disabled=len(tokens) == 1, icon=":material/chevron_left:", width="stretch"):
    tokens.pop()
    st.rerun()
if next_col.button("Next page", disabled=not page.next_page_token or page.next_page_token in tokens,
                   icon=":material/chevron_right:", width="stretch"):
    tokens.append(page.next_page_token)
    st.rerun()
if not page.items:
    st.info("No execution records match these filters.")
    st.stop()

picked = st.dataframe(records_frame_for_table(page.items), hide_index=True, width="stretch", on_select="rerun",
                      selection_mode="single-row", key=f"remote.table.{len(tokens)}.{signature}")
rows = picked.selection.rows if picked is not None else []
if not rows:
    st.caption("Select a record to open its trace.")
    st.stop()
record = page.items[rows[0]]
st.subheader(f"Record {record.id}")
open_record_in_draft_editor(conn, record)
try:
    with conn.client() as client:
        envelope = client.get_execution_trace(conn.agent, record.id)
except FruxonError as exc:
    st.info(f"No trace for this record ({record.status}): {exc}")
    st.stop()
trace_section(envelope.trace.dump() if envelope.trace else None, key=f"remote.trace.{record.id}")
