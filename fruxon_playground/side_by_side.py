"""One input run on two targets at once, and what their pair tells: the side-by-side page's logic.

A *side* is a target (the deployed agent, a published revision, or the editor's draft) plus how to
run it there (streamed or sync, an environment, a mode). `start_pair` starts both sides as two
ordinary runs that save themselves, tied by one group id and labelled "A: …" / "B: …". When both
ended, `pair_verdict` reads their comparison into the one line a person decides on. A pair is
shared as two run ids in the URL (`share_query` / `pair_from_query`); nothing else goes in it.
"""

from __future__ import annotations

import dataclasses
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from fruxon_playground.cases.model import TestCase
from fruxon_playground.cases.target import Target, TargetKind
from fruxon_playground.compare import RunComparison, Tone, format_cost, format_ms, format_percent
from fruxon_playground.runs.handle import ClientFactory, RunHandle, RunKind
from fruxon_playground.runs.record import RunContext, RunRecorder, RunSaver

LETTERS = ("A", "B")
QUERY_KEYS = ("a", "b")  # ?a=<run id>&b=<run id>
_RUN_ID = re.compile(r"^[0-9a-f]{32}$")
_MODES = ("PRODUCTION", "SANDBOX")


@dataclass(frozen=True)
class Side:
    """One target of the pair and how it runs there."""

    target: Target
    environment_slug: str | None = None  # only the deployed agent takes one (a TestRequest has none, §4.4)
    mode: str | None = None  # PRODUCTION | SANDBOX; None: the server's default
    # The parameters this side's revision declares (None: unknown, send them all). The server refuses
    # an undeclared one, and an older revision often lacks a parameter the newer form has.
    declared: frozenset[str] | None = None

    def __post_init__(self) -> None:
        if self.mode is not None and self.mode not in _MODES:
            raise ValueError(f"mode must be one of {', '.join(_MODES)} (or none)")

    @property
    def run_kind(self) -> RunKind:
        return self.target.run_kind

    @property
    def environment(self) -> str | None:
        """The environment actually sent: none for a test run."""
        return self.environment_slug if self.target.kind is TargetKind.DEPLOYED else None

    @property
    def label(self) -> str:
        parts = [self.target.label, "stream" if self.target.streamed else "sync"]
        if self.environment:
            parts.append(f"env {self.environment}")
        if self.mode:
            parts.append(f"{self.mode.lower()} mode")
        return " · ".join(parts)

    def left_out(self, inputs: TestCase) -> list[str]:
        """The input's parameters this side does not send, because its revision does not declare them."""
        if self.declared is None:
            return []
        return [name for name in inputs.parameters if name not in self.declared]

    def request(self, inputs: TestCase) -> dict[str, Any]:
        """The wire body that runs `inputs` on this side."""
        left_out = self.left_out(inputs)
        if left_out:
            kept = {k: v for k, v in inputs.parameters.items() if k not in left_out}
            inputs = inputs.model_copy(update={"parameters": kept})
        body = self.target.request(inputs)
        if self.environment:
            body["environmentSlug"] = self.environment
        if self.mode:
            body["mode"] = self.mode
        return body


def inputs_of(agent: str, form_body: Mapping[str, Any]) -> TestCase:
    """The shared input of both sides, from an Execute-style form body (parameters, attachments,
    chat user; a session or an environment belongs to a side, not to the input)."""
    return TestCase(name="side by side", agent=agent, parameters=dict(form_body.get("parameters") or {}),
                    attachments=list(form_body.get("attachments") or []), chat_user=form_body.get("chatUser"))


def draft_declared(draft: Mapping[str, Any]) -> frozenset[str] | None:
    """The parameters a draft declares (its `parametersMetadata`); None when it does not say."""
    metadata = draft.get("parametersMetadata")
    if not isinstance(metadata, list):
        return None
    return frozenset(str(p["name"]) for p in metadata if isinstance(p, Mapping) and p.get("name"))


def run_label(letter: str, side: Side) -> str:
    return f"{letter}: {side.label}"


@dataclass(frozen=True)
class Pair:
    group_id: str
    a: RunHandle
    b: RunHandle

    @property
    def handles(self) -> tuple[RunHandle, RunHandle]:
        return self.a, self.b


def start_pair(agent: str, inputs: TestCase, sides: tuple[Side, Side], client_factory: ClientFactory, *,
               store: RunSaver | None = None, context: RunContext | None = None) -> Pair:
    """Both runs, started together. Each saves itself (when `store` and `context` are given) with the
    pair's group id and its "A: …" / "B: …" label."""
    group_id = uuid.uuid4().hex
    handles = []
    for letter, side in zip(LETTERS, sides, strict=True):
        recorder = None
        if store is not None and context is not None:
            recorder = RunRecorder(store, dataclasses.replace(context, group_id=group_id,
                                                              label=run_label(letter, side)))
        handles.append(RunHandle(side.run_kind, agent, side.request(inputs), client_factory, recorder=recorder))
    for handle in handles:  # built first, started back to back: neither waits for the other's setup
        handle.start()
    return Pair(group_id, handles[0], handles[1])


# -- the link -----------------------------------------------------------------------------------
def share_query(a_id: str, b_id: str) -> dict[str, str]:
    return dict(zip(QUERY_KEYS, (a_id, b_id), strict=True))


def pair_from_query(params: Mapping[str, str]) -> tuple[str, str] | str | None:
    """The two run ids a link names; None when it names no pair; else why the link is not one
    (plain text, no part of the link in it)."""
    a, b = (params.get(key) or "" for key in QUERY_KEYS)
    if not a and not b:
        return None
    if not a or not b:
        return "The link names only one run; a side-by-side link names two (?a=…&b=…)."
    if not (_RUN_ID.match(a) and _RUN_ID.match(b)):
        return "The link's run ids are not run ids (a run id has 32 hexadecimal characters)."
    if a == b:
        return "The link names the same run twice."
    return a, b


# -- the verdict --------------------------------------------------------------------------------
@dataclass(frozen=True)
class PairVerdict:
    """What a person reads first once both runs ended: B against A."""

    same_answer: bool
    outcome: str | None  # "A completed, B failed"; None when both completed
    cost_delta: float | None  # $; None when a run has no trace to say
    latency_delta_ms: float | None  # as waited
    tools_called_differently: tuple[str, ...]  # "kb.search_articles (only in A)"
    tone: Tone  # SAME: nothing a user would notice differs; BETTER/WORSE: B is; DIFFERENT otherwise

    cost_a: float | None = None  # A's figures: the base of each Δ's percentage
    latency_a_ms: float | None = None

    @property
    def parts(self) -> tuple[tuple[str, Tone], ...]:
        """The verdict's pieces, each with how it reads for B (a Δ is judged only for like outcomes:
        a failed run is not "faster")."""
        judged = self.outcome is None
        parts = [("Same answer", Tone.SAME) if self.same_answer else ("Different answer", Tone.DIFFERENT)]
        if self.outcome:
            parts.append((self.outcome, self.tone))
        parts.append((_delta("Δcost", self.cost_delta, self.cost_a, format_cost), _judge(self.cost_delta, judged)))
        parts.append((_delta("Δlatency", self.latency_delta_ms, self.latency_a_ms, format_ms),
                      _judge(self.latency_delta_ms, judged)))
        parts.append(("tools called differently: " + ", ".join(self.tools_called_differently), Tone.DIFFERENT)
                     if self.tools_called_differently else ("same tool calls", Tone.SAME))
        return tuple(parts)

    @property
    def line(self) -> str:
        return " · ".join(text for text, _ in self.parts)


def _judge(delta: float | None, judged: bool) -> Tone:
    if delta is None or not judged:
        return Tone.NEUTRAL
    return Tone.SAME if not delta else Tone.BETTER if delta < 0 else Tone.WORSE


def _delta(name: str, delta: float | None, base: float | None, shown: Callable[..., str]) -> str:
    if delta is None:
        return f"{name} unknown"
    percent = format_percent(delta, base) if delta else ""
    return f"{name} {shown(delta, signed=True)}" + (f" ({percent})" if percent else "")


def pair_verdict(comparison: RunComparison) -> PairVerdict:
    """The pair's one-line verdict, from the comparison of A (`comparison.a`) and B."""
    cost, latency = comparison.figure("Cost"), comparison.figures[0]
    outcome = next((p for p in comparison.verdict.parts if p.topic == "outcome"), None)
    tools = tuple(f"{t.tool} ({t.summary})" for t in comparison.tools if t.called_differently)
    same_answer = comparison.answer.same
    if outcome is not None:
        tone = outcome.tone
    elif same_answer and not tools:
        tone = Tone.SAME if not cost.delta else cost.tone
    else:
        tone = Tone.DIFFERENT
    return PairVerdict(same_answer=same_answer, outcome=outcome.text if outcome else None,
                       cost_delta=cost.delta, latency_delta_ms=latency.delta, tools_called_differently=tools,
                       tone=tone, cost_a=cost.before, latency_a_ms=latency.before)

