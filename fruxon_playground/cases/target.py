"""What a batch runs its cases on: the deployed agent, a published revision N, or the draft in the editor."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from fruxon_playground.cases.model import TestCase
from fruxon_playground.runs.handle import RunKind

# What a draft body may not take from the editor: the case brings its own inputs, and each case
# starts a new conversation.
_CASE_FIELDS = ("parameters", "attachments", "sessionId")


class TargetKind(StrEnum):
    DEPLOYED = "deployed"  # POST :stream (or :execute)
    REVISION = "revision"  # POST :streamTest (or :test) with baseRevision N and no flow
    DRAFT = "draft"  # POST :streamTest (or :test) with the editor's inline flow


@dataclass(frozen=True)
class Target:
    kind: TargetKind
    revision: int | None = None  # REVISION: the published revision
    draft: Mapping[str, Any] | None = field(default=None, repr=False)  # DRAFT: the editor's TestRequest
    streamed: bool = True  # streamed runs measure the time to the first text

    def __post_init__(self) -> None:
        if self.kind is TargetKind.REVISION and (self.revision is None or self.revision < 1):
            raise ValueError("a revision target needs a revision number ≥ 1")
        if self.kind is TargetKind.DRAFT and not (self.draft or {}).get("flow"):
            raise ValueError("a draft target needs the draft's flow")

    @property
    def label(self) -> str:
        if self.kind is TargetKind.REVISION:
            return f"revision {self.revision}"
        if self.kind is TargetKind.DRAFT:
            base = (self.draft or {}).get("baseRevision")
            return f"draft (base revision {base})" if base else "draft"
        return "deployed"

    @property
    def run_kind(self) -> RunKind:
        if self.kind is TargetKind.DEPLOYED:
            return RunKind.STREAM if self.streamed else RunKind.EXECUTE
        return RunKind.STREAM_TEST if self.streamed else RunKind.TEST

    def as_json(self) -> dict[str, Any]:
        """What a saved batch keeps of its target (not the draft's flow)."""
        return {"kind": self.kind.value, "revision": self.revision, "streamed": self.streamed, "label": self.label}

    def request(self, case: TestCase) -> dict[str, Any]:
        """The wire body that runs `case` on this target.

        Test requests have no chat user (contract §4.4): a case's chat user goes only to the deployed agent."""
        inputs: dict[str, Any] = {}
        if case.parameters:
            inputs["parameters"] = copy.deepcopy(case.parameters)
        if case.attachments:
            inputs["attachments"] = copy.deepcopy(case.attachments)
        if self.kind is TargetKind.DEPLOYED:
            return inputs | ({"chatUser": copy.deepcopy(case.chat_user)} if case.chat_user is not None else {})
        if self.kind is TargetKind.REVISION:
            return {"baseRevision": self.revision, **inputs}
        body = {k: copy.deepcopy(v) for k, v in (self.draft or {}).items() if k not in _CASE_FIELDS}
        return body | inputs
