"""Execution traces: a frozen span model, a tolerant builder, search and diff (no UI here)."""

from fruxon_playground.trace.builder import MAX_DEPTH, build_trace, build_trace_from_step_events
from fruxon_playground.trace.diff import Change, StepChange, TraceDiff, diff_traces
from fruxon_playground.trace.model import Kind, Span, Status, Trace
from fruxon_playground.trace.search import filter_spans
from fruxon_playground.trace.synthetic import random_trace

__all__ = [
    "MAX_DEPTH",
    "Change",
    "Kind",
    "Span",
    "Status",
    "StepChange",
    "Trace",
    "TraceDiff",
    "build_trace",
    "build_trace_from_step_events",
    "diff_traces",
    "filter_spans",
    "random_trace",
]
