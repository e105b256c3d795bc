"""Execution traces: a frozen span model, a tolerant builder, search and diff (no UI here)."""

from fruxon_playground.trace.builder import build_trace, build_trace_from_step_events
from fruxon_playground.trace.model import Kind, Span, Status, Trace
from fruxon_playground.trace.search import filter_spans

__all__ = ["Kind", "Span", "Status", "Trace", "build_trace", "build_trace_from_step_events", "filter_spans"]
