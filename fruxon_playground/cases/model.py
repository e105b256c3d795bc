"""A test case of an agent: its inputs (parameters, attachments, chat user) and the checks on its run.

The wire form of a case (JSONL lines, the store, exports) is the camelCase JSON of these models;
a check's JSON is exactly what `checks.run_check` reads.
"""

from __future__ import annotations

import math
import re
import uuid
from typing import Annotated, Any, Literal

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)

from fruxon_playground.cases import checks as portable
from fruxon_playground.contract.secrets import mask_secrets

MAX_NAME = 200


class _Check(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    def as_json(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True, exclude_none=True)

    @property
    def label(self) -> str:
        return portable.describe(self.as_json())


def _regex(pattern: str) -> str:
    try:
        re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"not a valid regular expression: {exc}") from exc
    return pattern


def _limit(value: float) -> float:
    if not math.isfinite(value) or value < 0:
        raise ValueError("must be a number ≥ 0")
    return value


class Contains(_Check):
    kind: Literal["contains"] = "contains"
    text: str = Field(min_length=1)


class NotContains(_Check):
    kind: Literal["not_contains"] = "not_contains"
    text: str = Field(min_length=1)


class Matches(_Check):
    kind: Literal["matches"] = "matches"
    pattern: str = Field(min_length=1)

    _valid = field_validator("pattern")(_regex)


class JsonPathEquals(_Check):
    kind: Literal["json_path"] = "json_path"
    path: str = Field(min_length=1)
    equals: Any = Field(...)  # any JSON value, null included (so it must be given)

    @field_validator("path")
    @classmethod
    def _path(cls, path: str) -> str:
        portable.parse_path(path)
        return path.strip()

    def as_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "path": self.path, "equals": self.equals}  # keeps `equals: null`


class CallsTool(_Check):
    kind: Literal["calls_tool"] = "calls_tool"
    tool: str = Field(min_length=1)
    arguments: dict[str, Any] | None = None  # a subset the call's arguments must contain
    arguments_match: str | None = Field(  # a regex on the arguments' JSON
        default=None, validation_alias=AliasChoices("argumentsMatch", "arguments_match"),
        serialization_alias="argumentsMatch")

    @field_validator("arguments_match")
    @classmethod
    def _pattern(cls, pattern: str | None) -> str | None:
        return _regex(pattern) if pattern else None

    @model_validator(mode="after")
    def _one_way(self) -> CallsTool:
        if self.arguments is not None and self.arguments_match:
            raise ValueError("give either arguments (a subset) or argumentsMatch (a regex), not both")
        return self


class NoFailure(_Check):
    kind: Literal["no_failure"] = "no_failure"


class MaxCost(_Check):
    kind: Literal["max_cost"] = "max_cost"
    usd: float

    _valid = field_validator("usd")(_limit)


class MaxFirstTextMs(_Check):
    kind: Literal["max_first_text_ms"] = "max_first_text_ms"
    ms: float

    _valid = field_validator("ms")(_limit)


class MaxTotalMs(_Check):
    kind: Literal["max_total_ms"] = "max_total_ms"
    ms: float

    _valid = field_validator("ms")(_limit)


Check = Annotated[
    Contains | NotContains | Matches | JsonPathEquals | CallsTool | NoFailure | MaxCost | MaxFirstTextMs | MaxTotalMs,
    Field(discriminator="kind"),
]
CHECK_ADAPTER: TypeAdapter[Check] = TypeAdapter(Check)
KIND_LABELS = {
    "contains": "Text contains", "not_contains": "Text does not contain", "matches": "Text matches regex",
    "json_path": "JSON path equals", "calls_tool": "Must call tool", "no_failure": "Must not fail",
    "max_cost": "Cost ≤ (USD)", "max_first_text_ms": "Time to first text ≤ (ms)", "max_total_ms": "Total time ≤ (ms)",
}


def check_from_json(data: Any) -> Check:
    """A check from its JSON; pydantic's ValidationError (a ValueError) says what is wrong."""
    return CHECK_ADAPTER.validate_python(data)


class TestCase(BaseModel):
    """One named set of inputs of one agent, and what its run must satisfy."""

    __test__ = False  # not a pytest class
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    id: str = Field(default_factory=lambda: uuid.uuid4().hex)
    name: str = Field(min_length=1, max_length=MAX_NAME)
    agent: str = Field(min_length=1)
    parameters: dict[str, Any] = Field(default_factory=dict)
    attachments: list[dict[str, Any]] = Field(default_factory=list)  # FileLinks as the storage endpoint gave them
    chat_user: dict[str, Any] | None = Field(default=None, validation_alias=AliasChoices("chatUser", "chat_user"))
    checks: list[Check] = Field(default_factory=list)

    @field_validator("name")
    @classmethod
    def _name(cls, name: str) -> str:
        name = " ".join(name.split())
        if not name:
            raise ValueError("a case needs a name")
        return name

    def as_json(self, *, with_id: bool = True) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id} if with_id else {}
        data |= {"name": self.name, "agent": self.agent, "parameters": self.parameters}
        if self.attachments:
            data["attachments"] = self.attachments
        if self.chat_user is not None:
            data["chatUser"] = self.chat_user
        data["checks"] = [check.as_json() for check in self.checks]
        return data

    def masked(self, secrets: tuple[str, ...] = ()) -> TestCase:
        """The case with secrets (the connection's key, anything secret-shaped) removed from its inputs."""
        return self.model_copy(update={
            "parameters": mask_secrets(self.parameters, secrets),
            "attachments": mask_secrets(self.attachments, secrets),
            "chat_user": mask_secrets(self.chat_user, secrets) if self.chat_user is not None else None,
        })


def case_from_request(agent: str, name: str, request: dict[str, Any], *, checks: list[Check] | None = None,
                      secrets: tuple[str, ...] = ()) -> TestCase:
    """A case from an Execute request body (wire JSON): its parameters, attachments and chat user.

    The session, environment and mode belong to the run, not to the case, and are left out."""
    case = TestCase(name=name, agent=agent, parameters=dict(request.get("parameters") or {}),
                    attachments=list(request.get("attachments") or []), chat_user=request.get("chatUser"),
                    checks=checks or [])
    return case.masked(secrets)


def explain(exc: ValidationError) -> str:
    """A pydantic error as short sentences: `checks[1].pattern: not a valid regular expression: …`."""
    lines = []
    for error in exc.errors():
        where = ""
        for part in error["loc"]:
            if isinstance(part, int):
                where += f"[{part}]"
            elif part not in portable.KINDS and not str(part).startswith("function-"):
                where += f".{part}" if where else str(part)
        message = str(error["msg"]).removeprefix("Value error, ")
        lines.append(f"{where}: {message}" if where else message)
    return "; ".join(lines)
