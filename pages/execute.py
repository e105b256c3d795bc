"""Execute a deployed agent: fill the form, run or stream, read the result."""

import streamlit as st

from components import state
from components.agent_info import load_agent, load_environments, load_parameters
from components.connection import require_agent
from components.copy_as import copy_as, paste_curl
from components.execute_form import apply_curl_to_form, execute_form
from components.run_view import RunView, server_field_errors, start_run

state.require_app("pages/execute.py")
st.title("Execute agent")
conn = require_agent()

agent, agent_error = load_agent(conn, conn.agent)
if agent_error:
    st.error(f"Agent “{conn.agent}” could not be loaded: {agent_error}")
    st.stop()
st.caption(f"{agent.display_name or agent.id} · `{agent.id}` · deployed revision {agent.current_revision or 'none'}")
if agent.description:
    st.text(agent.description)
if not agent.current_revision:
    st.warning("This agent has never been deployed, so :execute and :stream answer 404. Use “Test a draft” instead.")

metadata, schema_error = load_parameters(conn, agent.id, agent.current_revision or 0)
if schema_error:
    st.caption(f"No parameter schema ({schema_error}); edit the parameters as JSON.")

handle = st.session_state[state.EXEC_RUN]
busy = handle is not None and not handle.finished
form_col, run_col = st.columns([2, 3], gap="large")
with form_col:
    paste_curl("execute.curl", apply_curl_to_form)
    form = execute_form(conn, metadata, load_environments(conn), busy=busy, server_errors=server_field_errors(handle))
    copy_as(conn, "execute", form.request)
if form.run is not None and form.request is not None:
    handle = start_run(conn, form.run, agent.id, form.request, state.EXEC_RUN)

with run_col:
    view = RunView(handle, conn, key="execute.run")
    view.draw()
view.follow()
