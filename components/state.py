"""Every st.session_state key the app uses, and the one place they get their defaults.

Session state is per browser session: the connection (including its key), open runs and form
drafts live here and nowhere else, so one browser never sees another's key or runs.
"""

from __future__ import annotations

import uuid
from typing import Any

import streamlit as st

PROFILE = "connection.profile"  # "Local sandbox" | "From secrets" | "Custom"
CUSTOM_BASE_URL = "connection.custom.base_url"
CUSTOM_TENANT = "connection.custom.tenant"
CUSTOM_KEY = "connection.custom.key"
CUSTOM_AUTH = "connection.custom.auth_header"
CONNECTION_CHECK = "connection.check"  # last "Test connection" outcome: (settings fingerprint, ok, message)
AGENT = "agent.selected"
AGENT_FREE_TEXT = "agent.free_text"

EXEC_RUN = "execute.run"  # RunHandle of the current/last run on the Execute page
EXEC_FIELD_ERRORS = "execute.field_errors"
EXEC_ATTACHMENTS = "execute.attachments"  # list[UploadedAttachment]

DRAFT_RUN = "draft.run"
DRAFT_ATTACHMENTS = "draft.attachments"

CONNECTION = "connection.active"  # the Connection the sidebar resolved on this run
OWNER = "session.owner"  # opaque id of this browser session for the local history

_DEFAULTS: dict[str, Any] = {
    PROFILE: None,
    CUSTOM_BASE_URL: "https://api.fruxon.com",
    CUSTOM_TENANT: "",
    CUSTOM_KEY: "",
    CUSTOM_AUTH: "both",
    CONNECTION_CHECK: None,
    AGENT: None,
    AGENT_FREE_TEXT: "",
    EXEC_RUN: None,
    EXEC_FIELD_ERRORS: {},
    EXEC_ATTACHMENTS: [],
    DRAFT_RUN: None,
    DRAFT_ATTACHMENTS: [],
}


def init_state() -> None:
    """Fill in missing keys; called once at the top of every script run (app.py)."""
    for key, default in _DEFAULTS.items():
        if key not in st.session_state:
            st.session_state[key] = default.copy() if isinstance(default, (dict, list)) else default
    if OWNER not in st.session_state:
        st.session_state[OWNER] = uuid.uuid4().hex


RETURN_TO = "app.return_to"
ENTERED_VIA_APP = "app.entered"


def require_app(page_path: str) -> None:
    """Send a page that runs without app.py through app.py first.

    While a `pages/` folder exists, Streamlit runs a page script on its own (its pre-`st.navigation`
    behaviour) until app.py has called `st.navigation` in that process, and AppTest resets that on
    every run. Such a run has no sidebar and no connection: go through app.py and come back. app.py
    marks each run it starts; the page consumes the mark, so a stale one never counts.
    """
    if not st.session_state.pop(ENTERED_VIA_APP, False):
        st.session_state[RETURN_TO] = page_path
        st.switch_page("app.py")


TRACE_PAYLOADS = "trace_viewer.payloads"  # {viewer key: (fingerprint, PackedTrace)}, the few most recent
