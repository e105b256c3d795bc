"""Fruxon Playground entry point: page setup, shared sidebar and navigation only."""

import streamlit as st

from components.connection import connection_sidebar
from components.state import CONNECTION, RETURN_TO, init_state

st.set_page_config(page_title="Fruxon Playground", page_icon="🧪", layout="wide")
init_state()

navigation = st.navigation(
    {
        "Run": [
            st.Page("pages/execute.py", title="Execute agent", icon=":material/play_circle:", default=True),
            st.Page("pages/draft_test.py", title="Test a draft", icon=":material/science:"),
        ],
    }
)
if st.session_state.get(RETURN_TO):
    st.switch_page(st.session_state.pop(RETURN_TO))
st.session_state[CONNECTION] = connection_sidebar()
navigation.run()
