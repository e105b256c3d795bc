"""Fruxon Playground entry point: page setup, shared sidebar and navigation only."""

from pathlib import Path

import streamlit as st

from components.connection import connection_sidebar
from components.identity import current_identity
from components.state import CONNECTION, ENTERED_VIA_APP, IDENTITY, OWNER, RETURN_TO, init_state
from components.url_state import adopt_agent_from_url, publish_agent

st.set_page_config(page_title="Fruxon Playground", page_icon="🧪", layout="wide")
init_state()
identity = current_identity()  # may stop here with a sign-in screen: nothing else is drawn
st.session_state[IDENTITY], st.session_state[OWNER] = identity, identity.owner
PAGES = Path(__file__).resolve().parent / "pages"

navigation = st.navigation(
    {
        "Run": [
            st.Page(PAGES / "execute.py", title="Execute agent", icon=":material/play_circle:", default=True),
            st.Page(PAGES / "draft_test.py", title="Test a draft", icon=":material/science:"),
            st.Page(PAGES / "side_by_side.py", title="Side by side", icon=":material/compare:"),
            st.Page(PAGES / "test_cases.py", title="Test cases", icon=":material/checklist:"),
        ],
        "Inspect": [
            st.Page(PAGES / "history.py", title="History", icon=":material/history:"),
            st.Page(PAGES / "remote_runs.py", title="Remote runs", icon=":material/cloud:"),
            st.Page(PAGES / "environments.py", title="Environments", icon=":material/bar_chart:"),
        ],
    }
)
if st.session_state.get(RETURN_TO):
    page, params = st.session_state.pop(RETURN_TO)
    st.switch_page(page, query_params=params)
adopt_agent_from_url()
st.session_state[CONNECTION] = connection = connection_sidebar()
publish_agent(connection.agent if connection else None)
st.session_state[ENTERED_VIA_APP] = True
navigation.run()
