"""Draft test requests (TestRequest wire dicts): templates, import/export, secret stripping."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import Any

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
