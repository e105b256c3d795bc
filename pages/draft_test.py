"""Test a draft: open a revision's flow or the stored draft (or a template, or a file), change it,
validate it like the server does, run it inline (:test / :streamTest), or save it on the server and
run the stored draft (draft:test / draft:streamTest)."""

import streamlit as st

from components import state
from components.attachments import attachments_editor
from components.connection import require_agent
from components.copy_as import copy_as
from components.draft_editor import draft_editor, draft_sources
from components.run_view import RunView, start_run
from components.safe import md
from components.stored_draft import (
    complete_flowless_draft,
    open_from_server,
    resolve_conflict,
    stored_draft_snippet,
    stored_draft_status,
    stored_run_buttons,
)
from components.url_state import page_run
from fruxon_playground.drafts import strip_secrets
from fruxon_playground.runs.handle import RunKind

PAGE = "draft"
state.require_app("pages/draft_test.py")
st.title("Test a draft")
conn = require_agent("the draft runs under that agent.")
st.caption(f"Runs as a draft of {md(conn.agent, limit=80)} (recorded with origin TEST, revision shown as “draft”).")
resolve_conflict(conn)  # after a refused save: yours and the server's side by side

handle = page_run(PAGE, conn.agent, frozenset({"test", "stream_test"}))
busy = handle is not None and not handle.finished
editor_col, run_col = st.columns(2, gap="large")
with editor_col:
    complete_flowless_draft(conn)
    open_from_server(conn)
    draft_sources(handle.request if handle is not None and "flow" in handle.request else None)
    status = st.container()
    with st.expander("Attachments", expanded=bool(st.session_state[state.DRAFT_ATTACHMENTS])):
        attachments = attachments_editor(state.DRAFT_ATTACHMENTS, conn)
    draft = draft_editor([a.file_link for a in attachments])
    with status:
        link = stored_draft_status(conn, draft)
    if draft.problems:
        kind = "422 (invalid flow)" if draft.status == 422 else "400 (invalid request)"
        st.error(
            f"The server would answer {kind}. Fix these {len(draft.problems)} problem(s) before running:\n\n"
            + "\n".join(f"- {md(path, limit=200)} — {md(message, limit=500)}" for path, message in draft.problems)
        )
    else:
        st.success("The draft is valid.")
    test_col, stream_col = st.columns(2)
    clicked = None
    if test_col.button("Run :test", icon=":material/play_arrow:", width="stretch", disabled=busy or bool(draft.problems)):
        clicked = RunKind.TEST
    if stream_col.button("Stream :streamTest", icon=":material/bolt:", type="primary", width="stretch", disabled=busy or bool(draft.problems)):
        clicked = RunKind.STREAM_TEST
    stored = stored_run_buttons(conn, draft, link, busy=busy)
    copy_as(conn, "streamTest", None if draft.problems else strip_secrets(draft.request))
    stored_draft_snippet(conn, draft, link)
if clicked is not None:
    start_run(conn, clicked, conn.agent, draft.request, state.DRAFT_RUN, page=PAGE)
    st.rerun()  # draw the editor again with the run buttons disabled while the run runs
elif stored is not None:
    start_run(conn, stored.kind, conn.agent, stored.body, state.DRAFT_RUN, page=PAGE, draft_revision=stored.revision)
    st.rerun()

with run_col:
    view = RunView(handle, conn, key="draft.run")
    view.draw()
view.follow()
