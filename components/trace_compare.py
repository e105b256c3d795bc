"""Two runs compared like a diff tool: the verdict, the inputs, the answers word by word side by
side, and the traces step by step with the tool payloads that changed.

Everything drawn here is untrusted (answers, step names, tool payloads, ids): HTML is built only from
`html.escape`d pieces, Markdown only from `md()`-escaped ones, and tables are canvas text.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

import pandas as pd
import streamlit as st

from components.safe import md
from fruxon_playground.compare import (
    AlignedStep,
    LinePair,
    Op,
    RunComparison,
    Segment,
    StepStatus,
    Tone,
    collapse_equal,
    format_cost,
    format_count,
    format_ms,
    payload_diff,
)
from fruxon_playground.compare import compare_runs as compare_saved_runs
from fruxon_playground.history import SavedRun

MAX_PAYLOAD_STEPS = 30  # steps whose changed payloads get a side-by-side view; the rest are counted
MAX_STYLED_ROWS = 1_000  # past this the step table is drawn without row colours (styling is per cell)
_MANY_STEPS = 60  # from here the step table starts with only the steps that differ

_BADGE_COLORS = {Tone.SAME: "green", Tone.BETTER: "green", Tone.WORSE: "red", Tone.DIFFERENT: "orange",
                 Tone.NEUTRAL: "gray"}
_TOPIC_ICONS = {"answer": ":material/chat:", "outcome": ":material/flag:", "cost": ":material/payments:",
                "latency": ":material/timer:", "tools": ":material/build:"}
# Translucent colours read on the light and the dark theme alike.
_INSERT_BG, _DELETE_BG, _CHANGE_BG = "rgba(33,195,84,.28)", "rgba(255,75,75,.28)", "rgba(255,170,0,.20)"
_INSERT_LINE, _DELETE_LINE = "rgba(33,195,84,.10)", "rgba(255,75,75,.10)"
_EMPTY_SIDE = "rgba(128,128,128,.08)"
_BORDER = "1px solid rgba(128,128,128,.30)"
_ROW_BG = {StepStatus.ADDED.value: _INSERT_LINE, StepStatus.REMOVED.value: _DELETE_LINE,
           StepStatus.CHANGED.value: "rgba(255,170,0,.10)"}
_TONE_TEXT = {Tone.BETTER: "color: rgb(33,165,74)", Tone.WORSE: "color: rgb(230,60,60)"}


def compare_runs(before: SavedRun, after: SavedRun) -> None:
    """History's entry point: the older run is A, the newer B."""
    if before.created_at_ms > after.created_at_ms:
        before, after = after, before
    draw_comparison(compare_saved_runs(before, after))


def draw_comparison(comparison: RunComparison, *, key: str = "compare") -> None:
    """The whole comparison; `key` keeps widgets apart when a page draws more than one."""
    st.subheader("Compare runs")
    _verdict(comparison)
    _run_cards(comparison)
    left, right = st.columns([4, 3])
    with left:
        _inputs(comparison)
    with right:
        _figures(comparison)
    _answers(comparison)
    _steps(comparison, key)


# -- verdict and the two runs -----------------------------------------------------------------------
def _verdict(comparison: RunComparison) -> None:
    badges = [f":{_BADGE_COLORS[p.tone]}-badge[{_TOPIC_ICONS.get(p.topic, '')} {md(p.text, limit=300)}]"
              for p in comparison.verdict.parts]
    st.markdown("&nbsp; ".join(badges))


def _run_cards(comparison: RunComparison) -> None:
    for column, letter, run, target, state in zip(
            st.columns(2), "AB", (comparison.a, comparison.b), (comparison.target_a, comparison.target_b),
            (comparison.state_a, comparison.state_b), strict=True):
        when = pd.Timestamp(run.created_at_ms, unit="ms", tz="UTC").strftime("%Y-%m-%d %H:%M:%S UTC")
        with column.container(border=True):
            st.markdown(f"**{letter}** · {md(target.label, limit=120)}")
            details = [when, state.phase.value.replace("_", " "), format_ms(run.duration_ms)]
            if run.execution_record_id:
                details.append(f"record {md(run.execution_record_id, limit=40)}")
            st.caption(" · ".join(details))


# -- inputs and figures -----------------------------------------------------------------------------
def _inputs(comparison: RunComparison) -> None:
    st.markdown("**Inputs**")
    changed = len(comparison.changed_inputs)
    st.caption(f"{changed} of {len(comparison.inputs)} differ" if changed else "The same inputs.")
    frame = pd.DataFrame(
        [{"": "≠" if row.changed else "", "Input": row.name if row.group != "Parameter" else f"param · {row.name}",
          "A": row.before, "B": row.after + (f"  ({row.note})" if row.note else "")} for row in comparison.inputs],
        columns=["", "Input", "A", "B"],
    )
    marks = [bool(r.changed) for r in comparison.inputs]
    styled = frame.style.apply(lambda col: [f"background-color: {_CHANGE_BG}" if m else "" for m in marks], axis=0)
    st.dataframe(styled, hide_index=True, width="stretch", height=_table_height(len(frame)),
                 column_config={"": st.column_config.TextColumn(width=28), "Input": st.column_config.TextColumn(width="small")})


def _figures(comparison: RunComparison) -> None:
    st.markdown("**Figures**")
    st.caption("Δ = B − A; green is better, red is worse.")
    figures = comparison.figures
    frame = pd.DataFrame(
        [{"Measure": f.name, "A": f.shown(f.before), "B": f.shown(f.after), "Δ": f.shown(f.delta, signed=True)}
         for f in figures],
        columns=["Measure", "A", "B", "Δ"],
    )
    tones = [_TONE_TEXT.get(f.tone, "") for f in figures]
    styled = frame.style.apply(lambda _: tones, subset=["Δ"], axis=0)
    st.dataframe(styled, hide_index=True, width="stretch", height=_table_height(len(frame)),
                 column_config={"Measure": st.column_config.TextColumn(width=150),
                                **{name: st.column_config.TextColumn(width=95) for name in ("A", "B", "Δ")}})


def _table_height(rows: int) -> int:
    """Every row shown, no inner scrollbar: the header and each row are 35 px, plus the border."""
    return 35 * (rows + 1) + 3


# -- answers -----------------------------------------------------------------------------------------
def _answers(comparison: RunComparison) -> None:
    st.markdown("**Answers**")
    diff = comparison.answer
    if diff.same and diff.before:
        st.caption("Both runs gave the same answer.")
    elif not diff.same:
        note = " Passages too long for a word diff are marked whole." if diff.coarse else ""
        st.caption(f"Word by word: red is only in A, green only in B.{note}")
    for column, letter, state, side in zip(st.columns(2), "AB", (comparison.state_a, comparison.state_b),
                                           ("before", "after"), strict=True):
        with column:
            body = _segments_html(diff.segments, side) if (diff.before if side == "before" else diff.after) else ""
            if not body:
                reason = state.error_message or "no answer"
                body = f'<span style="opacity:.65;font-style:italic">{html.escape(reason)}</span>'
            st.html(f'<div data-testid="compare-answer-{letter.lower()}" style="{_TEXT_BOX}">'
                    f'<div style="font-size:.75rem;opacity:.6;margin-bottom:.35rem">{letter}</div>{body}</div>')


_TEXT_BOX = (f"white-space:pre-wrap;overflow-wrap:anywhere;line-height:1.65;padding:.75rem 1rem;border:{_BORDER};"
             "border-radius:.5rem;max-height:32rem;overflow:auto")


def _segments_html(segments: Sequence[Segment], side: str) -> str:
    """One side of a word diff as HTML: A shows what B deleted or replaced in red, B what it inserted
    or replaced in green. Every piece of text is escaped."""
    parts = []
    for segment in segments:
        text = segment.before if side == "before" else segment.after
        if not text:
            continue
        if segment.op is Op.EQUAL:
            parts.append(html.escape(text))
        elif side == "before":
            parts.append(f'<del style="background:{_DELETE_BG};text-decoration:none;border-radius:3px">'
                         f"{html.escape(text)}</del>")
        else:
            parts.append(f'<ins style="background:{_INSERT_BG};text-decoration:none;border-radius:3px">'
                         f"{html.escape(text)}</ins>")
    return "".join(parts)


# -- steps ---------------------------------------------------------------------------------------------
def _steps(comparison: RunComparison, key: str) -> None:
    st.markdown("**Trace, step by step**")
    has_a, has_b = comparison.has_traces
    if not (has_a and has_b):
        missing = "Neither run has" if not (has_a or has_b) else ("A has" if not has_a else "B has")
        st.caption(f"{missing} no trace (a run that failed before it started, or was stopped early), "
                   "so there are no steps to align.")
        return
    diff = comparison.trace_diff
    assert diff is not None
    steps = comparison.steps
    changed = sum(1 for s in steps if s.status is StepStatus.CHANGED)
    summary = [f"{len(steps):,} steps aligned",
               f"{changed:,} with different payloads or status" if changed else "",
               f"{len(diff.added):,} only in B" if diff.added else "",
               f"{len(diff.removed):,} only in A" if diff.removed else "",
               f"Δ server time {format_ms(diff.duration_delta_ms, signed=True)}",
               f"Δ cost {format_cost(diff.cost_delta, signed=True)}",
               f"Δ tokens {format_count(diff.tokens_delta, signed=True)}"]
    st.caption(" · ".join(part for part in summary if part))
    only_differing = st.toggle("Only steps that differ", value=len(steps) > _MANY_STEPS, key=f"{key}.steps.differing")
    shown = [s for s in steps if s.differs] if only_differing else list(steps)
    if not shown:
        st.caption("No step differs: same steps, payloads, times, costs and tokens.")
        return
    frame = _steps_frame(shown)
    data: pd.DataFrame | pd.io.formats.style.Styler = frame
    if len(frame) <= MAX_STYLED_ROWS:
        data = frame.style.apply(
            lambda row: [f"background-color: {_ROW_BG[row['Change']]}" if row["Change"] in _ROW_BG else ""] * len(row),
            axis=1)
    st.dataframe(data, hide_index=True, width="stretch", height=min(_table_height(len(frame)), 560),
                 column_config={"Step": st.column_config.TextColumn(width="medium"),
                                "What differs": st.column_config.TextColumn(width="large")})
    _payloads([s for s in shown if s.has_payloads])


def _steps_frame(steps: Sequence[AlignedStep]) -> pd.DataFrame:
    rows = []
    for step in steps:
        span = step.span
        before, after = step.before, step.after
        rows.append({
            "Change": "" if step.status is StepStatus.SAME else step.status.value,
            "Step": "\u2003" * span.depth + span.name,
            "Kind": span.kind.value,
            "Time A": format_ms(before.duration_ms) if before else "",
            "Time B": format_ms(after.duration_ms) if after else "",
            "Δ time": format_ms(step.duration_delta_ms, signed=True) if step.duration_delta_ms is not None else "",
            "Δ cost": format_cost(step.cost_delta, signed=True) if step.cost_delta else "",
            "Δ tokens": format_count(step.tokens_delta, signed=True) if step.tokens_delta else "",
            "What differs": step.what_differs if step.status is StepStatus.CHANGED else "",
        })
    return pd.DataFrame(rows, columns=["Change", "Step", "Kind", "Time A", "Time B", "Δ time", "Δ cost", "Δ tokens",
                                       "What differs"])


# -- tool payloads side by side ----------------------------------------------------------------------------
def _payloads(steps: Sequence[AlignedStep]) -> None:
    if not steps:
        return
    st.markdown("**Arguments and results that differ**")
    for step in steps[:MAX_PAYLOAD_STEPS]:
        span = step.span
        label = f"{span.name} · {span.tool_name}" if span.tool_name else span.name
        what = {StepStatus.ADDED: "only in B", StepStatus.REMOVED: "only in A"}.get(step.status, step.what_differs)
        with st.expander(f"{md(label, limit=120)} — {md(what, limit=160)}"):
            before, after = step.before, step.after
            for name, changed, old, new in (
                    ("Arguments", bool(step.argument_changes), before.arguments if before else None,
                     after.arguments if after else None),
                    ("Result", bool(step.result_changes), before.result if before else None,
                     after.result if after else None)):
                one_sided = step.status in (StepStatus.ADDED, StepStatus.REMOVED) and (old is not None or new is not None)
                if changed or one_sided:
                    st.caption(name)
                    st.html(_payload_html(payload_diff(old, new)))
    hidden = len(steps) - MAX_PAYLOAD_STEPS
    if hidden > 0:
        st.caption(f"{hidden:,} more steps with different payloads are in the table above.")


_CELL = "padding:1px 8px;vertical-align:top;white-space:pre-wrap;overflow-wrap:anywhere;border:none"
_NUMBER = "padding:1px 6px;text-align:right;opacity:.5;user-select:none;vertical-align:top;border:none;width:3rem"


def _payload_html(rows: Sequence[LinePair]) -> str:
    """Two JSON documents side by side, line numbers on each side, changed lines tinted and the
    changed words in them highlighted; long unchanged stretches folded."""
    body = []
    for row in collapse_equal(rows):
        if isinstance(row, int):
            body.append(f'<tr><td colspan="4" style="{_CELL};text-align:center;opacity:.6;background:{_EMPTY_SIDE}">'
                        f"⋯ {row:,} unchanged line{'s' if row != 1 else ''} ⋯</td></tr>")
            continue
        left, right = _line_html(row, "before"), _line_html(row, "after")
        left_bg = _DELETE_LINE if row.op in (Op.DELETE, Op.REPLACE) else _EMPTY_SIDE if row.before_number is None else ""
        right_bg = _INSERT_LINE if row.op in (Op.INSERT, Op.REPLACE) else _EMPTY_SIDE if row.after_number is None else ""
        body.append(
            f'<tr><td style="{_NUMBER}">{row.before_number or ""}</td>'
            f'<td style="{_CELL};background:{left_bg or "transparent"}">{left}</td>'
            f'<td style="{_NUMBER};border-left:{_BORDER}">{row.after_number or ""}</td>'
            f'<td style="{_CELL};background:{right_bg or "transparent"}">{right}</td></tr>')
    return ('<table style="width:100%;border-collapse:collapse;table-layout:fixed;font-family:ui-monospace,'
            f'SFMono-Regular,Menlo,monospace;font-size:.8rem;line-height:1.5;border:{_BORDER};border-radius:.5rem">'
            '<colgroup><col style="width:3rem"><col><col style="width:3rem"><col></colgroup>'
            f'<tbody>{"".join(body)}</tbody></table>')


def _line_html(row: LinePair, side: str) -> str:
    if row.words is not None:
        return _segments_html(row.words.segments, side)
    return html.escape(row.before if side == "before" else row.after)
