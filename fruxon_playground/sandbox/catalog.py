"""The demo tenant: agents, their stored revision flows and parameter schemas, environments."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

DEMO_TENANT = "demo"


@dataclass(frozen=True)
class DemoAgent:
    id: str
    display_name: str
    description: str
    tags: tuple[str, ...]
    current_revision: int  # 0 = never deployed
    parameters_metadata: list[dict[str, Any]]
    steps: list[dict[str, Any]]  # the steps between ENTRY_POINT and EXIT_POINT, in order
    created_at_offset_days: int = 60
    exit_template: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _param(name: str, kind: str, *, required: bool = False, default: str | None = None, description: str = "",
           options: list[str] | None = None, integer_range: tuple[int, int] | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "type": kind, "typeName": kind, "required": required,
                            "description": description, "displayName": name.replace("_", " ").capitalize()}
    if default is not None:
        meta["defaultValue"] = default
    if options:
        meta["options"] = [{"value": o, "label": o.capitalize()} for o in options]
    if integer_range:
        meta["integerRange"] = {"min": integer_range[0], "max": integer_range[1]}
    return meta


def _agent_step(identifier: str, name: str, user_prompt: str, *, system: str, tools: list[dict[str, Any]] | None = None,
                model: str = "gpt-4o-mini", provider: str = "openai", max_tool_loops: int = 5) -> dict[str, Any]:
    return {
        "type": "AGENT",
        "identifier": identifier,
        "name": name,
        "provider": {"providerId": provider, "model": model},
        "systemPrompt": {"template": system},
        "userPrompt": {"template": user_prompt},
        "tools": tools or [],
        "maxToolLoops": max_tool_loops,
    }


def _tool(integration: str, tool: str, *, approval: bool = False) -> dict[str, Any]:
    entry: dict[str, Any] = {"toolKey": {"integrationId": integration, "id": tool}}
    if approval:
        entry["humanApproval"] = {"slotName": "approver"}
    return entry


DEMO_AGENTS: dict[str, DemoAgent] = {
    agent.id: agent
    for agent in (
        DemoAgent(
            id="support_agent",
            display_name="Support Agent",
            description="Answers customer support questions from the knowledge base.",
            tags=("support", "demo"),
            current_revision=3,
            parameters_metadata=[
                _param("question", "STRING", required=True, description="The customer's question."),
                _param("tone", "OPTION", default="friendly", options=["friendly", "formal"], description="Answer style."),
            ],
            steps=[_agent_step("answer", "Answer", "{{param.question}} (tone: {{param.tone}})",
                               system="You answer support questions briefly, citing knowledge-base articles.",
                               tools=[_tool("kb", "search_articles")])],
        ),
        DemoAgent(
            id="release_digest",
            display_name="Release Digest",
            description="Summarises the recent commits of a repository.",
            tags=("engineering",),
            current_revision=7,
            parameters_metadata=[
                _param("repo", "STRING", required=True, description="owner/name of the repository."),
                _param("depth", "OPTION", default="summary", options=["summary", "detailed"]),
            ],
            steps=[_agent_step("digest", "Digest", "Summarise recent commits of {{param.repo}} ({{param.depth}}).",
                               system="You write release digests for engineers.", model="gpt-4o",
                               tools=[_tool("github", "list_commits")])],
        ),
        DemoAgent(
            id="refund_desk",
            display_name="Refund Desk",
            description="Issues refunds; every refund waits for a human approval.",
            tags=("payments", "hitl"),
            current_revision=2,
            parameters_metadata=[
                _param("order_id", "STRING", required=True, description="The order to refund."),
                _param("amount", "FLOAT", required=True, description="Amount in USD."),
            ],
            steps=[_agent_step("refund", "Refund", "Refund order {{param.order_id}} for {{param.amount}} USD.",
                               system="You process refunds carefully.",
                               tools=[_tool("payments", "issue_refund", approval=True)])],
        ),
        DemoAgent(
            id="echo_agent",
            display_name="Echo Agent",
            description="Repeats the message back; no tools.",
            tags=("demo",),
            current_revision=1,
            parameters_metadata=[_param("message", "STRING", required=True, description="Anything to echo.")],
            steps=[_agent_step("echo", "Echo", "{{param.message}}", system="You repeat what you are told.")],
        ),
        DemoAgent(
            id="draft_only",
            display_name="Draft Only",
            description="Never deployed: :execute answers 404; test it as a draft.",
            tags=("demo",),
            current_revision=0,
            parameters_metadata=[],
            steps=[_agent_step("draft", "Draft", "Say hello.", system="You are a draft.")],
        ),
        DemoAgent(
            id="trip_planner",
            display_name="Trip Planner",
            description="Plans a trip with a nested research sub-agent, arithmetic, unit conversion and a quality check.",
            tags=("travel", "sub-agents"),
            current_revision=4,
            parameters_metadata=[
                _param("city", "STRING", required=True, description="Destination city."),
                _param("days", "INTEGER", default="3", integer_range=(1, 14), description="Trip length in days."),
                _param("budget_usd", "FLOAT", default="1200", description="Total budget in USD."),
            ],
            steps=[
                {
                    "type": "AGENT", "identifier": "research", "name": "Research sub-agent",
                    "provider": {"providerId": "anthropic", "model": "claude-sonnet"},
                    "systemPrompt": {"template": "You research destinations."},
                    "userPrompt": {"template": "Find the highlights of {{param.city}} for {{param.days}} days."},
                    "tools": [_tool("units", "convert")], "maxToolLoops": 3, "subAgent": True,
                },
                _agent_step("plan", "Planner", "Plan {{param.days}} days in {{param.city}} for {{param.budget_usd}} USD. "
                            "Research: {{step.research.output}}", system="You plan trips within budget.",
                            tools=[_tool("math", "calculate"), _tool("units", "convert")]),
            ],
            extra={"judge": True},
        ),
        DemoAgent(
            id="doc_reader",
            display_name="Document Reader",
            description="Answers questions from the attached files (fails a step when nothing is attached).",
            tags=("documents", "attachments"),
            current_revision=2,
            parameters_metadata=[_param("question", "STRING", required=True, description="What to look for in the files.")],
            steps=[_agent_step("read", "Reader", "{{param.question}}", system="You answer only from the attached files.",
                               tools=[_tool("files", "search"), _tool("files", "summarize")])],
        ),
        DemoAgent(
            id="stream_bench",
            display_name="Stream Bench",
            description="Streams stamped text chunks at a fixed rate (for latency benchmarks).",
            tags=("benchmark",),
            current_revision=1,
            parameters_metadata=[
                _param("rate", "INTEGER", default="100", description="Events per second."),
                _param("count", "INTEGER", default="500", description="How many events."),
            ],
            steps=[_agent_step("bench", "Bench", "rate {{param.rate}} count {{param.count}}", system="Benchmark.")],
        ),
    )
}

DEMO_ENVIRONMENTS: list[dict[str, str]] = [
    {"slug": "acme_corp", "displayName": "Acme Corp"},
    {"slug": "globex", "displayName": "Globex"},
    {"slug": "initech", "displayName": "Initech"},
]


def build_flow(agent: DemoAgent) -> dict[str, Any]:
    """ENTRY → the agent's steps in order → EXIT, in the wire shape of a TestRequest flow."""
    entry = {"type": "ENTRY_POINT", "identifier": "entry", "name": "Entry",
             "parameters": copy.deepcopy(agent.parameters_metadata)}
    exit_step: dict[str, Any] = {"type": "EXIT_POINT", "identifier": "exit", "name": "Exit"}
    if agent.exit_template:
        exit_step["output"] = {"template": agent.exit_template}
    steps = [entry, *copy.deepcopy(agent.steps), exit_step]
    edges = [{"source": a["identifier"], "target": b["identifier"]} for a, b in zip(steps, steps[1:], strict=False)]
    return {"steps": steps, "edges": edges}


def revision_flow(agent_id: str, revision: int) -> dict[str, Any] | None:
    """The stored flow of a revision (1..current); None when it does not exist."""
    agent = DEMO_AGENTS.get(agent_id)
    if agent is None or not 1 <= revision <= agent.current_revision:
        return None
    flow = build_flow(agent)
    if revision < agent.current_revision:
        # Older revisions differ visibly: an earlier, terser system prompt.
        for step in flow["steps"]:
            if step["type"] == "AGENT":
                step["systemPrompt"] = {"template": f"(revision {revision}) " + step["systemPrompt"]["template"]}
    return flow
