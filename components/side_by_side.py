"""Side by side: pick two targets, give one input, watch both runs live, then read the verdict and
the step-aligned diff. A pair is shared as `?a=<run id>&b=<run id>`; a link opened by anyone but the
session that started the pair draws read-only.

Untrusted text (answers, labels with environment slugs, tool names, ids) reaches Markdown only
through `md()`; the answers themselves go through `st.text`.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from typing import Any

import streamlit as st

from components import state
from components.agent_info import load_environments, load_parameters
from components.approval import approval_controls
from components.attachments import attachments_editor
from components.connection import Connection
from components.draft_editor import CURRENT as DRAFT_CURRENT
from components.execute_form import preflight_parameters
from components.history import run_store
from components.live_panel import LivePanel, draw_tool_card, follow_all, split_blocks, stats_line
from components.parameter_form import ParameterForm
from components.revision_picker import revision_select, revision_widget_key
from components.run_options import MODE_LABELS, MODES, chat_user_field
from components.run_result import outcome_banner, summary
from components.safe import md
from components.trace_compare import draw_comparison
from components.url_state import RUN_PARAM, find_run, live_runs
from fruxon_playground.api.models import Agent
from fruxon_playground.cases.target import Target, TargetKind
from fruxon_playground.compare import Tone, compare_runs
from fruxon_playground.contract import environment_slug_problem
from fruxon_playground.history import SavedRun
from fruxon_playground.runs import Phase, RunContext, RunHandle
from fruxon_playground.runs.record import FrozenRun, saved_run_from
from fruxon_playground.side_by_side import (
    LETTERS,
    QUERY_KEYS,
    Side,
    draft_declared,
    inputs_of,
    pair_from_query,
    pair_verdict,
    share_query,
    start_pair,
)

PREFIX = "side_by_side"
WATCH_REFRESH_S = 0.5  # a shared view of live runs redraws the whole page this often
KIND_LABELS = {TargetKind.DEPLOYED: "Deployed", TargetKind.REVISION: "Revision", TargetKind.DRAFT: "Draft"}
_ANSWER_BADGE = {Tone.SAME: ("green", ":material/check_circle:"), Tone.DIFFERENT: ("orange", ":material/compare_arrows:")}
Run = RunHandle | FrozenRun


def form_prefix(conn: Connection) -> str:
    """This page's session keys for the agent on this connection: typed input survives reruns, page
    switches and a visit to another agent, and never mixes with the Execute page's."""
    where = f"{conn.settings.base_url}|{conn.settings.tenant}|{conn.agent}"
    return f"{PREFIX}.{hashlib.sha256(where.encode()).hexdigest()[:12]}"


# -- which pair the page shows ------------------------------------------------------------------
def own_pair(agent: str) -> tuple[str, str] | None:
    """The pair this session started last for `agent`."""
    remembered = st.session_state.get(state.SIDE_BY_SIDE_PAIR)
    if remembered and remembered[0] == agent:
        return remembered[1], remembered[2]
    return None


def forget_pair() -> None:
    """The session's pair cannot be shown any more (deleted, or another deployment's store)."""
    st.session_state.pop(state.SIDE_BY_SIDE_PAIR, None)
    clear_link()


def linked_pair() -> tuple[str, str] | None:
    """The pair the URL names; a malformed link is reported and dropped from the URL."""
    linked = pair_from_query(st.query_params.to_dict())
    if isinstance(linked, str):
        st.warning("The link cannot be shown: " + md(linked))
        clear_link()
        return None
    return linked


def publish_pair(pair: tuple[str, str]) -> None:
    for key, value in share_query(*pair).items():
        if st.query_params.get(key) != value:
            st.query_params[key] = value
    if RUN_PARAM in st.query_params:  # navigation keeps another page's run: it is not this page's
        del st.query_params[RUN_PARAM]


def clear_link() -> None:
    for key in QUERY_KEYS:
        if key in st.query_params:
            del st.query_params[key]


def find_pair(pair: tuple[str, str]) -> tuple[Run, Run] | None:
    """Both runs, live or saved; else a warning naming the run that cannot be shown."""
    found = [find_run(run_id) for run_id in pair]
    problems = [f"Run {letter}: {reason}" for letter, reason in zip(LETTERS, found, strict=True) if isinstance(reason, str)]
    if problems:
        st.warning("This comparison cannot be shown.\n\n" + "\n\n".join(problems))
        return None
    return found[0], found[1]  # type: ignore[return-value]


# -- the two targets and the input --------------------------------------------------------------
def side_picker(conn: Connection, agent: Agent | None, letter: str, environments: list[str]) -> Side | str:
    """One target in a bordered card; returns the side, or why it cannot run yet. Every card has the
    same rows whatever its target (what does not apply shows disabled), so A and B line up."""
    prefix = f"{form_prefix(conn)}.{letter.lower()}"
    draft = st.session_state.get(DRAFT_CURRENT)
    has_draft = bool(draft and draft.get("flow"))
    deployed = agent.current_revision if agent is not None else None
    kinds = [TargetKind.REVISION, TargetKind.DRAFT]
    if deployed or agent is None:
        kinds.insert(0, TargetKind.DEPLOYED)
    default = kinds[0] if letter == "A" or len(kinds) == 1 else kinds[1]
    revision: int | None = None
    declared: frozenset[str] | None = None
    problem: str | None = None
    environment: str | None = None
    with st.container(border=True):
        st.markdown(f"**{letter}**")
        kind_col, stream_col = st.columns([3, 2], vertical_alignment="bottom")
        kind = kind_col.segmented_control(
            f"Target {letter}", kinds, key=f"{prefix}.kind", default=default, format_func=lambda k: KIND_LABELS[k],
            persist_state="session", help="Deployed: :stream / :execute. Revision: a published revision through "
                                          ":streamTest / :test. Draft: the flow “Test a draft” holds now.")
        kind = kind or default
        streamed = stream_col.toggle("Stream", value=True, key=f"{prefix}.streamed", persist_state="session",
                                     help="Off: :execute / :test, the answer all at once")
        if kind is TargetKind.REVISION:
            if letter == "B" and deployed and deployed > 1:  # a first visit compares with the revision before
                st.session_state.setdefault(revision_widget_key(conn, conn.agent, f"{PREFIX}.{letter}"), deployed - 1)
            row, _ = revision_select(conn, agent or conn.agent, key=f"{PREFIX}.{letter}", label=f"Revision {letter}")
            revision = row.agent_revision if row is not None else None
            if revision is None:
                problem = f"{letter}: this agent has no published revision to run."
            else:
                metadata, schema_error = load_parameters(conn, conn.agent, revision)
                declared = None if schema_error else frozenset(m.name for m in metadata)
        else:
            if kind is TargetKind.DEPLOYED:
                shown = f"rev {deployed} · deployed" if deployed else "the deployed revision"
            elif has_draft:
                declared = draft_declared(draft or {})
                base = (draft or {}).get("baseRevision")
                shown = "the draft in “Test a draft”" + (f" (base rev {base})" if base else "")
            else:
                shown = "no draft yet — open “Test a draft” first"
                problem = f"{letter}: there is no draft yet; open “Test a draft” first."
            st.selectbox(f"Revision {letter}", [shown], key=f"{prefix}.shown.{kind.value}", disabled=True)
        env_col, mode_col = st.columns(2)
        with env_col:
            if kind is TargetKind.DEPLOYED:
                picked = st.selectbox(
                    f"Environment {letter}", sorted(environments), key=f"{prefix}.environment", index=None,
                    accept_new_options=True, persist_state="session", placeholder="none",
                    help="End-customer tag sent with the run.")
                environment = (picked or "").strip() or None
                slug_problem = environment_slug_problem(environment or "")
                if slug_problem:
                    problem = f"{letter}: {slug_problem}"
            else:
                st.selectbox(f"Environment {letter}", [], key=f"{prefix}.no_environment", index=None, disabled=True,
                             placeholder="not sent with a test run", help="A test request has no environment (§4.4).")
        mode = mode_col.selectbox(f"Mode {letter}", MODES, key=f"{prefix}.mode", format_func=MODE_LABELS.get,
                                  persist_state="session")
    if problem:
        return problem
    target = Target(kind, revision=revision, draft=draft if kind is TargetKind.DRAFT else None, streamed=streamed)
    return Side(target, environment_slug=environment, mode=mode or None, declared=declared)


def pair_form(conn: Connection, agent: Agent | None, *, busy: bool) -> tuple[tuple[Side, Side], dict[str, Any]] | None:
    """Both targets, the shared input and Run; returns the sides and the input when Run was pressed
    and everything is valid."""
    prefix = form_prefix(conn)
    environments = load_environments(conn)
    sides: list[Side | str] = []
    for letter, column in zip(LETTERS, st.columns(2, gap="medium"), strict=True):
        with column:
            sides.append(side_picker(conn, agent, letter, environments))
    revision = agent.current_revision if agent is not None and agent.current_revision else 0
    metadata, schema_error = load_parameters(conn, conn.agent, revision)
    st.markdown("**Input** — the same for both")
    if schema_error:
        st.caption(f"No parameter schema ({md(schema_error)}); edit the parameters as JSON.")
    form = ParameterForm(f"{prefix}.params", metadata)
    errors_key, attachments_key = f"{prefix}.field_errors", f"{prefix}.attachments"
    st.session_state.setdefault(attachments_key, [])
    json_problem = form.draw(field_errors=st.session_state.get(errors_key) or {})
    with st.expander(f"Attachments ({len(st.session_state[attachments_key])})",
                     expanded=bool(st.session_state[attachments_key])):
        attachments = attachments_editor(attachments_key, conn)
    with st.container(horizontal=True, vertical_alignment="center"):
        chat_user, chat_problem = chat_user_field(prefix)
        if chat_user is not None:
            st.caption(_chat_user_reach(sides))
    if chat_problem:
        st.error(md(chat_problem))
    problems = [s for s in sides if isinstance(s, str)]
    for problem in problems:
        st.caption(md(problem))
    body = {"parameters": form.values or None, "attachments": [a.file_link for a in attachments] or None,
            "chatUser": chat_user}
    for letter, side in zip(LETTERS, sides, strict=True):
        left_out = side.left_out(inputs_of(conn.agent, body)) if isinstance(side, Side) else []
        if left_out:
            st.caption(f"{letter} does not get {', '.join(md(n, limit=60) for n in left_out)}: its revision does "
                       "not declare it (the server would refuse the run).")
    clicked = st.button("Run both", type="primary", icon=":material/play_arrow:", key=f"{PREFIX}.run",
                        disabled=busy or bool(problems), width="stretch",
                        help="Starts A and B at once with this input; both are saved to History")
    if not clicked or problems:
        return None
    field_errors = preflight_parameters(form.values, metadata) if not json_problem else {}
    st.session_state[errors_key] = field_errors
    if json_problem or field_errors or chat_problem:
        found = [json_problem] if json_problem else []
        found += [f"{name}: {m}" for name, messages in field_errors.items() for m in messages]
        found += [chat_problem] if chat_problem else []
        st.error("Nothing was sent. Fix these first:\n\n" + "\n".join(f"- {md(p)}" for p in found))
        return None
    return (sides[0], sides[1]), body  # type: ignore[return-value]


def _chat_user_reach(sides: list[Side | str]) -> str:
    """Which sides send the chat user: a test run has none (contract §4.4)."""
    deployed = [letter for letter, side in zip(LETTERS, sides, strict=True)
                if isinstance(side, Side) and side.target.kind is TargetKind.DEPLOYED]
    if len(deployed) == len(LETTERS):
        return "Sent with both runs."
    if deployed:
        return f"Sent with {deployed[0]} only: a test run has no chat user."
    return "Not sent: test runs have no chat user."


def start(conn: Connection, sides: tuple[Side, Side], body: dict[str, Any]) -> tuple[str, str]:
    """Starts both runs; they save themselves (one group, labels "A: …" / "B: …"). The pair goes in the
    URL and is this session's own."""
    settings = conn.settings
    store = run_store()
    context = RunContext(owner=st.session_state[state.OWNER], base_url=settings.base_url, tenant=settings.tenant,
                         secrets=(settings.api_key,))
    pair = start_pair(conn.agent, inputs_of(conn.agent, body), sides, conn.client, store=store,
                      context=context if store is not None else None)
    for handle in pair.handles:
        live_runs().add(handle)
    ids = (pair.a.id, pair.b.id)
    st.session_state[state.SIDE_BY_SIDE_PAIR] = (conn.agent, *ids)
    publish_pair(ids)
    return ids


# -- the pair -------------------------------------------------------------------------------------
def label_of(run: Run) -> str:
    if isinstance(run, FrozenRun):
        return run.saved.label or run.saved.kind
    recorder = run.recorder
    return (recorder.context.label if recorder is not None else None) or run.kind.value


def saved_of(run: Run) -> SavedRun:
    """A finished run as the comparison reads it (a live handle's own saved form, secrets removed)."""
    if isinstance(run, FrozenRun):
        return run.saved
    context = run.recorder.context if run.recorder is not None else RunContext(owner="", base_url="", tenant="")
    return saved_run_from(run, run.snapshot(), context)


def _stop_both(handles: list[RunHandle]) -> None:
    for handle in handles:
        handle.cancel()
    for handle in handles:
        handle.wait(1.5)


def draw_pair(runs: tuple[Run, Run], conn: Connection | None, *, read_only: bool = False) -> Callable[[], None]:
    """Verdict (once both ended), the two panels, then the diff. Returns what keeps the page live;
    the page calls it after everything else is drawn. A read-only view has no Stop: it redraws the
    runs as they go until both ended."""
    live = [r for r in runs if isinstance(r, RunHandle) and not r.finished]
    verdict_slot = st.container()
    if live and not read_only:
        st.button("Stop both", icon=":material/stop_circle:", key=f"{PREFIX}.stop_both", on_click=_stop_both,
                  args=(live,), help="Close both connections now; what each received is kept and saved")
    panels: list[LivePanel] = []
    for letter, run, column in zip(LETTERS, runs, st.columns(2, gap="large"), strict=True):
        with column, st.container(border=True):
            st.markdown(f"#### {md(label_of(run), limit=160)}")
            if isinstance(run, RunHandle) and not run.finished:
                if read_only:
                    _watched_side(run)
                    continue
                panel = LivePanel(run, key=f"{PREFIX}.{letter}.{run.id}")
                if not panel.draw().finished:
                    panels.append(panel)
                    continue
            _finished_side(run, conn, letter)
    if any(isinstance(r, RunHandle) and not r.finished for r in runs):
        return _refresh if read_only else lambda: follow_all(panels)
    comparison = compare_runs(saved_of(runs[0]), saved_of(runs[1]))
    verdict = pair_verdict(comparison)
    with verdict_slot, st.container(border=True):
        st.markdown("**Verdict** &nbsp; " + " &nbsp;·&nbsp; ".join(_verdict_part(text, tone)
                                                                  for text, tone in verdict.parts))
        st.caption("Share this comparison (read-only; the link holds the two run ids, never a key):")
        st.code(share_url(runs[0].id, runs[1].id), language=None)
    draw_comparison(comparison, key=f"{PREFIX}.compare")
    return lambda: follow_all(panels)


def _watched_side(run: RunHandle) -> None:
    """A run someone else is running, as it is now (no controls)."""
    snapshot = run.snapshot()
    st.markdown(stats_line(snapshot, streamed=run.kind.streamed))
    st.caption("Live: this read-only view follows the run until it ends.")
    for block in split_blocks(snapshot.state.text) if snapshot.state.text else []:
        st.text(block)


def _refresh() -> None:
    time.sleep(WATCH_REFRESH_S)
    st.rerun()


def _verdict_part(text: str, tone: Tone) -> str:
    """One piece of the verdict: the answer as a badge, a Δ in green (better) or red (worse)."""
    if text in ("Same answer", "Different answer"):
        color, icon = _ANSWER_BADGE[tone]
        return f":{color}-badge[{icon} {text}]"
    color = {Tone.BETTER: "green", Tone.WORSE: "red"}.get(tone)
    return f":{color}[{md(text, limit=300)}]" if color else md(text, limit=300)


def share_url(a_id: str, b_id: str) -> str:
    base = (st.context.url or "").split("?")[0].rstrip("/")
    return base + "?" + "&".join(f"{k}={v}" for k, v in share_query(a_id, b_id).items())


def _finished_side(run: Run, conn: Connection | None, letter: str) -> None:
    snapshot = run.snapshot()
    state_ = snapshot.state
    st.markdown(stats_line(snapshot, streamed=run.kind.streamed))
    outcome_banner(snapshot, tenant=conn.settings.tenant if conn else "", agent=run.agent, action=run.kind.action)
    with st.container(height=260 if len(state_.text) > 600 else "content"):
        for block in split_blocks(state_.text) if state_.text else []:
            st.text(block)
    if state_.phase is Phase.WAITING_FOR_HUMAN and isinstance(run, RunHandle) and conn is not None:
        approval_controls(conn, run, snapshot, key=f"{PREFIX}.{letter}.{run.id}")
    if state_.failure is None or state_.health.event_count:
        summary(snapshot)
    if state_.tools:
        with st.expander(f"Tool calls ({len(state_.tools)})"):
            for card in state_.tools.values():
                draw_tool_card(card)

