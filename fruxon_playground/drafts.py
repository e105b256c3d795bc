"""Draft test requests (TestRequest wire dicts): templates, import/export, secret stripping; and the
drafts the server keeps — a published revision or a stored draft opened as an editable request,
saved back with If-Match, and a chosen revision run by number."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import Any

from fruxon_playground.api.client import FruxonClient
from fruxon_playground.api.errors import ConflictError
from fruxon_playground.api.models import AgentDraft, AgentRevision
from fruxon_playground.contract.secrets import MASK, is_secret_key, looks_secret


@dataclass(frozen=True)
class DraftTemplate:
    name: str
    description: str
    request: dict[str, Any]


def _entry(parameters: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "ENTRY_POINT", "identifier": "entry", "name": "Entry", "parameters": parameters}


def _exit() -> dict[str, Any]:
    return {"type": "EXIT_POINT", "identifier": "exit", "name": "Exit"}


def _agent(identifier: str, name: str, prompt: str, system: str, tools: list[dict[str, Any]] | None = None,
           model: str = "gpt-4o-mini") -> dict[str, Any]:
    return {"type": "AGENT", "identifier": identifier, "name": name, "provider": {"providerId": "openai", "model": model},
            "systemPrompt": {"template": system}, "userPrompt": {"template": prompt}, "tools": tools or [], "maxToolLoops": 5}


def _chain(*steps: dict[str, Any]) -> list[dict[str, str]]:
    return [{"source": a["identifier"], "target": b["identifier"]} for a, b in zip(steps, steps[1:], strict=False)]


def _template(parameters: list[dict[str, Any]], values: dict[str, Any], *middle: dict[str, Any],
              **extra: Any) -> dict[str, Any]:
    steps = [_entry(copy.deepcopy(parameters)), *middle, _exit()]
    return {"flow": {"steps": steps, "edges": _chain(*steps)}, "parametersMetadata": copy.deepcopy(parameters),
            "parameters": values, "baseRevision": 0, **extra}


QUESTION = [{"name": "question", "type": "STRING", "required": True, "description": "What to ask."}]

TEMPLATES: dict[str, DraftTemplate] = {
    "llm": DraftTemplate(
        "Single LLM step", "one model call answering a question",
        _template(QUESTION, {"question": "How do I reset my password?"},
                  _agent("answer", "Answer", "{{param.question}}", "You answer support questions briefly.")),
    ),
    "llm_tool": DraftTemplate(
        "LLM + tool", "the model searches the knowledge base",
        _template(QUESTION, {"question": "How do refunds work?"},
                  _agent("answer", "Answer", "{{param.question}}", "Answer from the knowledge base.",
                         [{"toolKey": {"integrationId": "kb", "id": "search_articles"}}])),
    ),
    "calculator": DraftTemplate(
        "LLM + calculator", "real arithmetic and unit conversion tools",
        _template([{"name": "expression", "type": "STRING", "required": True, "description": "e.g. 2*(3+4)"}],
                  {"expression": "What is 2*(3+4)? And 10 km to mi?"},
                  _agent("solve", "Solve", "{{param.expression}}", "You compute exactly.",
                         [{"toolKey": {"integrationId": "math", "id": "calculate"}},
                          {"toolKey": {"integrationId": "units", "id": "convert"}}])),
    ),
    "sub_agent": DraftTemplate(
        "Sub-agent", "a research sub-agent feeds a writer",
        _template([{"name": "topic", "type": "STRING", "required": True}], {"topic": "Lisbon in spring"},
                  {**_agent("research", "Research sub-agent", "Research {{param.topic}}.", "You research topics.",
                            [{"toolKey": {"integrationId": "kb", "id": "search_articles"}}]), "subAgent": True},
                  _agent("write", "Writer", "Write a summary of {{param.topic}} using: {{step.research.output}}",
                         "You write concise summaries.")),
    ),
    "approval": DraftTemplate(
        "Approval step", "a refund tool that waits for a human",
        _template([{"name": "order_id", "type": "STRING", "required": True},
                   {"name": "amount", "type": "FLOAT", "required": True}],
                  {"order_id": "ord_1234", "amount": 42.5},
                  _agent("refund", "Refund", "Refund order {{param.order_id}} for {{param.amount}} USD.",
                         "You process refunds carefully.",
                         [{"toolKey": {"integrationId": "payments", "id": "issue_refund"},
                           "humanApproval": {"slotName": "approver"}}])),
    ),
}


def entry_step(request: dict[str, Any]) -> dict[str, Any] | None:
    for step in (request.get("flow") or {}).get("steps") or []:
        if isinstance(step, dict) and step.get("type") == "ENTRY_POINT":
            return step
    return None


def sync_parameters_metadata(request: dict[str, Any], *, source: str = "request") -> dict[str, Any]:
    """Makes `parametersMetadata` and the ENTRY_POINT step's `parameters` the same list.

    `source="request"` copies the request-level list onto the step; `source="entry"` the other way.
    """
    out = copy.deepcopy(request)
    entry = entry_step(out)
    if entry is None:
        return out
    if source == "entry":
        declared = entry.get("parameters") or entry.pop("parametersMetadata", None) or []
        entry["parameters"] = declared
        out["parametersMetadata"] = copy.deepcopy(declared)
    else:
        entry["parameters"] = copy.deepcopy(out.get("parametersMetadata") or [])
        entry.pop("parametersMetadata", None)
    return out


def _mask(value: Any, key: str = "") -> Any:
    if isinstance(value, dict):
        return {k: _mask(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask(v, key) for v in value]
    if isinstance(value, str) and value and (is_secret_key(key) or looks_secret(value)):
        return MASK
    return value


def strip_secrets(request: dict[str, Any]) -> dict[str, Any]:
    """A copy with every secret in llmConfigs / integrationConfigs (parameters, auth) masked."""
    out = copy.deepcopy(request)
    for key in ("llmConfigs", "integrationConfigs"):
        if isinstance(out.get(key), list):
            out[key] = [_mask(item) for item in out[key]]
    return out


def draft_to_json(request: dict[str, Any]) -> str:
    return json.dumps(strip_secrets(request), indent=2, ensure_ascii=False)


def draft_from_json(text: str | bytes) -> dict[str, Any]:
    """A TestRequest from a file: the request itself, or a saved run / bundle that contains one."""
    if isinstance(text, bytes):
        text = text.decode("utf-8-sig", errors="replace")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})") from exc
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object (a TestRequest with a flow)")
    for candidate in (data, data.get("request"), (data.get("run") or {}).get("request") if isinstance(data.get("run"), dict) else None):
        if isinstance(candidate, dict) and isinstance(candidate.get("flow"), dict):
            return sync_parameters_metadata(candidate, source="request" if candidate.get("parametersMetadata") else "entry")
    raise ValueError("no draft found: the file needs a `flow` with `steps` and `edges` (or a saved run with one)")


def restore_secrets(edited: Any, original: Any) -> Any:
    """Undo `strip_secrets` on an edited copy: every masked value takes the original's value back.

    The editor shows configs masked; what the user did not retype must still run with the real secret.
    """
    if isinstance(edited, dict) and isinstance(original, dict):
        return {k: restore_secrets(v, original.get(k)) for k, v in edited.items()}
    if isinstance(edited, list) and isinstance(original, list):
        return [restore_secrets(v, original[i] if i < len(original) else None) for i, v in enumerate(edited)]
    if edited == MASK and original is not None:
        return original
    return edited


# -- a chosen published revision, run by number (contract §4.4, §7.1, §12) ----------------------------
PINNED_RUN_KEYS = ("parameters", "attachments", "sessionId", "mode")  # what a TestRequest shares with an ExecuteRequest
NOT_IN_TEST_REQUEST = ("environmentSlug", "chatUser")  # ExecuteRequest fields a TestRequest has no place for


def pinned_revision_body(request: dict[str, Any], revision: int) -> tuple[dict[str, Any], list[str]]:
    """The `:test` / `:streamTest` body that runs published `revision` as stored (no flow), built
    from an Execute form's request; also the fields that had to be left out."""
    body: dict[str, Any] = {"baseRevision": revision}
    body.update({k: copy.deepcopy(request[k]) for k in PINNED_RUN_KEYS if request.get(k) is not None})
    return body, [k for k in NOT_IN_TEST_REQUEST if request.get(k) is not None]


# -- stored drafts (contract §4.6) -----------------------------------------------------------------
_GRAPH_KEYS = ("type", "identifier", "name")  # what a flow step has and a draft definition has not
STORED_RUN_KEYS = ("parameters", "attachments", "sessionId", "mode")  # the editor's part of a draft:test body
NOT_STORED = ("llmConfigs", "integrationConfigs", "integrationBindings", "subAgents")  # test-time only


class NotStorable(ValueError):
    """The draft cannot be stored: the service keeps one agent definition, not a graph of steps."""


def request_from_head(head: dict[str, Any], *, base_revision: int, parameters: dict[str, Any] | None = None,
                      default_name: str = "Agent") -> dict[str, Any]:
    """A stored draft's head as a TestRequest the editor can change: entry → its one agent → exit,
    the flow the server runs for it (§4.6)."""
    definition = {k: v for k, v in copy.deepcopy(head.get("definition") or {}).items() if k not in _GRAPH_KEYS}
    metadata = copy.deepcopy(head.get("parametersMetadata") or [])
    name = definition.pop("displayName", None) or default_name
    steps = [_entry(copy.deepcopy(metadata)), {"type": "AGENT", "identifier": "agent", "name": name, **definition}, _exit()]
    request: dict[str, Any] = {"flow": {"steps": steps, "edges": _chain(*steps)}, "parametersMetadata": metadata,
                               "baseRevision": base_revision}
    assets = [{"id": a["id"]} for a in head.get("assets") or [] if isinstance(a, dict) and a.get("id")]
    if assets:
        request["assets"] = assets
    if parameters:
        request["parameters"] = copy.deepcopy(parameters)
    return request


def request_from_revision(revision: AgentRevision, parameters: dict[str, Any] | None = None) -> dict[str, Any]:
    """A published revision as an editable draft: its stored flow when the server sends one, else
    its one agent definition; `baseRevision` is the revision (its stored secrets resolve)."""
    if revision.flow is not None and revision.flow.steps:
        metadata = [m.dump() for m in revision.parameters_metadata]
        request: dict[str, Any] = {"flow": revision.flow.dump(), "parametersMetadata": metadata}
        request = sync_parameters_metadata(request, source="request" if metadata else "entry")
        request["baseRevision"] = revision.agent_revision
        if parameters:
            request["parameters"] = copy.deepcopy(parameters)
        return request
    head = revision.draft_head()
    if head is None:
        raise ValueError(f"revision {revision.agent_revision} has neither a flow nor a single agent definition")
    return request_from_head(head, base_revision=revision.agent_revision, parameters=parameters)


def storable_problem(request: dict[str, Any]) -> str | None:
    """Why this draft cannot become a stored draft (one agent between entry and exit), or None."""
    steps = [s for s in (request.get("flow") or {}).get("steps") or [] if isinstance(s, dict)]
    kinds = [str(s.get("type")) for s in steps]
    others = sorted({k for k in kinds if k not in ("ENTRY_POINT", "AGENT", "EXIT_POINT")})
    if kinds.count("AGENT") != 1 or others or kinds.count("ENTRY_POINT") != 1 or kinds.count("EXIT_POINT") != 1:
        found = ", ".join(f"{kinds.count(k)} {k}" for k in dict.fromkeys(kinds)) or "no steps"
        return (f"A stored draft holds exactly one agent between entry and exit; this flow has {found}. "
                "Run it inline with :test instead.")
    by_type = {str(s.get("type")): s for s in steps}
    agent, exit_step = by_type["AGENT"], by_type["EXIT_POINT"]
    if agent.get("subAgent"):
        return "The flow's one agent is marked as a sub-agent; a stored draft's agent is the top-level one."
    if (exit_step.get("output") or {}).get("template"):
        return "The exit step's output template cannot be stored: the server answers with the agent's output."
    wanted = {(by_type["ENTRY_POINT"].get("identifier"), agent.get("identifier")),
              (agent.get("identifier"), exit_step.get("identifier"))}
    edges = {(e.get("source"), e.get("target")) for e in (request.get("flow") or {}).get("edges") or [] if isinstance(e, dict)}
    if edges != wanted:
        return "A stored draft runs entry → agent → exit; this flow's edges say otherwise."
    return None


def head_from_request(request: dict[str, Any], base_head: dict[str, Any] | None = None) -> dict[str, Any]:
    """The draft head `PUT …/draft` stores for this request; fields of `base_head` the editor does
    not show (comment, integration slots and bindings) are kept. Raises NotStorable."""
    problem = storable_problem(request)
    if problem:
        raise NotStorable(problem)
    steps = request["flow"]["steps"]
    agent = next(s for s in steps if s.get("type") == "AGENT")
    definition = {"displayName": agent.get("name") or agent.get("identifier"),
                  **{k: copy.deepcopy(v) for k, v in agent.items() if k not in _GRAPH_KEYS}}
    entry = entry_step(request) or {}
    metadata = request.get("parametersMetadata") or entry.get("parameters") or entry.get("parametersMetadata") or []
    head: dict[str, Any] = {"comment": None, "integrationSlots": [], "integrationBindings": {}, "slots": [],
                            **copy.deepcopy(base_head or {})}
    head.update(definition=definition, parametersMetadata=copy.deepcopy(metadata),
                assets=[{"id": a["id"]} for a in request.get("assets") or [] if isinstance(a, dict) and a.get("id")])
    return head


def not_stored_fields(request: dict[str, Any]) -> list[str]:
    """Fields of the editor's request a stored draft does not keep (they only apply to inline tests)."""
    return [k for k in NOT_STORED if request.get(k)]


def stored_run_body(request: dict[str, Any]) -> dict[str, Any]:
    """The `draft:test` / `draft:streamTest` body (AgentExecutionRequestView) from the editor's request."""
    return {k: copy.deepcopy(request[k]) for k in STORED_RUN_KEYS if request.get(k) is not None}


def draft_fingerprint(request: dict[str, Any]) -> str:
    """What decides "saved" vs "unsaved changes": the parts of a draft a stored draft keeps."""
    return json.dumps({k: request.get(k) for k in ("flow", "parametersMetadata", "assets")}, sort_keys=True,
                      ensure_ascii=False, default=str)


def head_changes(mine: Any, theirs: Any, path: str = "", limit: int = 20) -> list[tuple[str, Any, Any]]:
    """Where two heads differ: (dotted path such as `definition.systemPrompt.template`, mine,
    theirs), deepest differing value first found, at most `limit`."""
    if isinstance(mine, dict) and isinstance(theirs, dict):
        found: list[tuple[str, Any, Any]] = []
        for key in sorted(set(mine) | set(theirs), key=str):
            found += head_changes(mine.get(key), theirs.get(key), f"{path}.{key}" if path else str(key), limit)
            if len(found) >= limit:
                return found[:limit]
        return found
    if isinstance(mine, list) and isinstance(theirs, list) and len(mine) == len(theirs):
        found = []
        for index, (a, b) in enumerate(zip(mine, theirs, strict=True)):
            found += head_changes(a, b, f"{path}[{index}]", limit)
        return found[:limit]
    return [] if mine == theirs else [(path or "(whole draft)", mine, theirs)]


def head_differences(mine: Any, theirs: Any, limit: int = 20) -> list[str]:
    """Just the paths of `head_changes`."""
    return [path for path, _, _ in head_changes(mine, theirs, limit=limit)]


@dataclass(frozen=True)
class OpenedDraft:
    """A draft loaded from the server into the editor, and what Save will compare against."""

    request: dict[str, Any]
    base_revision: int
    stored: AgentDraft | None  # the stored draft of that revision as it was read; None when there is none
    from_stored: bool  # the editor holds the stored draft (True) or the published revision (False)
    base_head: dict[str, Any] | None = None  # what Save keeps of fields the editor does not show


def open_revision(client: FruxonClient, agent: str, revision: int,
                  parameters: dict[str, Any] | None = None) -> OpenedDraft:
    """Published `revision`'s flow as the starting draft, and the stored draft Save would replace."""
    body = client.get_revision(agent, revision)
    return OpenedDraft(request_from_revision(body, parameters), revision, client.get_draft(agent, revision),
                       from_stored=False, base_head=body.draft_head())


def open_stored(client: FruxonClient, agent: str, revision: int,
                parameters: dict[str, Any] | None = None) -> OpenedDraft | None:
    """The draft stored for `revision` as the starting draft; None when none is stored."""
    stored = client.get_draft(agent, revision)
    if stored is None:
        return None
    request = request_from_head(stored.head_data, base_revision=revision, parameters=parameters)
    return OpenedDraft(request, revision, stored, from_stored=True, base_head=stored.head_data)


def open_record(client: FruxonClient, agent: str, record_id: str, revision: int) -> OpenedDraft:
    """An execution record's revision with the record's parameters (`…/result`), ready to change."""
    result = client.get_execution_result(agent, record_id)
    return open_revision(client, agent, revision, result.parameters if result is not None else None)


@dataclass(frozen=True)
class SaveResult:
    """`saved` when the server took the head; otherwise the draft it holds now (None: none any more)."""

    saved: AgentDraft | None = None
    theirs: AgentDraft | None = None

    @property
    def conflict(self) -> bool:
        return self.saved is None


def save_head(client: FruxonClient, agent: str, revision: int, head: dict[str, Any], *,
              known_version: int | None) -> SaveResult:
    """PUT `head` with If-Match `known_version`. With no known version a stored draft that exists
    is never overwritten unseen: it comes back as a conflict, like a 409 does."""
    if known_version is None:
        existing = client.get_draft(agent, revision)
        if existing is not None:
            return SaveResult(theirs=existing)
        return SaveResult(saved=client.put_draft(agent, revision, head))
    try:
        return SaveResult(saved=client.put_draft(agent, revision, head, if_match=known_version))
    except ConflictError:
        return SaveResult(theirs=client.get_draft(agent, revision))


@dataclass(frozen=True)
class RunDraftSource:
    """What "Open in draft editor" loads for a run: its inline draft, or a revision with its inputs."""

    inline: dict[str, Any] | None = None  # a `:test` run's own flow
    revision: int | None = None  # a published revision to open
    parameters: dict[str, Any] | None = None
    reason: str | None = None  # why nothing can be opened


def draft_source_of_run(request: dict[str, Any], revision: int | None) -> RunDraftSource:
    """`request` as sent, `revision` the trace's `agentRevision` (None when the run never said)."""
    if isinstance(request.get("flow"), dict):
        return RunDraftSource(inline=sync_parameters_metadata(request, source="request" if request.get(
            "parametersMetadata") else "entry"))
    parameters = request.get("parameters") if isinstance(request.get("parameters"), dict) else None
    pinned = request.get("baseRevision")
    for candidate in (revision, pinned):
        if isinstance(candidate, int) and not isinstance(candidate, bool) and candidate > 0:
            return RunDraftSource(revision=candidate, parameters=parameters)
    if revision is not None and revision <= 0:
        return RunDraftSource(reason="It ran the draft stored on the server; open that draft on the draft page.")
    return RunDraftSource(reason="The run never said which revision ran (it failed before the server answered).")
