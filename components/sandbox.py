"""The embedded sandbox: one per server process, shared by every session (it holds no user data)."""

from __future__ import annotations

import secrets

import streamlit as st

from fruxon_playground.sandbox.config import SandboxConfig
from fruxon_playground.sandbox.embedded import RunningSandbox, start_sandbox
from fruxon_playground.settings import ConnectionSettings, PlaygroundSettings


@st.cache_resource(show_spinner="Starting the local Fruxon sandbox…")
def embedded_sandbox() -> RunningSandbox:
    settings = PlaygroundSettings.from_environment()
    config = SandboxConfig(
        api_key="fx_pat_sandbox_" + secrets.token_urlsafe(18),
        db_path=settings.sandbox_db,
        speed=settings.sandbox_speed,
    )
    return start_sandbox(config)


def sandbox_settings() -> ConnectionSettings:
    sandbox = embedded_sandbox()
    return ConnectionSettings(
        base_url=sandbox.base_url, tenant=sandbox.tenant, api_key=sandbox.api_key, source="sandbox"
    )
