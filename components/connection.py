"""The connection sidebar: profile, key (masked) and the headers it goes in, Connect / "Test
connection", and the agent picker. The rules for what may be sent where live in
`fruxon_playground.connection_policy`."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import streamlit as st
from streamlit.connections import BaseConnection

from components import state
from components.safe import md
from components.sandbox import sandbox_settings
from fruxon_playground.api import FruxonClient, FruxonError
from fruxon_playground.api.errors import RedirectedError
from fruxon_playground.connection_policy import AUTH_HEADER_LABELS, ConnectionPolicy, effective_auth_header
from fruxon_playground.contract import tenant_problem
from fruxon_playground.settings import (
    AUTH_HEADERS,
    DEFAULT_BASE_URL,
    ConnectionSettings,
    settings_from_environment,
    settings_from_mapping,
)

SANDBOX = "Local sandbox"
SECRETS = "From secrets"
CUSTOM = "Custom"
MAX_SERVER_TEXT = 300  # characters of a server's error text shown in the sidebar
_AUTH_OPTIONS = {"both": "Both (X-API-KEY + Bearer)", "x-api-key": "X-API-KEY", "bearer": "Authorization: Bearer"}


class FruxonConnection(BaseConnection[ConnectionSettings | None]):
    """`st.connection("fruxon", type=FruxonConnection)`: reads `[connections.fruxon]` from secrets.

    Falls back to the `FRUXON_*` environment variables, like Streamlit's own connections do.
    It hands out settings rather than a shared client so every session builds its own client.
    """

    def _connect(self, **kwargs: Any) -> ConnectionSettings | None:
        section = {**self._secrets.to_dict(), **kwargs}
        return settings_from_mapping(section, source="secrets") or settings_from_environment()

    @property
    def settings(self) -> ConnectionSettings | None:
        return self._instance


@dataclass(frozen=True)
class Connection:
    settings: ConnectionSettings
    agent: str | None

    def client(self) -> FruxonClient:
        s = self.settings
        return FruxonClient(s.base_url, s.api_key, s.tenant, auth_header=s.auth_header)


def _configured_settings() -> ConnectionSettings | None:
    """`[connections.fruxon]` through `st.connection`, as Streamlit apps do, then `st.secrets`
    directly (what AppTest sets), then the `FRUXON_*` environment."""
    try:
        settings = st.connection("fruxon", type=FruxonConnection).settings
    except Exception:  # a malformed secrets.toml must not take the whole app down
        settings = None
    if settings is None or settings.source != "secrets":
        try:
            section = st.secrets.get("connections", {}).get("fruxon", {})
        except Exception:  # no secrets file at all
            section = {}
        settings = settings_from_mapping(dict(section), source="secrets") or settings
    return settings or settings_from_environment()


def connection_fingerprint(settings: ConnectionSettings) -> str:
    """Identifies a connection without keeping the key (used to cache per-connection lookups)."""
    material = f"{settings.base_url}|{settings.tenant}|{settings.auth_header}|{settings.api_key}"
    return hashlib.sha256(material.encode()).hexdigest()[:16]


def _policy(configured: ConnectionSettings | None) -> ConnectionPolicy:
    return ConnectionPolicy.from_environment(
        listen_address=st.get_option("server.address"),
        configured_base_url=configured.base_url if configured else None,
    )


def _custom_changed() -> None:
    """Any edit drops the connection: nothing is sent with half-typed values."""
    st.session_state[state.CUSTOM_CONNECTED] = None


def _custom_settings(configured: ConnectionSettings | None, policy: ConnectionPolicy) -> ConnectionSettings | None:
    """The Custom form. Returns settings only once the user pressed Connect and the server said yes.

    persist_state="session": Streamlit otherwise drops a widget's value on a run that does not draw
    it, and so forgot Custom as soon as another profile was picked. (Copying the values into other
    session keys and back is not enough: when the profile switch interrupts a running script, the
    browser redraws the field empty while the server still holds the value; measured in chromium.)
    """
    st.text_input("Base URL", key=state.CUSTOM_BASE_URL, on_change=_custom_changed, persist_state="session")
    st.text_input("Tenant", key=state.CUSTOM_TENANT, placeholder="your-workspace", on_change=_custom_changed,
                  persist_state="session")
    st.text_input(
        "API key",
        key=state.CUSTOM_KEY,
        type="password",
        placeholder="fx_pat_…",
        help="Kept only in this browser session: never saved, logged or put in a URL.",
        on_change=_custom_changed,
        persist_state="session",
    )
    st.selectbox("Auth header", AUTH_HEADERS, key=state.CUSTOM_AUTH, format_func=_AUTH_OPTIONS.get,
                 on_change=_custom_changed, persist_state="session")
    base_url = st.session_state[state.CUSTOM_BASE_URL].strip()
    tenant = st.session_state[state.CUSTOM_TENANT].strip()
    key = st.session_state[state.CUSTOM_KEY].strip()
    trusted = [configured.base_url if configured else DEFAULT_BASE_URL]
    auth = effective_auth_header(st.session_state[state.CUSTOM_AUTH], base_url, trusted)
    st.caption(f"The key goes in the {auth.label}" + (f" only. {md(auth.note)}" if auth.note else "."))

    missing = [name for name, value in (("base URL", base_url), ("tenant", tenant), ("API key", key)) if not value]
    tenant_issue = tenant_problem(tenant) if tenant else None  # the contract's fixed sentences
    url_issue = policy.problem(base_url, custom=True) if base_url else None  # quotes the typed URL
    if missing or tenant_issue or url_issue:
        st.session_state[state.CUSTOM_CONNECTED] = None
        if tenant_issue:
            st.error(tenant_issue)
        if url_issue:
            st.error(md(url_issue))
        if missing:
            st.info("Enter the " + ", ".join(missing) + ", then press Connect.")
        return None

    settings = ConnectionSettings(base_url, tenant, key, auth.header, source="custom")
    connected: ConnectionSettings | None = st.session_state[state.CUSTOM_CONNECTED]
    if connected is not None and connected != settings:
        connected = st.session_state[state.CUSTOM_CONNECTED] = None
    if connected is None:
        if st.button("Connect", type="primary", width="stretch") and _check_connection(settings):
            st.session_state[state.CUSTOM_CONNECTED] = settings
            st.rerun()
        if st.button("Test connection", width="stretch"):
            _check_connection(settings)
    else:
        if st.button("Test connection", width="stretch"):
            _check_connection(settings)
        if st.button("Disconnect", width="stretch"):
            st.session_state[state.CUSTOM_CONNECTED] = None
            st.rerun()
    _show_check(settings)
    if connected is None:
        st.caption("Nothing is sent to this server until you press Connect.")
        return None
    st.caption(_summary(connected, "connected"))
    return connected


def _summary(settings: ConnectionSettings, origin: str) -> str:
    """One caption: host, tenant (already checked against the contract's rule), masked key, headers."""
    auth = AUTH_HEADER_LABELS[settings.auth_header]
    return f"**{md(settings.host)}** · tenant `{settings.tenant}` · key {md(settings.masked_key)} in the {auth} · {origin}"


def _check_connection(settings: ConnectionSettings) -> bool:
    """One `auth/health` request; only a 2xx counts. The outcome is kept for `_show_check`."""
    try:
        with Connection(settings, None).client() as client:
            health = client.auth_health()
    except FruxonError as exc:
        outcome = (False, describe_connection_error(exc, settings))
    except ValueError:  # a 2xx whose body is not the API's JSON (a login page, a proxy's banner)
        outcome = (False, f"**{md(settings.host)}** answered, but not like the Fruxon API: check the base URL.")
    else:
        who = md(health.token_name or health.email or "this key", limit=120)
        outcome = (True, f"The key works for tenant **{md(settings.tenant)}** ({who}).")
    st.session_state[state.CONNECTION_CHECK] = (connection_fingerprint(settings), *outcome)
    return outcome[0]


def _show_check(settings: ConnectionSettings) -> None:
    check = st.session_state[state.CONNECTION_CHECK]
    if check and check[0] == connection_fingerprint(settings):
        (st.success if check[1] else st.error)(check[2])


def _test_connection(settings: ConnectionSettings) -> None:
    if st.button("Test connection", width="stretch"):
        _check_connection(settings)
    _show_check(settings)


def describe_connection_error(exc: FruxonError, settings: ConnectionSettings) -> str:
    """What went wrong, as Markdown: server text is capped and escaped (it may come from any URL)."""
    tenant = md(settings.tenant)
    if isinstance(exc, RedirectedError):
        return f"The server redirected to {md(exc.target)}; the key was not sent there. Check the base URL."
    status = getattr(exc, "status", None)
    detail = md(getattr(exc, "detail", None) or "", limit=MAX_SERVER_TEXT)
    if status == 401:
        return f"The key was rejected for tenant **{tenant}**. {detail}".strip()
    if status == 403:
        return f"This key cannot access tenant **{tenant}**. {detail}".strip()
    return md(str(exc), limit=MAX_SERVER_TEXT)


def known_agents(settings: ConnectionSettings) -> list[str] | None:
    """The agent ids the sidebar listed for this connection (None when they could not be listed)."""
    agents = st.session_state.get(f"agents.{connection_fingerprint(settings)}")
    return [agent_id for agent_id, _ in agents] if agents else None


def _agent_picker(settings: ConnectionSettings) -> str | None:
    cache_key = f"agents.{connection_fingerprint(settings)}"
    if cache_key not in st.session_state:
        try:
            with Connection(settings, None).client() as client:
                st.session_state[cache_key] = [(a.id, a.display_name or a.id) for a in client.list_agents()]
        except FruxonError as exc:
            st.session_state[cache_key] = None
            st.caption(f"Agents could not be listed ({exc.__class__.__name__}); type an agent id instead.")
    agents = st.session_state[cache_key]
    if agents:
        ids = [agent_id for agent_id, _ in agents]
        names = dict(agents)
        if st.session_state[state.AGENT] not in ids:
            st.session_state[state.AGENT] = ids[0]
        return st.selectbox(
            "Agent", ids, key=state.AGENT, format_func=lambda i: f"{names[i]} ({i})" if names[i] != i else i
        )
    typed = st.text_input("Agent id", key=state.AGENT_FREE_TEXT, placeholder="support_agent")
    return typed.strip() or None


def connection_sidebar() -> Connection | None:
    """Draws the sidebar and returns the active connection, or None until one is usable."""
    configured = _configured_settings()
    policy = _policy(configured)
    profiles = [SANDBOX] + ([SECRETS] if configured else []) + [CUSTOM]
    if st.session_state[state.PROFILE] not in profiles:
        st.session_state[state.PROFILE] = SECRETS if configured else SANDBOX
    with st.sidebar:
        st.subheader("Connection")
        profile = st.radio("Profile", profiles, key=state.PROFILE, horizontal=True, label_visibility="collapsed")
        if profile == CUSTOM:
            settings = _custom_settings(configured, policy)
            if settings is None:
                return None
        else:
            settings = sandbox_settings() if profile == SANDBOX else configured
            if settings is None:
                return None
            if profile == SECRETS:  # the operator's settings: the same rules as typed ones, minus the allow-list
                problem = tenant_problem(settings.tenant)
                if problem or (problem := policy.problem(settings.base_url, custom=False)):
                    st.error(md(f"The configured connection ({settings.source}) cannot be used: {problem}"))
                    return None
            st.caption(_summary(settings, "demo data, runs locally" if profile == SANDBOX else f"from {settings.source}"))
            _test_connection(settings)
        agent = _agent_picker(settings)
    return Connection(settings, agent)


def require_agent(why: str = "") -> Connection:
    """The active connection with an agent picked, or a hint and a stop."""
    conn: Connection | None = st.session_state[state.CONNECTION]
    if conn is None:
        if st.session_state[state.PROFILE] == CUSTOM:
            st.info("Connect to start: fill in the Custom connection in the sidebar and press **Connect**.")
        else:
            st.info("Choose a connection in the sidebar to start.")
        st.stop()
    if not conn.agent:
        st.info("Pick an agent in the sidebar (or type its id)" + (f": {why}" if why else "."))
        st.stop()
    return conn
