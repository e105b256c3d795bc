"""What the URL carries, so a reload, back/forward and a pasted link land in place.

The path is the page; `?agent=` the agent picked in the sidebar; `?run=` the run the page shows.
Nothing secret ever goes in: a run id names a saved run and nothing else. Both directions are
synced: a value that changed in the URL (a link, back/forward) wins over the session's; a value the
user changed in the app is written to the URL.
"""

from __future__ import annotations

import re

import streamlit as st

from components import state
from components.history import run_store
from components.safe import md
from fruxon_playground.history import RunStore, RunSummary
from fruxon_playground.identity import Identity, share_link_access
from fruxon_playground.runs import RunHandle
from fruxon_playground.runs.record import FrozenRun
from fruxon_playground.runs.registry import LiveRuns

AGENT_PARAM = "agent"
RUN_PARAM = "run"
_RUN_ID = re.compile(r"^[0-9a-f]{32}$")
_AGENT_SEEN = "url.agent_seen"  # the `agent` value last read from or written to the URL
_LAST_RUN = "url.last_run"  # (page, agent) -> the run id that page showed last for that agent


@st.cache_resource
def live_runs() -> LiveRuns:
    """Runs of this server process by id (thread-safe): a reload finds its live run again."""
    return LiveRuns()


def adopt_agent_from_url() -> None:
    """Before the sidebar draws: an `agent` that changed in the URL becomes the picked agent."""
    wanted = st.query_params.get(AGENT_PARAM)
    if wanted and wanted != st.session_state.get(_AGENT_SEEN):
        st.session_state[state.AGENT] = wanted
        st.session_state[state.AGENT_FREE_TEXT] = wanted
    st.session_state[_AGENT_SEEN] = wanted


def publish_agent(agent: str | None) -> None:
    """After the sidebar drew: the agent in use goes into the URL."""
    if agent and st.query_params.get(AGENT_PARAM) != agent:
        st.query_params[AGENT_PARAM] = agent
    st.session_state[_AGENT_SEEN] = agent


def may_open(owner: str, created_at_ms: int) -> str | None:
    """None when this visitor may see a run of `owner`; else why not (untrusted-free text)."""
    identity: Identity | None = st.session_state.get(state.IDENTITY)
    if identity is None:
        return "Sign in to open this run."
    return share_link_access(owner, created_at_ms, identity)


def find_run(run_id: str) -> RunHandle | FrozenRun | str:
    """The run named `run_id`, live or saved, or the reason it cannot be shown."""
    if not _RUN_ID.match(run_id):
        return f"“{md(run_id, limit=80)}” is not a run id (a run id has 32 hexadecimal characters)."
    handle = live_runs().get(run_id)
    if handle is not None and handle.recorder is not None:
        owner = handle.recorder.context.owner
        if may_open(owner, handle.started_at_wall_ms) is None:
            return handle
    store = run_store()
    head = store.summary(run_id) if store is not None else None
    if head is None:
        return "No saved run has this id on this deployment (it may have been deleted)."
    reason = may_open(head.owner, head.created_at_ms)
    return reason if reason is not None else _frozen(head, store)


def _frozen(head: RunSummary, store: RunStore, keep: int = 3) -> FrozenRun:
    """The saved run, read and folded once per version: a rerun of the page (a click in the run
    view) does not replay a big run's events again; a run saved again since (an approval resumed
    it) is read again."""
    opened: dict[str, FrozenRun] = st.session_state.setdefault(state.OPENED_RUNS, {})
    found = opened.pop(head.id, None)
    if found is None or found.updated_at_ms != head.updated_at_ms:
        found = FrozenRun(head, lambda: store.get(head.id))
    opened[head.id] = found  # most recent last
    while len(opened) > keep:
        opened.pop(next(iter(opened)))
    return found


def show_run(page: str, agent: str, run_id: str | None) -> None:
    """`run_id` becomes the page's open run for `agent`, in the URL and in this session's memory."""
    memory: dict[tuple[str, str], str] = st.session_state.setdefault(_LAST_RUN, {})
    if run_id is None:
        memory.pop((page, agent), None)
        if RUN_PARAM in st.query_params:
            del st.query_params[RUN_PARAM]
        return
    memory[(page, agent)] = run_id
    if st.query_params.get(RUN_PARAM) != run_id:
        st.query_params[RUN_PARAM] = run_id


def page_run(page: str, agent: str, kinds: frozenset[str]) -> RunHandle | FrozenRun | None:
    """The run this page shows for `agent`: the URL's run when it belongs here, else the last one
    this session showed for the agent. A run of another agent never shows (switching agents
    clears the previous agent's result)."""
    memory: dict[tuple[str, str], str] = st.session_state.setdefault(_LAST_RUN, {})
    run_id = st.query_params.get(RUN_PARAM) or memory.get((page, agent))
    if not run_id:
        return None
    found = find_run(run_id)
    if isinstance(found, str):
        st.warning("The run in the link cannot be shown: " + found)
        show_run(page, agent, None)
        return None
    if found.agent != agent or found.kind.value not in kinds:
        remembered = memory.get((page, agent))
        show_run(page, agent, None)
        if remembered and remembered != run_id:
            return page_run(page, agent, kinds)
        return None
    show_run(page, agent, found.id)
    return found
