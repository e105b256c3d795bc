"""The trace viewer: a collapsible step tree (one table, fast at 10k rows), a detail pane and a
waterfall that share the selection. It only draws: the tree comes from `fruxon_playground.trace`.

Trace content is untrusted: names and payloads go into dataframes, `st.json`, `st.code` and
`st.text`, never into markdown or HTML.
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from fruxon_playground.trace import Kind, Span, Status, Trace, filter_spans

STATUS_ICON = {Status.SUCCESS: "✓", Status.ERROR: "✗", Status.RUNNING: "…", Status.UNKNOWN: "?"}
KIND_COLOR = {Kind.FLOW: "#9E9E9E", Kind.LLM: "#5B4BDB", Kind.AGENT: "#0F9D58", Kind.TOOL: "#F4B400",
              Kind.HITL: "#DB4437", Kind.JUDGE: "#00ACC1", Kind.SUMMARIZATION: "#8D6E63", Kind.UNKNOWN: "#607D8B"}
STATUS_COLOR = {Status.SUCCESS: "#0F9D58", Status.ERROR: "#D93025", Status.RUNNING: "#1A73E8", Status.UNKNOWN: "#5F6368"}
BAR_WIDTH = 24
PAGE_ROWS = 2_000  # rows per page of the tree table: big traces load in pages instead of freezing
WATERFALL_BARS = 300


def _ms(value: int | None) -> str:
    if value is None:
        return "—"
    return f"{value} ms" if value < 1000 else f"{value / 1000:.2f} s"


def _duration(span: Span) -> str:
    return "running…" if span.status is Status.RUNNING else _ms(span.duration_ms)


def timeline_bar(span: Span, start: int | None, total: int | None) -> str:
    """Where the step sits in time, as a fixed-width bar of block characters."""
    if start is None or not total or span.start_ms is None:
        return ""
    offset = max(0, min(BAR_WIDTH - 1, round((span.start_ms - start) / total * BAR_WIDTH)))
    width = max(1, round((span.duration_ms or 0) / total * BAR_WIDTH)) if span.duration_ms is not None else BAR_WIDTH - offset
    return "░" * offset + "█" * min(width, BAR_WIDTH - offset) + "░" * max(0, BAR_WIDTH - offset - width)


def visible_rows(trace: Trace, expanded: set[str], shown: set[str] | None) -> list[Span]:
    """Pre-order rows whose ancestors are all expanded (and that the filter keeps)."""
    rows: list[Span] = []
    stack = list(reversed(trace.roots))
    while stack:
        span = trace.spans[stack.pop()]
        if shown is not None and span.id not in shown:
            continue
        rows.append(span)
        if span.id in expanded or shown is not None:  # a search shows its matches' ancestors opened
            stack.extend(reversed(span.children))
    return rows


def expanded_to_level(trace: Trace, level: int) -> set[str]:
    return {s.id for s in trace.walk() if s.depth < level and s.children}


FIRST_VIEW_ROWS = 300


def initial_expansion(trace: Trace) -> set[str]:
    """On open: as many levels as fit in a first screenful (at most 2), plus the path to the first error."""
    expanded: set[str] = set()
    for level in (1, 2):
        candidate = expanded_to_level(trace, level)
        if len(visible_rows(trace, candidate, None)) > FIRST_VIEW_ROWS and expanded:
            break
        expanded = candidate
    return expanded | set(trace.first_error_path())


def _state(key: str, trace: Trace) -> dict[str, Any]:
    fingerprint = (len(trace.spans), trace.roots)
    state = st.session_state.get(key)
    if state is None or state.get("fingerprint") != fingerprint:
        state = {"fingerprint": fingerprint, "expanded": initial_expansion(trace),
                 "selected": (trace.first_error_path() or trace.roots or (None,))[-1]}
        st.session_state[key] = state
    return state


def _frame(rows: list[Span], trace: Trace, expanded: set[str]):
    start = trace.start_ms or min((s.start_ms for s in rows if s.start_ms), default=None)
    ends = [s.end_ms for s in trace.spans.values() if s.end_ms]
    total = (trace.end_ms or (max(ends) if ends else None))
    total = (total - start) if total and start else None
    records = []
    for span in rows:
        marker = ("▾ " if span.id in expanded else "▸ ") if span.children else "  "
        records.append({
            "Step": "    " * span.depth + marker + span.name,
            "Type": span.raw_type or span.kind.value,
            "Status": f"{STATUS_ICON[span.status]} {span.raw_status or span.status.value}",
            "Duration": _duration(span),
            "Cost ($)": round(span.subtree_cost, 7),
            "Tokens": span.subtree_input_tokens + span.subtree_output_tokens,
            "Timeline": timeline_bar(span, start, total),
        })
    frame = pd.DataFrame(records, columns=["Step", "Type", "Status", "Duration", "Cost ($)", "Tokens", "Timeline"])
    kinds = [span.kind for span in rows]
    statuses = [span.status for span in rows]
    # Colour by type and status: the type in its kind's colour, the status in its own.
    return frame.style.apply(lambda _: [f"color: {KIND_COLOR[k]}; font-weight: 600" for k in kinds], subset=["Type"]).apply(
        lambda _: [f"color: {STATUS_COLOR[s]}" for s in statuses], subset=["Status"])


def waterfall(rows: list[Span], trace: Trace, selected: str | None) -> go.Figure:
    timed = [s for s in rows if s.start_ms is not None]
    start = min((s.start_ms for s in timed), default=0)
    figure = go.Figure(
        go.Bar(
            y=[f"{'  ' * s.depth}{s.name} #{i}" for i, s in enumerate(timed)],
            x=[(s.duration_ms if s.duration_ms is not None else max(1, (trace.end_ms or s.start_ms) - s.start_ms)) for s in timed],
            base=[s.start_ms - start for s in timed],
            orientation="h",
            marker={"color": [KIND_COLOR[s.kind] if s.status is not Status.ERROR else "#D93025" for s in timed],
                    "line": {"width": [3 if s.id == selected else 0 for s in timed], "color": "#111"}},
            customdata=[s.id for s in timed],
            hovertemplate="%{y}<br>starts at %{base} ms, lasts %{x} ms<extra></extra>",
        )
    )
    figure.update_layout(height=max(220, 26 * len(timed) + 60), margin={"l": 10, "r": 10, "t": 10, "b": 30},
                         yaxis={"autorange": "reversed", "automargin": True}, xaxis={"title": "ms since start"},
                         showlegend=False, clickmode="event+select")
    return figure


def detail_pane(span: Span) -> None:
    st.markdown(f"**{STATUS_ICON[span.status]} {span.kind.value}** · {_duration(span)} · "
                f"self {_ms(span.self_time_ms)} · ${span.subtree_cost:.7f} in this subtree")
    st.text(span.name)
    if span.error:
        st.error(span.error)
    if span.llm:
        st.caption(f"LLM {span.llm.get('providerId', '')} · {span.model or ''} · "
                   f"{span.input_tokens} in / {span.output_tokens} out · ${span.cost:.7f}")
        for message in span.llm.get("systemInstructions") or []:
            st.caption("System")
            st.text(str(message.get("content", "")))
        for message in span.llm.get("llmMessages") or []:
            st.caption(str(message.get("role", "message")).capitalize())
            st.text(str(message.get("content", "")))
    if span.tool_name or span.kind is Kind.TOOL:
        st.caption(f"Tool {span.tool_name or ''}")
        st.code(json.dumps(span.arguments, indent=2, ensure_ascii=False, default=str), language="json", wrap_lines=True)
        delivery = ((span.raw.get("toolTrace") or {}).get("resultDelivery") or {})
        if delivery:
            st.caption(f"Result: {delivery.get('resultBytes', '?')} bytes, {delivery.get('deliveredBytes', '?')} delivered to the model")
    if span.result is not None:
        st.caption("Result")
        st.code(span.result if isinstance(span.result, str) else json.dumps(span.result, indent=2, ensure_ascii=False),
                language="json", wrap_lines=True)
    if span.hitl:
        st.caption("Human approval")
        st.json(span.hitl)
    with st.expander("Raw step JSON (copy)"):
        st.code(json.dumps({k: v for k, v in span.raw.items() if k != "steps"}, indent=2, ensure_ascii=False, default=str),
                language="json", wrap_lines=True)


def trace_viewer(trace: Trace, *, key: str) -> None:
    if not trace.spans:
        st.caption("This trace has no steps.")
        return
    state = _state(key, trace)
    revision = "draft" if trace.agent_revision is None else f"revision {trace.agent_revision}"
    errors = sum(1 for s in trace.spans.values() if s.status is Status.ERROR)
    st.caption(f"{trace.agent_id or 'agent'} · {revision} · {len(trace.spans)} steps · {errors} failed · "
               f"${trace.total_cost:.7f} · {trace.input_tokens:,} in / {trace.output_tokens:,} out tokens"
               + (" · live" if trace.is_live else ""))
    for warning in trace.warnings:
        st.caption(f"⚠ {warning}")
    search_col, errors_col, min_col, level_col = st.columns([3, 1, 1, 1], vertical_alignment="bottom")
    query = search_col.text_input("Search steps", key=f"{key}.q", placeholder="name, type, status or text in inputs/outputs")
    errors_only = errors_col.toggle("Errors only", key=f"{key}.errors")
    min_ms = min_col.number_input("Hide shorter than (ms)", min_value=0, step=50, key=f"{key}.min")
    level = level_col.number_input("Expand to level", min_value=0, max_value=12, value=2, step=1, key=f"{key}.level")
    expand_col, collapse_col, level_button_col = st.columns(3)
    if expand_col.button("Expand all", key=f"{key}.all", width="stretch"):
        state["expanded"] = {s.id for s in trace.spans.values() if s.children}
    if collapse_col.button("Collapse all", key=f"{key}.none", width="stretch"):
        state["expanded"] = set()
    if level_button_col.button(f"Expand to level {level}", key=f"{key}.to_level", width="stretch"):
        state["expanded"] = expanded_to_level(trace, int(level))
    filtering = bool(query.strip()) or errors_only or min_ms > 0
    shown = filter_spans(trace, query, errors_only=errors_only, min_duration_ms=int(min_ms)) if filtering else None
    all_rows = visible_rows(trace, state["expanded"], shown)
    if filtering:
        st.caption(f"{len(shown or ())} of {len(trace.spans)} steps match (with their parents).")
    pages = max(1, -(-len(all_rows) // PAGE_ROWS))
    page = 1
    if pages > 1:
        page = int(st.number_input(f"{len(all_rows):,} rows — page (of {pages}, {PAGE_ROWS:,} rows each)",
                                   min_value=1, max_value=pages, value=1, key=f"{key}.page"))
        st.info(f"This trace is large: showing rows {(page - 1) * PAGE_ROWS + 1:,}–{min(page * PAGE_ROWS, len(all_rows)):,} "
                f"of {len(all_rows):,}. Search or collapse to narrow it down.")
    rows = all_rows[(page - 1) * PAGE_ROWS: page * PAGE_ROWS]
    event = st.dataframe(
        _frame(rows, trace, state["expanded"]),
        key=f"{key}.table.{len(rows)}.{hash(frozenset(state['expanded']))}",
        hide_index=True,
        width="stretch",
        height=min(560, 38 + 35 * len(rows)),
        on_select="rerun",
        selection_mode="single-row",
        column_config={"Cost ($)": st.column_config.NumberColumn(format="%.7f"),
                       "Timeline": st.column_config.TextColumn(width="medium")},
    )
    picked = event.selection.rows if event is not None else []
    if picked and picked[0] < len(rows):
        span = rows[picked[0]]
        if span.id != state.get("selected") or not span.children:
            state["selected"] = span.id
        if span.children:  # clicking a parent opens or closes it
            state["expanded"] ^= {span.id}
            st.rerun()
    tree_col, detail_col = st.columns([3, 2])
    with tree_col:
        if len(rows) > WATERFALL_BARS:
            st.caption(f"The waterfall shows the first {WATERFALL_BARS} of these {len(rows):,} rows.")
        chart = st.plotly_chart(waterfall(rows[:WATERFALL_BARS], trace, state.get("selected")), key=f"{key}.waterfall",
                                on_select="rerun", selection_mode="points", width="stretch")
        points = chart["selection"]["points"] if chart and "selection" in chart else []
        if points and points[0].get("customdata") in trace.spans:
            state["selected"] = points[0]["customdata"]
    with detail_col:
        selected = trace.spans.get(state.get("selected"))
        if selected is not None:
            detail_pane(selected)
