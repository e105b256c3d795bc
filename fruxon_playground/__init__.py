"""Fruxon Playground core: API client, sandbox server, trace tools. Never imports streamlit."""
