"""Execute a deployed agent: fill the form, run or stream, read the result."""

import streamlit as st

from components import state
from components.agent_info import load_agent, load_environments, load_parameters
from components.connection import known_agents, require_agent
from components.copy_as import copy_as, paste_curl
from components.execute_form import curl_applier, execute_form, form_prefix
from components.revision_picker import execute_page_run, pick_revision
from components.run_view import RunView, server_field_errors, start_run
from components.safe import md

PAGE = "execute"
state.require_app("pages/execute.py")
st.title("Execute agent")
conn = require_agent()

agent, agent_error = load_agent(conn, conn.agent)
if agent_error:
    st.error(f"Agent “{md(conn.agent, limit=80)}” could not be loaded: {md(agent_error)}")
    st.stop()
st.caption(f"{md(agent.display_name or agent.id, limit=120)} · {md(agent.id, limit=80)} · deployed revision "
           f"{agent.current_revision or 'none'}")
if agent.description:
    st.text(agent.description)
if not agent.current_revision:
    st.warning("This agent has never been deployed, so :execute and :stream answer 404. Use “Test a draft” instead.")

revision = pick_revision(conn, agent)  # the deployed revision unless another is chosen
metadata, schema_error = load_parameters(conn, agent.id, revision.number)
if schema_error:
    st.caption(f"No parameter schema ({md(schema_error)}); edit the parameters as JSON.")

run = execute_page_run(PAGE, agent.id)
busy = run is not None and not run.finished
form_col, run_col = st.columns([5, 6], gap="large")
with form_col:
    paste_curl("execute.curl", curl_applier(conn, known_agents(conn.settings)))
    form = execute_form(conn, metadata, load_environments(conn), busy=busy, server_errors=server_field_errors(run))
    copy_as(conn, *revision.snippet(form.request))
if form.run is not None and form.request is not None:
    kind, request = revision.pin(form.run, form.request)
    start_run(conn, kind, agent.id, request, state.EXEC_RUN, page=PAGE)
    st.rerun()  # draw the form again with Run and Stream disabled while the run runs

with run_col:
    view = RunView(run, conn, key="execute.run", session_prefix=form_prefix(conn))
    view.draw()
view.follow()
