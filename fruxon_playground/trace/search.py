"""Which steps to show for a search: the matches plus their ancestors, nothing else."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fruxon_playground.trace.model import Span, Status, Trace


def _labels(span: Span) -> str:
    """What a step is called and what state it is in: checked before its (larger) payloads."""
    return "\n".join((span.id, span.name, span.kind.value, span.raw_type, span.status.value, span.raw_status,
                      span.error or "", span.tool_name or "", span.model or "")).casefold()  # fmt: skip


def _payloads(span: Span) -> list[Any]:
    """The step's inputs and outputs: tool arguments and result, the LLM conversation, the approval."""
    payloads = [span.arguments, span.result, span.hitl]
    if span.llm is not None:
        payloads += [span.llm.get("systemInstructions"), span.llm.get("llmMessages")]
    return payloads


def contains_text(value: Any, needle: str) -> bool:
    """Whether any key, string or number inside a JSON value contains `needle` (already casefolded).
    Iterative, and safe on self-referencing Python objects."""
    stack = [value]
    seen: set[int] = set()
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if needle in item.casefold():
                return True
        elif isinstance(item, dict | list | tuple):
            if id(item) in seen:
                continue
            seen.add(id(item))
            if isinstance(item, dict):
                stack.extend(str(key) for key in item)
                stack.extend(item.values())
            else:
                stack.extend(item)
        elif item is not None and needle in str(item).casefold():
            return True
    return False


def span_matches(span: Span, needle: str) -> bool:
    """`needle` (casefolded) appears in the step's name, kind, status, id, error, tool, model or payloads."""
    return not needle or needle in _labels(span) or any(contains_text(p, needle) for p in _payloads(span))


def filter_spans(trace: Trace, query: str = "", errors_only: bool = False, min_duration_ms: int = 0,
                 kinds: Iterable[str] | None = None) -> set[str]:  # fmt: skip
    """Ids to show. A step matches when every condition holds; its ancestors are kept for context.

    `query` is case-insensitive. `kinds` holds `Kind`s or raw types (any case); None or empty means
    all. Running steps and steps without a known duration are never hidden by `min_duration_ms`.
    """
    needle = query.strip().casefold()
    wanted = {str(kind).upper() for kind in kinds} if kinds else None
    shown: set[str] = set()
    for span in trace.spans.values():
        if wanted is not None and span.kind.value not in wanted and span.raw_type.upper() not in wanted:
            continue
        if errors_only and span.status is not Status.ERROR:
            continue
        if span.duration_ms is not None and span.duration_ms < min_duration_ms:
            continue
        if not span_matches(span, needle):
            continue
        node: str | None = span.id
        while node is not None and node not in shown:
            shown.add(node)
            node = trace.spans[node].parent_id
    return shown
