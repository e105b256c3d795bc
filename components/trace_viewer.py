"""The trace viewer: a Streamlit v2 component that holds the whole tree in the browser.

Python packs the trace (`fruxon_playground.trace.rows`) and the browser does the rest — virtualised
rows, expand/collapse, search and filters, keyboard navigation, the detail pane, duration bars,
critical and error paths — without rerunning the page. The rows go first, so the tree shows while
the details (every step's inputs and outputs) are still on their way, in chunks, to invisible
instances of the same component. Details too big to send at all (over 100 MB) stay here, and a
click asks for that one step by id through a tiny fragment that reruns alone. A saved run's view
was packed when it was saved (`stored_trace_viewer`): opening it reads bytes, and nothing of the
trace is parsed or built.

Trace content is untrusted: the component puts it into the DOM with `textContent` only, and no
trace text reaches Markdown here.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import streamlit as st

from components.state import TRACE_PAYLOADS
from fruxon_playground.history import RunStore
from fruxon_playground.trace import Trace, build_trace, rows
from fruxon_playground.trace.rows import TraceView

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


class _Shown:
    """One trace as this session's viewer `key` shows it: what it was made from (`source`, held so
    that an identity check is exact), its view, and the details as bytes for the browser when they
    fit (`sent`)."""

    __slots__ = ("fingerprint", "sent", "source", "view")

    def __init__(self, source: object, view: TraceView, fingerprint: tuple[Any, ...] | None = None) -> None:
        self.source = source
        self.view = view
        self.fingerprint = fingerprint
        self.sent: list[bytes] | None = None

    def details_sent(self, key: str) -> list[bytes] | None:
        """The details in chunks when they are small enough to send; None: they stay here."""
        if self.sent is None and self.view.details.size <= rows.INLINE_DETAILS_BYTES:
            self.sent = self.view.details.pack(self.view.digest, label=key)
        return self.sent


def _cache() -> dict[str, _Shown]:
    return st.session_state.setdefault(TRACE_PAYLOADS, {})


def _remember(key: str, entry: _Shown) -> _Shown:
    cache = _cache()
    cache.pop(key, None)
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


def trace_viewer(source: Mapping[str, Any], *, key: str) -> None:
    """The trace `source` (an ExecutionTrace as received), drawn and navigated in the browser (see
    the module docstring). Built and packed once per trace: every other widget reruns the script."""
    entry = _cache().get(key)
    if entry is None or entry.source is not source:
        trace = build_trace(source)
        if not trace.spans:
            st.caption("This trace has no steps.")
            return
        fingerprint = _fingerprint(trace)
        if entry is None or entry.fingerprint != fingerprint:  # an equal copy (a cached API read) is not packed again
            entry = _Shown(source, TraceView.of(trace), fingerprint)
        entry.source = source
    _draw(_remember(key, entry), key)


def stored_trace_viewer(store: RunStore, run_id: str, source: object, *, key: str) -> bool:
    """The trace view saved with the run (`RunStore.trace_view`), drawn without reading or building
    the trace; False when the run has none. Read once per `source`: the object that stands for this
    version of the run."""
    entry = _cache().get(key)
    if entry is None or entry.source is not source:
        stored = store.trace_view(run_id)
        try:
            view = TraceView.from_bytes(stored) if stored is not None else None
        except ValueError:  # not one this version wrote: the trace is built instead
            view = None
        if view is None:
            return False
        entry = _Shown(source, view)
    _draw(_remember(key, entry), key)
    return True


def _draw(entry: _Shown, key: str) -> None:
    _component(key=f"{key}.tree", data=entry.view.rows_payload(key), height="content")
    # The tree is on its way meanwhile: details are encoded (~1 s at 100k steps) or read after it.
    sent = entry.details_sent(key)
    if sent is not None:
        with st.container(gap=None):  # invisible: no gaps between them
            for number, chunk in enumerate(sent):
                _component(key=f"{key}.details.{number}", data=chunk, height="content")
    else:
        _detail_feed(key, entry.view.digest)


@st.fragment
def _detail_feed(key: str, digest: str) -> None:
    """Answers the viewer's request for one step's details; reruns alone when it asks. It holds no
    `Trace` (see `StepDetails`), only the key of the viewer in this session."""
    feed_key = f"{key}.ask"
    want = (st.session_state.get(feed_key) or {}).get("want")
    step_id, detail = None, None
    entry = _cache().get(key)
    details = entry.view.details if entry is not None and entry.view.digest == digest else None
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
