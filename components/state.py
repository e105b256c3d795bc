"""Every st.session_state key the app uses, and the one place they get their defaults.

Session state is per browser session: the connection (including its key), open runs and form
drafts live here and nowhere else, so one browser never sees another's key or runs.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

PROFILE = "connection.profile"  # "Local sandbox" | "From secrets" | "Custom"
# The Custom profile's widgets; drawn with persist_state="session", so they keep their values (the
# key too, for this browser session only) while another profile is shown.
CUSTOM_BASE_URL = "connection.custom.base_url"
CUSTOM_TENANT = "connection.custom.tenant"
CUSTOM_KEY = "connection.custom.key"
CUSTOM_AUTH = "connection.custom.auth_header"
CUSTOM_CONNECTED = "connection.custom.connected"  # ConnectionSettings the user pressed Connect for, else None
CONNECTION_CHECK = "connection.check"  # last "Test connection" outcome: (settings fingerprint, ok, message)
AGENT = "agent.selected"
AGENT_FREE_TEXT = "agent.free_text"

EXEC_RUN = "execute.run"  # RunHandle of the current/last run on the Execute page
EXEC_FIELD_ERRORS = "execute.field_errors"
EXEC_ATTACHMENTS = "execute.attachments"  # list[UploadedAttachment]

DRAFT_RUN = "draft.run"
SIDE_BY_SIDE_PAIR = "side_by_side.pair"  # (agent, run id A, run id B) of the pair this session started last
DRAFT_ATTACHMENTS = "draft.attachments"

CONNECTION = "connection.active"  # the Connection the sidebar resolved on this run
OWNER = "session.owner"  # the run owner key of IDENTITY, stored with every run (History lists by it)
IDENTITY = "session.identity"  # fruxon_playground.identity.Identity of this run (components/identity.py)
BROWSER_ID = "session.browser_id"  # the id this browser keeps in its cookie (made here on a first visit)

_DEFAULTS: dict[str, Any] = {
    PROFILE: None,
    CUSTOM_BASE_URL: "https://api.fruxon.com",
    CUSTOM_TENANT: "",
    CUSTOM_KEY: "",
    CUSTOM_AUTH: "both",
    CUSTOM_CONNECTED: None,
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
        # The way back keeps the URL's parameters: a share link opened cold must still name its run.
        st.session_state[RETURN_TO] = (page_path, st.query_params.to_dict())
        st.switch_page("app.py", query_params=st.query_params.to_dict())


# Environments and Remote runs: API reads are cached per connection for a short time. The stamp is
# when the current reads started (ms): part of every cache key and the end of every time window, so
# "Refresh" (a new stamp) re-reads, and reruns within the cache's lifetime send nothing.
READ_STAMP = "reads.stamp"
ENV_ORIGIN = "env.origin"
ENV_DAYS = "env.days"
ENV_STALE_DAYS = "env.stale_days"
ENV_GENERATION = "env.generation"  # bumped when the drill-through closes, so the clicked chart forgets its selection
REMOTE_STAMP = "remote.stamp"  # the Remote runs list's own stamp: renewed by its "Refresh" only
REMOTE_DAYS = "remote.days"
REMOTE_ENVIRONMENT = "remote.environment"
REMOTE_STATUS = "remote.status"
REMOTE_REVISION = "remote.revision"
REMOTE_ORIGIN = "remote.origin"
REMOTE_PAGE_SIZE = "remote.page_size"
REMOTE_PAGES = "remote.pages"  # (filter signature, page tokens seen so far): "Previous" needs no server help
OPENED_RUNS = "runs.opened"  # {run id: FrozenRun}, the few most recently opened saved runs, rebuilt when saved again
TRACE_PAYLOADS = "trace_viewer.payloads"  # {viewer key: what it shows, packed}, the few most recent
