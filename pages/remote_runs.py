"""Remote runs: the tenant's execution records for the selected agent, filtered and paged; a selected
record's trace opens right under the table."""

import hashlib

import streamlit as st

from components import state
from components.connection import require_agent
from components.environment_charts import environment_choices
from components.remote_runs import (
    read_stamp,
    record_caption,
    record_filters,
    record_trace,
    records_page,
    records_table,
    refresh_control,
    show_error,
)
from components.run_result import trace_section
from components.safe import md
from components.stored_draft import open_record_in_draft_editor
from fruxon_playground.analytics import records_frame
from fruxon_playground.api import FruxonError
from fruxon_playground.api.models import ExecutionRecord

REFRESH_HELP = "Read the records again: new runs show up, and the selection starts over."

state.require_app("pages/remote_runs.py")
st.title("Remote runs")
conn = require_agent("its execution records are listed here.")
st.caption(md(f"Execution records of {conn.agent} on tenant {conn.settings.tenant}, newest first.")
           + " Select a row to open its trace below the table.")

# The list is read again only on "Refresh" (or new filters): its window ends at this stamp, so the
# rows stay where they are while a record's trace is open.
stamp = read_stamp(state.REMOTE_STAMP, renew_after_s=None)
environments = environment_choices(conn, st.session_state.get(state.REMOTE_ORIGIN) or "PRODUCTION")
filters, page_size = record_filters(environments, stamp=stamp)

# New filters start again from the first page; the window's ends move with the stamp, the chosen range does not.
signature = repr(sorted((k, v) for k, v in filters.items() if k not in ("start_time", "end_time"))) \
    + f"|{st.session_state[state.REMOTE_DAYS]}|{page_size}"
pages = st.session_state.get(state.REMOTE_PAGES)
if not pages or pages[0] != signature:
    pages = (signature, [None])
    st.session_state[state.REMOTE_PAGES] = pages
tokens: list[str | None] = pages[1]
try:
    read = records_page(conn, filters, stamp=stamp, token=tokens[-1], page_size=page_size)
except FruxonError as exc:
    refresh_control(None, key="remote.refresh", stamp_key=state.REMOTE_STAMP, help=REFRESH_HELP)
    show_error("The execution records could not be listed", exc, conn)
    st.stop()
items = read.value.get("items") or []
next_token = read.value.get("nextPageToken")

previous_col, next_col, where_col, refresh_col = st.columns([1, 1, 1.6, 2.2], vertical_alignment="center")
if previous_col.button("Previous", disabled=len(tokens) == 1, icon=":material/chevron_left:", width="stretch"):
    tokens.pop()
    st.rerun()
if next_col.button("Next", disabled=not next_token or next_token in tokens, icon=":material/chevron_right:",
                   icon_position="right", width="stretch"):
    tokens.append(next_token)
    st.rerun()
first = (len(tokens) - 1) * page_size
where_col.caption(f"Page {len(tokens)} · records {first + 1:,}–{first + len(items):,}" if items else f"Page {len(tokens)}")
with refresh_col:
    refresh_control(read.read_at_ms, key="remote.refresh", stamp_key=state.REMOTE_STAMP, help=REFRESH_HELP)

if not items:
    st.info("No execution records match these filters. Widen the time range or clear a filter.", icon=":material/search_off:")
    st.stop()

frame = records_frame(items)
table_key = "remote.table." + hashlib.sha256(signature.encode()).hexdigest()[:12] + f".{len(tokens)}.{stamp}"
rows = records_table(frame, environments, key=table_key, height=36 + 35 * min(len(frame), 10))
if not rows:
    st.caption("Select a row to open its trace here.")
    st.stop()

record = frame.iloc[rows[0]]
st.subheader("Trace", anchor=False)
st.caption(record_caption(record, environments))
open_record_in_draft_editor(conn, ExecutionRecord.model_validate(items[rows[0]]))
try:
    trace = record_trace(conn, str(record["id"]), stamp=stamp)
except FruxonError as exc:
    show_error("Its trace could not be loaded", exc, conn)
    st.stop()
trace_section(trace.value, key=f"remote.trace.{record['id']}")
