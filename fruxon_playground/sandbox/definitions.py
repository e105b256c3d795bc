"""Agent definitions, the SDK 2.x authoring shape (one agent: provider, prompts, tools; no steps or
edges), and the flows the engine runs. The server turns a definition into entry → agent → exit
(contract §4.6), and shows a one-agent revision as its definition (§7.1)."""

from __future__ import annotations

from typing import Any

_GRAPH_KEYS = ("type", "identifier", "name")  # what a flow step has and a definition has not


def definition_of(steps: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The one agent of a revision's steps; None when there is not exactly one top-level agent
    (the real service answers `definition: null` for such revisions)."""
    agents = [s for s in steps if s.get("type") == "AGENT"]
    if len(agents) != 1 or agents[0].get("subAgent"):
        return None
    step = agents[0]
    return {"displayName": step.get("name"), **{k: v for k, v in step.items() if k not in _GRAPH_KEYS}}


def flow_of(head: dict[str, Any], default_metadata: list[dict[str, Any]],
            default_name: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A draft head `{definition, parametersMetadata, …}` as (flow, its parameters)."""
    definition = dict(head.get("definition") or {})
    metadata = head.get("parametersMetadata") or default_metadata
    step = {"type": "AGENT", "identifier": "agent", "name": definition.get("displayName") or default_name,
            **{k: v for k, v in definition.items() if k not in ("type", "identifier")}}
    step.setdefault("userPrompt", {"template": " ".join(f"{{{{param.{m['name']}}}}}" for m in metadata) or "Hello"})
    steps = [{"type": "ENTRY_POINT", "identifier": "entry", "name": "Entry", "parameters": metadata}, step,
             {"type": "EXIT_POINT", "identifier": "exit", "name": "Exit"}]
    return {"steps": steps, "edges": [{"source": "entry", "target": "agent"}, {"source": "agent", "target": "exit"}]}, metadata
