"""The draft the server keeps (contract §4.6, E5–E7), seen from the draft editor.

Open a published revision's flow or the stored draft as the editor's draft; save it back with
`If-Match` of the version this editor last saw; when someone saved in between (409), show both
versions side by side and let the user keep theirs or take the server's; run what is stored
(`draft:test` / `draft:streamTest`), saving unsaved changes first — what the official SDK does with
`put_draft` then `test`/`stream_test`. "Open in draft editor" brings any run or remote record here.

The link between the editor and a stored draft (agent, base revision, version, and a fingerprint of
the editor's draft when it was last loaded or saved) lives in one session key, LINK.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import streamlit as st

from components import state
from components.connection import Connection, connection_fingerprint
from components.draft_editor import BASE, CURRENT, DraftState, load_base
from components.revision_picker import revision_select, revision_widget_key
from components.safe import md
from fruxon_playground.api import FruxonError
from fruxon_playground.api.models import AgentDraft, ExecutionRecord
from fruxon_playground.contract.secrets import mask_secrets
from fruxon_playground.drafts import (
    TEMPLATES,
    OpenedDraft,
    RunDraftSource,
    draft_fingerprint,
    draft_source_of_run,
    head_changes,
    head_from_request,
    not_stored_fields,
    open_record,
    open_revision,
    open_stored,
    request_from_head,
    save_head,
    storable_problem,
    stored_run_body,
)
from fruxon_playground.runs import RunKind
from fruxon_playground.snippets import to_python_sdk_stored_draft

PREFIX = "draft.stored"
LINK = f"{PREFIX}.link"
DRAFT_PAGE = "pages/draft_test.py"


@dataclass(frozen=True)
class Conflict:
    """A save the server refused: the head we sent, and what it holds now (None: nothing any more)."""

    mine: dict[str, Any]
    mine_fingerprint: str
    theirs: AgentDraft | None


@dataclass
class StoredDraftLink:
    """Where the editor's draft is saved: one agent's stored draft for one base revision."""

    agent: str
    connection: str  # connection fingerprint: a link never follows the user to another server
    base_revision: int
    version: int | None  # the stored version this editor last saw; None: none was stored
    base_head: dict[str, Any] | None = None  # keeps comment, slots and bindings the editor does not show
    baseline: str | None = None  # fingerprint of the editor's draft when last loaded from / saved to the server
    pending_baseline: bool = False  # take the baseline from the next composition (just loaded)
    conflict: Conflict | None = None
    notices: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class StoredRun:
    """A stored-draft run the user asked for: `draft:test` / `draft:streamTest` of `revision`."""

    kind: RunKind
    body: dict[str, Any]
    revision: int


def link_of(conn: Connection) -> StoredDraftLink | None:
    link: StoredDraftLink | None = st.session_state.get(LINK)
    if link is None or link.agent != conn.agent or link.connection != connection_fingerprint(conn.settings):
        return None
    return link


def adopt(conn: Connection, agent: str, opened: OpenedDraft, *, origin: str | None = None) -> None:
    """The opened draft becomes the editor's draft, linked to its stored draft. `origin` (Markdown,
    escaped) says where it came from."""
    load_base(opened.request)
    stored = opened.stored
    link = StoredDraftLink(agent=agent, connection=connection_fingerprint(conn.settings),
                           base_revision=opened.base_revision, version=stored.version if stored else None,
                           base_head=opened.base_head, pending_baseline=opened.from_stored)
    if origin:
        link.notices.append(origin)
    if stored is not None and not opened.from_stored:
        link.notices.append(f"A draft of rev {opened.base_revision} is stored on the server (version {stored.version}); "
                            "saving asks before it replaces it. “Open stored draft” loads it instead.")
    st.session_state[LINK] = link


# -- opening -----------------------------------------------------------------------------------
def open_from_server(conn: Connection) -> None:
    """A base revision, and buttons to open its published flow or the draft stored for it."""
    agent = conn.agent or ""
    row, _ = revision_select(conn, agent, key="draft", label="Base revision",
                             help_text="The published revision a stored draft belongs to")
    revision = row.agent_revision if row is not None else 0
    if row is None:
        st.caption("This agent has no published revision: its stored draft belongs to revision 0.")
    flow_col, stored_col = st.columns(2)
    if flow_col.button(f"Open rev {revision}'s flow", key=f"{PREFIX}.open_flow", icon=":material/account_tree:",
                       width="stretch", disabled=row is None,
                       help="The published revision's flow as the starting draft (your parameter values stay)"):
        _open(conn, lambda client: open_revision(client, agent, revision))
    if stored_col.button("Open stored draft", key=f"{PREFIX}.open_stored", icon=":material/cloud_download:",
                         width="stretch", help=f"GET …/revisions/{revision}/draft"):
        _open(conn, lambda client: open_stored(client, agent, revision),
              missing=f"No draft is stored for rev {revision} yet: open the revision's flow and save it to create one.")


def _open(conn: Connection, load: Any, *, missing: str = "") -> None:
    try:
        with conn.client() as client:
            opened = load(client)
    except (FruxonError, ValueError) as exc:
        st.error(f"Could not open the draft: {md(exc)}")
        return
    if opened is None:
        st.info(missing)
        return
    adopt(conn, conn.agent or "", opened)
    st.rerun()


def complete_flowless_draft(conn: Connection) -> None:
    """History's "Re-run" hands the editor a run's request as sent; a pinned-revision run or a
    stored-draft run sent no flow. The first opens as its revision's flow with its parameters."""
    base = st.session_state.get(BASE)
    if not isinstance(base, dict) or isinstance(base.get("flow"), dict):
        return
    source = draft_source_of_run(base, None)
    if source.revision is not None and conn.agent:
        try:
            with conn.client() as client:
                opened = open_revision(client, conn.agent, source.revision, source.parameters)
        except (FruxonError, ValueError) as exc:
            load_base(next(iter(TEMPLATES.values())).request)
            st.error(f"Could not open rev {source.revision}'s flow: {md(exc)}")
            return
        else:
            adopt(conn, conn.agent, opened, origin=f"Re-run of rev {source.revision}: its flow with the run's "
                                                    "parameters. Run it inline, or save and run it on the server.")
            st.session_state[revision_widget_key(conn, conn.agent, "draft")] = source.revision
            return
    load_base(next(iter(TEMPLATES.values())).request)
    st.info("That run sent no flow (it ran the draft stored on the server): open the stored draft to see it.")


# -- saving ------------------------------------------------------------------------------------
def _save(conn: Connection, link: StoredDraftLink, request: dict[str, Any], *, known_version: int | None) -> bool:
    """PUT the editor's draft; True when stored. A refusal becomes the link's conflict."""
    head = head_from_request(request, link.base_head)
    try:
        with conn.client() as client:
            outcome = save_head(client, link.agent, link.base_revision, head, known_version=known_version)
    except FruxonError as exc:
        link.notices = [f"Not saved: {md(exc)}"]
        return False
    if outcome.saved is not None:
        link.version, link.base_head = outcome.saved.version, outcome.saved.head_data
        link.baseline, link.conflict = draft_fingerprint(request), None
        link.notices = [f"Saved as version {outcome.saved.version}."]
        return True
    link.conflict = Conflict(mine=head, mine_fingerprint=draft_fingerprint(request), theirs=outcome.theirs)
    link.notices = []
    return False


def stored_draft_status(conn: Connection, draft: DraftState) -> StoredDraftLink | None:
    """Which stored draft the editor is linked to, its version, saved or unsaved, and Save."""
    link = link_of(conn)
    if link is None:
        st.caption("Not linked to a draft on the server. Open a revision's flow or its stored draft above to save "
                   "this draft there and run it with draft:test, as the official SDK does.")
        return None
    fingerprint = draft_fingerprint(draft.request)
    if link.pending_baseline:
        link.baseline, link.pending_baseline = fingerprint, False
    problem = storable_problem(draft.request)
    badges = [f":blue-badge[:material/cloud: Stored draft of rev {link.base_revision}]",
              f":gray-badge[version {link.version}]" if link.version else ":gray-badge[nothing stored yet]",
              ":green-badge[:material/check: saved]" if is_saved(link, fingerprint)
              else ":orange-badge[:material/edit: unsaved changes]"]
    status_col, save_col = st.columns([3, 2], vertical_alignment="center")
    status_col.markdown(" ".join(badges))
    saving = save_col.button("Save draft", key=f"{PREFIX}.save", icon=":material/cloud_upload:", width="stretch",
                             disabled=problem is not None or link.conflict is not None,
                             help=problem or (f"PUT …/revisions/{link.base_revision}/draft with If-Match "
                                              f"{link.version}" if link.version else "PUT …/draft (creates it)"))
    if problem:
        st.caption(md(problem))
    dropped = not_stored_fields(draft.request)
    if dropped and not problem:
        st.caption("Not kept in a stored draft (inline :test runs only): " + ", ".join(dropped) + ".")
    for notice in link.notices:
        st.caption(notice)
    if saving:
        _save(conn, link, draft.request, known_version=link.version)
        st.rerun()
    return link


def is_saved(link: StoredDraftLink, fingerprint: str) -> bool:
    return link.version is not None and link.baseline == fingerprint and link.conflict is None


def resolve_conflict(conn: Connection) -> None:
    """After a refused save: both versions side by side; keep mine (overwrite) or take theirs."""
    link = link_of(conn)
    if link is None or link.conflict is None:
        return
    conflict, theirs = link.conflict, link.conflict.theirs
    with st.container(border=True, key=f"{PREFIX}.conflict"):
        if theirs is None:
            st.warning(f"The stored draft of rev {link.base_revision} was removed on the server since you loaded it.",
                       icon=":material/sync_problem:")
        else:
            st.warning(f"The stored draft of rev {link.base_revision} changed on the server: it is at version "
                       f"{theirs.version}, not the version you loaded. Nothing was saved. Choose which one to keep.",
                       icon=":material/sync_problem:")
            changes = head_changes(conflict.mine, theirs.head_data)
            if changes:
                st.caption(f"They differ in {len(changes)} place(s):")
                st.dataframe(pd.DataFrame([{"Field": path, "Yours": _short(a), "On the server": _short(b)}
                                           for path, a, b in changes]), hide_index=True, width="stretch")
        mine_col, theirs_col = st.columns(2)
        with mine_col:
            st.markdown("**Yours** · not saved")
            st.code(_head_text(conflict.mine), language="json", wrap_lines=True, height=320)
        with theirs_col:
            when = (pd.Timestamp(theirs.updated_at, unit="ms", tz="UTC").strftime("%Y-%m-%d %H:%M:%S UTC")
                    if theirs is not None and theirs.updated_at else "—")
            st.markdown(f"**On the server** · version {theirs.version} · saved {when}" if theirs is not None
                        else "**On the server** · nothing stored")
            st.code(_head_text(theirs.head_data) if theirs is not None else "", language="json", wrap_lines=True,
                    height=320)
        keep_col, take_col, later_col = st.columns(3)
        overwrite = f"version {theirs.version}" if theirs is not None else "nothing"
        if keep_col.button("Keep mine", key=f"{PREFIX}.keep_mine", icon=":material/upload:", type="primary",
                           width="stretch", help=f"Save yours over {overwrite} (If-Match {theirs.version if theirs else '—'})"):
            _keep_mine(conn, link, conflict)
            st.rerun()
        if take_col.button("Take theirs", key=f"{PREFIX}.take_theirs", icon=":material/download:", width="stretch",
                           disabled=theirs is None, help="Load the server's version into the editor (yours is dropped)"):
            _take_theirs(conn, link, theirs)
            st.rerun()
        if later_col.button("Keep editing", key=f"{PREFIX}.dismiss", icon=":material/close:", width="stretch",
                            help="Close this; saving again will ask again"):
            link.conflict = None
            st.rerun()


def _short(value: Any, limit: int = 300) -> str:
    text = "—" if value is None else value if isinstance(value, str) else json.dumps(mask_secrets(value), ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _head_text(head: dict[str, Any]) -> str:
    return json.dumps(mask_secrets(head), indent=2, ensure_ascii=False)


def _keep_mine(conn: Connection, link: StoredDraftLink, conflict: Conflict) -> None:
    theirs = conflict.theirs
    try:
        with conn.client() as client:
            outcome = save_head(client, link.agent, link.base_revision, conflict.mine,
                                known_version=theirs.version if theirs is not None else None)
    except FruxonError as exc:
        link.notices = [f"Not saved: {md(exc)}"]
        return
    if outcome.saved is None:  # someone saved again meanwhile: show the newer one
        link.conflict = Conflict(conflict.mine, conflict.mine_fingerprint, outcome.theirs)
        return
    link.version, link.base_head = outcome.saved.version, outcome.saved.head_data
    link.baseline, link.conflict = conflict.mine_fingerprint, None
    link.notices = [f"Kept yours: saved as version {outcome.saved.version}."]


def _take_theirs(conn: Connection, link: StoredDraftLink, theirs: AgentDraft) -> None:
    current = st.session_state.get(CURRENT) or {}
    request = request_from_head(theirs.head_data, base_revision=link.base_revision,
                                parameters=_declared(current.get("parameters"), theirs.head_data))
    adopt(conn, link.agent, OpenedDraft(request, link.base_revision, theirs, from_stored=True,
                                        base_head=theirs.head_data))
    st.session_state[LINK].notices = [f"Took the server's version {theirs.version}."]


def _declared(values: Any, head: dict[str, Any]) -> dict[str, Any] | None:
    """The editor's parameter values the head still declares (others would be refused)."""
    names = {m.get("name") for m in head.get("parametersMetadata") or [] if isinstance(m, dict)}
    return {k: v for k, v in values.items() if k in names} if isinstance(values, dict) else None


# -- running -----------------------------------------------------------------------------------
def stored_run_buttons(conn: Connection, draft: DraftState, link: StoredDraftLink | None, *,
                       busy: bool) -> StoredRun | None:
    """Run or stream the stored draft; unsaved changes are saved first (with If-Match)."""
    if link is None:
        return None
    fingerprint = draft_fingerprint(draft.request)
    unsaved = not is_saved(link, fingerprint)
    problem = storable_problem(draft.request) if unsaved else None
    path = f"…/revisions/{link.base_revision}/draft"
    why_not = problem or ("Fix the draft first." if draft.problems else None)
    note = " Your unsaved changes are saved first." if unsaved else ""
    run_col, stream_col = st.columns(2)
    sync = run_col.button("Run stored draft", key=f"{PREFIX}.run", icon=":material/cloud_sync:", width="stretch",
                          disabled=busy or why_not is not None or link.conflict is not None,
                          help=why_not or f"POST {path}:test runs what is stored on the server.{note}")
    streamed = stream_col.button("Stream stored draft", key=f"{PREFIX}.stream", icon=":material/cloud_sync:",
                                 width="stretch", disabled=busy or why_not is not None or link.conflict is not None,
                                 help=why_not or f"POST {path}:streamTest runs what is stored on the server.{note}")
    if not (sync or streamed):
        return None
    if unsaved and not _save(conn, link, draft.request, known_version=link.version):
        st.rerun()  # the refusal (or the error) shows above; nothing runs
    return StoredRun(RunKind.STREAM_TEST if streamed else RunKind.TEST, stored_run_body(draft.request),
                     link.base_revision)


def stored_draft_snippet(conn: Connection, draft: DraftState, link: StoredDraftLink | None) -> None:
    """The official SDK doing what the stored-draft buttons do: put_draft with If-Match, then run."""
    if link is None or storable_problem(draft.request) is not None:
        return
    with st.expander("Copy as · fruxon SDK (save, then run the stored draft)"):
        head = mask_secrets(head_from_request(draft.request, link.base_head))
        st.code(to_python_sdk_stored_draft(conn.settings.base_url, conn.settings.tenant, link.agent,
                                           link.base_revision, head, mask_secrets(stored_run_body(draft.request)),
                                           if_match=link.version, streamed=True), language="python")


# -- "Open in draft editor" from a run or a remote record -------------------------------------------
def open_in_draft_editor(run: Any) -> None:
    """A button for a finished run (live or saved): its inline draft, or its revision's flow with
    its parameters, opens in the draft editor, ready to change and rerun."""
    source = draft_source_of_run(run.request, run.snapshot().state.revision)
    what = "its flow" if source.inline is not None else f"rev {source.revision}'s flow with this run's parameters"
    key = f"{PREFIX}.open_run.{run.id}"
    clicked = st.button("Open in draft editor", key=key, icon=":material/edit_note:", disabled=source.reason is not None,
                        help=source.reason or f"Opens {what} on the draft page",
                        on_click=_open_run_source, args=(run.agent, source, key))
    _after_open(clicked, key)


def open_record_in_draft_editor(conn: Connection, record: ExecutionRecord) -> None:
    """The same for an execution record: its revision's flow with the record's parameters (`…/result`)."""
    revision = record.agent_revision
    reason = None if revision is not None and revision > 0 else (
        "A draft run: the record does not keep its flow." if revision is not None
        else "The record does not say which revision ran.")
    key = f"{PREFIX}.open_record.{record.id}"
    clicked = st.button("Open in draft editor", key=key, icon=":material/edit_note:", disabled=reason is not None,
                        help=reason or f"Opens rev {revision}'s flow with this record's parameters on the draft page",
                        on_click=_open_record, args=(conn, record, key))
    _after_open(clicked, key)


def _after_open(clicked: bool, key: str) -> None:
    error = st.session_state.pop(f"{key}.error", None)
    if error:
        st.error(f"Could not open it in the draft editor: {md(error)}")
    elif clicked:
        st.switch_page(DRAFT_PAGE)


def _open_run_source(agent: str, source: RunDraftSource, key: str) -> None:
    """Button callback: runs before the script, so the sidebar's agent may still change."""
    conn: Connection | None = st.session_state.get(state.CONNECTION)
    if conn is None:
        st.session_state[f"{key}.error"] = "no connection"
        return
    if source.inline is not None:
        load_base(source.inline)
        st.session_state[LINK] = None
    else:
        target = Connection(conn.settings, agent)
        try:
            with target.client() as client:
                opened = open_revision(client, agent, source.revision or 0, source.parameters)
        except (FruxonError, ValueError) as exc:
            st.session_state[f"{key}.error"] = str(exc)
            return
        adopt(target, agent, opened, origin=f"Opened from a run of rev {opened.base_revision}, with its parameters.")
        st.session_state[revision_widget_key(target, agent, "draft")] = opened.base_revision
    st.session_state[state.AGENT] = agent
    st.session_state[state.AGENT_FREE_TEXT] = agent


def _open_record(conn: Connection, record: ExecutionRecord, key: str) -> None:
    agent = conn.agent or ""
    try:
        with conn.client() as client:
            opened = open_record(client, agent, record.id, record.agent_revision or 0)
    except (FruxonError, ValueError) as exc:
        st.session_state[f"{key}.error"] = str(exc)
        return
    adopt(conn, agent, opened, origin=f"Opened from record {md(record.id, limit=80)} (rev {opened.base_revision}), "
                                      "with its parameters.")
    st.session_state[revision_widget_key(conn, agent, "draft")] = opened.base_revision
