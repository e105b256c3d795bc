""""Copy as" curl / httpx / official SDK, and "paste a curl command" to fill the form."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from components.connection import Connection
from components.safe import md
from fruxon_playground.snippets import (
    CurlParseError,
    ParsedCurl,
    RequestSpec,
    parse_curl,
    to_curl,
    to_python_httpx,
    to_python_sdk,
)


def copy_as(conn: Connection, action: str, body: dict[str, Any] | None) -> None:
    """Shows the request as code; the key is always `$FRUXON_API_KEY`, never the real one."""
    with st.expander("Copy as curl / Python"):
        if body is None or not conn.agent:
            st.caption("Fix the form first: the snippet shows exactly what would be sent.")
            return
        spec = RequestSpec(
            method="POST",
            base_url=conn.settings.base_url,
            tenant=conn.settings.tenant,
            agent=conn.agent,
            action=action,
            body=body,
            auth_header=conn.settings.auth_header,
        )
        curl_tab, httpx_tab, sdk_tab = st.tabs(["curl", "Python · httpx", "Python · fruxon SDK"])
        curl_tab.code(to_curl(spec), language="bash")
        httpx_tab.code(to_python_httpx(spec), language="python")
        sdk_tab.code(to_python_sdk(spec), language="python")


def paste_curl(key: str, apply: Callable[[ParsedCurl], str | None]) -> None:
    """A text box for a curl command; "Fill the form" hands the parsed request to `apply`.

    Parsing and applying run in the button's callback, before the script draws the form, so the
    form's widgets can take the new values.
    """
    error_key, notice_key = f"{key}.error", f"{key}.notice"
    with st.expander("Paste a curl command to fill the form"):
        text = st.text_area("curl command", key=f"{key}.text", height=110,
                            placeholder="curl -X POST 'https://api.fruxon.com/v1/tenants/…/agents/…:execute' -d '{…}'")
        st.button("Fill the form", key=f"{key}.apply", disabled=not text.strip(),
                  on_click=_apply_curl, args=(key, apply))
        if st.session_state.get(error_key):
            st.error(md(st.session_state[error_key]))
        if st.session_state.get(notice_key):
            st.info(md(st.session_state[notice_key]))


def _apply_curl(key: str, apply: Callable[[ParsedCurl], str | None]) -> None:
    st.session_state[f"{key}.error"] = None
    st.session_state[f"{key}.notice"] = None
    try:
        parsed = parse_curl(st.session_state.get(f"{key}.text") or "")
    except CurlParseError as exc:
        st.session_state[f"{key}.error"] = str(exc)
        return
    refused = apply(parsed)
    if refused:
        st.session_state[f"{key}.error"] = refused
        return
    notes = ["The form now holds the command's request."]
    if parsed.api_key:
        notes.append("It contained an API key: that key was not used or stored; the sidebar's connection is used.")
    st.session_state[f"{key}.notice"] = " ".join(notes)
