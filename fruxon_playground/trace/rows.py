"""What the trace viewer sends to the browser: flat, columnar rows and per-step details.

The browser holds the whole tree and answers clicks on its own, so what it receives must be small
and cheap to parse. Rows: one array per field (pre-order, index-addressed, parents by index),
repeated strings (kinds, types, statuses, tools, models) as indexes into short tables, times as
offsets from the trace's start. Details (messages, tool arguments and results, approvals, raw JSON):
JSON text per step, back to back in one byte string, so the browser decodes only the step the user
opens — sent after the rows (the tree shows first), or kept here and asked for one step at a time
when they are too big.

Both travel as bytes: b"<magic> <md5 hex> <JSON length, 10 digits>\n" + JSON + what follows (the
rows: the label of the viewer they are for; details: the steps' JSON), ASCII only, so a byte offset
is also a character offset. A `TraceView` is both, made once: a saved run stores it (`to_bytes`), so
opening a big saved trace reads bytes instead of parsing and building the trace again.

Everything here only reads the `Trace` the builder made; nothing is derived twice.
"""

from __future__ import annotations

import hashlib
import json
import math
import struct
import zlib
from array import array
from bisect import bisect_right
from collections.abc import Callable, Sequence
from typing import Any

from fruxon_playground.trace.model import Kind, Span, Status, Trace

# Row flags (one small int per step).
ON_CRITICAL_PATH = 1
ON_ERROR_PATH = 2  # this step or one below it failed
ON_FIRST_ERROR_PATH = 4  # on the chain from a root to the first failure's root cause
ORPHAN = 8  # shown at the top: its parent was missing, cyclic or too deep
NAME_CUT = 16  # the row's name is shortened; the detail has it whole

NAME_LIMIT = 300  # characters of a name kept in the row (an untrusted name can be megabytes)
ERROR_LIMIT = 300  # characters of an error kept in the row (for search, and the pane until details arrive)
# Details are sent to the browser (after the rows, in chunks) while their JSON stays under this; above
# it they stay in Python and the browser asks for one step at a time. 100k steps of a typical run
# are ~66 MB: the tree shows first, and no click waits for Python.
INLINE_DETAILS_BYTES = 100_000_000
DETAIL_CHUNK_BYTES = 16_000_000  # one message each: they arrive (and are usable) one after another
ROWS_MAGIC = b"FXTV1"
DETAILS_MAGIC = b"FXTD1"
HEADER_BYTES = 5 + 1 + 32 + 1 + 10 + 1  # magic, md5 hex, JSON length, newline


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _indexed(values: list[str], *preset: str) -> tuple[list[int], list[str]]:
    """Each value as an index into a table of the distinct values (first seen first, `preset` first)."""
    table: dict[str, int] = {value: position for position, value in enumerate(preset)}
    setdefault = table.setdefault
    indexes = [setdefault(value, len(table)) for value in values]
    return indexes, [str(value) for value in table]


def _origin_ms(trace: Trace) -> int | None:
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
    origin = _origin_ms(trace)
    first_error, orphans = set(trace.first_error_path()), set(trace.orphans)
    # Kind and Status members are their own values (StrEnum): no `.value` lookups, 200k of them at 100k steps.
    kind, kinds = _indexed([span.kind for span in spans], *Kind)
    raw_type, types = _indexed([span.raw_type or span.kind for span in spans])
    status, statuses = _indexed([span.status for span in spans], *Status)
    raw_status, raw_statuses = _indexed([span.raw_status or span.status for span in spans])
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
        | (ORPHAN if span.id in orphans else 0)
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


def _frame(magic: bytes, digest: str, head: bytes, rest: bytes = b"") -> bytes:
    return magic + b" " + digest.encode("ascii") + b" " + str(len(head)).rjust(10, "0").encode("ascii") + b"\n" + head + rest


def _unframe(payload: bytes, magic: bytes) -> tuple[str, Any, bytes]:
    """(digest, the JSON part, the bytes after it) of a framed payload."""
    if not payload.startswith(magic + b" "):
        raise ValueError(f"not a {magic.decode()} payload")
    length = int(payload[HEADER_BYTES - 11 : HEADER_BYTES - 1])
    return payload[6:38].decode("ascii"), json.loads(payload[HEADER_BYTES : HEADER_BYTES + length]), payload[HEADER_BYTES + length :]


def unpack_rows(payload: bytes) -> dict[str, Any]:
    """The rows of a `TraceView.rows_payload`, as the browser reads them (for tests and tools)."""
    _, rows, label = _unframe(payload, ROWS_MAGIC)
    rows["label"] = label.decode("utf-8")
    return dict(rows)


class StepDetails:
    """Every step's detail JSON, back to back in one byte string with their offsets in an array.

    Sent to the browser when small enough (`pack`); otherwise kept here to answer one step at a
    time (`get`). Bytes and an array hold nothing the garbage collector walks — unlike a `Trace`,
    which would be walked by the full collection Streamlit runs after every rerun."""

    __slots__ = ("_blob", "_ids", "_offsets", "_position")

    def __init__(self, blob: bytes, offsets: array[int], ids: Callable[[], Sequence[str]]) -> None:
        self._blob = blob
        self._offsets = offsets
        self._ids = ids  # only read by `get`: a stored view decodes them when a step is asked for
        self._position: dict[str, int] | None = None

    @classmethod
    def of(cls, trace: Trace) -> StepDetails:
        encoded = [to_json(step_detail(span)).encode("ascii") for span in trace.spans.values()]
        offsets = array("Q", [0])
        total = 0
        for item in encoded:
            total += len(item)
            offsets.append(total)
        ids = list(trace.spans)
        return cls(b"".join(encoded), offsets, lambda: ids)

    def __len__(self) -> int:
        return len(self._offsets) - 1

    @property
    def size(self) -> int:
        return len(self._blob)

    def get(self, step_id: str) -> str | None:
        """The step's detail as JSON text, or None for an id the trace does not have."""
        if self._position is None:
            self._position = {span_id: index for index, span_id in enumerate(self._ids())}
        index = self._position.get(step_id)
        if index is None:
            return None
        return self._blob[self._offsets[index] : self._offsets[index + 1]].decode("ascii")

    def pack(self, digest: str, *, label: str = "", chunk_bytes: int | None = None) -> list[bytes]:
        """The details as byte strings for the browser, tied to the rows of `digest`, in chunks of
        consecutive steps of about `chunk_bytes` (at least one step each): `{"label", "first", "at"}`
        (the first step's index, and offsets into what follows) and then those steps' details."""
        offsets, count = self._offsets, len(self)
        chunk_bytes = DETAIL_CHUNK_BYTES if chunk_bytes is None else chunk_bytes
        chunks: list[bytes] = []
        first = 0
        while first < count or not chunks:
            last = max(first + 1, bisect_right(offsets, offsets[first] + chunk_bytes) - 1) if count else 0
            base = offsets[first]
            head = {"label": label, "first": first, "at": [offset - base for offset in offsets[first : last + 1]]}
            chunks.append(_frame(DETAILS_MAGIC, digest, to_json(head).encode("ascii"), self._blob[base : offsets[last]]))
            first = last
        return chunks


VIEW_MAGIC = b"FXVW1"
_VIEW_HEAD = struct.Struct("<5s32sQQQQ")  # magic, digest, then the compressed sizes of the four sections


class TraceView:
    """A trace packed for the viewer, once: the rows JSON (the viewer's label is added when they
    are sent), their digest and every step's details.

    `to_bytes` is what a saved run stores (about a tenth of the trace's JSON: compressed), and
    `from_bytes` reads it back without parsing or building the trace: the rows at once, the
    details when first used."""

    __slots__ = ("_details", "_make_details", "digest", "rows_json")

    def __init__(self, rows_json: bytes, digest: str, details: Callable[[], StepDetails]) -> None:
        self.rows_json = rows_json
        self.digest = digest  # md5 hex of the rows JSON: names this version of the trace
        self._make_details: Callable[[], StepDetails] | None = details
        self._details: StepDetails | None = None

    @classmethod
    def of(cls, trace: Trace) -> TraceView:
        """The rows now; the details when first used (the tree can be on its way meanwhile)."""
        rows_json = to_json(trace_rows(trace)).encode("ascii")
        return cls(rows_json, hashlib.md5(rows_json, usedforsecurity=False).hexdigest(), lambda: StepDetails.of(trace))

    @property
    def details(self) -> StepDetails:
        if self._details is None:
            assert self._make_details is not None
            self._details, self._make_details = self._make_details(), None  # let go of the trace
        return self._details

    def rows_payload(self, label: str = "") -> bytes:
        """The rows as bytes for the viewer labelled `label` (the browser routes the details by it)."""
        return _frame(ROWS_MAGIC, self.digest, self.rows_json, label.encode("utf-8"))

    def to_bytes(self) -> bytes:
        details = self.details
        sections = [self.rows_json, details._offsets.tobytes(), to_json(list(details._ids())).encode("ascii"),
                    details._blob]
        packed = [zlib.compress(section, 1) for section in sections]  # level 1: 5-10× smaller, fast both ways
        return _VIEW_HEAD.pack(VIEW_MAGIC, self.digest.encode("ascii"), *map(len, packed)) + b"".join(packed)

    @classmethod
    def from_bytes(cls, data: bytes) -> TraceView:
        """The view `to_bytes` made; ValueError when `data` is not one."""
        try:
            magic, digest, *sizes = _VIEW_HEAD.unpack_from(data)
        except struct.error as exc:
            raise ValueError("not a stored trace view") from exc
        if magic != VIEW_MAGIC or _VIEW_HEAD.size + sum(sizes) != len(data):
            raise ValueError("not a stored trace view")
        starts = [_VIEW_HEAD.size]
        for size in sizes:
            starts.append(starts[-1] + size)
        rows_c, offsets_c, ids_c, blob_c = (data[a:b] for a, b in zip(starts, starts[1:], strict=False))

        def details() -> StepDetails:
            offsets = array("Q")
            offsets.frombytes(zlib.decompress(offsets_c))
            return StepDetails(zlib.decompress(blob_c), offsets, lambda: json.loads(zlib.decompress(ids_c)))

        return cls(zlib.decompress(rows_c), digest.decode("ascii"), details)


def unpack_details(payloads: list[bytes]) -> tuple[str, list[dict[str, Any]]]:
    """(the rows digest, every step's detail) of the chunks `StepDetails.pack` made."""
    digests: set[str] = set()
    details: list[dict[str, Any]] = []
    for payload in payloads:
        digest, head, blob = _unframe(payload, DETAILS_MAGIC)
        at = head["at"]
        if head["first"] != len(details):
            raise ValueError("detail chunks out of order")
        digests.add(digest)
        details += [json.loads(blob[at[i] : at[i + 1]]) for i in range(len(at) - 1)]
    (digest,) = digests
    return digest, details
