"""The trace viewer: a Streamlit v2 component that holds the whole tree in the browser.

Python packs the trace (`fruxon_playground.trace.rows`) and the browser does the rest — virtualised
rows, expand/collapse, search and filters, keyboard navigation, the detail pane, duration bars,
critical and error paths — without rerunning the page. The rows go first, so the tree shows while
the details (every step's inputs and outputs) are still on their way, in chunks, to invisible
instances of the same component. Details too big to send at all (over 100 MB) stay here, and a
click asks for that one step by id through a tiny fragment that reruns alone.

Trace content is untrusted: the component puts it into the DOM with `textContent` only, and no
trace text reaches Markdown here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import streamlit as st

from components.state import TRACE_PAYLOADS
from fruxon_playground.trace import Trace, rows
from fruxon_playground.trace.rows import PackedRows, StepDetails, pack_rows

_ASSETS = Path(__file__).with_name("trace_viewer")

_component = st.components.v2.component(
    "fruxon_playground.trace_viewer",
    html='<div class="fx-host"></div>',
    css=(_ASSETS / "viewer.css").read_text(encoding="utf-8"),
    js=(_ASSETS / "viewer.js").read_text(encoding="utf-8"),
)


def _ignore() -> None:
    """State changes of the detail feed need a callback to be kept; the fragment rerun is the answer."""


_KEPT_PAYLOADS = 3  # packed traces kept per session (a 10k-step one is ~8 MB)


class _Packed:
    """One trace as packed for the browser: its rows and, once encoded, its details — as bytes for
    the browser when they fit (`sent`), else kept to answer from (`kept`)."""

    __slots__ = ("fingerprint", "kept", "rows", "sent")

    def __init__(self, fingerprint: tuple[Any, ...], packed: PackedRows) -> None:
        self.fingerprint = fingerprint
        self.rows = packed
        self.sent: list[bytes] | None = None
        self.kept: StepDetails | None = None

    def encode_details(self, trace: Trace, key: str) -> None:
        if self.sent is not None or self.kept is not None:
            return
        details = StepDetails(trace)
        if details.size <= rows.INLINE_DETAILS_BYTES:
            self.sent = details.pack(self.rows.digest, label=key)
        else:
            self.kept = details


def _cache() -> dict[str, _Packed]:
    return st.session_state.setdefault(TRACE_PAYLOADS, {})


def _packed(trace: Trace, key: str) -> _Packed:
    """The packed trace, packed again only when the trace changed: every other widget on the page
    reruns this script."""
    cache = _cache()
    fingerprint = _fingerprint(trace)
    entry = cache.pop(key, None)
    if entry is None or entry.fingerprint != fingerprint:
        entry = _Packed(fingerprint, pack_rows(trace, label=key))
    cache[key] = entry  # newest last
    while len(cache) > _KEPT_PAYLOADS:
        del cache[next(iter(cache))]
    return entry


def _fingerprint(trace: Trace) -> tuple[Any, ...]:
    """Cheap and exact enough: a finished trace does not change; a live one changes these figures."""
    last = next(reversed(trace.spans.values()))
    return (len(trace.spans), trace.roots, last.id, last.status, last.duration_ms, trace.start_ms, trace.duration_ms,
            trace.total_cost, trace.input_tokens, trace.output_tokens, trace.error_count, trace.is_live,
            sum(1 for span in trace.spans.values() if span.is_running) if trace.is_live else 0)


@st.fragment
def _detail_feed(key: str, digest: str) -> None:
    """Answers the viewer's request for one step's details; reruns alone when it asks. It holds no
    `Trace` (see `StepDetails`), only the key of the packed trace in this session."""
    feed_key = f"{key}.ask"
    want = (st.session_state.get(feed_key) or {}).get("want")
    step_id, detail = None, None
    entry = _cache().get(key)
    details = entry.kept if entry is not None and entry.rows.digest == digest else None
    if isinstance(want, dict) and want.get("digest") == digest and isinstance(want.get("id"), str):
        step_id = want["id"]
        detail = details.get(step_id) if details is not None else None
    _component(
        key=feed_key,
        data={"mode": "detail", "view": key, "digest": digest, "id": step_id, "detail": detail,
              "gone": details is None},
        on_want_change=_ignore,
        height="content",
    )


def trace_viewer(trace: Trace, *, key: str) -> None:
    """The whole trace, drawn and navigated in the browser (see the module docstring)."""
    if not trace.spans:
        st.caption("This trace has no steps.")
        return
    entry = _packed(trace, key)
    _component(key=f"{key}.tree", data=entry.rows.data, height="content")
    entry.encode_details(trace, key)  # the tree is on its way meanwhile (~0.1 s at 10k steps, 1 s at 100k)
    if entry.sent is not None:
        with st.container(gap=None):  # invisible: no gaps between them
            for number, chunk in enumerate(entry.sent):
                _component(key=f"{key}.details.{number}", data=chunk, height="content")
    else:
        _detail_feed(key, entry.rows.digest)
