"""Build a `Trace` from any trace source. Pure, iterative, and it never raises on JSON input.

Sources: an ExecuteResponse (`trace` inside), an ExecutionTrace (`traces[]`), the records endpoint's
envelope (`{"status", "trace": {...}}`) or its bare form, a single StepTrace, a list of StepTrace
nodes, JSON text or bytes (also JSON text that holds JSON text), and the `step_trace` payloads of a
live stream (`build_trace_from_step_events`).

Nested `steps[]` (what servers send) take one depth-first pass: each step is made as a leaf from its
own fields, and a step with children is remade with their roll-ups once its last child is made.
Steps that name their parent by id (stream frames, or top-level nodes with a `parentId`) are laid
out over flat, index-addressed lists first (orphans, cycles, the depth cap), then made children-first.
The critical path is marked last, from the top down.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterable, Iterator
from math import isfinite
from operator import attrgetter
from typing import Any

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
# Members as module constants: `Status.ERROR` is an attribute lookup through the Enum metaclass (~0.2 µs),
# several per step.
_ERROR, _RUNNING, _SUCCESS, _UNKNOWN = Status.ERROR, Status.RUNNING, Status.SUCCESS, Status.UNKNOWN
_LIVE_RUN_STATUSES = LIVE_RECORD_STATUSES | WAITING_STATUSES | {"RUNNING"}
# What makes a dict a step.
_STEP_KEYS = ("type", "displayName", "steps", "llmStepTrace", "toolTrace", "hitlTrace")
_FRAME_KEYS = ("id", *_STEP_KEYS)  # a step_trace payload always has an id
_JSON_TEXT_LAYERS = 3  # JSON text, JSON text inside it, and one more for good measure
_JSON_SPACE = re.compile(r"[ \t\n\r]*")
# The C scanner `json.loads` runs (typeshed leaves it out).
_scan_json: Callable[[str, int], tuple[Any, int]] = json.JSONDecoder().scan_once  # type: ignore[attr-defined]
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
    start = 0 if value[:1] in ("{", "[", '"') else _JSON_SPACE.match(value).end()  # type: ignore[union-attr]
    if value[start : start + 1] not in ("{", "[", '"'):
        return value
    try:  # what `json.loads` does, without two layers of Python around the C scanner (once per payload)
        decoded, end = _scan_json(value, start)
    except (StopIteration, ValueError, RecursionError):
        return value
    if end != len(value) and _JSON_SPACE.match(value, end).end() != len(value):  # type: ignore[union-attr]
        return value  # something after the JSON value
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
    if type(value) is not dict:
        value = _payload(value)  # None, or the result object as JSON text
        if type(value) is not dict:
            return value
    if "strValue" not in value and "jsonValue" not in value and "fileLink" not in value:
        return value  # an object that is not a Result: shown as it came
    chosen = value.get("jsonValue")
    if chosen is None:
        chosen = value.get("strValue")
        if chosen is None:
            return value.get("fileLink")
    if type(chosen) is str and chosen[:1] in _MAYBE_JSON:
        return _decode_json_text(chosen)
    return chosen


def _tool_name(tool_trace: dict[str, Any] | None) -> str | None:
    """`integration.tool`; a provider built-in has an empty integration (contract §4.7)."""
    if tool_trace is None:
        return None
    key = tool_trace.get("tool")
    if type(key) is not dict:
        return _text(tool_trace.get("displayName")) or None
    name, integration = key.get("name") or key.get("id"), key.get("integrationId")
    name = name if type(name) is str else _text(name)
    integration = integration if type(integration) is str else _text(integration)
    if not name:
        return None
    return f"{integration}.{name}" if integration else name


_FAILED, _IN_FLIGHT, _SUCCEEDED, _ZERO, _OTHER = range(5)  # what a step's raw `status` says
_MEMO_LIMIT = 1024  # raw enum texts remembered per process: untrusted input cannot grow the memo past it
_kind_memo: dict[str, Kind] = {}
_status_memo: dict[str, int] = {}


def _known_kind(raw_type: str) -> Kind | None:
    kind = _KINDS.get(normalize_enum(raw_type))
    if kind is not None and len(_kind_memo) < _MEMO_LIMIT:
        _kind_memo[raw_type] = kind
    return kind


def _status_class(raw_status: str) -> int:
    key = normalize_enum(raw_status)
    if key in FAILURE_STATUSES:
        found = _FAILED
    elif key in IN_FLIGHT_STATUSES:
        found = _IN_FLIGHT
    elif key in SUCCESS_STATUSES:
        found = _SUCCEEDED
    else:
        found = _ZERO if key in ZERO_VALUES else _OTHER
    if len(_status_memo) < _MEMO_LIMIT:
        _status_memo[raw_status] = found
    return found


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


def _leaf(node: dict[str, Any], span_id: str, parent_id: str | None, depth: int, notes: _Notes) -> Span:
    """A step's `Span` as if it had no children: its own fields read from the node, its roll-ups its own.
    A step with children is remade from it once they are (`_with_children`). Runs once per step, so
    well-formed values take the short way through."""
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
    if type(start) is int and type(end) is int and type(reported) is int and start > 0 and end > 0 and reported >= 0:
        open_, duration = False, reported  # a finished step, as servers send them
    else:
        start, end, open_, duration = _times_of(start, end, reported, get("id"), notes)

    status_class = _status_memo.get(raw_status)
    if status_class is None:
        status_class = _status_class(raw_status)
    if status_class == _FAILED or error is not None:
        status = _ERROR
    elif open_ or status_class == _IN_FLIGHT:
        status = _RUNNING
    elif status_class == _SUCCEEDED or (status_class == _ZERO and (end is not None or duration is not None)):
        status = _SUCCESS  # a finished step with the zero-value status is how the SDK reads success
    else:
        status = _UNKNOWN
        if status_class == _OTHER:
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
        tool_cost = tool.get("cost")
        cost += tool_cost if type(tool_cost) is float and isfinite(tool_cost) else _number(tool_cost)
        arguments = _payload(tool["parameters"] if "parameters" in tool else get("arguments"))
        tool_name = _tool_name(tool)
    else:
        arguments = get("arguments")
        arguments = None if arguments is None else _payload(arguments)
        tool_name = None
    kind = _kind_memo.get(raw_type) or _known_kind(raw_type) or _kind_without_type(raw_type, llm, tool, hitl, notes)
    return _new_span(Span, (span_id, parent_id, name, kind, raw_type, status, raw_status, error, start, end, duration,
                            tokens_in, tokens_out, cost, model, tool_name, arguments, _result(get("result")), llm,
                            hitl, node, depth, (), duration, duration, cost, tokens_in, tokens_out,
                            1 if status is _ERROR else 0, False))  # fmt: skip


def _times_of(start: Any, end: Any, reported: Any, step_id: Any, notes: _Notes) -> tuple[Any, ...]:
    """(start, end, open, duration) of a step whose times are not the usual three positive integers."""
    had_end = end is not None
    start, end, reported = _int(start), _int(end), _int(reported)
    if start is not None and start <= 0:
        start = None
    has_end = end is not None and end > 0
    # `endTime: 0` (or a negative duration and no real end) marks a step that started and has not ended
    # (§9.8); `endTime: null` is the same as no endTime (§1).
    open_ = not has_end and (had_end or (reported is not None and reported < 0))
    if open_ or not has_end:
        end = None
    if open_:
        duration = None
    elif reported is not None and reported >= 0:
        duration = reported
    else:
        duration = end - start if start is not None and end is not None and end >= start else None
        if reported is not None:  # negative while the step has a real end: the number is wrong, not the end
            notes.add("negative_duration", repr(step_id))
    return start, end, open_, duration


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


def _unique_id(requested: Any, taken: dict[str, Any], suffixes: dict[str, int], notes: _Notes) -> str:
    """A step's id, made unique in the trace: a repeat gets `#2`, `#3`…; a missing one `step-N`."""
    base = requested if type(requested) is str else _text(requested)
    if not base:
        base = f"step-{len(taken) + 1}"
    if base not in taken:
        return base
    suffix = suffixes.get(base, 2)  # per repeated id, so a thousand repeats stay linear
    while f"{base}#{suffix}" in taken:
        suffix += 1
    suffixes[base] = suffix + 1
    unique = f"{base}#{suffix}"
    notes.add("duplicate_id", f"{base!r} → {unique!r}")
    return unique


_new_span = tuple.__new__  # `_new_span(Span, values)`: a `Span` made as the tuple it is, in one C call


def _with_children(leaf: Span, parent_id: str | None, depth: int, children: list[Span]) -> Span:
    """A step's `Span` where it sits in the tree, its own fields from `leaf` and its children made:
    roll-ups, self and total time. The critical path is marked afterwards: it runs from the top down."""
    cost, tokens_in, tokens_out = leaf.cost, leaf.input_tokens, leaf.output_tokens
    failed = 1 if leaf.status is _ERROR else 0
    # The usual case costs one pass: children that ran one after another, all inside the step.
    start, duration = leaf.start_ms, leaf.duration_ms
    in_turn = start is not None and duration is not None
    busy, last_end = 0, start or 0
    for child in children:
        cost += child.subtree_cost
        tokens_in += child.subtree_input_tokens
        tokens_out += child.subtree_output_tokens
        failed += child.error_count
        if in_turn:
            child_start, child_duration = child.start_ms, child.duration_ms
            if child_start is None or child_duration is None or child_start < last_end:
                in_turn = False
            else:
                busy += child_duration
                last_end = child_start + child_duration
    total: int | None
    own_time: int | None
    if in_turn and start is not None and duration is not None and last_end <= start + duration:
        total, own_time = duration, duration - busy
    elif children:
        total, own_time = _times(leaf, children)
    else:
        total = own_time = duration
    head: tuple[Any, ...] = (leaf.id, parent_id)
    own = leaf[2:21]  # `name` through `raw`: what the node itself said
    return _new_span(Span, head + own + (depth, tuple([child.id for child in children]), own_time, total, cost,
                                         tokens_in, tokens_out, failed, False))  # fmt: skip


def _build_nested(nodes: list[Any], notes: _Notes) -> tuple[dict[str, Span], list[Span], dict[str, str]]:
    """Spans from nested `steps[]` in one depth-first pass, each step made when its last child is: (spans
    in pre-order, the roots, the `parentId` of each top-level node that names one).

    One iterator per open level (not one stack entry per node), and leaves, most of any trace, made in
    the inner loop: it runs once per step of traces with 100k steps."""
    spans: dict[str, Any] = {}
    suffixes: dict[str, int] = {}
    references: dict[str, str] = {}
    roots: list[Span] = []
    # Per open level: (its children left to visit, the spans made of them so far, the ids of the dicts
    # above them, their parent as a leaf). The top level has no parent.
    levels: list[tuple[Any, ...]] = [(iter(nodes), roots, (), None)]
    while levels:
        children, made, ancestors, parent = levels[-1]
        parent_id, depth = (None, 0) if parent is None else (parent.id, parent.depth + 1)
        for node in children:
            if type(node) is not dict:
                node = _decoded(node, "steps[]", notes) if isinstance(node, str) else node
                if not isinstance(node, dict):
                    notes.add("not_a_step", type(node).__name__)
                    continue
            grandchildren = node.get("steps")
            # Only Python objects can contain themselves (JSON text cannot hold a cycle), and such a
            # step has steps: checking those is enough.
            if grandchildren and ancestors and id(node) in ancestors:
                notes.add("self_contained", repr(node.get("id")))
                continue
            span_id = node.get("id")
            if type(span_id) is not str or not span_id or span_id in spans:
                span_id = _unique_id(span_id, spans, suffixes, notes)
            leaf = spans[span_id] = _leaf(node, span_id, parent_id, depth, notes)
            if parent is None and node.get("parentId") not in (None, ""):
                references[span_id] = _text(node["parentId"])
            if type(grandchildren) is not list:
                grandchildren = _decoded(grandchildren, "steps", notes)
                if not isinstance(grandchildren, list):
                    grandchildren = None
            if grandchildren and depth >= MAX_DEPTH:
                for _ in grandchildren:
                    notes.add("cut_nested", repr(span_id))
                grandchildren = None
            if grandchildren:  # go down; this level's loop resumes once the children are made
                levels.append((iter(grandchildren), [], (*ancestors, id(node)), leaf))
                break
            made.append(leaf)
        else:  # every child is made: remake their parent with them
            levels.pop()
            if parent is not None:
                span = spans[parent.id] = _with_children(parent, parent.parent_id, parent.depth, made)
                levels[-1][1].append(span)
    return spans, roots, references


class _Collected:
    """Steps whose parents are named by id, in flat, index-addressed lists, before the tree is known."""

    def __init__(self, notes: _Notes) -> None:
        self.ids: list[str] = []
        self.leaves: list[Span] = []  # each step as if it had no children (only its own fields count)
        self.parent: list[int] = []  # index of the parent, -1 for none
        self.parent_ref: dict[int, str] = {}  # index → `parentId` to resolve once every id is known
        self.index: dict[str, int] = {}
        self.suffixes: dict[str, int] = {}
        self.notes = notes

    def add(self, node: dict[str, Any]) -> int:
        span_id = _unique_id(node.get("id"), self.index, self.suffixes, self.notes)
        position = len(self.ids)
        self.ids.append(span_id)
        self.index[span_id] = position
        self.leaves.append(_leaf(node, span_id, None, 0, self.notes))
        self.parent.append(-1)
        return position

    @classmethod
    def relinking(cls, spans: dict[str, Span], references: dict[str, str], notes: _Notes) -> _Collected:
        """Nested spans again, now that some top-level ones turned out to name a parent by id."""
        collected = cls(notes)
        collected.ids = list(spans)
        collected.index = {span_id: position for position, span_id in enumerate(collected.ids)}
        collected.leaves = list(spans.values())
        index = collected.index
        collected.parent = [-1 if span.parent_id is None else index[span.parent_id] for span in spans.values()]
        collected.parent_ref = {index[span_id]: parent for span_id, parent in references.items()}
        return collected


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


def _build_linked(collected: _Collected) -> tuple[dict[str, Span], list[Span], tuple[str, ...]]:
    """Lay out and make the spans of steps that name their parent by id: resolve the `parentId`s, walk
    the tree, then make each span after its children.

    Roots are the parentless nodes in input order; then nodes too deep to stay under their parent,
    then one node of each parent cycle (found by walking up from a node nothing reached)."""
    _link(collected)
    count = len(collected.ids)
    parent, notes, ids = collected.parent, collected.notes, collected.ids
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
    visited = bytearray(count)
    order: list[int] = []
    next_root = scan = 0
    while True:
        while next_root < len(roots):
            root = roots[next_root]
            next_root += 1
            if visited[root]:
                continue
            visited[root] = 1
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
                        notes.add("too_deep", repr(ids[child]))
                        orphan[child] = True
                        parent[child] = -1
                    roots.extend(children)
                    continue
                kids[position] = children
                for child in children:
                    visited[child] = 1
                    depth[child] = depth[position] + 1
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
        notes.add("cycle", repr(ids[node]))
        parent[node] = -1
        orphan[node] = True
        roots.append(node)
    built: list[Any] = [None] * count
    leaves, no_children = collected.leaves, list[int]()
    for position in reversed(order):  # children before their parents
        parent_position = parent[position]
        children = kids.get(position, no_children)
        built[position] = _with_children(leaves[position], ids[parent_position] if parent_position >= 0 else None,
                                         depth[position], [built[c] for c in children])  # fmt: skip
    orphans = tuple([ids[root] for root in roots if orphan[root]])
    return {ids[position]: built[position] for position in order}, [built[root] for root in roots], orphans


def _covered_ms(children: list[Span], low: int | None, high: int | None) -> int:
    """Milliseconds covered by the union of the children's intervals, clipped to the parent's."""
    covered, last_end = 0, -math.inf
    for start, end in _intervals(children, low, high):
        if start < last_end:  # overlapping or out of order: the children did not run one after another
            return _union_ms(sorted(_intervals(children, low, high)))
        covered += end - start
        last_end = end
    return covered


def _intervals(children: list[Span], low: int | None, high: int | None) -> Iterator[tuple[int, int]]:
    """The children's (start, end), clipped to the parent's; a running child counts until the parent's end."""
    for child in children:
        start = child.start_ms
        if start is None:
            continue
        if child.duration_ms is not None:
            end = start + child.duration_ms
        elif child.status is _RUNNING and high is not None:
            end = high
        else:
            continue
        if low is not None and start < low:
            start = low
        if high is not None and end > high:
            end = high
        if end > start:
            yield start, end


def _union_ms(intervals: list[tuple[int, int]]) -> int:
    """The length of the union of sorted intervals."""
    covered = 0
    current_start, current_end = intervals[0]
    for start, end in intervals[1:]:
        if start > current_end:
            covered += current_end - current_start
            current_start, current_end = start, end
        elif end > current_end:
            current_end = end
    return covered + current_end - current_start


def _extent_ms(children: list[Span]) -> int | None:
    starts = [c.start_ms for c in children if c.start_ms is not None]
    ends = [c.start_ms + c.duration_ms for c in children if c.start_ms is not None and c.duration_ms is not None]
    if not starts or not ends or len(ends) != len(starts):
        return None
    return int(max(ends) - min(starts))


def _times(step: Span, children: list[Span]) -> tuple[int | None, int | None]:
    """(total, self) time of a step with children: self is what no child covers, never negative.
    A finished step without times of its own spans its children."""
    duration, start = step.duration_ms, step.start_ms
    if duration is not None:
        return duration, max(0, duration - _covered_ms(children, start, None if start is None else start + duration))
    if step.status is _RUNNING:
        return None, None
    extent = _extent_ms(children)
    return extent, None if extent is None else max(0, extent - _covered_ms(children, None, None))


def _finish_key(span: Span) -> tuple[float, float]:
    """Sort key for "ends last": a running step has not ended, so it ends after everything that did."""
    if span.status is _RUNNING:
        return (math.inf, span.start_ms or 0)
    if span.end_ms is not None:
        return (span.end_ms, span.start_ms or 0)
    if span.start_ms is not None and span.duration_ms is not None:
        return (span.start_ms + span.duration_ms, span.start_ms)
    return (-math.inf, span.start_ms or 0)


def _mark_critical_path(spans: dict[str, Span], roots: list[Span]) -> None:
    """From the root that ends last, always into the child that ends last (at most 13 spans remade)."""
    span = max(roots, key=_finish_key) if roots else None
    while span is not None:
        spans[span.id] = span._replace(on_critical_path=True)
        span = max((spans[child] for child in span.children), key=_finish_key) if span.children else None


def _trace(spans: dict[str, Span], root_spans: list[Span], orphans: tuple[str, ...], header: dict[str, Any],
           run_status: str | None, notes: _Notes) -> Trace:  # fmt: skip
    _mark_critical_path(spans, root_spans)
    running = _RUNNING in map(_status_of, spans.values())  # compared in C, by identity first
    revision = _int(header.get("agentRevision"))
    start = _int(header.get("startTime"))
    end = _int(header.get("endTime"))
    header_open = (
        start is not None and start > 0 and header.get("endTime") is not None and (end is None or end <= 0)
    )
    if start is None or start <= 0:
        start = min((s.start_ms for s in spans.values() if s.start_ms is not None), default=None)
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
        roots=tuple([root.id for root in root_spans]),
        agent_id=None if agent_id is None or agent_id == "" else _text(agent_id),
        agent_revision=revision if revision is not None and revision > 0 else None,
        start_ms=start,
        end_ms=end,
        duration_ms=duration,
        total_cost=_header_or(header, "totalCost", _number_or_none, sum((r.subtree_cost for r in root_spans), 0.0)),
        input_tokens=_header_or(header, "inputTokens", _int, sum(r.subtree_input_tokens for r in root_spans)),
        output_tokens=_header_or(header, "outputTokens", _int, sum(r.subtree_output_tokens for r in root_spans)),
        is_live=running or header_open or normalize_enum(run_status) in _LIVE_RUN_STATUSES,
        orphans=orphans,
        warnings=notes.lines(),
        raw={key: value for key, value in header.items() if key != "traces"},
    )


_status_of = attrgetter("status")


def _header_or(header: dict[str, Any], key: str, read: Any, rolled_up: Any) -> Any:
    """The run-level figure the server reported, else the sum of the steps'."""
    value = read(header.get(key))
    return value if value is not None else rolled_up


def build_trace(source: Any) -> Trace:
    """Any trace source → a `Trace`. Unknown kinds and statuses are kept; no step is dropped except
    non-objects and what the SDK's depth cap cuts (both reported in `warnings`)."""
    with cyclic_gc_paused():
        notes = _Notes()
        header, nodes, run_status = _split(_load(source, notes), notes)
        spans, roots, references = _build_nested(nodes, notes)
        orphans: tuple[str, ...] = ()
        if references:  # top-level steps that name their parent by id: lay the tree out again
            spans, roots, orphans = _build_linked(_Collected.relinking(spans, references, notes))
        return _trace(spans, roots, orphans, header, run_status, notes)


def build_trace_from_step_events(events: Iterable[Any], header: Any = None) -> Trace:
    """A (possibly live) trace from `step_trace` event payloads, in arrival order: a start frame and
    later an end frame with the same id make one step; nesting comes from `parentId`; a parent that
    never arrived leaves an orphan root. `header` is any run-level source (e.g. the `done` trace)."""
    with cyclic_gc_paused():
        notes = _Notes()
        run_header, _, run_status = _split(_load(header, notes), notes) if header is not None else ({}, [], None)
        collected = _Collected(notes)
        frames = events if isinstance(events, Iterable) and not isinstance(events, str | bytes | dict) else []
        for node in _merge_frames(frames, notes):
            position = collected.add(node)
            if node.get("parentId") not in (None, ""):
                collected.parent_ref[position] = _text(node["parentId"])
        return _trace(*_build_linked(collected), run_header, run_status, notes)
