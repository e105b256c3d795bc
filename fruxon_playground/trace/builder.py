"""Build a `Trace` from any trace source. Pure, iterative, and it never raises on JSON input.

Sources: an ExecuteResponse (`trace` inside), an ExecutionTrace (`traces[]`), the records
endpoint's envelope (`{"status", "trace": {...}}`) or its bare form, a list of StepTrace nodes,
JSON text or bytes (also double-encoded), and the `step_trace` events of a live stream.
"""

from __future__ import annotations

import json
from typing import Any

from fruxon_playground.trace.model import Kind, Span, Status, Trace

MAX_NESTING = 12  # like the SDK: deeper nested `steps` are cut, with a warning
_KINDS = {"FLOWSTEP": Kind.FLOW, "LLMSTEP": Kind.LLM, "AGENTSTEP": Kind.AGENT, "SUBAGENT": Kind.AGENT,
          "TOOL": Kind.TOOL, "HITL": Kind.HITL, "JUDGE": Kind.JUDGE, "SUMMARIZATION": Kind.SUMMARIZATION}
_FAILED = {"ERROR", "FAILED", "FAILURE", "CANCELLED"}
_SUCCEEDED = {"SUCCESS", "COMPLETED", "OK", "SUCCEEDED"}


def _norm(value: Any) -> str:
    return str(value or "").upper().replace("_", "").replace("-", "")


def _number(value: Any) -> float:
    try:
        return float(value) if value is not None and not isinstance(value, bool) else 0.0
    except (TypeError, ValueError):
        return 0.0


def _int(value: Any) -> int | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _maybe_json(value: Any) -> Any:
    """A string holding JSON (object or array) becomes that JSON; anything else stays as it was."""
    if isinstance(value, str) and value[:1] in "{[":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _load(source: Any, warnings: list[str]) -> Any:
    for _ in range(3):  # JSON text, or JSON text that itself holds JSON text
        if isinstance(source, bytes | bytearray):
            source = source.decode("utf-8", errors="replace")
        if not isinstance(source, str):
            return source
        try:
            source = json.loads(source)
        except ValueError:
            warnings.append("skipped text that is not valid JSON")
            return None
        if isinstance(source, str):
            warnings.append("the trace was JSON-encoded twice")
    return source


def _header_and_nodes(data: Any) -> tuple[dict[str, Any], list[Any]]:
    if isinstance(data, list):
        return {}, data
    if not isinstance(data, dict):
        return {}, []
    if isinstance(data.get("trace"), dict):  # ExecuteResponse or the records envelope
        return _header_and_nodes(data["trace"])
    nodes = data.get("traces")
    if nodes is None:
        nodes = data.get("steps")
    return data, nodes if isinstance(nodes, list) else []


def _fields(node: dict[str, Any], span_id: str, parent_id: str | None) -> dict[str, Any]:
    """A span's own fields; derived ones are added in `_derive`, and the frozen Span is built once."""
    llm = node.get("llmStepTrace") if isinstance(node.get("llmStepTrace"), dict) else None
    tool = node.get("toolTrace") if isinstance(node.get("toolTrace"), dict) else None
    hitl = node.get("hitlTrace") if isinstance(node.get("hitlTrace"), dict) else None
    start, end = _int(node.get("startTime")), _int(node.get("endTime"))
    duration = _int(node.get("duration"))
    running = not end or (duration is not None and duration < 0)
    if duration is None and start and end and end >= start:
        duration = end - start
    raw_status = str(node.get("status") or "")
    status_key = _norm(raw_status)
    if status_key in _FAILED or node.get("error"):
        status = Status.ERROR
    elif running:
        status = Status.RUNNING
    elif status_key in _SUCCEEDED:
        status = Status.SUCCESS
    else:
        status = Status.UNKNOWN if status_key not in ("", "UNSPECIFIED") else Status.SUCCESS
    raw_type = str(node.get("type") or "")
    result = node.get("result")
    if isinstance(result, dict):
        result = result.get("jsonValue") if result.get("jsonValue") is not None else _maybe_json(result.get("strValue"))
    tool_key = (tool or {}).get("tool") or {}
    cost = _number((llm or {}).get("inputCost")) + _number((llm or {}).get("outputCost")) + _number((tool or {}).get("cost"))
    return dict(
        id=span_id,
        parent_id=parent_id,
        orphan=False,
        children=(),
        name=str(node.get("displayName") or node.get("name") or raw_type or "step"),
        kind=_KINDS.get(_norm(raw_type), Kind.UNKNOWN),
        raw_type=raw_type,
        status=status,
        raw_status=raw_status,
        error=str(node["error"]) if node.get("error") else None,
        start_ms=start or None,
        end_ms=end or None,
        duration_ms=None if running or duration is None or duration < 0 else duration,
        input_tokens=_int((llm or {}).get("inputTokens")) or 0,
        output_tokens=_int((llm or {}).get("outputTokens")) or 0,
        cost=cost,
        model=(llm or {}).get("model"),
        tool_name=_tool_name(tool_key),
        arguments=_maybe_json((tool or {}).get("parameters")) if tool else None,
        result=result,
        llm=llm,
        hitl=hitl,
        raw=node,
    )


def _tool_name(tool_key: Any) -> str | None:
    """`integration.tool` (a built-in provider tool has no integration)."""
    if not isinstance(tool_key, dict):
        return None
    name = tool_key.get("name") or tool_key.get("id")
    return f"{tool_key['integrationId']}.{name}" if tool_key.get("integrationId") and name else name


def build_trace(source: Any) -> Trace:
    """Any trace source → a `Trace`. Unknown kinds and statuses are kept; nothing is dropped."""
    warnings: list[str] = []
    header, nodes = _header_and_nodes(_load(source, warnings))
    spans: dict[str, dict[str, Any]] = {}
    children: dict[str | None, list[str]] = {}
    stack: list[tuple[Any, str | None, int]] = [(n, None, 0) for n in reversed(nodes)]
    while stack:
        node, parent_id, depth = stack.pop()
        node = _load(node, warnings) if isinstance(node, str | bytes) else node
        if not isinstance(node, dict):
            warnings.append(f"skipped a step that is not an object ({type(node).__name__})")
            continue
        span_id = _unique(str(node.get("id") or f"step-{len(spans) + 1}"), spans, warnings)
        spans[span_id] = _fields(node, span_id, parent_id)
        children.setdefault(parent_id, []).append(span_id)
        sub = node.get("steps")
        if isinstance(sub, list) and sub:
            if depth + 1 >= MAX_NESTING:
                warnings.append(f"steps nested deeper than {MAX_NESTING} levels under {span_id!r} were cut")
                continue
            stack.extend((child, span_id, depth + 1) for child in reversed(sub))
    return _finish(spans, children, header, warnings)


def build_trace_from_step_events(events: list[dict[str, Any]], header: dict[str, Any] | None = None) -> Trace:
    """A (possibly live) trace from `step_trace` event payloads: a later frame for an id updates it;
    nesting comes from `parentId`; a parent that never arrived leaves an orphan root."""
    warnings: list[str] = []
    latest: dict[str, dict[str, Any]] = {}
    order: list[str] = []
    for payload in events:
        if not isinstance(payload, dict):
            continue
        span_id = str(payload.get("id") or f"step-{len(order) + 1}")
        if span_id not in latest:
            order.append(span_id)
        latest[span_id] = {**latest.get(span_id, {}), **payload}
    spans: dict[str, dict[str, Any]] = {}
    children: dict[str | None, list[str]] = {}
    for span_id in order:
        node = latest[span_id]
        parent = node.get("parentId")
        parent_id = str(parent) if parent else None
        spans[span_id] = _fields(node, span_id, parent_id)
        children.setdefault(parent_id, []).append(span_id)
    return _finish(spans, children, header or {}, warnings)


def _unique(span_id: str, spans: dict[str, Any], warnings: list[str]) -> str:
    if span_id not in spans:
        return span_id
    n = 2
    while f"{span_id}#{n}" in spans:
        n += 1
    warnings.append(f"duplicate step id {span_id!r} kept as {span_id}#{n}")
    return f"{span_id}#{n}"


def _finish(fields: dict[str, dict[str, Any]], children: dict[str | None, list[str]], header: dict[str, Any],
            warnings: list[str]) -> Trace:
    # Parents that are missing make their children orphan roots; a parentId cycle is broken the same way.
    roots = list(children.get(None, []))
    for parent_id, kids in children.items():
        if parent_id is not None and parent_id not in fields:
            roots.extend(kids)
            for kid in kids:
                fields[kid].update(parent_id=None, orphan=True)
            warnings.append(f"{len(kids)} step(s) whose parent {parent_id!r} is missing were shown at the top")
    reachable = _reachable(roots, children)
    for span_id in fields:
        if span_id not in reachable:  # only possible through a parentId cycle
            warnings.append(f"broke a parent cycle at {span_id!r}")
            fields[span_id].update(parent_id=None, orphan=True)
            roots.append(span_id)
            reachable |= _reachable([span_id], children)
    root_set = set(roots)
    for parent_id, kids in children.items():
        if parent_id in fields:
            fields[parent_id]["children"] = tuple(k for k in kids if k not in root_set)
    _derive(fields, roots)
    spans = {span_id: Span(**values) for span_id, values in fields.items()}
    revision = _int(header.get("agentRevision"))
    return Trace(
        spans=spans,
        roots=tuple(roots),
        agent_id=header.get("agentId"),
        agent_revision=revision if revision is not None and revision > 0 else None,
        start_ms=_int(header.get("startTime")) or None,
        end_ms=_int(header.get("endTime")) or None,
        total_cost=_number(header.get("totalCost")) or sum(spans[r].subtree_cost for r in roots),
        input_tokens=_int(header.get("inputTokens")) or sum(spans[r].subtree_input_tokens for r in roots),
        output_tokens=_int(header.get("outputTokens")) or sum(spans[r].subtree_output_tokens for r in roots),
        warnings=tuple(warnings),
    )


def _reachable(roots: list[str], children: dict[str | None, list[str]]) -> set[str]:
    seen: set[str] = set()
    stack = list(roots)
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        stack.extend(children.get(node, []))
    return seen


def _derive(fields: dict[str, dict[str, Any]], roots: list[str]) -> None:
    """Depth, path, roll-ups, self time, error and critical paths, added to each span's fields.
    Iterative: a pre-order pass for depth and path, then children before parents for roll-ups."""
    order: list[str] = []
    stack = [(r, 0, (), _label(fields[r]["name"], 0)) for r in reversed(roots)]
    while stack:
        span_id, depth, parent_path, label = stack.pop()
        span = fields[span_id]
        span["depth"], span["path"] = depth, (*parent_path, label)
        order.append(span_id)
        seen_names: dict[str, int] = {}  # same-named siblings get an index, so paths stay unique
        labelled = []
        for child in span["children"]:
            name = fields[child]["name"]
            labelled.append((child, _label(name, seen_names.get(name, 0))))
            seen_names[name] = seen_names.get(name, 0) + 1
        stack.extend((c, depth + 1, span["path"], lab) for c, lab in reversed(labelled))
    for span_id in reversed(order):
        span = fields[span_id]
        kids = [fields[c] for c in span["children"]]
        total = span["duration_ms"]
        failed = span["status"] is Status.ERROR
        span.update(
            total_time_ms=total,
            self_time_ms=None if total is None else max(0, total - _covered(kids)),
            subtree_cost=span["cost"] + sum(k["subtree_cost"] for k in kids),
            subtree_input_tokens=span["input_tokens"] + sum(k["subtree_input_tokens"] for k in kids),
            subtree_output_tokens=span["output_tokens"] + sum(k["subtree_output_tokens"] for k in kids),
            error_count=int(failed) + sum(k["error_count"] for k in kids),
            on_error_path=failed or any(k["on_error_path"] for k in kids),
            on_critical_path=False,
        )
    for root in roots:  # critical path: from each root, follow the child that ends last
        node: str | None = root
        while node is not None:
            fields[node]["on_critical_path"] = True
            kids = [fields[c] for c in fields[node]["children"]]
            node = max(kids, key=lambda k: (k["end_ms"] or 0, k["start_ms"] or 0))["id"] if kids else None


def _label(name: str, index: int) -> str:
    return name if not index else f"{name}[{index}]"


def _covered(children: list[dict[str, Any]]) -> int:
    """Milliseconds covered by the union of the children's intervals (overlaps counted once)."""
    intervals = sorted((c["start_ms"], c["start_ms"] + c["duration_ms"]) for c in children
                       if c["start_ms"] is not None and c["duration_ms"] is not None)
    covered, current_start, current_end = 0, None, None
    for start, end in intervals:
        if current_end is None or start > current_end:
            if current_end is not None:
                covered += current_end - current_start
            current_start, current_end = start, end
        else:
            current_end = max(current_end, end)
    if current_end is not None:
        covered += current_end - current_start
    return covered
