"""Build a `Trace` from any trace source. Pure, iterative, and it never raises on JSON input.

Sources: an ExecuteResponse (`trace` inside), an ExecutionTrace (`traces[]`), the records endpoint's
envelope (`{"status", "trace": {...}}`) or its bare form, a single StepTrace, a list of StepTrace
nodes, JSON text or bytes (also JSON text that holds JSON text), and the `step_trace` payloads of a
live stream (`build_trace_from_step_events`).

Passes over flat, index-addressed lists: collect each node's own fields (nested input is laid out on
the way), link and order the tree when nodes name their parents by id (orphans, cycles, depth cap,
paths), then roll everything up children-first, building each frozen `Span` once.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from math import isfinite
from typing import Any, NamedTuple

from fruxon_playground._gc import cyclic_gc_paused
from fruxon_playground.contract.enums import (
    FAILURE_STATUSES,
    IN_FLIGHT_STATUSES,
    LIVE_RECORD_STATUSES,
    SUCCESS_STATUSES,
    WAITING_STATUSES,
    ZERO_VALUES,
    normalize_enum,
)
from fruxon_playground.trace.model import Kind, Span, Status, Trace

MAX_DEPTH = 12  # like the SDK: a step sits at most 12 levels below its root (it exists to stop cycles)

_KINDS = {
    "FLOWSTEP": Kind.FLOW, "FLOW": Kind.FLOW,
    "LLMSTEP": Kind.LLM, "LLM": Kind.LLM,
    "AGENTSTEP": Kind.AGENT, "AGENT": Kind.AGENT, "SUBAGENT": Kind.AGENT,
    "TOOL": Kind.TOOL, "TOOLSTEP": Kind.TOOL,
    "HITL": Kind.HITL, "HITLSTEP": Kind.HITL,
    "JUDGE": Kind.JUDGE, "JUDGESTEP": Kind.JUDGE,
    "SUMMARIZATION": Kind.SUMMARIZATION, "SUMMARIZATIONSTEP": Kind.SUMMARIZATION,
}  # fmt: skip
_LIVE_RUN_STATUSES = LIVE_RECORD_STATUSES | WAITING_STATUSES | {"RUNNING"}
# What makes a dict a step.
_STEP_KEYS = ("type", "displayName", "steps", "llmStepTrace", "toolTrace", "hitlTrace")
_FRAME_KEYS = ("id", *_STEP_KEYS)  # a step_trace payload always has an id
_JSON_TEXT_LAYERS = 3  # JSON text, JSON text inside it, and one more for good measure
_FIRST_CHARACTER = re.compile(r"\s*(\S)")
_MAYBE_JSON = '{["' + " \t\r\n"  # how JSON text can start (an empty string is "in" it too: harmless)

_EXAMPLE_CHARS = 80
# What the builder tolerated. Problems are counted per kind, so a 100k-step trace gives a few lines.
_NOTES = {
    "double_encoded": "the trace was JSON-encoded twice",
    "not_json": "skipped text that is not valid JSON",
    "not_a_step": "skipped {n} step(s): not an object (first: {example})",
    "not_a_step_event": "skipped {n} step_trace payload(s) that are not steps (first: {example})",
    "duplicate_id": "{n} duplicate step id(s) kept with a #n suffix (first: {example})",
    "unknown_kind": "{n} step(s) of unknown type drawn as generic steps (first: {example})",
    "unknown_status": "{n} step(s) with an unrecognised status shown as unknown (first: {example})",
    "field_json_text": "{n} step field(s) arrived as JSON text and were decoded (first: {example})",
    "negative_duration": "{n} finished step(s) had a negative duration; used endTime − startTime (first: {example})",
    "missing_parent": "{n} step(s) whose parent is missing are shown at the top (first: {example})",
    "cycle": "broke {n} parent cycle(s) by showing a step of each at the top (first: {example})",
    "self_contained": "skipped {n} step(s) that contain themselves (first: {example})",
    "cut_nested": "cut {n} step(s) nested deeper than " + str(MAX_DEPTH) + " levels, like the SDK (first under: {example})",
    "too_deep": "{n} step(s) linked deeper than " + str(MAX_DEPTH) + " levels are shown at the top (first: {example})",
}  # fmt: skip


class _Notes:
    def __init__(self) -> None:
        self._seen: dict[str, list[Any]] = {}

    def add(self, key: str, example: str = "") -> None:
        entry = self._seen.get(key)
        if entry is None:  # examples quote untrusted text (ids, types): keep them short
            self._seen[key] = [
                1,
                example if len(example) <= _EXAMPLE_CHARS else example[: _EXAMPLE_CHARS - 1] + "…",
            ]
        else:
            entry[0] += 1

    def lines(self) -> tuple[str, ...]:
        return tuple(_NOTES[key].format(n=n, example=example) for key, (n, example) in self._seen.items())


# ── Small readers: each turns any JSON value into the one type it promises, or a neutral value ──


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ("" if value is None else str(value))


def _int(value: Any) -> int | None:
    if type(value) is int:  # the common case first: this runs several times per step
        return value
    if isinstance(value, int):
        return None if isinstance(value, bool) else int(value)
    if isinstance(value, float):
        return int(value) if math.isfinite(value) else None
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            number = _number_or_none(value)
            return None if number is None else int(number)
    return None


def _number_or_none(value: Any) -> float | None:
    if type(value) is float or type(value) is int:
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, bool | dict | list):
        return None
    try:
        number = float(value)  # money may arrive as decimal strings (contract §1)
    except (TypeError, ValueError, OverflowError):
        return None
    return number if math.isfinite(number) else None


def _number(value: Any) -> float:
    number = _number_or_none(value)
    return 0.0 if number is None else number


def _decode_json_text(value: str) -> Any:
    """The JSON a string holds when it is an object or array (also one more layer of quoting), else
    the string itself."""
    first = _FIRST_CHARACTER.match(value)  # no copy of a long LLM answer just to look at its start
    if first is None or first.group(1) not in '{["':
        return value
    try:
        decoded = json.loads(value)
    except (ValueError, RecursionError):
        return value
    if isinstance(decoded, str):  # a quoted string: only worth it when it holds an object or array
        inner = _decode_json_text(decoded) if decoded.strip()[:1] in ("{", "[") else decoded
        return inner if isinstance(inner, dict | list) else value
    return decoded if isinstance(decoded, dict | list) else value


def _object(value: Any, key: str, notes: _Notes) -> dict[str, Any] | None:
    """A sub-object of a node (`llmStepTrace`…) that is not an object: decoded when it is JSON text."""
    if isinstance(value, str):
        decoded = _decode_json_text(value)
        if isinstance(decoded, dict):
            notes.add("field_json_text", key)
            return decoded
    return None


def _decoded(value: Any, key: str, notes: _Notes) -> Any:
    """A container field (`traces`, `steps`…) that arrived as JSON text, decoded."""
    if not isinstance(value, str):
        return value
    decoded = _decode_json_text(value)
    if decoded is not value:
        notes.add("field_json_text", key)
    return decoded


def _payload(value: Any) -> Any:
    """A payload value, decoded when it is JSON text (an object or array)."""
    if type(value) is str and value[:1] in _MAYBE_JSON:
        return _decode_json_text(value)
    return value


def _result(value: Any) -> Any:
    """Result `{strValue, jsonValue, fileLink}` → the one that is set; strValue decoded when it holds JSON."""
    if value is None:
        return None
    if type(value) is dict and "strValue" in value:  # the usual shape: skip the general path
        json_value, text = value.get("jsonValue"), value["strValue"]
        if json_value is not None:
            return _payload(json_value)
        if text is not None:
            return _payload(text)
    value = _payload(value)
    if not isinstance(value, dict) or (
        "strValue" not in value and "jsonValue" not in value and "fileLink" not in value
    ):
        return value
    if value.get("jsonValue") is not None:
        return _payload(value["jsonValue"])
    if value.get("strValue") is not None:
        return _payload(value["strValue"])
    return value.get("fileLink")


def _tool_name(tool_trace: dict[str, Any] | None) -> str | None:
    """`integration.tool`; a provider built-in has an empty integration (contract §4.7)."""
    if tool_trace is None:
        return None
    key = tool_trace.get("tool")
    if not isinstance(key, dict):
        return _text(tool_trace.get("displayName")) or None
    name = _text(key.get("name") or key.get("id"))
    integration = _text(key.get("integrationId"))
    if not name:
        return None
    return f"{integration}.{name}" if integration else name


def _kind_without_type(raw_type: str, llm: Any, tool: Any, hitl: Any, notes: _Notes) -> Kind:
    """The kind of a step whose `type` we do not know: from its payload when it has no type at all."""
    if normalize_enum(raw_type) not in ZERO_VALUES:
        notes.add("unknown_kind", repr(raw_type))
        return Kind.UNKNOWN
    if llm is not None:
        return Kind.LLM
    if tool is not None:
        return Kind.TOOL
    return Kind.HITL if hitl is not None else Kind.UNKNOWN


def _own_fields(node: dict[str, Any], notes: _Notes) -> tuple[Any, ...]:
    """A node's own fields in `Span` order, `name` through `raw` (id, parent and the derived fields
    are added later). Runs once per step, so well-formed values take the short way through."""
    get = node.get
    llm, tool, hitl = get("llmStepTrace"), get("toolTrace"), get("hitlTrace")
    if llm is not None and type(llm) is not dict:
        llm = _object(llm, "llmStepTrace", notes)
    if tool is not None and type(tool) is not dict:
        tool = _object(tool, "toolTrace", notes)
    if hitl is not None and type(hitl) is not dict:
        hitl = _object(hitl, "hitlTrace", notes)
    raw_type, raw_status, error = get("type"), get("status"), get("error")
    raw_type = raw_type if type(raw_type) is str else _text(raw_type)
    raw_status = raw_status if type(raw_status) is str else _text(raw_status)
    if error is not None:
        error = (error or None) if type(error) is str else _error_text(error)

    start, end, reported = get("startTime"), get("endTime"), get("duration")
    start = start if type(start) is int else _int(start)
    end = end if type(end) is int else _int(end)
    reported = reported if type(reported) is int else _int(reported)
    if start is not None and start <= 0:
        start = None
    has_end = end is not None and end > 0
    # `endTime: 0` (or a negative duration and no real end) marks a step that started and has not ended
    # (§9.8); `endTime: null` is the same as no endTime (§1).
    open_ = not has_end and (get("endTime") is not None or (reported is not None and reported < 0))
    if open_ or not has_end:
        end = None
    if open_:
        duration = None
    elif reported is not None and reported >= 0:
        duration = reported
    else:
        duration = end - start if start is not None and end is not None and end >= start else None
        if reported is not None:  # negative while the step has a real end: the number is wrong, not the end
            notes.add("negative_duration", repr(get("id")))

    status_key = normalize_enum(raw_status)
    if status_key in FAILURE_STATUSES or error is not None:
        status = Status.ERROR
    elif open_ or status_key in IN_FLIGHT_STATUSES:
        status = Status.RUNNING
    elif status_key in SUCCESS_STATUSES or (
        status_key in ZERO_VALUES and (end is not None or duration is not None)
    ):
        status = Status.SUCCESS  # a finished step with the zero-value status is how the SDK reads success
    else:
        status = Status.UNKNOWN
        if status_key not in ZERO_VALUES:
            notes.add("unknown_status", repr(raw_status))

    name = get("displayName")
    if type(name) is not str or not name:
        name = _fallback_name(name, node, tool, raw_type)
    if llm is not None:
        tokens_in, tokens_out = llm.get("inputTokens"), llm.get("outputTokens")
        tokens_in = tokens_in if type(tokens_in) is int else _int(tokens_in) or 0
        tokens_out = tokens_out if type(tokens_out) is int else _int(tokens_out) or 0
        cost_in, cost_out = llm.get("inputCost"), llm.get("outputCost")
        cost_in = cost_in if type(cost_in) is float and isfinite(cost_in) else _number(cost_in)
        cost_out = cost_out if type(cost_out) is float and isfinite(cost_out) else _number(cost_out)
        cost = cost_in + cost_out
        model = llm.get("model")
        model = (model if type(model) is str else _text(model)) or None
    else:
        tokens_in = tokens_out = 0
        cost, model = 0.0, None
    if tool is not None:
        cost += _number(tool.get("cost"))
        arguments = _payload(tool["parameters"] if "parameters" in tool else get("arguments"))
    else:
        arguments = get("arguments")
        arguments = None if arguments is None else _payload(arguments)
    kind = _KINDS.get(normalize_enum(raw_type)) or _kind_without_type(raw_type, llm, tool, hitl, notes)
    return (name, kind, raw_type, status, raw_status, error, start, end, duration, tokens_in, tokens_out, cost,
            model, _tool_name(tool), arguments, _result(get("result")), llm, hitl, node)  # fmt: skip


def _fallback_name(name: Any, node: dict[str, Any], tool: dict[str, Any] | None, raw_type: str) -> str:
    if name is not None and name != "":
        return str(name)  # not text: shown as what it is
    fallback = node.get("name") or (tool or {}).get("displayName") or _tool_name(tool) or raw_type or "step"
    return fallback if isinstance(fallback, str) else str(fallback)


def _error_text(error: Any) -> str:
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        return str(error["message"])
    try:
        return json.dumps(error, ensure_ascii=False, default=str)
    except (ValueError, RecursionError):
        return str(type(error).__name__)


# Indexes into the tuple `_own_fields` returns.
_NAME, _KIND, _STATUS, _START, _END, _DURATION, _IN, _OUT, _COST = 0, 1, 3, 6, 7, 8, 9, 10, 11


# ── Loading: any source → (run-level header, top-level nodes) ──


def _load(source: Any, notes: _Notes) -> Any:
    if hasattr(source, "model_dump") and callable(source.model_dump):  # a pydantic model from any client
        try:
            return source.model_dump(mode="json", by_alias=True, exclude_none=True)
        except Exception:  # a foreign object must not break the viewer
            return None
    for layer in range(_JSON_TEXT_LAYERS):
        if isinstance(source, bytes | bytearray | memoryview):
            source = bytes(source).decode("utf-8-sig", errors="replace")
        if not isinstance(source, str):
            return source
        try:
            source = json.loads(source.lstrip("\ufeff"))
        except (ValueError, RecursionError):
            notes.add("not_json")
            return None
        if isinstance(source, str) and layer == 0:
            notes.add("double_encoded")
    return source if not isinstance(source, str) else None


def _split(data: Any, notes: _Notes) -> tuple[dict[str, Any], list[Any], str | None]:
    """(the run-level object, its top-level step nodes, the envelope's or response's status)."""
    if isinstance(data, list):
        return {}, data, None
    if not isinstance(data, dict):
        return {}, [], None
    run_status = data.get("status") if isinstance(data.get("status"), str) else None
    inner = _decoded(data.get("trace"), "trace", notes)
    if isinstance(inner, dict):  # an ExecuteResponse, a `done` payload or the records envelope
        header, nodes, _ = _split(inner, notes)
        return header, nodes, run_status
    if "trace" in data and not any(key in data for key in ("traces", "type", "displayName")):
        return data, [], run_status  # `trace: null`: a run with no trace yet (HITL, failure)
    nodes = _decoded(data.get("traces"), "traces", notes)
    if isinstance(nodes, list | dict):
        return data, nodes if isinstance(nodes, list) else [nodes], run_status
    if any(key in data for key in _STEP_KEYS):  # a single StepTrace (its status is the step's, not the run's)
        return {}, [data], None
    return data, [], run_status


# ── The build ──


class _Collected:
    """Flat, index-addressed lists: what one node contributes before the tree is known."""

    def __init__(self) -> None:
        self.ids: list[str] = []
        self.fields: list[tuple[Any, ...]] = []
        self.parent: list[int] = []  # index of the parent, -1 for none
        self.parent_ref: dict[int, str] = {}  # index → `parentId` to resolve once every id is known
        self.index: dict[str, int] = {}
        self.next_suffix: dict[str, int] = {}  # per repeated id, so a thousand repeats stay linear
        self.notes = _Notes()

    def add(self, node: dict[str, Any], parent: int, requested_id: Any) -> int:
        base = requested_id if type(requested_id) is str else _text(requested_id)
        if not base:
            base = f"step-{len(self.ids) + 1}"
        span_id = base
        if span_id in self.index:
            suffix = self.next_suffix.get(base, 2)
            while f"{base}#{suffix}" in self.index:
                suffix += 1
            self.next_suffix[base] = suffix + 1
            span_id = f"{base}#{suffix}"
            self.notes.add("duplicate_id", f"{base!r} → {span_id!r}")
        position = len(self.ids)
        self.ids.append(span_id)
        self.index[span_id] = position
        self.fields.append(_own_fields(node, self.notes))
        self.parent.append(parent)
        return position


class _Layout(NamedTuple):
    order: list[int] | range  # pre-order positions
    roots: list[int]
    kids: dict[int, list[int]]  # leaves have no entry
    depth: list[int]
    path: list[tuple[str, ...]]
    orphan: list[bool]


def _collect_nested(nodes: list[Any], collected: _Collected) -> _Layout | None:
    """Nested `steps[]`, pre-order. A top-level node may name its parent by `parentId` instead.

    Depth-first with one iterator per open level (not one stack entry per node): this loop runs once
    per step of traces with 100k steps. Collecting in pre-order also lays the tree out on the way, so
    unless some node named its parent by id, the linking pass (`_order`) is not needed."""
    notes, fields = collected.notes, collected.fields
    add, parent_ref = collected.add, collected.parent_ref
    roots: list[int] = []
    kids: dict[int, list[int]] = {}
    depths: list[int] = []
    paths: list[tuple[str, ...]] = []
    # (children left to visit, their parent's position, their depth, the ids of the dicts above them,
    #  where the kept children go, their labeller, their parent's path)
    levels: list[tuple[Any, ...]] = [(iter(nodes), -1, 0, (), roots, _Labeller(), ())]
    while levels:
        children, parent, depth, ancestors, kept, labeller, parent_path = levels[-1]
        node = next(children, _DONE)
        if node is _DONE:
            levels.pop()
            if not kept and parent >= 0:
                del kids[parent]
            continue
        if type(node) is not dict:
            node = _decoded(node, "steps[]", notes) if isinstance(node, str) else node
            if not isinstance(node, dict):
                notes.add("not_a_step", type(node).__name__)
                continue
        # Only Python objects can contain themselves; JSON text cannot hold a cycle.
        if ancestors and id(node) in ancestors:
            notes.add("self_contained", repr(node.get("id")))
            continue
        position = add(node, parent, node.get("id"))
        kept.append(position)
        depths.append(depth)
        own_path = (*parent_path, labeller.label(fields[position][_NAME]))
        paths.append(own_path)
        if parent < 0 and node.get("parentId") not in (None, ""):
            parent_ref[position] = _text(node["parentId"])
        grandchildren = node.get("steps")
        if type(grandchildren) is not list:
            grandchildren = _decoded(grandchildren, "steps", notes)
            if not isinstance(grandchildren, list):
                continue
        if not grandchildren:
            continue
        if depth >= MAX_DEPTH:
            for _ in grandchildren:
                notes.add("cut_nested", repr(collected.ids[position]))
            continue
        kids[position] = []
        levels.append(
            (
                iter(grandchildren),
                position,
                depth + 1,
                (*ancestors, id(node)),
                kids[position],
                _Labeller(),
                own_path,
            )
        )
    if parent_ref:
        return None
    return _Layout(range(len(depths)), roots, kids, depths, paths, [False] * len(depths))


_DONE = object()  # the end of a level's children


def _merge_frames(events: Iterable[Any], notes: _Notes) -> list[dict[str, Any]]:
    """One node per step id: a later frame updates the earlier one, except that a start frame arriving
    after the step's end frame (out of order) cannot reopen it."""
    merged: dict[str, dict[str, Any]] = {}
    anonymous: list[dict[str, Any]] = []
    for payload in events:
        if isinstance(payload, str | bytes):
            payload = _load(payload, notes)
        if not isinstance(payload, dict) or not any(key in payload for key in _FRAME_KEYS):
            notes.add(
                "not_a_step_event",
                type(payload).__name__ if not isinstance(payload, dict) else "an object without step fields",
            )
            continue
        # Nesting comes from parentId only; frames are never modified, so most need no copy.
        frame = (
            payload
            if "steps" not in payload
            else {key: value for key, value in payload.items() if key != "steps"}
        )
        key = _text(frame.get("id"))
        if not key:
            anonymous.append(frame)
            continue
        earlier = merged.get(key)
        if earlier is None:
            merged[key] = frame
        elif _frame_is_open(frame) and not _frame_is_open(earlier):
            merged[key] = {**frame, **earlier}
        else:
            merged[key] = {**earlier, **frame}
    return [*merged.values(), *anonymous]


def _frame_is_open(frame: dict[str, Any]) -> bool:
    end = _int(frame.get("endTime"))
    return end is None or end <= 0


def _link(collected: _Collected) -> None:
    """Resolve `parentId`s; a parent that is not in the trace leaves an orphan root."""
    for position, reference in collected.parent_ref.items():
        parent = collected.index.get(reference)
        if parent is None:
            collected.notes.add("missing_parent", f"{collected.ids[position]!r} → {reference!r}")
        collected.parent[position] = -1 if parent is None else parent


class _Labeller:
    """Unique labels among siblings: a name, then `name[1]`, `name[2]`… for repeats (never colliding
    with a sibling literally named `name[1]`)."""

    __slots__ = ("seen", "used")

    def __init__(self) -> None:
        self.seen: dict[str, int] = {}
        self.used: set[str] = set()

    def label(self, name: str) -> str:
        count = self.seen.get(name, 0)
        label = name if count == 0 else f"{name}[{count}]"
        while label in self.used:
            count += 1
            label = f"{name}[{count}]"
        self.seen[name] = count + 1
        self.used.add(label)
        return label


def _order(collected: _Collected) -> _Layout:
    """Lay out a tree whose nodes may name their parent by id: resolve `parentId`s, then walk it.

    Roots are the parentless nodes in input order; then nodes too deep to stay under their parent,
    then one node of each parent cycle (found by walking up from a node nothing reached)."""
    count = len(collected.ids)
    parent, notes, fields = collected.parent, collected.notes, collected.fields
    linked: dict[int, list[int]] = {}
    roots: list[int] = []
    orphan = [False] * count
    for position, parent_position in enumerate(parent):
        if parent_position < 0:
            roots.append(position)
            orphan[position] = position in collected.parent_ref  # it named a parent we do not have
        elif parent_position in linked:
            linked[parent_position].append(position)
        else:
            linked[parent_position] = [position]
    kids: dict[int, list[int]] = {}
    depth = [0] * count
    path: list[tuple[str, ...]] = [()] * count
    visited = bytearray(count)
    order: list[int] = []
    root_labels = _Labeller()
    next_root = scan = 0
    while True:
        while next_root < len(roots):
            root = roots[next_root]
            next_root += 1
            if visited[root]:
                continue
            visited[root] = 1
            path[root] = (root_labels.label(fields[root][_NAME]),)
            stack = [root]
            while stack:
                position = stack.pop()
                order.append(position)
                if position not in linked:
                    continue
                children = [k for k in linked[position] if not visited[k]]
                if not children:
                    continue
                if depth[position] >= MAX_DEPTH:  # deeper than the cap: start new groups at the top
                    for child in children:
                        notes.add("too_deep", repr(collected.ids[child]))
                        orphan[child] = True
                        parent[child] = -1
                    roots.extend(children)
                    continue
                kids[position] = children
                labeller = _Labeller()
                child_depth = depth[position] + 1
                own_path = path[position]
                for child in children:
                    visited[child] = 1
                    depth[child] = child_depth
                    path[child] = (*own_path, labeller.label(fields[child][_NAME]))
                stack.extend(reversed(children))
        while scan < count and visited[scan]:
            scan += 1
        if scan == count:
            break
        walked: set[int] = set()  # nothing reached `scan`: it hangs in or below a parent cycle
        node = scan
        while node >= 0 and not visited[node] and node not in walked:
            walked.add(node)
            node = parent[node]
        node = node if node in walked else scan  # the first node met twice is in the cycle
        notes.add("cycle", repr(collected.ids[node]))
        parent[node] = -1
        orphan[node] = True
        roots.append(node)
    return _Layout(order, roots, kids, depth, path, orphan)


def _covered_ms(children: list[int], fields: list[tuple[Any, ...]], low: int | None, high: int | None) -> int:
    """Milliseconds covered by the union of the children's intervals, clipped to the parent's.
    A running child counts until the parent's end."""
    intervals = []
    for child in children:
        own = fields[child]
        start = own[_START]
        if start is None:
            continue
        if own[_DURATION] is not None:
            end = start + own[_DURATION]
        elif own[_STATUS] is Status.RUNNING and high is not None:
            end = high
        else:
            continue
        if low is not None:
            start, end = max(start, low), min(end, high) if high is not None else end
        if end > start:
            intervals.append((start, end))
    if not intervals:
        return 0
    intervals.sort()
    covered = 0
    current_start, current_end = intervals[0]
    for start, end in intervals[1:]:
        if start > current_end:
            covered += current_end - current_start
            current_start, current_end = start, end
        elif end > current_end:
            current_end = end
    return int(covered + current_end - current_start)


def _extent_ms(children: list[int], fields: list[tuple[Any, ...]]) -> int | None:
    starts = [fields[c][_START] for c in children if fields[c][_START] is not None]
    ends = [
        fields[c][_START] + fields[c][_DURATION]
        for c in children
        if fields[c][_START] is not None and fields[c][_DURATION] is not None
    ]
    if not starts or not ends or len(ends) != len(starts):
        return None
    return int(max(ends) - min(starts))


def _finish_key(own: tuple[Any, ...]) -> tuple[float, float]:
    """Sort key for "ends last": a running step has not ended, so it ends after everything that did."""
    if own[_STATUS] is Status.RUNNING:
        return (math.inf, own[_START] or 0)
    if own[_END] is not None:
        return (own[_END], own[_START] or 0)
    if own[_START] is not None and own[_DURATION] is not None:
        return (own[_START] + own[_DURATION], own[_START])
    return (-math.inf, own[_START] or 0)


def _critical_path(roots: list[int], kids: dict[int, list[int]], fields: list[tuple[Any, ...]]) -> set[int]:
    """From the root that ends last, always into the child that ends last."""
    chain: set[int] = set()
    node = max(roots, key=lambda r: _finish_key(fields[r])) if roots else None
    while node is not None:
        chain.add(node)
        node = max(kids[node], key=lambda k: _finish_key(fields[k])) if node in kids else None
    return chain


def _span(values: tuple[Any, ...]) -> Span:
    """A `Span` from all its fields in order, made as the tuple it is (no per-field checks)."""
    return tuple.__new__(Span, values)


def _build(
    collected: _Collected, header: dict[str, Any], run_status: str | None, layout: _Layout | None
) -> Trace:
    if layout is None:
        _link(collected)
        layout = _order(collected)
    order, roots, kids, depth, path, orphan = layout
    fields, ids, parent = collected.fields, collected.ids, collected.parent
    critical = _critical_path(roots, kids, fields)
    built: list[Span | None] = [None] * len(ids)
    children_of, error = kids.get, Status.ERROR
    for position in reversed(order):  # children before their parents, so the roll-ups are ready
        own = fields[position]
        sub_cost, sub_in, sub_out = own[_COST], own[_IN], own[_OUT]
        failed = 1 if own[_STATUS] is error else 0
        children = children_of(position)
        if children is None:
            child_ids: tuple[str, ...] = ()
            total, own_time = own[_DURATION], own[_DURATION]
        else:
            for child in children:
                span = built[child]
                sub_cost += span.subtree_cost  # type: ignore[union-attr]
                sub_in += span.subtree_input_tokens  # type: ignore[union-attr]
                sub_out += span.subtree_output_tokens  # type: ignore[union-attr]
                failed += span.error_count  # type: ignore[union-attr]
            child_ids = tuple([ids[child] for child in children])
            total, own_time = _times(own, children, fields)
        parent_position = parent[position]
        built[position] = _span((  # every field, in `Span` order: `own` holds the own-field columns
            ids[position], ids[parent_position] if parent_position >= 0 else None, *own,
            depth[position], path[position], child_ids, own_time, total, sub_cost, sub_in, sub_out, failed,
            position in critical, failed > 0, orphan[position],
        ))  # fmt: skip
    spans = {ids[position]: built[position] for position in order}
    return _trace(spans, tuple(ids[r] for r in roots), header, run_status, collected.notes)  # type: ignore[arg-type]


def _times(
    own: tuple[Any, ...], children: list[int], fields: list[tuple[Any, ...]]
) -> tuple[int | None, int | None]:
    """(total, self) time of a step with children: self is what no child covers, never negative.
    A finished step without times of its own spans its children."""
    duration, start = own[_DURATION], own[_START]
    if duration is not None:
        return duration, max(
            0, duration - _covered_ms(children, fields, start, None if start is None else start + duration)
        )
    if own[_STATUS] is Status.RUNNING:
        return None, None
    extent = _extent_ms(children, fields)
    return extent, None if extent is None else max(0, extent - _covered_ms(children, fields, None, None))


def _trace(spans: dict[str, Span], roots: tuple[str, ...], header: dict[str, Any], run_status: str | None,
           notes: _Notes) -> Trace:  # fmt: skip
    revision = _int(header.get("agentRevision"))
    start = _int(header.get("startTime"))
    end = _int(header.get("endTime"))
    header_open = (
        start is not None and start > 0 and header.get("endTime") is not None and (end is None or end <= 0)
    )
    start = (
        start
        if start is not None and start > 0
        else min((s.start_ms for s in spans.values() if s.start_ms is not None), default=None)
    )
    running = any(span.status is Status.RUNNING for span in spans.values())
    if end is None or end <= 0:
        ends = [span.end_ms for span in spans.values() if span.end_ms is not None]
        end = max(ends) if ends and not running and not header_open else None
    reported = _int(header.get("duration"))
    duration: int | None
    if start is not None and end is not None and end >= start:
        duration = end - start
    else:
        duration = reported if reported is not None and reported >= 0 and not header_open else None
    agent_id = header.get("agentId")
    return Trace(
        spans=spans,
        roots=roots,
        agent_id=None if agent_id is None or agent_id == "" else _text(agent_id),
        agent_revision=revision if revision is not None and revision > 0 else None,
        start_ms=start,
        end_ms=end,
        duration_ms=duration,
        total_cost=_header_or(
            header, "totalCost", _number_or_none, sum((spans[r].subtree_cost for r in roots), 0.0)
        ),
        input_tokens=_header_or(
            header, "inputTokens", _int, sum(spans[r].subtree_input_tokens for r in roots)
        ),
        output_tokens=_header_or(
            header, "outputTokens", _int, sum(spans[r].subtree_output_tokens for r in roots)
        ),
        is_live=running or header_open or normalize_enum(run_status) in _LIVE_RUN_STATUSES,
        orphans=tuple(span.id for span in spans.values() if span.orphan),
        warnings=notes.lines(),
        raw={key: value for key, value in header.items() if key != "traces"},
    )


def _header_or(header: dict[str, Any], key: str, read: Any, rolled_up: Any) -> Any:
    """The run-level figure the server reported, else the sum of the steps'."""
    value = read(header.get(key))
    return value if value is not None else rolled_up


def build_trace(source: Any) -> Trace:
    """Any trace source → a `Trace`. Unknown kinds and statuses are kept; no step is dropped except
    non-objects and what the SDK's depth cap cuts (both reported in `warnings`)."""
    with cyclic_gc_paused():
        collected = _Collected()
        header, nodes, run_status = _split(_load(source, collected.notes), collected.notes)
        layout = _collect_nested(nodes, collected)
        trace = _build(collected, header, run_status, layout)
        # Free the scaffolding while the collector is paused: when it resumes it looks at every
        # object this build allocated that is still alive.
        del collected, layout
    return trace


def build_trace_from_step_events(events: Iterable[Any], header: Any = None) -> Trace:
    """A (possibly live) trace from `step_trace` event payloads, in arrival order: a start frame and
    later an end frame with the same id make one step; nesting comes from `parentId`; a parent that
    never arrived leaves an orphan root. `header` is any run-level source (e.g. the `done` trace)."""
    with cyclic_gc_paused():
        collected = _Collected()
        run_header, _, run_status = (
            _split(_load(header, collected.notes), collected.notes) if header is not None else ({}, [], None)
        )
        frames = events if isinstance(events, Iterable) and not isinstance(events, str | bytes | dict) else []
        for node in _merge_frames(frames, collected.notes):
            position = collected.add(node, -1, node.get("id"))
            if node.get("parentId") not in (None, ""):
                collected.parent_ref[position] = _text(node["parentId"])
        trace = _build(collected, run_header, run_status, None)
        del collected
    return trace
