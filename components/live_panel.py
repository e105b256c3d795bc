"""The live stream panel: draws a RunHandle's snapshot, and follows it while it runs.

How it stays live: the page draws everything, then calls `follow()` last. `follow()` loops on the
script thread, redrawing a few placeholders every REDRAW_S from a snapshot of the run (the worker
thread reads the socket): the status line and the text every time, the steps table and the event
tail at most every SLOW_REDRAW_S (a table redrawn at 16 Hz kept the browser so busy that text
waited behind it: p95 emit→DOM 0.5 s at 20 events/s). Any click reruns the script, which
interrupts this loop at its next redraw and then re-enters it, so the page stays usable. When the
run ends, one `st.rerun()` draws the final, complete view (event log, trace, approval controls).

Agent output, tool payloads and step names are untrusted: they go through `st.text`, `st.json`,
`st.code` or dataframes, never markdown or HTML.
"""

from __future__ import annotations

import json
import time
from itertools import islice
from typing import Any

import pandas as pd
import streamlit as st

from components.safe import md
from fruxon_playground.runs.fold import Phase, RunState, StepRow, ToolCard
from fruxon_playground.runs.handle import RunHandle, RunSnapshot

REDRAW_S = 0.06  # text and status
SLOW_REDRAW_S = 0.25  # the steps table and the event tail: a table redraw costs the browser far more than text
TAIL_EVENTS = 8
PARAGRAPH_SOFT_LIMIT = 1_500  # long unbroken text is split into blocks so each redraw stays small
TOOL_CARDS_SHOWN = 50  # each card is an expander: thousands (a long loop, a huge trace) would stall the page

# Streamlit's own icon font and badges: they render the same everywhere (no emoji font needed).
PHASE_BADGE = {
    Phase.CONNECTING: ("gray", ":material/hourglass_top:", "Connecting"),
    Phase.RUNNING: ("blue", ":material/stream:", "Running"),
    Phase.RESUMING: ("blue", ":material/resume:", "Resuming after your decision"),
    Phase.COMPLETED: ("green", ":material/check_circle:", "Completed"),
    Phase.WAITING_FOR_HUMAN: ("orange", ":material/front_hand:", "Waiting for approval"),
    Phase.REJECTED: ("red", ":material/block:", "Rejected"),
    Phase.FAILED: ("red", ":material/error:", "Failed"),
    Phase.INTERRUPTED: ("orange", ":material/link_off:", "Interrupted"),
    Phase.STOPPED: ("gray", ":material/stop_circle:", "Stopped"),
}


def phase_badge(phase: Phase) -> str:
    color, icon, label = PHASE_BADGE[phase]
    return f":{color}-badge[{icon} {label}]"


def split_blocks(text: str) -> list[str]:
    """Paragraphs, with very long ones cut at the last space before PARAGRAPH_SOFT_LIMIT (spaces at a
    cut are dropped). While text only grows, every block but the last stays as it is.

    Linear in the text: it walks offsets and copies each block once (slicing off the rest of the
    paragraph at each cut made a 1 MB answer cost ~0.5 GB of copying per redraw)."""
    blocks: list[str] = []
    end_of_text = len(text)
    start = 0
    while True:
        end = text.find("\n\n", start)
        end = end_of_text if end < 0 else end
        while end - start > PARAGRAPH_SOFT_LIMIT:
            cut = text.rfind(" ", start, start + PARAGRAPH_SOFT_LIMIT)
            cut = cut if cut > start else start + PARAGRAPH_SOFT_LIMIT
            blocks.append(text[start:cut])
            start = cut
            while start < end and text[start] == " ":
                start += 1
        blocks.append(text[start:end])
        if end == end_of_text:
            return blocks
        start = end + 2


def format_ms(ms: float | None) -> str:
    if ms is None:
        return "—"
    if ms < 1000:
        return f"{ms:.0f} ms"
    return f"{ms / 1000:.2f} s"


def stats_line(snapshot: RunSnapshot, *, streamed: bool) -> str:
    """The panel's first line: the phase, elapsed time and, for streams, how the stream is doing."""
    state, health = snapshot.state, snapshot.state.health
    parts = [phase_badge(state.phase), format_ms(snapshot.elapsed_ms)]
    if streamed and health.event_count:
        parts += [
            f"first text {format_ms(health.first_text_ms)}",
            f"{health.event_count} events",
            f"{health.events_per_second(None if snapshot.finished else snapshot.elapsed_ms):.0f} events/s",
            f"max gap {format_ms(health.max_gap_ms)}",
        ]
        if health.stalls:
            parts.append(f"{health.stalls} stall(s) > 2 s")
    return " · ".join(parts)


def steps_frame(steps: list[StepRow]) -> pd.DataFrame:
    rows = [
        {
            "Step": ("    " * step.depth) + ("└ " if step.depth else "") + step.name,
            "Type": step.type,
            "Status": step.status,
            "Duration": format_ms(step.duration_ms) if not step.running else "running…",
        }
        for step in steps
    ]
    return pd.DataFrame(rows, columns=["Step", "Type", "Status", "Duration"])


def ordered_steps(state: RunState) -> list[StepRow]:
    """Parents before children, siblings in arrival order."""
    children: dict[str | None, list[StepRow]] = {}
    for step in state.steps.values():
        parent = step.parent_id if step.parent_id in state.steps else None
        children.setdefault(parent, []).append(step)
    ordered: list[StepRow] = []
    stack = list(reversed(children.get(None, [])))
    while stack:
        step = stack.pop()
        ordered.append(step)
        stack.extend(reversed(children.get(step.id, [])))
    return ordered


def _json_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


def draw_tool_card(card: ToolCard) -> None:
    with st.container(border=True):
        if card.running:
            badge = ":blue-badge[:material/pending: running]"
        elif card.failed:
            badge = f":red-badge[:material/error: {md(card.status, limit=40)}]"
        else:
            badge = f":green-badge[:material/check: {md(card.status, limit=40)}]"
        extra = " · result without a call" if card.orphan else ""
        st.markdown(f"{badge} · {format_ms(card.duration_ms)}{extra}")
        st.text(f"{card.display_name} ({card.name})")
        st.caption("Arguments")
        st.code(_json_text(card.arguments), language="json", wrap_lines=True, height=min(200, 40 + 20 * _json_text(card.arguments).count(chr(10))))
        if not card.running:
            shown = card.error if card.error else card.result
            st.caption("Error" if card.error else "Result")
            st.code(_json_text(shown), language="json", wrap_lines=True, height=min(240, 40 + 20 * _json_text(shown).count(chr(10))))


def _stop(handle: RunHandle) -> None:
    """Stop's callback: it runs before the page script, so the form's Run buttons draw enabled."""
    handle.cancel()
    handle.wait(1.5)


def stop_button(handle: RunHandle, *, key: str) -> None:
    st.button("Stop run", icon=":material/stop_circle:", key=key, on_click=_stop, args=(handle,),
              help="Close the connection now; everything received so far is kept and saved")


class LivePanel:
    """A run while it runs: draws the layout once, then `follow()` redraws only what changed."""

    def __init__(self, handle: RunHandle, *, key: str) -> None:
        self.handle = handle
        self.key = key
        self.streamed = handle.kind.streamed

    def draw(self) -> RunSnapshot:
        snapshot = self.handle.snapshot()
        # The finished view (components/run_view.py) has the same two containers, status then answer: when
        # the run ends, the answer's blocks keep their place and the Stop button goes at once.
        stats_col, stop_col = st.container().columns([5, 2], vertical_alignment="center")
        self._stats = stats_col.empty()
        self._stats.markdown(stats_line(snapshot, streamed=self.streamed))
        if not snapshot.finished:
            with stop_col:
                stop_button(self.handle, key=f"{self.key}.stop")
        self._text = st.container()
        self._text_slots: list[Any] = []
        self._drawn_blocks: list[str] = []
        self._draw_text(snapshot.state)
        self._usage = st.empty()
        self._draw_usage(snapshot.state)
        self._tools = st.container()
        self._tool_slots: dict[str, Any] = {}
        self._drawn_tools: dict[str, ToolCard] = {}
        self._more_tools = st.empty()
        self._draw_tools(snapshot.state)
        self._steps = st.empty()
        self._draw_steps(snapshot.state)
        self._tail = st.empty()
        if self.streamed and snapshot.received:
            self._draw_tail(snapshot)
        self._slow_drawn_at = time.monotonic()
        self._last = self._slow_last = snapshot
        return snapshot

    def follow(self) -> None:
        """Redraws while the run is live; once it ended, one full rerun draws the finished run."""
        if self._last.finished:
            st.rerun()  # it ended while the panel drew, and the finished view drew below it: draw only that
        tick = time.monotonic()
        while True:
            tick = max(tick + REDRAW_S, time.monotonic() + 0.005)  # a slow redraw is not followed by a full sleep
            time.sleep(tick - time.monotonic())
            snapshot = self.handle.snapshot()
            self._redraw(snapshot)
            if snapshot.finished:
                st.rerun()

    # -- incremental drawing ------------------------------------------------------------------
    def _redraw(self, snapshot: RunSnapshot) -> None:
        previous, state = self._last.state, snapshot.state
        self._stats.markdown(stats_line(snapshot, streamed=self.streamed))  # always: it lets a click interrupt us
        if state.text != previous.text or state.phase is not previous.phase:
            self._draw_text(state)
        if state.tools is not previous.tools:
            self._draw_tools(state)
        if state.usage is not previous.usage:
            self._draw_usage(state)
        self._last = snapshot
        now = time.monotonic()
        if now - self._slow_drawn_at < SLOW_REDRAW_S:
            return
        slow = self._slow_last
        if state.steps is not slow.state.steps:
            self._draw_steps(state)
        if self.streamed and len(snapshot.received) != len(slow.received):
            self._draw_tail(snapshot)
        self._slow_drawn_at, self._slow_last = now, snapshot

    def _draw_text(self, state: RunState) -> None:
        blocks = split_blocks(state.text) if state.text else []
        for index, block in enumerate(blocks):
            if index < len(self._drawn_blocks) and self._drawn_blocks[index] == block:
                continue
            while index >= len(self._text_slots):
                self._text_slots.append(self._text.empty())
            self._text_slots[index].text(block)
            if index < len(self._drawn_blocks):
                self._drawn_blocks[index] = block
            else:
                self._drawn_blocks.append(block)
        for slot in self._text_slots[len(blocks):]:  # the text was replaced by a shorter one (a resumed record)
            slot.empty()
        del self._drawn_blocks[len(blocks):]
        if not blocks:
            if not self._text_slots:
                self._text_slots.append(self._text.empty())
            waiting = "Waiting for the first words…" if self.streamed else "Waiting for the answer (a sync run answers all at once)…"
            if state.phase.is_final:
                self._text_slots[0].empty()
            else:
                self._text_slots[0].caption(waiting)

    def _draw_steps(self, state: RunState) -> None:
        steps = ordered_steps(state)
        if steps:
            with self._steps.container():
                st.caption("Steps")
                st.dataframe(steps_frame(steps), hide_index=True, width="stretch")

    def _draw_tools(self, state: RunState) -> None:
        """The first TOOL_CARDS_SHOWN calls as cards, redrawn when they change; a count of the rest."""
        for tool_id, card in islice(state.tools.items(), TOOL_CARDS_SHOWN):
            if self._drawn_tools.get(tool_id) == card:
                continue
            slot = self._tool_slots.get(tool_id)
            if slot is None:
                slot = self._tool_slots[tool_id] = self._tools.empty()
            with slot.container():
                draw_tool_card(card)
            self._drawn_tools[tool_id] = card
        more = len(state.tools) - TOOL_CARDS_SHOWN
        if more > 0:
            self._more_tools.caption(f"{len(state.tools):,} tool calls so far; the first {TOOL_CARDS_SHOWN} are shown, "
                                     "the trace will have them all")

    def _draw_usage(self, state: RunState) -> None:
        if state.usage:
            self._usage.caption(usage_line(state))

    def _draw_tail(self, snapshot: RunSnapshot) -> None:
        """The last events as received, in a plain code block (untrusted text, cheap to redraw)."""
        lines = [f"{r.t_ms:>9.0f} ms  {r.event.event:<12} {r.event.raw[:140]}" for r in snapshot.received[-TAIL_EVENTS:]]
        self._tail.code("\n".join(lines), language=None)


def follow_all(panels: list[LivePanel]) -> None:
    """`LivePanel.follow()` for several live runs on one page (side by side): each panel redraws at
    the same pace, and the page reruns each time one of them ends, so that one draws finished while
    the others go on."""
    if not panels:
        return
    if any(panel._last.finished for panel in panels):
        st.rerun()
    tick = time.monotonic()
    while True:
        tick = max(tick + REDRAW_S, time.monotonic() + 0.005)
        time.sleep(tick - time.monotonic())
        for panel in panels:
            snapshot = panel.handle.snapshot()
            panel._redraw(snapshot)
            if snapshot.finished:
                st.rerun()


USAGE_NAMES = {"inputTokens": "in", "outputTokens": "out", "cachedTokens": "cached", "thinkingTokens": "thinking",
               "cacheWriteTokens": "cache write", "webSearchCalls": "web searches"}


def usage_line(state: RunState) -> str:
    parts = [f"{v:,} {USAGE_NAMES.get(k, md(k))}" for k, v in state.usage.items()
             if v or k in ("inputTokens", "outputTokens")]
    return "Tokens: " + " · ".join(parts)
