"""Side by side: one input on two targets at once (the draft, the deployed agent, revision N), two
live panels, then the verdict and the step-aligned diff. `?a=…&b=…` shares a pair read-only."""

import streamlit as st

from components import state
from components.agent_info import load_agent
from components.connection import require_agent
from components.safe import md
from components.side_by_side import (
    clear_link,
    draw_pair,
    find_pair,
    forget_pair,
    linked_pair,
    own_pair,
    pair_form,
    publish_pair,
    start,
)

state.require_app("pages/side_by_side.py")
st.title("Side by side")
linked = linked_pair()
conn = st.session_state.get(state.CONNECTION)
mine = own_pair(conn.agent) if conn is not None and conn.agent else None
if linked is not None and linked != mine:  # someone's link, or this browser's in a new tab: read-only
    st.info("A shared comparison, read-only. Its requests have no secrets; no key is needed to view it.")
    runs = find_pair(linked)
    if st.button("Start a comparison of your own", icon=":material/add:"):
        clear_link()
        st.rerun()
    if runs is not None:
        draw_pair(runs, None, read_only=True)()
    st.stop()

conn = require_agent("both sides run this agent.")
st.caption(f"Runs one input of {md(conn.agent, limit=80)} on two targets at once; both runs are saved to History.")
agent, agent_error = load_agent(conn, conn.agent)
if agent_error:
    st.warning(f"Agent “{md(conn.agent, limit=80)}” could not be loaded: {md(agent_error)}")
runs = find_pair(mine) if mine is not None else None
if mine is not None and runs is None:
    forget_pair()
    mine = None
busy = runs is not None and any(not r.finished for r in runs)
if mine is not None:
    publish_pair(mine)
# Once a pair exists the results lead; the form folds away (a new pair folds it again).
with st.expander("Targets and input" if mine is None else "Targets and input — change them and run again",
                 icon=":material/tune:", expanded=mine is None, key=f"side_by_side.form.{mine[0] if mine else 'new'}"):
    requested = pair_form(conn, agent, busy=busy)
if requested is not None:
    start(conn, *requested)
    st.rerun()  # draw the form again with Run disabled while both run
if runs is not None:
    draw_pair(runs, conn)()  # last: it keeps the two live panels going
