"""Running the agent's cases as a batch: the target and concurrency, the live progress with Stop, the
results grid (a row per case, a mark per check, cost, latency, the run), comparing with an earlier
batch, and the downloads.

The batch runs on worker threads (`BatchRunner`); the page only reads its progress, from a fragment
that reruns on a timer while the batch runs, so a click elsewhere answers at once.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import pandas as pd
import streamlit as st

from components.cases_data import CURRENT_BATCH, live_batches
from components.connection import Connection, connection_fingerprint
from components.draft_editor import CURRENT as DRAFT_CURRENT
from components.history import run_store
from components.live_panel import format_ms
from components.run_view import RunView
from components.safe import md
from fruxon_playground.api import FruxonError
from fruxon_playground.api.models import Agent
from fruxon_playground.cases.batch import (
    DEFAULT_CONCURRENCY,
    MAX_CONCURRENCY,
    BatchComparison,
    BatchResult,
    BatchRunner,
    CaseOutcome,
    CaseStatus,
    Change,
    batch_csv,
    compare_batches,
    pooled_clients,
)
from fruxon_playground.cases.model import TestCase
from fruxon_playground.cases.pytest_export import pytest_file
from fruxon_playground.cases.store import CaseScope, CaseStore
from fruxon_playground.cases.target import Target, TargetKind
from fruxon_playground.runs import RunContext
from fruxon_playground.runs.record import FrozenRun

POLL_S = 0.5  # how often the live fragment redraws while a batch runs
LIVE_FAILURES = 10  # the latest failures shown while a batch runs
STOP_WAIT_S = 1.0  # after Stop, how long the fragment waits for the batch to end before drawing
STATUS_TEXT = {
    CaseStatus.PENDING: "· queued", CaseStatus.RUNNING: "… running", CaseStatus.WAITING: "⏸ rate limited",
    CaseStatus.PASSED: "✓ passed", CaseStatus.FAILED: "✗ failed", CaseStatus.STOPPED: "■ stopped",
    CaseStatus.NOT_RUN: "– not run",
}
TARGET_LABELS = {TargetKind.DEPLOYED: "Deployed", TargetKind.REVISION: "Revision", TargetKind.DRAFT: "Draft"}


@dataclass(frozen=True)
class BatchRequest:
    target: Target
    concurrency: int


def _revisions(conn: Connection) -> tuple[list[int], str | None]:
    """Published revisions of the agent, newest first (cached for this session and connection)."""
    cache: dict[str, Any] = st.session_state.setdefault("cases.revisions", {})
    key = f"{connection_fingerprint(conn.settings)}|{conn.agent}"
    if key not in cache:
        try:
            with conn.client() as client:
                cache[key] = ([r.agent_revision for r in client.list_revisions(conn.agent or "")], None)
        except FruxonError as exc:
            return [], str(exc)
    return cache[key]


def batch_controls(conn: Connection, agent: Agent | None, cases: list[TestCase], *, busy: bool) -> BatchRequest | None:
    """Target, streaming, concurrency and the Run button; returns what to run when it was pressed."""
    draft = st.session_state.get(DRAFT_CURRENT)
    available = [TargetKind.REVISION, TargetKind.DRAFT]
    if agent is None or agent.current_revision:
        available.insert(0, TargetKind.DEPLOYED)
    has_draft = bool(draft and draft.get("flow"))
    target_col, revision_col, concurrency_col, stream_col, run_col = st.columns([3, 2, 2, 2, 2],
                                                                                vertical_alignment="bottom")
    kind = target_col.segmented_control(
        "Run on", available, key="cases.target", default=available[0], format_func=lambda k: TARGET_LABELS[k],
        help="Deployed: :stream/:execute. Revision: :streamTest with that revision's stored flow. "
             "Draft: the flow in “Test a draft”.")
    kind = kind or available[0]
    revision = None
    if kind is TargetKind.REVISION:
        numbers, error = _revisions(conn)
        if error:
            revision_col.caption(f"Revisions could not be listed: {md(error, limit=200)}")
        revision = revision_col.selectbox("Revision", numbers, key="cases.revision", disabled=not numbers)
    elif kind is TargetKind.DEPLOYED and agent is not None:
        revision_col.caption(f"deployed: revision {agent.current_revision}")
    elif kind is TargetKind.DRAFT:
        revision_col.caption("the flow “Test a draft” holds now" if has_draft else "open “Test a draft” first")
    concurrency = concurrency_col.number_input("Concurrency", min_value=1, max_value=MAX_CONCURRENCY,
                                               value=DEFAULT_CONCURRENCY, step=1, key="cases.concurrency")
    streamed = stream_col.toggle("Stream", value=True, key="cases.streamed",
                                 help="Streamed runs measure the time to the first text; off: :execute / :test")
    clicked = run_col.button(f"Run {len(cases)} case(s)", type="primary", icon=":material/play_arrow:",
                             key="cases.run", width="stretch",
                             disabled=busy or not cases or (kind is TargetKind.REVISION and revision is None)
                             or (kind is TargetKind.DRAFT and not has_draft))
    if not clicked:
        return None
    target = Target(kind, revision=revision if kind is TargetKind.REVISION else None,
                    draft=draft if kind is TargetKind.DRAFT else None, streamed=streamed)
    return BatchRequest(target, int(concurrency))


def start_batch(conn: Connection, store: CaseStore, scope: CaseScope, cases: list[TestCase],
                request: BatchRequest) -> BatchRunner:
    """Starts the batch on worker threads; every case run saves itself to the run history."""
    settings = conn.settings
    history = run_store()
    context = RunContext(owner=scope.owner, base_url=settings.base_url, tenant=settings.tenant,
                         secrets=(settings.api_key,))
    runner = BatchRunner(cases, request.target,
                         pooled_clients(settings.base_url, settings.api_key, settings.tenant,
                                        auth_header=settings.auth_header),
                         concurrency=request.concurrency, saver=history, context=context if history else None,
                         on_finished=lambda result: store.save_batch(scope, result.masked((settings.api_key,))))
    live_batches().add(runner, scope)
    st.session_state.setdefault(CURRENT_BATCH, {})[scope] = runner.id
    return runner.start()


def current_batch(store: CaseStore, scope: CaseScope) -> BatchRunner | BatchResult | None:
    """The batch this session shows for the agent: a running one (also one started before a reload),
    else the last one this session ran, else the newest saved one."""
    shown: dict[CaseScope, str] = st.session_state.setdefault(CURRENT_BATCH, {})
    running = live_batches().running(scope)
    if running is not None:
        shown[scope] = running.id
        return running
    batch_id = shown.get(scope)
    if batch_id:
        live = live_batches().get(batch_id, scope)
        if live is not None:
            return live
        saved = store.get_batch(scope, batch_id)
        if saved is not None:
            return saved
    newest = store.list_batches(scope, limit=1)
    return store.get_batch(scope, newest[0].id) if newest else None


# -- the grid ---------------------------------------------------------------------------------------
def _money(value: float | None, sign: str = "") -> str:
    """Dollars as text, empty when unknown (a number column would show an unknown cost as "None")."""
    return f"{value:{sign}.7f}" if value is not None else ""


def results_frame(batch: BatchResult) -> pd.DataFrame:
    rows = []
    for o in batch.outcomes:
        r = o.result
        rows.append({
            "Case": o.case_name,
            "Result": STATUS_TEXT[o.status],
            "Checks": "".join("✓" if c.passed else "✗" for c in r.checks) if r else "",
            "Failed checks": "; ".join(f"{c.label}: {c.reason}" for c in r.failed_checks) if r else (o.note or ""),
            "Cost ($)": _money(r.cost_usd) if r else "",
            "Time": format_ms(r.total_ms) if r else "",
            "First text": format_ms(r.first_text_ms) if r and r.first_text_ms is not None else "",
            "Run": f"history?run={o.run_id}" if o.run_id and o.status.final else "",
        })
    return pd.DataFrame(rows, columns=["Case", "Result", "Checks", "Failed checks", "Cost ($)", "Time", "First text",
                                       "Run"])


GRID_COLUMNS = {
    "Cost ($)": st.column_config.TextColumn(alignment="right"),
    "Checks": st.column_config.TextColumn(help="One mark per check, in the case's order"),
    "Failed checks": st.column_config.TextColumn(width="medium", help="Select the row to read every check"),
    "Run": st.column_config.LinkColumn(display_text="open run", help="The saved run in History (new tab)"),
}


def counts_line(total: int, done: int, passed: int, failed: int, running: int, waiting: int, not_run: int = 0,
                stopped: int = 0) -> str:
    """Badges with the live counts (numbers only: safe as Markdown)."""
    parts = [f":green-badge[:material/check: {passed} passed]", f":red-badge[:material/close: {failed} failed]"]
    if stopped:
        parts.append(f":gray-badge[:material/stop_circle: {stopped} stopped]")
    if running:
        parts.append(f":blue-badge[:material/autorenew: {running} running]")
    if waiting:
        parts.append(f":orange-badge[:material/hourglass_top: {waiting} rate limited]")
    if not_run:
        parts.append(f":gray-badge[{not_run} not run]")
    return " ".join(parts) + f" · {done} of {total} done"


def live_progress(runner: BatchRunner) -> None:
    """Progress bar, counts, Stop and the failures so far, redrawn every POLL_S while the batch runs.

    The whole grid waits for the end: redrawing hundreds of rows twice a second costs the browser
    more than the rest of the page, and the page must stay quick to click while the batch runs."""
    was_running = not runner.finished

    @st.fragment(run_every=POLL_S if was_running else None)
    def draw() -> None:
        if runner.progress().stopping:
            runner.wait(STOP_WAIT_S)  # Stop closes the running cases' connections: usually over at once
        progress = runner.progress()
        result = runner.result()
        st.progress(progress.fraction, text=f"{progress.done} / {progress.total} cases · {result.target_label} · "
                                            f"{format_ms(progress.elapsed_ms)}")
        counts_col, stop_col = st.columns([5, 1], vertical_alignment="center")
        counts_col.markdown(counts_line(progress.total, progress.done, progress.passed, progress.failed,
                                        progress.running, progress.waiting, result.count(CaseStatus.NOT_RUN),
                                        result.count(CaseStatus.STOPPED)))
        if progress.hold_s > 0:
            st.caption(f"The server answered 429: waiting {progress.hold_s:.0f} s (Retry-After) before sending more.")
        if progress.finished:
            if was_running:
                st.rerun()  # once: the whole page draws the final results (and this fragment stops polling)
            return
        stop_col.button("Stopping…" if progress.stopping else "Stop", icon=":material/stop_circle:",
                        key=f"cases.stop.{runner.id}", width="stretch", on_click=runner.stop,
                        disabled=progress.stopping, help="Cancel the running cases; the rest are not run")
        failures = [o for o in result.outcomes if o.status in (CaseStatus.FAILED, CaseStatus.STOPPED)]
        if failures:
            st.dataframe(results_frame(dataclasses.replace(result, outcomes=tuple(failures[-LIVE_FAILURES:]))),
                         hide_index=True, width="stretch", column_config=GRID_COLUMNS, key="cases.live.failures")
        st.caption("Failures appear here as they happen; every case's row, with its run, when the batch ends.")

    draw()


def batch_header(batch: BatchResult) -> None:
    """A finished batch in one line: counts, target, when and how long."""
    took = format_ms((batch.ended_at_ms or batch.started_at_ms) - batch.started_at_ms)
    when = f"{pd.Timestamp(batch.started_at_ms, unit='ms', tz='UTC'):%Y-%m-%d %H:%M:%S} UTC"
    st.markdown(counts_line(len(batch.outcomes), sum(o.status.final for o in batch.outcomes),
                            batch.count(CaseStatus.PASSED), batch.count(CaseStatus.FAILED), 0, 0,
                            batch.count(CaseStatus.NOT_RUN), batch.count(CaseStatus.STOPPED))
                + f" · {batch.target_label} · {when} · took {took} · concurrency {batch.concurrency}"
                + (" · stopped" if batch.stopped else ""))


def results_grid(batch: BatchResult, *, key: str) -> CaseOutcome | None:
    """The final grid; returns the outcome of the row picked, to show its checks and run."""
    only_failed = st.toggle("Only failures", key=f"{key}.only_failed")
    outcomes = [o for o in batch.outcomes if not only_failed or o.status in (CaseStatus.FAILED, CaseStatus.STOPPED)]
    frame = results_frame(dataclasses.replace(batch, outcomes=tuple(outcomes)))
    picked = st.dataframe(frame, hide_index=True, width="stretch", column_config=GRID_COLUMNS, on_select="rerun",
                          selection_mode="single-row", key=f"{key}.grid")
    rows = picked.selection.rows if picked is not None else []
    return outcomes[rows[0]] if rows else None


def outcome_detail(outcome: CaseOutcome) -> None:
    """One case of a batch: every check with its verdict and reason, and the run itself."""
    st.markdown(f"**{md(outcome.case_name, limit=200)}** · {STATUS_TEXT[outcome.status]}")
    if outcome.note:
        st.text(outcome.note)
    if outcome.result is not None:
        st.dataframe(pd.DataFrame([{"Verdict": "✓ pass" if c.passed else "✗ fail", "Check": c.label, "Why": c.reason}
                                   for c in outcome.result.checks], columns=["Verdict", "Check", "Why"]),
                     hide_index=True, width="stretch", column_config={"Verdict": st.column_config.TextColumn(width="small")})
    if outcome.result is not None and outcome.result.error:
        st.text(f"The run ended with: {outcome.result.error}")
    history = run_store()
    saved = history.get(outcome.run_id) if history is not None and outcome.run_id else None
    if saved is None:
        st.caption("This case has no saved run (it was not sent, or history is off).")
        return
    box = st.expander("The run: answer, trace, tool calls, events", key=f"cases.run_box.{saved.id}", on_change="rerun")
    if box.open:  # drawn only when opened: a whole run view costs more than the rest of the page
        with box:
            RunView(FrozenRun.of(saved), None, key=f"cases.run.{saved.id}").draw()


# -- comparing and downloading ----------------------------------------------------------------------
CHANGE_COLORS = {Change.REGRESSION: "background-color: rgba(255, 75, 75, 0.18)",
                 Change.IMPROVEMENT: "background-color: rgba(33, 195, 84, 0.18)"}


def comparison_frame(comparison: BatchComparison) -> pd.DataFrame:
    def status(o: CaseOutcome | None) -> str:
        return STATUS_TEXT[o.status] if o is not None else ""

    return pd.DataFrame(
        [{"Case": c.case_name, "Change": c.change.value, "Before": status(c.before), "Now": status(c.after),
          "Checks that changed": "; ".join(c.flipped),
          "Δ cost ($)": _money(c.cost_delta, "+"),
          "Δ time (ms)": f"{c.latency_delta_ms:+.0f}" if c.latency_delta_ms is not None else ""} for c in comparison.changes],
        columns=["Case", "Change", "Before", "Now", "Checks that changed", "Δ cost ($)", "Δ time (ms)"])


def compare_panel(store: CaseStore, scope: CaseScope, batch: BatchResult) -> None:
    others = [b for b in store.list_batches(scope, limit=30) if b.id != batch.id]
    if not others:
        st.caption("Run the cases again (for example on the draft, then on the deployed agent) to compare two batches.")
        return
    ids = {f"{pd.Timestamp(b.created_at_ms, unit='ms', tz='UTC'):%Y-%m-%d %H:%M:%S} · {b.target_label} · "
           f"{b.summary}": b.id for b in others}
    chosen = st.selectbox("Compare with an earlier batch", list(ids), index=None,
                          placeholder="pick a batch (it is “before”, this one is “now”)", key=f"cases.compare.{batch.id}")
    if chosen is None:
        return
    before = store.get_batch(scope, ids[chosen])
    if before is None:
        st.warning("That batch is no longer stored.")
        return
    comparison = compare_batches(before, batch)
    regressions, improvements = comparison.of(Change.REGRESSION), comparison.of(Change.IMPROVEMENT)
    st.markdown(f":red-badge[:material/trending_down: {len(regressions)} regression(s)] "
                f":green-badge[:material/trending_up: {len(improvements)} improvement(s)] "
                f"· {len(comparison.of(Change.STILL_PASSING))} still passing · "
                f"{len(comparison.of(Change.STILL_FAILING))} still failing")
    frame = comparison_frame(comparison)
    styled = frame.style.apply(
        lambda row: [CHANGE_COLORS.get(Change(row["Change"]), "")] * len(row), axis=1)
    st.dataframe(styled, hide_index=True, width="stretch",
                 column_config={"Δ cost ($)": st.column_config.TextColumn(alignment="right"),
                                "Δ time (ms)": st.column_config.TextColumn(alignment="right")})


def downloads(batch: BatchResult) -> None:
    stamp = f"{pd.Timestamp(batch.started_at_ms, unit='ms', tz='UTC'):%Y%m%d-%H%M%S}"
    csv_col, pytest_col, _ = st.columns([1, 1, 2])
    csv_col.download_button("Results (CSV)", batch_csv(batch), file_name=f"{batch.agent}-batch-{stamp}.csv",
                            mime="text/csv", icon=":material/download:", key=f"cases.csv.{batch.id}", width="stretch")
    source = f" from batch {batch.id[:8]} on {batch.target_label}, {stamp} UTC ({batch.summary})"
    pytest_col.download_button(
        "pytest file", pytest_file(batch.agent, list(batch.cases), source=source) if batch.cases else "",
        file_name=f"test_{batch.agent}_cases.py", mime="text/x-python", icon=":material/download:",
        key=f"cases.pytest.{batch.id}", width="stretch", disabled=not batch.cases,
        help="Reruns these cases with the official fruxon SDK against the deployed agent, with the same checks")
