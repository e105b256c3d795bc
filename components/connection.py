"""The connection sidebar: profile, key (masked), "Test connection", and the agent picker."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import streamlit as st
from streamlit.connections import BaseConnection

from components import state
from components.sandbox import sandbox_settings
from fruxon_playground.api import FruxonClient, FruxonError
from fruxon_playground.settings import (
    AUTH_HEADERS,
    ConnectionSettings,
    settings_from_environment,
    settings_from_mapping,
)

SANDBOX = "Local sandbox"
SECRETS = "From secrets"
CUSTOM = "Custom"


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


def _custom_settings() -> ConnectionSettings | None:
    st.text_input("Base URL", key=state.CUSTOM_BASE_URL)
    st.text_input("Tenant", key=state.CUSTOM_TENANT, placeholder="your-workspace")
    st.text_input(
        "API key",
        key=state.CUSTOM_KEY,
        type="password",
        placeholder="fx_pat_…",
        help="Kept only in this browser session: never saved, logged or put in a URL.",
    )
    st.selectbox(
        "Auth header",
        AUTH_HEADERS,
        key=state.CUSTOM_AUTH,
        format_func={"both": "Both (X-API-KEY + Bearer)", "x-api-key": "X-API-KEY", "bearer": "Authorization: Bearer"}.get,
    )
    base_url = st.session_state[state.CUSTOM_BASE_URL].strip()
    tenant = st.session_state[state.CUSTOM_TENANT].strip()
    key = st.session_state[state.CUSTOM_KEY].strip()
    missing = [name for name, value in (("base URL", base_url), ("tenant", tenant), ("API key", key)) if not value]
    if missing:
        st.info("Enter the " + ", ".join(missing) + " to use a custom connection.")
        return None
    if not base_url.startswith(("http://", "https://")):
        st.error("The base URL must start with http:// or https://.")
        return None
    return ConnectionSettings(base_url, tenant, key, st.session_state[state.CUSTOM_AUTH], source="custom")


def _test_connection(settings: ConnectionSettings) -> None:
    fingerprint = connection_fingerprint(settings)
    if st.button("Test connection", width="stretch"):
        try:
            with Connection(settings, None).client() as client:
                health = client.auth_health()
            who = health.token_name or health.email or "this key"
            message = f"The key works for tenant **{settings.tenant}** ({who})."
            st.session_state[state.CONNECTION_CHECK] = (fingerprint, True, message)
        except FruxonError as exc:
            st.session_state[state.CONNECTION_CHECK] = (fingerprint, False, describe_connection_error(exc, settings))
    check = st.session_state[state.CONNECTION_CHECK]
    if check and check[0] == fingerprint:
        (st.success if check[1] else st.error)(check[2])


def describe_connection_error(exc: FruxonError, settings: ConnectionSettings) -> str:
    status = getattr(exc, "status", None)
    detail = getattr(exc, "detail", None) or ""
    if status == 401:
        return f"The key was rejected for tenant **{settings.tenant}**. {detail}".strip()
    if status == 403:
        return f"This key cannot access tenant **{settings.tenant}**. {detail}".strip()
    return str(exc)


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
    profiles = [SANDBOX] + ([SECRETS] if configured else []) + [CUSTOM]
    if st.session_state[state.PROFILE] not in profiles:
        st.session_state[state.PROFILE] = SECRETS if configured else SANDBOX
    with st.sidebar:
        st.subheader("Connection")
        profile = st.radio("Profile", profiles, key=state.PROFILE, horizontal=True, label_visibility="collapsed")
        if profile == SANDBOX:
            settings = sandbox_settings()
        elif profile == SECRETS and configured:
            settings = configured
        else:
            settings = _custom_settings()
        if settings is None:
            return None
        if profile != CUSTOM:
            st.caption(
                f"**{settings.host}** · tenant `{settings.tenant}` · key `{settings.masked_key}`"
                + (" · demo data, runs locally" if profile == SANDBOX else f" · from {settings.source}")
            )
        _test_connection(settings)
        agent = _agent_picker(settings)
    return Connection(settings, agent)


def require_agent(why: str = "") -> Connection:
    """The active connection with an agent picked, or a hint and a stop."""
    conn: Connection | None = st.session_state[state.CONNECTION]
    if conn is None:
        st.info("Choose a connection in the sidebar to start.")
        st.stop()
    if not conn.agent:
        st.info("Pick an agent in the sidebar (or type its id)" + (f": {why}" if why else "."))
        st.stop()
    return conn
