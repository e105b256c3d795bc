"""Pick a published revision of the agent, and run it (contract §4.4, §7.1, §12).

The deployed revision runs as always (`:execute` / `:stream`). Any other revision runs through
`:test` / `:streamTest` with `baseRevision = N` and no flow — SDK 2.x has no other way — so the
server records a TEST run whose trace says `agentRevision = N`, and the panel and History label
it "rev N". The form uses that revision's own parameter schema.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import pandas as pd
import streamlit as st

from components.connection import Connection, connection_fingerprint
from components.safe import md
from components.url_state import RUN_PARAM, find_run, page_run
from fruxon_playground.api import FruxonError
from fruxon_playground.api.models import Agent, AgentRevisionSummary
from fruxon_playground.drafts import pinned_revision_body
from fruxon_playground.runs import RunHandle, RunKind
from fruxon_playground.runs.record import FrozenRun

PREFIX = "revision_picker"
_CACHE = f"{PREFIX}.lists"  # (connection, agent) -> (read at, rows, error)
LIST_TTL_S = 60.0  # a newly published revision shows up within a minute
# The Execute page shows deployed runs and pinned-revision runs; inline drafts belong to the draft page.
RUN_KINDS = frozenset({"execute", "stream", "test", "stream_test"})


@dataclass(frozen=True)
class RevisionChoice:
    """The revision the Execute page runs: the deployed one, or another published one by number."""

    number: int  # whose parameter schema the form uses (0: the agent's newest definition)
    deployed: bool
    row: AgentRevisionSummary | None = None

    def pin(self, kind: RunKind, request: dict[str, Any]) -> tuple[RunKind, dict[str, Any]]:
        """What to send for the pressed button: unchanged for the deployed revision, else the same
        inputs as a `:test` / `:streamTest` body naming this revision."""
        if self.deployed:
            return kind, request
        return (RunKind.STREAM_TEST if kind.streamed else RunKind.TEST), pinned_revision_body(request, self.number)[0]

    def snippet(self, request: dict[str, Any] | None) -> tuple[str, dict[str, Any] | None]:
        """`copy_as` arguments: the action and body this choice would send."""
        if self.deployed or request is None:
            return "execute", request
        return "test", pinned_revision_body(request, self.number)[0]


def load_revisions(conn: Connection, agent_id: str) -> tuple[list[AgentRevisionSummary], str | None]:
    """The agent's published revisions, newest first (read again after LIST_TTL_S)."""
    cache: dict[tuple[str, str], tuple[float, list[AgentRevisionSummary], str | None]] = \
        st.session_state.setdefault(_CACHE, {})
    key = (connection_fingerprint(conn.settings), agent_id)
    cached = cache.get(key)
    if cached is not None and time.monotonic() - cached[0] < LIST_TTL_S:
        return cached[1], cached[2]
    try:
        with conn.client() as client:
            rows, error = client.list_revisions(agent_id), None
    except FruxonError as exc:
        rows, error = [], str(exc)
    rows = sorted(rows, key=lambda r: r.agent_revision, reverse=True)
    cache[key] = (time.monotonic(), rows, error)
    return rows, error


def deployed_number(rows: list[AgentRevisionSummary], agent: Agent | None) -> int | None:
    """The revision executions run: the server's `isCurrent`, else the agent's `currentRevision`."""
    flagged = next((r.agent_revision for r in rows if r.is_current), None)
    if flagged is not None:
        return flagged
    return agent.current_revision if agent is not None and agent.current_revision else None


def _day(ms: int | None) -> str:
    return pd.Timestamp(ms, unit="ms", tz="UTC").strftime("%Y-%m-%d") if ms else "—"


def option_label(row: AgentRevisionSummary, deployed: int | None, *, width: int = 48) -> str:
    """One line of the picker (plain text: select options render no Markdown)."""
    comment = " ".join((row.comment or "no comment").split())
    if len(comment) > width:
        comment = comment[: width - 1] + "…"
    head = f"rev {row.agent_revision}" + (" · deployed" if row.agent_revision == deployed else "")
    return f"{head} — {comment} · {row.created_by or 'unknown'} · {_day(row.created_at)}"


def revision_details(row: AgentRevisionSummary, deployed: int | None) -> str:
    """The chosen revision in full, escaped for a caption (comment and author are untrusted)."""
    parts = [f"“{md(row.comment or 'no comment', limit=300)}”", f"by {md(row.created_by or 'unknown', limit=80)}"]
    if row.actor:
        parts.append(f"via {md(row.actor, limit=40)}")
    parts.append(f"created {_day(row.created_at)}")
    if row.last_deployed_at:
        parts.append(f"last deployed {_day(row.last_deployed_at)}")
    if row.agent_revision == deployed:
        parts.append("**deployed**: executions run it")
    return " · ".join(parts)


def revision_select(conn: Connection, agent: Agent | str, *, key: str, label: str = "Revision",
                    help_text: str | None = None) -> tuple[AgentRevisionSummary | None, int | None]:
    """A select of the agent's revisions, newest first, the deployed one preselected. Returns the
    chosen row (None when the agent has none or they cannot be read) and the deployed number."""
    agent_id = agent if isinstance(agent, str) else agent.id
    rows, error = load_revisions(conn, agent_id)
    deployed = deployed_number(rows, None if isinstance(agent, str) else agent)
    if error:
        st.caption(f"The revisions could not be read ({md(error, limit=300)}).")
    if not rows:
        return None, deployed
    by_number = {r.agent_revision: r for r in rows}
    numbers = list(by_number)
    widget_key = revision_widget_key(conn, agent_id, key)
    if st.session_state.get(widget_key) not in by_number:
        st.session_state[widget_key] = deployed if deployed in by_number else numbers[0]
    chosen = st.selectbox(label, numbers, key=widget_key, help=help_text,
                          format_func=lambda n: option_label(by_number[n], deployed))
    return by_number.get(chosen), deployed


def revision_widget_key(conn: Connection, agent_id: str, key: str) -> str:
    """The session key of one `revision_select`; set it before the select draws to preselect."""
    return f"{PREFIX}.{key}.{connection_fingerprint(conn.settings)}.{agent_id}"


def pick_revision(conn: Connection, agent: Agent) -> RevisionChoice:
    """The Execute page's picker; the deployed revision unless the user chose another."""
    row, deployed = revision_select(conn, agent, key="execute",
                                    help_text="Another revision runs through :test / :streamTest with its number "
                                              "as baseRevision and no flow (recorded as a TEST run of that revision).")
    if row is None:
        return RevisionChoice(number=agent.current_revision or 0, deployed=True)
    st.caption(revision_details(row, deployed))
    if row.agent_revision == deployed:
        return RevisionChoice(number=row.agent_revision, deployed=True, row=row)
    st.info(f"Runs **rev {row.agent_revision}**, not the deployed revision: `:test` / `:streamTest` with "
            f"`baseRevision` {row.agent_revision} and no flow. Environment and chat user are not part of such a "
            "request and are not sent.", icon=":material/history:")
    return RevisionChoice(number=row.agent_revision, deployed=False, row=row)


def belongs_to_execute_page(run: RunHandle | FrozenRun) -> bool:
    """Deployed runs and pinned-revision runs; a `:test` run of an inline or stored draft is the
    draft page's."""
    if not run.kind.is_test:
        return True
    pinned = run.request.get("baseRevision")
    return run.request.get("flow") is None and isinstance(pinned, int) and not isinstance(pinned, bool) and pinned > 0


def execute_page_run(page: str, agent_id: str) -> RunHandle | FrozenRun | None:
    """`page_run` for the Execute page. A draft run named in the URL (navigation keeps `?run=` from
    the draft page) is dropped from the URL first."""
    url_run = st.query_params.get(RUN_PARAM)
    if url_run:
        found = find_run(url_run)
        if not isinstance(found, str) and not belongs_to_execute_page(found):
            del st.query_params[RUN_PARAM]
    run = page_run(page, agent_id, RUN_KINDS)
    return run if run is None or belongs_to_execute_page(run) else None
