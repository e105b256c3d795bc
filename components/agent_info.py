"""Per-session lookups of agent details, parameter schemas and environments (cached per connection)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import streamlit as st

from components.connection import Connection, connection_fingerprint
from fruxon_playground.api import FruxonError
from fruxon_playground.api.models import Agent, ParameterMetadata

T = TypeVar("T")


def _session_cached(key: str, load: Callable[[], T]) -> tuple[T | None, str | None]:
    """Caches a lookup in this session only (never across sessions: results depend on the key)."""
    cache: dict[str, Any] = st.session_state.setdefault("lookups", {})
    if key not in cache:
        try:
            cache[key] = (load(), None)
        except FruxonError as exc:
            return None, str(exc)
    return cache[key]


def load_agent(conn: Connection, agent_id: str) -> tuple[Agent | None, str | None]:
    def load() -> Agent:
        with conn.client() as client:
            return client.get_agent(agent_id)

    return _session_cached(f"agent|{connection_fingerprint(conn.settings)}|{agent_id}", load)


def load_parameters(conn: Connection, agent_id: str, revision: int | str) -> tuple[list[ParameterMetadata], str | None]:
    def load() -> list[ParameterMetadata]:
        with conn.client() as client:
            return list(client.get_parameters(agent_id, revision).metadata or [])

    value, error = _session_cached(f"params|{connection_fingerprint(conn.settings)}|{agent_id}|{revision}", load)
    return value or [], error


def load_environments(conn: Connection) -> list[str]:
    def load() -> list[str]:
        with conn.client() as client:
            return [env.slug for env in client.list_environments() if env.slug]

    value, _ = _session_cached(f"environments|{connection_fingerprint(conn.settings)}", load)
    return value or []
