"""Two saved runs side by side: headline deltas, then the step-by-step diff of their traces."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from components.live_panel import format_ms
from fruxon_playground.history import SavedRun
from fruxon_playground.trace import build_trace
from fruxon_playground.trace.diff import diff_traces


def _signed_ms(value: float | None) -> str:
    return "—" if value is None else ("+" if value >= 0 else "−") + format_ms(abs(value))


def compare_runs(before: SavedRun, after: SavedRun) -> None:
    """`before` is the older run."""
    if before.created_at_ms > after.created_at_ms:
        before, after = after, before
    st.subheader("Compare runs")
    st.caption(f"A = {before.agent_id} {before.kind} ({before.status}) · B = {after.agent_id} {after.kind} ({after.status})")
    duration = None if before.duration_ms is None or after.duration_ms is None else after.duration_ms - before.duration_ms
    cols = st.columns(3)
    cols[0].metric("Δ duration (B − A)", _signed_ms(duration))
    cols[1].metric("Δ cost", f"{after.total_cost - before.total_cost:+.7f} $")
    cols[2].metric("Δ tokens", f"{(after.input_tokens + after.output_tokens) - (before.input_tokens + before.output_tokens):+,}")
    if not before.trace or not after.trace:
        st.caption("One of the runs has no trace, so there are no steps to compare.")
        return
    diff = diff_traces(build_trace(before.trace), build_trace(after.trace))
    if diff.identical:
        st.success("The two traces have the same steps, timings, costs and payloads.")
        return
    st.dataframe(
        pd.DataFrame([{"Step": " / ".join(c.path), "Change": c.change, "Δ duration": _signed_ms(c.duration_delta_ms),
                       "Δ cost ($)": round(c.cost_delta, 7), "Δ tokens": c.tokens_delta,
                       "Also differs": ", ".join(c.changed_fields)} for c in diff.changes]),
        hide_index=True, width="stretch",
    )
