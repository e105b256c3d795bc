"""What the trace viewer sends to the browser: flat, columnar rows and per-step details.

The browser holds the whole tree and answers clicks on its own, so what it receives must be small
and cheap to parse: one array per field (pre-order, index-addressed, parents by index), repeated
strings (kinds, types, statuses, tools, models) as indexes into short tables, times as offsets from
the trace's start. Details (messages, tool arguments and results, approvals, raw JSON) are JSON text
per step, packed after the rows so the browser decodes only the step the user opens.

Everything here only reads the `Trace` the builder made; nothing is derived twice.
"""

from __future__ import annotations

import hashlib
import json
import math
from typing import Any, NamedTuple

from fruxon_playground.trace.model import Kind, Span, Status, Trace

# Row flags (one small int per step).
ON_CRITICAL_PATH = 1
ON_ERROR_PATH = 2  # this step or one below it failed
ON_FIRST_ERROR_PATH = 4  # on the chain from a root to the first failure's root cause
ORPHAN = 8  # shown at the top: its parent was missing, cyclic or too deep
NAME_CUT = 16  # the row's name is shortened; the detail has it whole

NAME_LIMIT = 300  # characters of a name kept in the row (an untrusted name can be megabytes)
ERROR_LIMIT = 300  # characters of an error kept in the row (for search and the row's tooltip)
# Details go along with the rows while their JSON stays under this; above it the browser asks for
# one step at a time. 10k steps of a typical run are ~7 MB.
INLINE_DETAILS_BYTES = 12_000_000
_SAMPLE = 1_000  # steps encoded before judging, from their size, whether all will fit
PAYLOAD_MAGIC = b"FXTV1"
_HEADER_BYTES = len(PAYLOAD_MAGIC) + 1 + 32 + 1 + 10 + 1  # magic, md5 hex, rows length, newline


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


class _Table:
    """Distinct strings in first-seen order; rows hold their index."""

    def __init__(self, *preset: str) -> None:
        self.values: list[str] = list(preset)
        self._index = {value: position for position, value in enumerate(self.values)}

    def __call__(self, value: str) -> int:
        position = self._index.get(value)
        if position is None:
            position = self._index[value] = len(self.values)
            self.values.append(value)
        return position


def trace_origin_ms(trace: Trace) -> int | None:
    """Time zero of the viewer's axis: the run's start, or an earlier step's."""
    starts = [span.start_ms for span in trace.spans.values() if span.start_ms is not None]
    earliest = min(starts) if starts else None
    if trace.start_ms is None:
        return earliest
    return trace.start_ms if earliest is None else min(trace.start_ms, earliest)


def trace_rows(trace: Trace) -> dict[str, Any]:
    """The trace as flat arrays in pre-order (index = position in `id`), plus run-level figures.

    `parent` holds the parent's index (-1 for roots); `start`/`end` are ms since `origin` (`end` is
    None while a step runs or when it is unknown); `cost`/`tokens`/`errors` are subtree roll-ups;
    `kind`, `type`, `status` and `sub` (tool or model) index the tables of the same name."""
    spans = list(trace.spans.values())
    position = {span.id: index for index, span in enumerate(spans)}
    origin = trace_origin_ms(trace)
    first_error = set(trace.first_error_path())
    kinds, types, statuses, raw_statuses = _Table(*Kind), _Table(), _Table(*Status), _Table()
    subs = _Table("")
    ids: list[str] = []
    parent: list[int] = []
    depth: list[int] = []
    names: list[str] = []
    kind: list[int] = []
    raw_type: list[int] = []
    status: list[int] = []
    raw_status: list[int] = []
    sub: list[int] = []
    start: list[int | None] = []
    end: list[int | None] = []
    self_ms: list[int | None] = []
    total_ms: list[int | None] = []
    cost: list[float] = []
    tokens: list[int] = []
    errors: list[int] = []
    flags: list[int] = []
    error_text: dict[str, str] = {}  # sparse: few steps fail
    latest = 0
    for index, span in enumerate(spans):
        ids.append(span.id)
        parent.append(-1 if span.parent_id is None else position[span.parent_id])
        depth.append(span.depth)
        name = span.name
        flag = 0
        if len(name) > NAME_LIMIT:
            name, flag = _cut(name, NAME_LIMIT), NAME_CUT
        names.append(name)
        kind.append(kinds(span.kind))
        raw_type.append(types(span.raw_type or span.kind.value))
        status.append(statuses(span.status))
        raw_status.append(raw_statuses(span.raw_status or span.status.value))
        sub.append(subs(span.tool_name or span.model or ""))
        if origin is not None and span.start_ms is not None:
            offset = span.start_ms - origin
            start.append(offset)
            finish = span.end_ms if span.end_ms is not None else None
            if finish is None and span.duration_ms is not None:
                finish = span.start_ms + span.duration_ms
            end.append(None if finish is None else finish - origin)
            latest = max(latest, offset if finish is None else finish - origin)
        else:
            start.append(None)
            end.append(None)
        self_ms.append(span.self_time_ms)
        total_ms.append(span.total_time_ms)
        cost.append(_money(span.subtree_cost))
        tokens.append(span.subtree_input_tokens + span.subtree_output_tokens)
        errors.append(span.error_count)
        if span.on_critical_path:
            flag |= ON_CRITICAL_PATH
        if span.on_error_path:
            flag |= ON_ERROR_PATH
        if span.id in first_error:
            flag |= ON_FIRST_ERROR_PATH
        if span.orphan:
            flag |= ORPHAN
        flags.append(flag)
        if span.error:
            error_text[str(index)] = _cut(span.error, ERROR_LIMIT)
    axis = max(latest, trace.duration_ms or 0)
    return {
        "n": len(ids),
        "origin": origin,
        "axis": axis,
        "id": ids,
        "parent": parent,
        "depth": depth,
        "name": names,
        "kind": kind,
        "type": raw_type,
        "status": status,
        "rawStatus": raw_status,
        "sub": sub,
        "start": start,
        "end": end,
        "self": self_ms,
        "total": total_ms,
        "cost": cost,
        "tokens": tokens,
        "errors": errors,
        "flags": flags,
        "error": error_text,
        "kinds": kinds.values,
        "types": types.values,
        "statuses": statuses.values,
        "rawStatuses": raw_statuses.values,
        "subs": subs.values,
        "run": {
            "agent": trace.agent_id,
            "revision": trace.agent_revision,
            "duration": trace.duration_ms,
            "cost": _money(trace.total_cost),
            "tokensIn": trace.input_tokens,
            "tokensOut": trace.output_tokens,
            "errors": trace.error_count,
            "live": trace.is_live,
            "orphans": len(trace.orphans),
            "warnings": list(trace.warnings),
        },
    }


def _money(value: float) -> float:
    return round(value, 10) if math.isfinite(value) else 0.0


_MISSING = object()


def _path_to(raw: dict[str, Any], value: Any, *candidates: tuple[str | int, ...]) -> list[str | int] | None:
    """The first path in `raw` that holds this very object (not an equal copy): a decoded value the
    builder took as it was. Only text and containers: small numbers and None are shared objects."""
    if not isinstance(value, str | dict | list):
        return None
    for path in candidates:
        node: Any = raw
        for part in path:
            if isinstance(node, dict) and isinstance(part, str):
                node = node.get(part, _MISSING)
            elif isinstance(node, list) and isinstance(part, int) and part < len(node):
                node = node[part]
            else:
                node = _MISSING
                break
        if node is value:
            return list(path)
    return None


def _put(detail: dict[str, Any], field: str, value: Any, raw: dict[str, Any], *candidates: tuple[str | int, ...]) -> None:
    """`detail[field] = value`, or `detail[field + "At"]` = where `raw` already holds it: a step's
    payload is sent once, and the browser looks the decoded view up in the raw node."""
    path = _path_to(raw, value, *candidates)
    if path is None:
        detail[field] = value
    else:
        detail[field + "At"] = path


def _messages(llm: dict[str, Any] | None, raw: dict[str, Any]) -> list[dict[str, Any]]:
    """The LLM conversation as (role, content) pairs: system instructions first."""
    if not llm:
        return []
    conversation: list[dict[str, Any]] = []
    for key, role in (("systemInstructions", "system"), ("llmMessages", None)):
        messages = llm.get(key)
        if not isinstance(messages, list):
            continue
        for position, message in enumerate(messages):
            if isinstance(message, dict):
                entry: dict[str, Any] = {"role": str(role or message.get("role") or "message")}
                field = "content" if "content" in message else "text"
                _put(entry, "content", message.get(field), raw, ("llmStepTrace", key, position, field))
            else:
                entry = {"role": role or "message"}
                _put(entry, "content", message, raw, ("llmStepTrace", key, position))
            conversation.append(entry)
    return conversation


def step_detail(span: Span) -> dict[str, Any]:
    """What the detail pane shows for one step beyond its row: the builder's decoded payloads
    (`arguments`, `result`, `messages`, `approval`) and `raw`, the node as received without its
    nested steps. A decoded value that is the very object in `raw` is sent as `<field>At`, its path
    there, so nothing is sent twice."""
    raw = {key: value for key, value in span.raw.items() if key != "steps"}
    detail: dict[str, Any] = {
        "model": span.model,
        "tool": span.tool_name,
        "tokensIn": span.input_tokens,
        "tokensOut": span.output_tokens,
        "cost": _money(span.cost),
    }
    if len(span.name) > NAME_LIMIT:
        detail["name"] = span.name
    if span.error and len(span.error) > ERROR_LIMIT:
        detail["error"] = span.error
    if span.kind is Kind.TOOL or span.tool_name or span.arguments is not None:
        _put(detail, "arguments", span.arguments, raw, ("toolTrace", "parameters"), ("arguments",))
    if span.result is not None:
        _put(detail, "result", span.result, raw, ("result", "jsonValue"), ("result", "strValue"),
             ("result", "fileLink"), ("result",))
    conversation = _messages(span.llm, raw)
    if conversation:
        detail["messages"] = conversation
    if span.hitl is not None:
        _put(detail, "approval", span.hitl, raw, ("hitlTrace",))
    detail["raw"] = raw
    return detail


def to_json(value: Any) -> str:
    """JSON text a browser can parse: ASCII only (no lone surrogates can break the bytes), no NaN
    or Infinity, and a value that contains itself or a foreign object still gives text."""
    try:
        return json.dumps(value, separators=(",", ":"), allow_nan=False, default=str)
    except (ValueError, TypeError, RecursionError):
        return json.dumps(_plain(value), separators=(",", ":"), allow_nan=False, default=str)


def _plain(value: Any) -> Any:
    """`value` with non-finite numbers as text and self-references cut (iterative)."""
    root: list[Any] = [None]
    stack: list[tuple[Any, Any, Any, frozenset[int]]] = [(value, root, 0, frozenset())]
    while stack:
        item, holder, slot, above = stack.pop()
        if isinstance(item, float) and not math.isfinite(item):
            holder[slot] = str(item)
        elif isinstance(item, dict | list | tuple):
            if id(item) in above:
                holder[slot] = "(contains itself)"
                continue
            inside = above | {id(item)}
            if isinstance(item, dict):
                copy: dict[str, Any] = {}
                holder[slot] = copy
                for key, child in item.items():
                    copy[str(key)] = None
                    stack.append((child, copy, str(key), inside))
            else:
                items: list[Any] = [None] * len(item)
                holder[slot] = items
                stack.extend((child, items, position, inside) for position, child in enumerate(item))
        elif item is None or isinstance(item, str | int | float | bool):
            holder[slot] = item
        else:
            holder[slot] = str(item)
    return root[0]


class PackedTrace(NamedTuple):
    data: bytes
    digest: str  # md5 hex of everything after the header: names this version of the trace
    details_inline: bool  # False: the browser asks for each step's detail when it is opened


def pack_viewer_payload(trace: Trace, *, label: str = "", inline_details_bytes: int | None = None) -> PackedTrace:
    """Rows and (when they fit) every step's detail, as one byte string:

        b"FXTV1 <md5 of the rest, hex> <rows length, 10 digits>\\n" + rows JSON + details

    `details` is the steps' detail JSON back to back; the rows' `detailAt` holds n + 1 offsets into
    it, or is None when the details did not fit (the browser then asks for one step at a time).
    Everything is ASCII, so a byte offset is also a character offset."""
    budget = INLINE_DETAILS_BYTES if inline_details_bytes is None else inline_details_bytes
    rows = trace_rows(trace)
    rows["label"] = label  # which viewer on the page this is
    details: list[bytes] = []
    size = 0
    for index, span in enumerate(trace.spans.values()):
        encoded = to_json(step_detail(span)).encode("ascii")
        size += len(encoded)
        # Stop as soon as they cannot fit: early, from a sample, when the trace is far too big.
        if size > budget or (index == _SAMPLE and size / _SAMPLE * rows["n"] > 2 * budget):
            details = []
            break
        details.append(encoded)
    if details or not trace.spans:
        offsets = [0]
        for encoded in details:
            offsets.append(offsets[-1] + len(encoded))
        rows["detailAt"] = offsets
    else:
        rows["detailAt"] = None
    body = to_json(rows).encode("ascii")
    rest = body + b"".join(details)
    digest = hashlib.md5(rest, usedforsecurity=False).hexdigest().encode("ascii")
    header = PAYLOAD_MAGIC + b" " + digest + b" " + str(len(body)).rjust(10, "0").encode("ascii") + b"\n"
    return PackedTrace(header + rest, digest.decode("ascii"), rows["detailAt"] is not None)


def unpack_viewer_payload(payload: bytes) -> tuple[dict[str, Any], list[dict[str, Any]] | None]:
    """The rows and the details (None when they were left out) of a packed payload: what the
    browser reads, for tests and tools."""
    if not payload.startswith(PAYLOAD_MAGIC + b" "):
        raise ValueError("not a trace viewer payload")
    rows_length = int(payload[len(PAYLOAD_MAGIC) + 34 : _HEADER_BYTES - 1])
    body_end = _HEADER_BYTES + rows_length
    rows: dict[str, Any] = json.loads(payload[_HEADER_BYTES:body_end])
    offsets = rows.get("detailAt")
    if offsets is None:
        return rows, None
    blob = payload[body_end:]
    return rows, [json.loads(blob[offsets[i] : offsets[i + 1]]) for i in range(len(offsets) - 1)]
