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
from array import array
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


def _indexed(values: list[str], *preset: str) -> tuple[list[int], list[str]]:
    """Each value as an index into a table of the distinct values (first seen first, `preset` first)."""
    table: dict[str, int] = {value: position for position, value in enumerate(preset)}
    setdefault = table.setdefault
    indexes = [setdefault(value, len(table)) for value in values]
    return indexes, list(table)


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
    `kind`, `type`, `status`, `rawStatus` and `sub` (tool or model) index the tables `kinds`,
    `types`, `statuses`, `rawStatuses` and `subs`. One pass per field: 100k steps in ~0.1 s."""
    spans = list(trace.spans.values())
    ids = [span.id for span in spans]
    position = {span_id: index for index, span_id in enumerate(ids)}
    position[None] = -1  # type: ignore[index]
    origin = trace_origin_ms(trace)
    first_error = set(trace.first_error_path())
    kind, kinds = _indexed([span.kind.value for span in spans], *Kind)
    raw_type, types = _indexed([span.raw_type or span.kind.value for span in spans])
    status, statuses = _indexed([span.status.value for span in spans], *Status)
    raw_status, raw_statuses = _indexed([span.raw_status or span.status.value for span in spans])
    sub, subs = _indexed([span.tool_name or span.model or "" for span in spans], "")
    names = [span.name if len(span.name) <= NAME_LIMIT else _cut(span.name, NAME_LIMIT) for span in spans]
    if origin is None:
        start: list[int | None] = [None] * len(spans)
        end: list[int | None] = [None] * len(spans)
    else:
        start = [None if span.start_ms is None else span.start_ms - origin for span in spans]
        end = [_end(span, origin) for span in spans]
    flags = [
        (ON_CRITICAL_PATH if span.on_critical_path else 0)
        | (ON_ERROR_PATH if span.on_error_path else 0)
        | (ON_FIRST_ERROR_PATH if span.id in first_error else 0)
        | (ORPHAN if span.orphan else 0)
        | (NAME_CUT if len(span.name) > NAME_LIMIT else 0)
        for span in spans
    ]
    latest = max((e if e is not None else s for s, e in zip(start, end, strict=True) if s is not None), default=0)
    axis = max(latest, trace.duration_ms or 0)
    return {
        "n": len(ids),
        "origin": origin,
        "axis": axis,
        "id": ids,
        "parent": [position[span.parent_id] for span in spans],  # type: ignore[index]
        "depth": [span.depth for span in spans],
        "name": names,
        "kind": kind,
        "type": raw_type,
        "status": status,
        "rawStatus": raw_status,
        "sub": sub,
        "start": start,
        "end": end,
        "self": [span.self_time_ms for span in spans],
        "total": [span.total_time_ms for span in spans],
        "cost": [_money(span.subtree_cost) for span in spans],
        "tokens": [span.subtree_input_tokens + span.subtree_output_tokens for span in spans],
        "errors": [span.error_count for span in spans],
        "flags": flags,
        "error": {str(i): _cut(span.error, ERROR_LIMIT) for i, span in enumerate(spans) if span.error},  # few fail
        "kinds": kinds,
        "types": types,
        "statuses": statuses,
        "rawStatuses": raw_statuses,
        "subs": subs,
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


def _end(span: Span, origin: int) -> int | None:
    """When the step ended, in ms since `origin`; None while it runs or when unknown."""
    if span.end_ms is not None:
        return span.end_ms - origin
    if span.start_ms is not None and span.duration_ms is not None:
        return span.start_ms + span.duration_ms - origin
    return None


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


class StepDetails:
    """Every step's detail JSON in one byte string, for traces whose details are not sent along:
    the browser asks for one step at a time. Bytes and an array hold nothing the garbage collector
    walks, unlike the `Trace` (a full collection runs after every Streamlit rerun)."""

    __slots__ = ("_blob", "_offsets", "_position")

    def __init__(self, trace: Trace) -> None:
        encoded = [to_json(step_detail(span)).encode("ascii") for span in trace.spans.values()]
        offsets = array("Q", [0])
        total = 0
        for item in encoded:
            total += len(item)
            offsets.append(total)
        self._blob = b"".join(encoded)
        self._offsets = offsets
        self._position = {span_id: index for index, span_id in enumerate(trace.spans)}

    def __len__(self) -> int:
        return len(self._position)

    @property
    def size(self) -> int:
        return len(self._blob)

    def get(self, step_id: str) -> str | None:
        """The step's detail as JSON text, or None for an id the trace does not have."""
        index = self._position.get(step_id)
        if index is None:
            return None
        return self._blob[self._offsets[index] : self._offsets[index + 1]].decode("ascii")


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
