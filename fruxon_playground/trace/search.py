"""Which steps to show for a search: the matches plus their ancestors, nothing else."""

from __future__ import annotations

import json

from fruxon_playground.trace.model import Span, Status, Trace


def _haystack(span: Span) -> str:
    parts = [span.name, span.raw_type, span.kind.value, span.raw_status, span.status.value, span.error or "",
             span.tool_name or "", span.model or ""]
    for payload in (span.arguments, span.result, (span.llm or {}).get("llmMessages"), span.hitl):
        if payload is not None:
            parts.append(payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False, default=str))
    return "\n".join(parts).lower()


def filter_spans(trace: Trace, query: str = "", *, errors_only: bool = False, min_duration_ms: int = 0) -> set[str]:
    """Ids to show. A step matches when every condition holds; its ancestors are kept for context.

    Running steps and steps without a known duration are never hidden by `min_duration_ms`.
    """
    needle = query.strip().lower()
    matches = [
        span for span in trace.spans.values()
        if (not needle or needle in _haystack(span))
        and (not errors_only or span.status is Status.ERROR)
        and (span.duration_ms is None or span.duration_ms >= min_duration_ms)
    ]
    shown: set[str] = set()
    for span in matches:
        node: str | None = span.id
        while node is not None and node not in shown:
            shown.add(node)
            node = trace.spans[node].parent_id
    return shown
