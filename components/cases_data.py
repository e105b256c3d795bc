"""Where the Test cases page gets its data: the case store, the scope of the agent's cases, the demo
set for the local sandbox, the batches running in this server process, and the Execute form's inputs.

Session keys of the Test cases page live here (they all start with `cases.`).
"""

from __future__ import annotations

import json
import threading
from typing import Any

import streamlit as st

from components import state
from components.connection import Connection
from components.execute_form import form_prefix
from components.history import current_location
from components.safe import md
from fruxon_playground.cases.batch import BatchRunner
from fruxon_playground.cases.demo import load_demo_cases
from fruxon_playground.cases.store import CaseScope, CaseStore, CaseStoreUnavailable, open_case_store
from fruxon_playground.history import HistoryUnavailable

SELECTED_CASE = "cases.selected"  # id of the case open in the editor, "" for a new one, None for none
EDITOR_VERSION = "cases.editor_version"  # bumped to give the editor fresh widgets (after a save or a pick)
NEW_CASE = "cases.new_case"  # a TestCase to open in the editor unsaved (from the Execute form)
CURRENT_BATCH = "cases.batch"  # scope -> id of the batch this session shows for that agent
NOTICE = "cases.notice"  # a message for the next run of the page: (kind, text)


@st.cache_resource
def _case_store(location: str) -> CaseStore | str:
    """One store per history location for the whole server (thread-safe; it keeps no per-session state)."""
    try:
        return open_case_store(location)
    except CaseStoreUnavailable as exc:
        return str(exc)


def case_store() -> CaseStore | None:
    """The case store next to the run history (its SQLite file, or a team's PostgreSQL database);
    None (with a warning) when it cannot be opened."""
    try:
        found = _case_store(current_location())
    except HistoryUnavailable as exc:  # an unreadable password file
        found = str(exc)
    if isinstance(found, str):
        st.warning("Test cases cannot be saved: " + md(found))
        return None
    return found


def case_scope(conn: Connection) -> CaseScope:
    return CaseScope(owner=st.session_state[state.OWNER], tenant=conn.settings.tenant, agent=conn.agent or "")


def offer_demo_cases(conn: Connection, store: CaseStore, scope: CaseScope) -> int:
    """On the local sandbox, an agent without cases gets the demo set once."""
    if conn.settings.source != "sandbox":
        return 0
    return load_demo_cases(store, scope)


class LiveBatches:
    """Batches running in this server process, by id: a reloaded page finds its running batch again."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._batches: dict[str, tuple[BatchRunner, CaseScope]] = {}

    def add(self, runner: BatchRunner, scope: CaseScope) -> None:
        with self._lock:
            for batch_id in [i for i, (r, _) in self._batches.items() if r.finished and i != runner.id]:
                del self._batches[batch_id]  # a finished batch is read from the store from now on
            self._batches[runner.id] = (runner, scope)

    def get(self, batch_id: str, scope: CaseScope) -> BatchRunner | None:
        with self._lock:
            found = self._batches.get(batch_id)
        return found[0] if found is not None and found[1] == scope else None

    def running(self, scope: CaseScope) -> BatchRunner | None:
        with self._lock:
            return next((r for r, s in self._batches.values() if s == scope and not r.finished), None)


@st.cache_resource
def live_batches() -> LiveBatches:
    return LiveBatches()


def execute_form_request(conn: Connection) -> dict[str, Any] | None:
    """What the Execute form holds for this agent now (parameters, attachments, chat user), as a
    request body; None when that form was never opened for the agent in this session."""
    prefix = form_prefix(conn)
    values = st.session_state.get(f"{prefix}.params.values")
    if values is None:
        return None
    request: dict[str, Any] = {"parameters": dict(values)}
    server = f"{conn.settings.base_url}|{conn.settings.tenant}"
    links = [a.file_link for a in st.session_state.get(f"{prefix}.attachments") or [] if a.server == server]
    if links:
        request["attachments"] = links
    chat_user_text = (st.session_state.get(f"{prefix}.chat_user") or "").strip()
    if chat_user_text:
        try:
            chat_user = json.loads(chat_user_text)
        except json.JSONDecodeError:
            chat_user = None
        if isinstance(chat_user, dict):
            request["chatUser"] = chat_user
    return request
