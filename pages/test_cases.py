"""Test cases: the agent's cases, run as a batch on the deployed agent, a revision or the draft."""

import streamlit as st

from components import state
from components.agent_info import load_agent, load_parameters
from components.cases_batch import (
    batch_controls,
    batch_header,
    compare_panel,
    current_batch,
    downloads,
    live_progress,
    outcome_detail,
    results_grid,
    start_batch,
)
from components.cases_data import case_scope, case_store, live_batches, offer_demo_cases
from components.cases_editor import case_editor, cases_list, import_export, show_notice
from components.connection import require_agent
from components.safe import md
from fruxon_playground.cases.batch import BatchRunner

state.require_app("pages/test_cases.py")
st.title("Test cases")
conn = require_agent("test cases belong to an agent.")
store = case_store()
if store is None:
    st.stop()
scope = case_scope(conn)
added = offer_demo_cases(conn, store, scope)
if added:
    st.info(f"The local sandbox's demo tenant ships {added} test cases for this agent; one fails on purpose.")
show_notice()
agent, agent_error = load_agent(conn, scope.agent)
if agent_error:
    st.warning(f"Agent “{md(scope.agent, limit=80)}” could not be loaded: {md(agent_error)}")
cases = store.list_cases(scope)
st.caption(f"{len(cases)} case(s) of {md(scope.agent, limit=80)} · each case run is saved to History like any run")

st.subheader("Run the cases")
batch = current_batch(store, scope)
running = isinstance(batch, BatchRunner) and not batch.finished
request = batch_controls(conn, agent, cases, busy=running)
if request is not None and live_batches().running(scope) is not None:
    st.warning("A batch of these cases is already running (started in another tab); it shows below.")
elif request is not None:
    start_batch(conn, store, scope, cases, request)
    st.rerun()  # draw the page as it is while the batch runs (Run disabled, live progress)
if isinstance(batch, BatchRunner) and running:
    live_progress(batch)
elif batch is not None:
    result = batch.result() if isinstance(batch, BatchRunner) else batch
    if isinstance(batch, BatchRunner) and batch.save_error:
        st.warning("This batch could not be saved for later comparison: " + md(batch.save_error))
    batch_header(result)
    picked = results_grid(result, key=f"cases.results.{result.id}")
    if picked is not None:
        outcome_detail(picked)
    comparing = st.expander("Compare with an earlier batch", key=f"cases.compare_box.{result.id}", on_change="rerun")
    if comparing.open:
        with comparing:
            compare_panel(store, scope, result)
    downloads(result)
else:
    st.caption("No batch yet: pick where to run the cases and press Run.")

st.subheader("Cases")
metadata, _ = load_parameters(conn, scope.agent, (agent.current_revision if agent else 0) or 0)
chosen = cases_list(cases, conn)
if chosen is not None:
    case_editor(store, scope, chosen, metadata, saved=any(c.id == chosen.id for c in cases))
with st.expander("Import / export", expanded=not cases):
    import_export(store, scope, cases)
