"""Two saved runs compared: what went in, what came out, how their traces differ, and a verdict.

`compare_runs(a, b)` reads both runs the way History draws them (their events folded again by
`snapshot_of_saved`), so a sync run and a streamed one, a failed run and a run with no trace compare
with the same code. A is the reference ("before"), B the candidate: every Δ is B − A.

Text is diffed at word level on tokens that keep every character (words, runs of whitespace, single
punctuation marks), so each side re-assembles exactly from its segments. Long texts are diffed by
line first and by word only inside the changed lines, which keeps the cost near linear.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from enum import StrEnum
from typing import Any

from fruxon_playground.history import SavedRun
from fruxon_playground.runs.fold import Phase, RunState, ToolCard
from fruxon_playground.runs.record import snapshot_of_saved
from fruxon_playground.trace import Change, Span, StepChange, Trace, TraceDiff, build_trace, diff_traces
from fruxon_playground.trace.diff import aligned_steps

_TOKEN = re.compile(r"\w+|\s+|[^\w\s]")
_WORD = re.compile(r"\w+")
_CHUNK_END = re.compile(r"(?<=\n)|(?<=[.!?])(?=\s)")  # after a line, or a sentence's final mark
# Changed passages longer than this (both sides, in tokens) are shown replaced whole: SequenceMatcher
# is quadratic at worst, and a word diff of two unrelated pages is no help anyway.
MAX_WORD_DIFF_TOKENS = 10_000
_CRUMB_WORD = 3  # a shared word this short between two edits is folded into them ("a", "of", "the")
_TIDY_PASSES = 8  # folding repeats while it finds something; a few passes settle any real text
_VALUE_CHARS = 300  # an input value as shown in the inputs table
_TEST_KINDS = ("test", "stream_test")
_KIND_LABELS = {"execute": "execute (sync)", "stream": "stream", "test": "test (sync)", "stream_test": "stream test"}
# Request keys with a row of their own; any other key gets a generic row.
_KNOWN_KEYS = ("parameters", "attachments", "chatUser", "sessionId", "environmentSlug", "mode", "flow")
_FIELD_WORDS = {"raw_type": "type", "status": "status", "error": "error", "model": "model", "tool_name": "tool",
                "arguments": "arguments", "result": "result", "hitl": "approval"}


# -- text -----------------------------------------------------------------------------------------
class Op(StrEnum):
    EQUAL = "equal"
    INSERT = "insert"  # only in B
    DELETE = "delete"  # only in A
    REPLACE = "replace"  # A's text replaced by B's


@dataclass(frozen=True, slots=True)
class Segment:
    op: Op
    before: str  # the text in A ("" for an insert)
    after: str  # the text in B ("" for a delete)


@dataclass(frozen=True, slots=True)
class TextDiff:
    segments: tuple[Segment, ...]
    coarse: bool = False  # a hunk was too long for a word diff and is shown replaced whole

    @property
    def same(self) -> bool:
        return all(s.op is Op.EQUAL for s in self.segments)

    @property
    def before(self) -> str:
        return "".join(s.before for s in self.segments)

    @property
    def after(self) -> str:
        return "".join(s.after for s in self.segments)

    @property
    def removed_words(self) -> int:
        return sum(len(_WORD.findall(s.before)) for s in self.segments if s.op is not Op.EQUAL)

    @property
    def added_words(self) -> int:
        return sum(len(_WORD.findall(s.after)) for s in self.segments if s.op is not Op.EQUAL)


def tokens(text: str) -> list[str]:
    """Words, whitespace runs and single punctuation marks: `"".join(tokens(t)) == t`."""
    return _TOKEN.findall(text)


def chunks(text: str) -> list[str]:
    """Sentences and lines, each keeping what follows it up to the next one: `"".join(chunks(t)) == t`."""
    return [c for c in _CHUNK_END.split(text) if c]


def word_diff(before: str, after: str) -> TextDiff:
    """What changed from `before` to `after`, word by word. Sentences and lines are aligned first and
    words only inside the ones that differ, so two long, similar answers cost little to compare."""
    if before == after:
        return TextDiff((Segment(Op.EQUAL, before, after),) if before else ())
    segments: list[Segment] = []
    coarse = False
    old_chunks, new_chunks = chunks(before), chunks(after)
    matcher = SequenceMatcher(str.isspace, old_chunks, new_chunks, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        old, new = "".join(old_chunks[i1:i2]), "".join(new_chunks[j1:j2])
        if op == "equal":
            segments.append(Segment(Op.EQUAL, old, new))
            continue
        found, too_long = _word_segments(old, new)
        segments.extend(found)
        coarse = coarse or too_long
    return TextDiff(_tidy(segments), coarse)


def _word_segments(before: str, after: str) -> tuple[list[Segment], bool]:
    old, new = tokens(before), tokens(after)
    # The common head and tail cost nothing to find and are most of two similar passages.
    head = 0
    while head < min(len(old), len(new)) and old[head] == new[head]:
        head += 1
    tail = 0
    while tail < min(len(old), len(new)) - head and old[-1 - tail] == new[-1 - tail]:
        tail += 1
    middle_old, middle_new = old[head:len(old) - tail], new[head:len(new) - tail]
    found = [Segment(Op.EQUAL, "".join(old[:head]), "".join(new[:head]))]
    too_long = len(middle_old) + len(middle_new) > MAX_WORD_DIFF_TOKENS
    if too_long:
        found.append(Segment(Op.REPLACE, "".join(middle_old), "".join(middle_new)))
    else:
        # Whitespace never anchors a match on its own (it would align unrelated words around spaces).
        matcher = SequenceMatcher(str.isspace, middle_old, middle_new, autojunk=False)
        found += [Segment(Op(op), "".join(middle_old[i1:i2]), "".join(middle_new[j1:j2]))
                  for op, i1, i2, j1, j2 in matcher.get_opcodes()]
    found.append(Segment(Op.EQUAL, "".join(old[len(old) - tail:]), "".join(new[len(new) - tail:])))
    return found, too_long


def _tidy(segments: Iterable[Segment]) -> tuple[Segment, ...]:
    """Readable segments: empty ones dropped, neighbours of one kind merged, and a crumb of equal
    text between two changes folded into them — "plain <b>hi</b>" → "<img …>" reads as one
    replacement, not as a chain of edits around a shared "<" and ">"."""
    out = _merged(segments)
    for _ in range(_TIDY_PASSES):
        folded: list[Segment] = []
        for segment in out:
            if (segment.op is not Op.EQUAL and len(folded) >= 2 and folded[-1].op is Op.EQUAL
                    and folded[-2].op is not Op.EQUAL
                    and _is_crumb(folded[-1].before, min(_edit_size(folded[-2]), _edit_size(segment)))):
                equal = folded.pop()
                folded[-1] = _joined(_joined(folded[-1], equal), segment)
            else:
                folded.append(segment)
        if len(folded) == len(out):
            break
        out = _merged(folded)
    return tuple(out)


def _merged(segments: Iterable[Segment]) -> list[Segment]:
    out: list[Segment] = []
    for segment in segments:
        if not segment.before and not segment.after:
            continue
        if out and (out[-1].op is Op.EQUAL) == (segment.op is Op.EQUAL):
            previous = out[-1]
            out[-1] = (Segment(Op.EQUAL, previous.before + segment.before, previous.after + segment.after)
                       if segment.op is Op.EQUAL else _joined(previous, segment))
            continue
        out.append(segment)
    return out


def _is_crumb(equal: str, smaller_edit: int) -> bool:
    """Too little to read as "unchanged" between two edits: whitespace and punctuation, or one short
    word next to edits at least twice its length. Whole shared words and phrases always stay."""
    words = _WORD.findall(equal)
    if not words:
        return True
    return len(words) == 1 and len(words[0]) <= _CRUMB_WORD and 2 * len(equal) <= smaller_edit


def _edit_size(segment: Segment) -> int:
    return max(len(segment.before), len(segment.after))


def _joined(first: Segment, second: Segment) -> Segment:
    before, after = first.before + second.before, first.after + second.after
    op = Op.REPLACE if before and after else Op.DELETE if before else Op.INSERT
    return Segment(op, before, after)


@dataclass(frozen=True, slots=True)
class LinePair:
    """One row of a side-by-side view: a line of A next to a line of B (either may be absent)."""

    op: Op
    before_number: int | None  # 1-based; None where A has no line on this row
    before: str
    after_number: int | None
    after: str
    words: TextDiff | None = None  # for a replaced line: which words changed


def line_diff(before: str, after: str) -> tuple[LinePair, ...]:
    """Side-by-side rows of two texts: equal lines together, changed lines paired in order with
    their word changes, lines left over on one side alone."""
    old, new = before.splitlines(), after.splitlines()
    rows: list[LinePair] = []
    for op, i1, i2, j1, j2 in SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        for k in range(max(i2 - i1, j2 - j1)):
            i, j = i1 + k, j1 + k
            a = old[i] if i < i2 else None
            b = new[j] if j < j2 else None
            if op == "equal":
                rows.append(LinePair(Op.EQUAL, i + 1, old[i], j + 1, new[j]))
            elif a is not None and b is not None:
                rows.append(LinePair(Op.REPLACE, i + 1, a, j + 1, b, word_diff(a, b)))
            elif a is not None:
                rows.append(LinePair(Op.DELETE, i + 1, a, None, ""))
            else:
                rows.append(LinePair(Op.INSERT, None, "", j + 1, b or ""))
    return tuple(rows)


def collapse_equal(rows: Sequence[LinePair], context: int = 3) -> list[LinePair | int]:
    """Rows with long unchanged stretches folded: each fold is the number of lines it hides, and
    `context` unchanged lines stay on each side of a change (a diff tool's hunks)."""
    out: list[LinePair | int] = []
    start = 0
    while start < len(rows):
        end = start
        while end < len(rows) and rows[end].op is Op.EQUAL:
            end += 1
        run = rows[start:end]
        keep_head = context if start > 0 else 0  # context after the change before this stretch
        keep_tail = context if end < len(rows) else 0  # and before the change after it
        if len(run) > keep_head + keep_tail + 1:
            out += run[:keep_head]
            out.append(len(run) - keep_head - keep_tail)
            out += run[len(run) - keep_tail:]
        else:
            out += run
        if end < len(rows):
            out.append(rows[end])
        start = end + 1
    return out


def pretty(value: Any) -> str:
    """A payload as it reads best in a side-by-side view: text as it is, anything else as indented JSON."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


def payload_diff(before: Any, after: Any) -> tuple[LinePair, ...]:
    """Side-by-side rows of two tool arguments or results."""
    return line_diff(pretty(before), pretty(after))


# -- formatting (plain text; the UI escapes it) ---------------------------------------------------
def revision_label(revision: int | None) -> str:
    """`draft` for revisions ≤ 0 (never "rev -1"), `rev N`, or `deployed` when the run did not say."""
    if revision is None:
        return "deployed"
    return "draft" if revision <= 0 else f"rev {revision}"


def format_ms(ms: float | None, *, signed: bool = False) -> str:
    if ms is None:
        return "—"
    sign = _sign(ms) if signed else ("−" if ms < 0 else "")
    size = abs(ms)
    return f"{sign}{size:.0f} ms" if size < 1000 else f"{sign}{size / 1000:.2f} s"


def format_cost(value: float | None, *, signed: bool = False) -> str:
    """Dollars with enough digits for sub-cent model costs: $0.0000966, $1.25."""
    if value is None:
        return "—"
    sign = _sign(value) if signed else ("−" if value < 0 else "")
    size = abs(value)
    if size == 0:
        return "$0"
    decimals = 2 if size >= 1 else min(10, 2 - math.floor(math.log10(size)))
    return f"{sign}${size:.{decimals}f}"


def format_count(value: float | None, *, signed: bool = False) -> str:
    if value is None:
        return "—"
    sign = _sign(value) if signed else ("−" if value < 0 else "")
    return f"{sign}{abs(value):,.0f}"


def format_percent(delta: float | None, base: float | None) -> str:
    """"+12%" of `base`; "" when there is no base to measure against."""
    if delta is None or not base:
        return ""
    percent = 100 * delta / base
    shown = f"{abs(percent):.1f}" if abs(percent) < 1 else f"{abs(percent):.0f}"
    return f"{_sign(percent) if float(shown) else ''}{shown}%"


def _sign(value: float) -> str:
    return "+" if value > 0 else "−" if value < 0 else ""


# -- inputs ---------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Target:
    """What a run ran: the agent, how (kind) and which revision."""

    agent_id: str
    kind: str  # execute | stream | test | stream_test
    revision: int | None  # as the trace said; for an unknown one, what the request asked for

    @property
    def revision_label(self) -> str:
        return revision_label(self.revision)

    @property
    def kind_label(self) -> str:
        return _KIND_LABELS.get(self.kind, self.kind)

    @property
    def label(self) -> str:
        return f"{self.agent_id} · {self.revision_label} · {self.kind_label}"


@dataclass(frozen=True, slots=True)
class InputRow:
    group: str  # Target | Parameter | Request
    name: str
    before: str  # as shown: "—" for absent
    after: str
    changed: bool
    note: str = ""  # what differs, when the values alone do not say (a draft flow's changed steps)


def target_of(run: SavedRun, state: RunState) -> Target:
    revision = state.revision
    if revision is None and run.kind in _TEST_KINDS:
        base = run.request.get("baseRevision")
        pinned = isinstance(base, int) and not isinstance(base, bool) and base > 0 and "flow" not in run.request
        revision = base if pinned else 0  # an inline or stored draft runs as the draft
    return Target(run.agent_id, run.kind, revision)


def _shown(value: Any) -> str:
    if value is None:
        return "—"
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= _VALUE_CHARS else text[: _VALUE_CHARS - 1] + "…"


def _parameter_rows(a: SavedRun, b: SavedRun, ta: Mapping[str, Any], tb: Mapping[str, Any]) -> list[InputRow]:
    sent_a, sent_b = _mapping(a.request.get("parameters")), _mapping(b.request.get("parameters"))
    used_a, used_b = _mapping(ta.get("parameters")), _mapping(tb.get("parameters"))
    names = list(dict.fromkeys([*sent_a, *sent_b, *used_a, *used_b]))
    rows = []
    for name in names:
        value_a, shown_a = _parameter(name, sent_a, used_a)
        value_b, shown_b = _parameter(name, sent_b, used_b)
        rows.append(InputRow("Parameter", name, shown_a, shown_b, value_a != value_b))
    return rows


_UNSET = object()


def _parameter(name: str, sent: Mapping[str, Any], used: Mapping[str, Any]) -> tuple[Any, str]:
    """The value that ran (sent, else the default the trace reports) and how it reads."""
    if name in sent:
        return sent[name], _shown(sent[name])
    if name in used:
        return used[name], f"{_shown(used[name])} (default)"
    return _UNSET, "—"


def _attachments(request: Mapping[str, Any]) -> str:
    items = request.get("attachments")
    if not isinstance(items, list) or not items:
        return "none"
    names = [str(i.get("displayName") or i.get("fileId") or "file") if isinstance(i, dict) else _shown(i)
             for i in items]
    return ", ".join(names)


def _chat_user(request: Mapping[str, Any]) -> str:
    user = request.get("chatUser")
    if not isinstance(user, dict) or not user:
        return "—" if user is None else _shown(user)
    name = user.get("displayName") or user.get("id") or ""
    email = f" <{user['email']}>" if user.get("email") else ""
    return f"{name}{email}".strip() or _shown(user)


def _flow(request: Mapping[str, Any], kind: str) -> str:
    flow = request.get("flow")
    if not isinstance(flow, dict):
        return "stored flow" if kind in _TEST_KINDS else "deployed flow"
    steps, edges = flow.get("steps"), flow.get("edges")
    return (f"{len(steps) if isinstance(steps, list) else 0} steps, "
            f"{len(edges) if isinstance(edges, list) else 0} edges")


def _flow_note(a: Mapping[str, Any], b: Mapping[str, Any]) -> str:
    """Which steps of two inline drafts differ, by identifier."""
    steps_a, steps_b = _steps_by_id(a.get("flow")), _steps_by_id(b.get("flow"))
    if steps_a is None or steps_b is None:
        return ""
    changed = [i for i in dict.fromkeys([*steps_a, *steps_b]) if steps_a.get(i) != steps_b.get(i)]
    if changed:
        return "steps that differ: " + ", ".join(changed)
    return "edges differ" if _mapping(a.get("flow")).get("edges") != _mapping(b.get("flow")).get("edges") else ""


def _steps_by_id(flow: Any) -> dict[str, Any] | None:
    if not isinstance(flow, dict) or not isinstance(flow.get("steps"), list):
        return None
    return {str(s.get("identifier") or s.get("name") or i): s if isinstance(s, dict) else {"value": s}
            for i, s in enumerate(flow["steps"]) if isinstance(s, dict)}


def _request_rows(a: SavedRun, b: SavedRun) -> list[InputRow]:
    ra, rb = a.request, b.request
    rows = []

    def row(name: str, shown_a: str, shown_b: str, differs: bool, note: str = "") -> None:
        rows.append(InputRow("Request", name, shown_a, shown_b, differs, note))

    row("Attachments", _attachments(ra), _attachments(rb), ra.get("attachments") != rb.get("attachments"))
    if "chatUser" in ra or "chatUser" in rb:
        row("Chat user", _chat_user(ra), _chat_user(rb), ra.get("chatUser") != rb.get("chatUser"))
    row("Session", ra.get("sessionId") or "new session", rb.get("sessionId") or "new session",
        ra.get("sessionId") != rb.get("sessionId"))
    row("Environment", ra.get("environmentSlug") or "none", rb.get("environmentSlug") or "none",
        ra.get("environmentSlug") != rb.get("environmentSlug"))
    row("Mode", ra.get("mode") or "default", rb.get("mode") or "default", ra.get("mode") != rb.get("mode"))
    if "flow" in ra or "flow" in rb:
        row("Draft flow", _flow(ra, a.kind), _flow(rb, b.kind), ra.get("flow") != rb.get("flow"),
            _flow_note(ra, rb))
    for key in dict.fromkeys([*ra, *rb]):
        if key not in _KNOWN_KEYS:
            row(key, _shown(ra.get(key)), _shown(rb.get(key)), ra.get(key) != rb.get(key))
    return rows


def _revisions_differ(a: int | None, b: int | None) -> bool:
    """An unknown revision of a deployed run may well be the other's published one: not a difference."""
    if a is None and b is None:
        return False
    if a is None or b is None:
        known = a if a is not None else b
        return known is not None and known <= 0  # deployed vs draft: they differ
    return revision_label(a) != revision_label(b)


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


# -- outcome and figures --------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Figure:
    """One measure of both runs; Δ = B − A."""

    name: str
    unit: str  # "ms" | "$" | "" (a count)
    before: float | None
    after: float | None
    lower_is_better: bool = True  # False: neither way is better (how many steps a run took)

    @property
    def delta(self) -> float | None:
        if self.before is None or self.after is None:
            return None
        delta = self.after - self.before
        return 0.0 if math.isclose(delta, 0.0, abs_tol=1e-15) else delta

    @property
    def tone(self) -> Tone:
        delta = self.delta
        if delta is None:
            return Tone.NEUTRAL
        if not delta:
            return Tone.SAME
        if not self.lower_is_better:
            return Tone.DIFFERENT
        return Tone.BETTER if delta < 0 else Tone.WORSE

    def shown(self, value: float | None, *, signed: bool = False) -> str:
        if self.unit == "ms":
            return format_ms(value, signed=signed)
        if self.unit == "$":
            return format_cost(value, signed=signed)
        return format_count(value, signed=signed)


def _figures(a: SavedRun, b: SavedRun, sa: RunState, sb: RunState, ta: Trace | None, tb: Trace | None,
             ) -> tuple[Figure, ...]:
    def traced(trace: Trace | None, value: float | None) -> float | None:
        return value if trace is not None else None

    figures = [
        Figure("Duration (as waited)", "ms", a.duration_ms, b.duration_ms),
        Figure("Server time", "ms", ta.duration_ms if ta else None, tb.duration_ms if tb else None),
    ]
    if a.streamed or b.streamed:
        figures.append(Figure("Time to first text", "ms", sa.health.first_text_ms, sb.health.first_text_ms))
    figures += [
        Figure("Cost", "$", traced(ta, a.total_cost), traced(tb, b.total_cost)),
        Figure("Input tokens", "", traced(ta, a.input_tokens), traced(tb, b.input_tokens)),
        Figure("Output tokens", "", traced(ta, a.output_tokens), traced(tb, b.output_tokens)),
        Figure("Steps", "", len(ta.spans) if ta else None, len(tb.spans) if tb else None, lower_is_better=False),
        Figure("Tool calls", "", len(sa.tools), len(sb.tools), lower_is_better=False),
        Figure("Failed steps", "", ta.error_count if ta else None, tb.error_count if tb else None),
    ]
    return tuple(figures)


# -- tools ----------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ToolDifference:
    """How one tool's calls differ between the runs (calls paired by name, in order)."""

    tool: str
    calls_before: int
    calls_after: int
    arguments_differ: bool
    results_differ: bool

    @property
    def called_differently(self) -> bool:
        return self.calls_before != self.calls_after or self.arguments_differ

    @property
    def summary(self) -> str:
        if not self.calls_before:
            return "only in B"
        if not self.calls_after:
            return "only in A"
        parts = []
        if self.calls_before != self.calls_after:
            parts.append(f"{self.calls_before} → {self.calls_after} calls")
        if self.arguments_differ:
            parts.append("arguments")
        if self.results_differ:
            parts.append("results")
        return ", ".join(parts)


def tool_differences(before: Iterable[ToolCard], after: Iterable[ToolCard]) -> tuple[ToolDifference, ...]:
    calls_a, calls_b = _by_tool(before), _by_tool(after)
    found = []
    for tool in dict.fromkeys([*calls_a, *calls_b]):
        cards_a, cards_b = calls_a.get(tool, []), calls_b.get(tool, [])
        pairs = list(zip(cards_a, cards_b, strict=False))
        arguments = any(x.arguments != y.arguments for x, y in pairs)
        results = any(x.result != y.result or x.status != y.status for x, y in pairs)
        if len(cards_a) != len(cards_b) or arguments or results:
            found.append(ToolDifference(tool, len(cards_a), len(cards_b), arguments, results))
    return tuple(found)


def _by_tool(cards: Iterable[ToolCard]) -> dict[str, list[ToolCard]]:
    grouped: dict[str, list[ToolCard]] = {}
    for card in cards:
        grouped.setdefault(card.name, []).append(card)
    return grouped


# -- trace ----------------------------------------------------------------------------------------
class StepStatus(StrEnum):
    SAME = "same"  # same step, same payloads (its numbers may still differ)
    CHANGED = "changed"  # status, error, model, tool, arguments or result differ
    ADDED = "added"  # only in B
    REMOVED = "removed"  # only in A


@dataclass(frozen=True, slots=True)
class AlignedStep:
    """A step of either trace next to its counterpart in the other."""

    status: StepStatus
    before: Span | None
    after: Span | None
    duration_delta_ms: int | None
    cost_delta: float
    tokens_delta: int
    changed_fields: tuple[str, ...] = ()
    argument_changes: tuple[str, ...] = ()  # "$.query"… as `payload_changes` reports them
    result_changes: tuple[str, ...] = ()

    @property
    def span(self) -> Span:
        span = self.after if self.after is not None else self.before
        assert span is not None
        return span

    @property
    def differs(self) -> bool:
        return self.status is not StepStatus.SAME or bool(self.duration_delta_ms or self.cost_delta
                                                          or self.tokens_delta)

    @property
    def has_payloads(self) -> bool:
        """Arguments or results worth opening side by side: they changed, or the step is one-sided."""
        if self.status in (StepStatus.ADDED, StepStatus.REMOVED):
            return self.span.arguments is not None or self.span.result is not None
        return bool(self.argument_changes or self.result_changes)

    @property
    def what_differs(self) -> str:
        words = []
        for name in self.changed_fields:
            where = self.argument_changes if name == "arguments" else self.result_changes if name == "result" else ()
            paths = ", ".join(p for p in where[:3] if p != "$") + (" …" if len(where) > 3 else "")
            words.append(f"{_FIELD_WORDS.get(name, name)} ({paths})" if paths else _FIELD_WORDS.get(name, name))
        return ", ".join(words)


def align(before: Trace, after: Trace, diff: TraceDiff) -> tuple[AlignedStep, ...]:
    """Every step of both traces in tree order, each with what `diff` found for it."""
    changes: dict[tuple[int, int], StepChange] = {(id(c.before), id(c.after)): c for c in diff.changes}
    steps = []
    for old, new in aligned_steps(before, after):
        change = changes.get((id(old), id(new)))
        if change is None:
            timed = old is not None and new is not None and old.duration_ms is not None and new.duration_ms is not None
            steps.append(AlignedStep(StepStatus.SAME, old, new, 0 if timed else None, 0.0, 0))
            continue
        if change.change is Change.ADDED:
            status = StepStatus.ADDED
        elif change.change is Change.REMOVED:
            status = StepStatus.REMOVED
        else:
            status = StepStatus.CHANGED if change.changed_fields else StepStatus.SAME
        steps.append(AlignedStep(status, old, new, change.duration_delta_ms, change.cost_delta,
                                 change.tokens_delta, change.changed_fields, change.argument_changes,
                                 change.result_changes))
    return tuple(steps)


# -- verdict --------------------------------------------------------------------------------------
class Tone(StrEnum):
    SAME = "same"
    DIFFERENT = "different"
    BETTER = "better"  # B is cheaper, faster or succeeded where A did not
    WORSE = "worse"
    NEUTRAL = "neutral"


@dataclass(frozen=True, slots=True)
class VerdictPart:
    topic: str  # answer | outcome | cost | latency | tools
    text: str  # plain text: escape it before it reaches Markdown or HTML
    tone: Tone


@dataclass(frozen=True, slots=True)
class Verdict:
    parts: tuple[VerdictPart, ...]

    @property
    def line(self) -> str:
        return " · ".join(p.text for p in self.parts)


_PHASE_RANK = {Phase.COMPLETED: 3, Phase.WAITING_FOR_HUMAN: 2, Phase.REJECTED: 1}


def _verdict(text: TextDiff, phases: tuple[Phase, Phase], cost: Figure, latency: Figure,
             tools: Sequence[ToolDifference], traces: tuple[bool, bool]) -> Verdict:
    parts = []
    if not text.before and not text.after:
        parts.append(VerdictPart("answer", "No answer in either run", Tone.NEUTRAL))
    elif text.same:
        parts.append(VerdictPart("answer", "Same answer", Tone.SAME))
    else:
        parts.append(VerdictPart("answer", f"Different answer (−{text.removed_words} +{text.added_words} words)",
                                 Tone.DIFFERENT))
    a, b = phases
    if a is not b:
        rank_a, rank_b = _PHASE_RANK.get(a, 0), _PHASE_RANK.get(b, 0)
        tone = Tone.BETTER if rank_b > rank_a else Tone.WORSE if rank_b < rank_a else Tone.DIFFERENT
        parts.append(VerdictPart("outcome", f"A {_phase_words(a)}, B {_phase_words(b)}", tone))
    elif a is not Phase.COMPLETED:
        parts.append(VerdictPart("outcome", f"Both {_phase_words(a)}", Tone.NEUTRAL))
    # Faster or cheaper is no better when one of the runs failed: the tone says so only for like outcomes.
    parts.append(_delta_part("cost", "Δcost", cost, _missing(traces), judged=a is b))
    parts.append(_delta_part("latency", "Δlatency", latency, "", judged=a is b))
    differently = [t for t in tools if t.called_differently]
    if differently:
        named = ", ".join(f"{t.tool} ({t.summary})" for t in differently)
        parts.append(VerdictPart("tools", f"Tools called differently: {named}", Tone.DIFFERENT))
    elif tools:
        parts.append(VerdictPart("tools", "Same tool calls, different results: " + ", ".join(t.tool for t in tools),
                                 Tone.DIFFERENT))
    else:
        parts.append(VerdictPart("tools", "Same tool calls", Tone.SAME))
    return Verdict(tuple(parts))


def _missing(traces: tuple[bool, bool]) -> str:
    if all(traces):
        return ""
    return "no traces" if not any(traces) else ("A has no trace" if not traces[0] else "B has no trace")


def _delta_part(topic: str, name: str, figure: Figure, why_unknown: str, *, judged: bool) -> VerdictPart:
    delta = figure.delta
    if delta is None:
        return VerdictPart(topic, f"{name} unknown" + (f" ({why_unknown})" if why_unknown else ""), Tone.NEUTRAL)
    if not delta:
        return VerdictPart(topic, f"{name} {figure.shown(0)}", Tone.SAME)
    percent = format_percent(delta, figure.before)
    text = f"{name} {figure.shown(delta, signed=True)}" + (f" ({percent})" if percent else "")
    return VerdictPart(topic, text, figure.tone if judged else Tone.NEUTRAL)


def _phase_words(phase: Phase) -> str:
    return phase.value.replace("_", " ")


# -- the comparison -------------------------------------------------------------------------------
@dataclass(frozen=True)
class RunComparison:
    a: SavedRun
    b: SavedRun
    state_a: RunState
    state_b: RunState
    target_a: Target
    target_b: Target
    inputs: tuple[InputRow, ...]  # target rows, then parameters, then the rest of the request
    figures: tuple[Figure, ...]
    answer: TextDiff
    tools: tuple[ToolDifference, ...]
    trace_diff: TraceDiff | None  # None unless both runs have a trace
    steps: tuple[AlignedStep, ...]  # every step of both traces, aligned; empty without both traces
    verdict: Verdict

    @property
    def has_traces(self) -> tuple[bool, bool]:
        return bool(self.a.trace), bool(self.b.trace)

    @property
    def changed_inputs(self) -> tuple[InputRow, ...]:
        return tuple(row for row in self.inputs if row.changed)

    def figure(self, name: str) -> Figure:
        return next(f for f in self.figures if f.name == name)


def compare_runs(a: SavedRun, b: SavedRun) -> RunComparison:
    """How B differs from A."""
    state_a, state_b = snapshot_of_saved(a).state, snapshot_of_saved(b).state
    trace_a = build_trace(a.trace) if a.trace else None
    trace_b = build_trace(b.trace) if b.trace else None
    target_a, target_b = target_of(a, state_a), target_of(b, state_b)
    target_rows = [
        InputRow("Target", "Agent", a.agent_id, b.agent_id, a.agent_id != b.agent_id),
        InputRow("Target", "Revision", target_a.revision_label, target_b.revision_label,
                 _revisions_differ(target_a.revision, target_b.revision)),
        InputRow("Target", "Kind", target_a.kind_label, target_b.kind_label, a.kind != b.kind),
    ]
    inputs = (*target_rows, *_parameter_rows(a, b, _mapping(a.trace), _mapping(b.trace)), *_request_rows(a, b))
    figures = _figures(a, b, state_a, state_b, trace_a, trace_b)
    answer = word_diff(state_a.text, state_b.text)
    tools = tool_differences(state_a.tools.values(), state_b.tools.values())
    trace_diff: TraceDiff | None = None
    steps: tuple[AlignedStep, ...] = ()
    if trace_a is not None and trace_b is not None:
        trace_diff = diff_traces(trace_a, trace_b)
        steps = align(trace_a, trace_b, trace_diff)
    verdict = _verdict(answer, (state_a.phase, state_b.phase), next(f for f in figures if f.name == "Cost"),
                       figures[0], tools, (trace_a is not None, trace_b is not None))
    return RunComparison(a, b, state_a, state_b, target_a, target_b, tuple(inputs), figures, answer, tools,
                         trace_diff, steps, verdict)
