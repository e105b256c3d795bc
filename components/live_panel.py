"""The live stream panel: draws a RunHandle's snapshot, and follows it while it runs.

How it stays live: the page draws everything, then calls `follow()` last. `follow()` loops on the
script thread, redrawing a few placeholders at most every REDRAW_S from a snapshot of the run (the
worker thread reads the socket). Any click reruns the script, which interrupts this loop at its
next redraw and then re-enters it, so the page stays usable. When the run ends, one `st.rerun()`
draws the final, complete view (event log, trace, approval controls).

Agent output, tool payloads and step names are untrusted: they go through `st.text`, `st.json`,
`st.code` or dataframes, never markdown or HTML.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import pandas as pd
import streamlit as st

from fruxon_playground.runs.fold import Phase, RunView, StepRow, ToolCard
from fruxon_playground.runs.handle import RunHandle, RunSnapshot

REDRAW_S = 0.06
PARAGRAPH_SOFT_LIMIT = 1_500  # long unbroken text is split into blocks so each redraw stays small

# Streamlit's own icon font and badges: they render the same everywhere (no emoji font needed).
PHASE_BADGE = {
    Phase.CONNECTING: ("gray", ":material/hourglass_top:", "Connecting"),
    Phase.RUNNING: ("blue", ":material/stream:", "Streaming"),
    Phase.COMPLETED: ("green", ":material/check_circle:", "Completed"),
    Phase.WAITING_FOR_HUMAN: ("orange", ":material/front_hand:", "Waiting for approval"),
    Phase.FAILED: ("red", ":material/error:", "Failed"),
    Phase.INTERRUPTED: ("orange", ":material/link_off:", "Interrupted"),
    Phase.STOPPED: ("gray", ":material/stop_circle:", "Stopped"),
}


def phase_badge(phase: Phase) -> str:
    color, icon, label = PHASE_BADGE[phase]
    return f":{color}-badge[{icon} {label}]"


def split_blocks(text: str) -> list[str]:
    """Paragraphs, with very long ones cut at whitespace; every block but the last is final."""
    blocks: list[str] = []
    for paragraph in text.split("\n\n"):
        while len(paragraph) > PARAGRAPH_SOFT_LIMIT:
            cut = paragraph.rfind(" ", 0, PARAGRAPH_SOFT_LIMIT)
            cut = cut if cut > 0 else PARAGRAPH_SOFT_LIMIT
            blocks.append(paragraph[:cut])
            paragraph = paragraph[cut:].lstrip(" ")
        blocks.append(paragraph)
    return blocks


def format_ms(ms: float | None) -> str:
    if ms is None:
        return "—"
    if ms < 1000:
        return f"{ms:.0f} ms"
    return f"{ms / 1000:.2f} s"


def stats_line(snapshot: RunSnapshot) -> str:
    view, health = snapshot.view, snapshot.view.health
    parts = [phase_badge(view.phase), f"elapsed {format_ms(snapshot.elapsed_ms)}"]
    if snapshot.response is None:
        parts += [
            f"first text {format_ms(health.first_text_ms)}",
            f"{health.event_count} events",
            f"{health.events_per_second(None if snapshot.finished else snapshot.elapsed_ms):.0f} ev/s",
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


def ordered_steps(view: RunView) -> list[StepRow]:
    """Parents before children, siblings in arrival order."""
    children: dict[str | None, list[StepRow]] = {}
    for step in view.steps.values():
        parent = step.parent_id if step.parent_id in view.steps else None
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
        if card.status == "running":
            badge = ":blue-badge[:material/pending: running]"
        elif card.failed:
            badge = f":red-badge[:material/error: {card.status}]"
        else:
            badge = f":green-badge[:material/check: {card.status}]"
        extra = " · result without a call" if card.orphan else ""
        st.markdown(f"{badge} · {format_ms(card.duration_ms)}{extra}")
        st.text(f"{card.display_name} ({card.name})")
        st.caption("Arguments")
        st.code(_json_text(card.arguments), language="json", wrap_lines=True, height=min(200, 40 + 20 * _json_text(card.arguments).count(chr(10))))
        if card.status != "running":
            shown = card.error if card.error else card.result
            st.caption("Error" if card.error else "Result")
            st.code(_json_text(shown), language="json", wrap_lines=True, height=min(240, 40 + 20 * _json_text(shown).count(chr(10))))


@dataclass
class _Slots:
    stats: Any
    stop: Any
    text: Any
    steps: Any
    tools: Any
    usage: Any
    tail: Any


class LivePanel:
    """Creates the panel's layout in the current container; `follow()` keeps it current."""

    def __init__(self, handle: RunHandle, *, key: str) -> None:
        self.handle = handle
        self.key = key

    def draw(self) -> RunSnapshot:
        snapshot = self.handle.snapshot()
        stats_col, stop_col = st.columns([6, 1], vertical_alignment="center")
        self.slots = _Slots(
            stats=stats_col.empty(),
            stop=stop_col.empty(),
            text=None,
            steps=None,
            tools=None,
            usage=None,
            tail=None,
        )
        self.slots.stats.markdown(stats_line(snapshot))
        stop_help = "Close the stream; everything received is kept"
        if not snapshot.finished and self.slots.stop.button("Stop", icon=":material/stop:", key=f"{self.key}.stop", help=stop_help):
            self.handle.cancel()
            self.handle.wait(1.0)
            snapshot = self.handle.snapshot()
            self.slots.stats.markdown(stats_line(snapshot))
        st.caption("Response")
        self.slots.text = st.container()
        self._text_slots: list[Any] = []
        self._drawn_blocks: list[str] = []
        self._draw_text(snapshot.view.text)
        self.slots.usage = st.empty()
        self._draw_usage(snapshot.view)
        st.caption("Steps")
        self.slots.steps = st.empty()
        self._draw_steps(snapshot.view)
        st.caption("Tool calls")
        self.slots.tools = st.container()
        self._tool_slots: dict[str, Any] = {}
        self._drawn_tools: dict[str, ToolCard] = {}
        self._draw_tools(snapshot.view)
        self.slots.tail = st.empty()
        self._last = snapshot
        return snapshot

    def follow(self) -> None:
        """Redraws while the run is live; returns once it ended (after one full rerun)."""
        if self._last.finished:
            return
        while True:
            time.sleep(REDRAW_S)
            snapshot = self.handle.snapshot()
            self._redraw(snapshot)
            if snapshot.finished:
                st.rerun()

    # -- incremental drawing ------------------------------------------------------------------
    def _redraw(self, snapshot: RunSnapshot) -> None:
        previous = self._last.view
        view = snapshot.view
        self.slots.stats.markdown(stats_line(snapshot))  # always: it also lets a click interrupt us
        if view.text != previous.text:
            self._draw_text(view.text)
        if view.steps is not previous.steps:
            self._draw_steps(view)
        if view.tools is not previous.tools:
            self._draw_tools(view)
        if view.usage is not previous.usage:
            self._draw_usage(view)
        if len(snapshot.received) != len(self._last.received):
            self._draw_tail(snapshot)
        self._last = snapshot

    def _draw_text(self, text: str) -> None:
        blocks = split_blocks(text) if text else []
        for index, block in enumerate(blocks):
            if index < len(self._drawn_blocks) and self._drawn_blocks[index] == block:
                continue
            while index >= len(self._text_slots):
                self._text_slots.append(self.slots.text.empty())
            self._text_slots[index].text(block)
            if index < len(self._drawn_blocks):
                self._drawn_blocks[index] = block
            else:
                self._drawn_blocks.append(block)
        if not blocks and not self._text_slots:
            self._text_slots.append(self.slots.text.empty())
            self._text_slots[0].caption("Waiting for the first words…")

    def _draw_steps(self, view: RunView) -> None:
        steps = ordered_steps(view)
        if not steps:
            self.slots.steps.caption("No step events (deployed streams carry none).")
            return
        self.slots.steps.dataframe(steps_frame(steps), hide_index=True, width="stretch")

    def _draw_tools(self, view: RunView) -> None:
        if not view.tools and not self._tool_slots:
            self._tool_slots["__none__"] = self.slots.tools.empty()
            self._tool_slots["__none__"].caption("No tool calls yet.")
            return
        none_slot = self._tool_slots.pop("__none__", None)
        if none_slot is not None:
            none_slot.empty()
        for tool_id, card in view.tools.items():
            if self._drawn_tools.get(tool_id) == card:
                continue
            slot = self._tool_slots.get(tool_id)
            if slot is None:
                slot = self._tool_slots[tool_id] = self.slots.tools.empty()
            with slot.container():
                draw_tool_card(card)
            self._drawn_tools[tool_id] = card

    def _draw_usage(self, view: RunView) -> None:
        if view.usage:
            names = {"inputTokens": "in", "outputTokens": "out", "cachedTokens": "cached", "thinkingTokens": "thinking",
                     "cacheWriteTokens": "cache write", "webSearchCalls": "web searches"}
            parts = [f"{v:,} {names.get(k, k)}" for k, v in view.usage.items() if v or k in ("inputTokens", "outputTokens")]
            self.slots.usage.caption("Tokens: " + " · ".join(parts))

    def _draw_tail(self, snapshot: RunSnapshot) -> None:
        tail = snapshot.received[-8:]
        frame = pd.DataFrame(
            [{"t": format_ms(r.t_ms), "event": r.event.event, "data": r.event.raw[:160]} for r in tail]
        )
        self.slots.tail.dataframe(frame, hide_index=True, width="stretch")
