"""The demo tenant: agents, the history of their revisions, parameter schemas, environments.

What makes an agent special is a `Capability` here, never an `if agent == …` elsewhere. Agents
recorded as `.sse` files join the catalog of one sandbox as REPLAY agents (`Catalog.load`).
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import Any

from fruxon_playground.sandbox.replay import replay_files

DEMO_TENANT = "demo"


class Capability(StrEnum):
    ECHO = "echo"  # its AGENT steps repeat the prompt back
    JUDGE = "judge"  # every run ends with a quality-check step
    BENCH = "bench"  # streams `count` stamped text chunks at `rate` per second (latency benchmarks)
    REPLAY = "replay"  # streams a recorded .sse file byte for byte; nothing is planned or stored


@dataclass(frozen=True)
class Revision:
    """One published revision: what ran, who made it and when (days before the sandbox started)."""

    number: int
    comment: str
    created_by: str
    actor: str  # the tool that authored it: web, cli, claude-code
    created_days_ago: float
    deployed_days_ago: float | None  # None: live from creation (a first revision) or never deployed
    steps: list[dict[str, Any]]  # the steps between ENTRY_POINT and EXIT_POINT, in order
    parameters_metadata: list[dict[str, Any]]


@dataclass(frozen=True)
class DemoAgent:
    id: str
    display_name: str
    description: str
    tags: tuple[str, ...]
    current_revision: int  # 0 = never deployed
    parameters_metadata: list[dict[str, Any]]  # of the newest definition (what a new draft starts from)
    steps: list[dict[str, Any]]  # the newest definition's steps between ENTRY_POINT and EXIT_POINT
    created_at_offset_days: int = 60
    exit_template: str | None = None
    revisions: tuple[Revision, ...] = ()  # 1..current_revision, oldest first
    capabilities: frozenset[Capability] = frozenset()
    history_weight: int = 0  # share of the seeded history; 0 = none
    samples: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)  # seeded parameter values
    replay_path: Path | None = None  # REPLAY: the recording

    @property
    def recording(self) -> Path | None:
        """The recorded stream a REPLAY agent serves instead of running."""
        return self.replay_path if Capability.REPLAY in self.capabilities else None

    def revision(self, number: int) -> Revision | None:
        return next((r for r in self.revisions if r.number == number), None)

    def flow(self, number: int) -> dict[str, Any] | None:
        """The stored flow of a revision; None when it does not exist (or is only a recording)."""
        revision = self.revision(number)
        if revision is None or not revision.steps:  # a recording's revision has no flow
            return None
        return _flow(revision.parameters_metadata, revision.steps, self.exit_template)

    def parameters_of(self, number: int) -> list[dict[str, Any]] | None:
        """A revision's inputs; `0` means the newest definition (also for a never-deployed agent)."""
        if number == 0:
            return copy.deepcopy(self.parameters_metadata)
        revision = self.revision(number)
        return None if revision is None else copy.deepcopy(revision.parameters_metadata)


@dataclass(frozen=True)
class Catalog:
    """The agents one sandbox serves: the demo agents plus its recordings."""

    agents: Mapping[str, DemoAgent]

    @classmethod
    def load(cls, replay_dir: str | None) -> Catalog:
        agents = dict(DEMO_AGENTS)
        for name, path in replay_files(replay_dir).items():
            known = agents.get(name)
            # A recording named like a demo agent replaces that agent's streams, not its details.
            agents[name] = (replace(known, capabilities=known.capabilities | {Capability.REPLAY}, replay_path=path)
                            if known else _replay_agent(name, path))
        return cls(agents)

    def get(self, agent_id: str) -> DemoAgent | None:
        return self.agents.get(agent_id)


def capabilities_of(agent_id: str) -> frozenset[Capability]:
    agent = DEMO_AGENTS.get(agent_id)
    return agent.capabilities if agent else frozenset()


def revision_flow(agent_id: str, revision: int) -> dict[str, Any] | None:
    """The stored flow of a demo agent's revision (1..current); None when it does not exist."""
    agent = DEMO_AGENTS.get(agent_id)
    return agent.flow(revision) if agent else None


def build_flow(agent: DemoAgent) -> dict[str, Any]:
    """ENTRY → the agent's newest steps in order → EXIT, in the wire shape of a TestRequest flow."""
    return _flow(agent.parameters_metadata, agent.steps, agent.exit_template)


def _flow(parameters: list[dict[str, Any]], body: list[dict[str, Any]], exit_template: str | None) -> dict[str, Any]:
    entry = {"type": "ENTRY_POINT", "identifier": "entry", "name": "Entry", "parameters": copy.deepcopy(parameters)}
    exit_step: dict[str, Any] = {"type": "EXIT_POINT", "identifier": "exit", "name": "Exit"}
    if exit_template:
        exit_step["output"] = {"template": exit_template}
    steps = [entry, *copy.deepcopy(body), exit_step]
    edges = [{"source": a["identifier"], "target": b["identifier"]} for a, b in zip(steps, steps[1:], strict=False)]
    return {"steps": steps, "edges": edges}


def _replay_agent(name: str, path: Path) -> DemoAgent:
    recorded = Revision(1, "Recorded stream.", "sandbox", "cli", 0, None, [], [])
    return DemoAgent(id=name, display_name=f"Replay: {name}", description="Recorded stream (replay).", tags=("replay",),
                     current_revision=1, parameters_metadata=[], steps=[], created_at_offset_days=0,
                     revisions=(recorded,), capabilities=frozenset({Capability.REPLAY}), replay_path=path)


# ----------------------------------------------------------------------------------------------
# Building blocks of the demo definitions
# ----------------------------------------------------------------------------------------------
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


def _provider(provider: str, model: str) -> dict[str, Any]:
    """Pinned to the tenant's config of that provider, as a published revision is."""
    config = str(uuid.uuid5(uuid.NAMESPACE_URL, f"fruxon-sandbox/{DEMO_TENANT}/llm/{provider}"))
    return {"providerId": provider, "model": model, "tenantConfigId": config}


def _agent_step(identifier: str, name: str, user_prompt: str, *, system: str, tools: list[dict[str, Any]] | None = None,
                model: str = "gpt-4o-mini", provider: str = "openai", max_tool_loops: int = 5) -> dict[str, Any]:
    return {
        "type": "AGENT",
        "identifier": identifier,
        "name": name,
        "provider": _provider(provider, model),
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


def _history(*revisions: tuple[str, str, str, float, float | None, list[dict[str, Any]], list[dict[str, Any]]]
             ) -> tuple[Revision, ...]:
    """Revisions 1..n from (comment, created_by, actor, created_days_ago, deployed_days_ago, steps, parameters)."""
    return tuple(Revision(i, *fields) for i, fields in enumerate(revisions, start=1))


MAYA, JON, PRIYA = "maya@acme.test", "jon@acme.test", "priya@acme.test"

# support_agent
_QUESTION = _param("question", "STRING", required=True, description="The customer's question.")
_TONE = _param("tone", "OPTION", default="friendly", options=["friendly", "formal"], description="Answer style.")
_SUPPORT = _agent_step("answer", "Answer", "{{param.question}} (tone: {{param.tone}})",
                       system="You answer support questions briefly, citing knowledge-base articles.",
                       tools=[_tool("kb", "search_articles")])
_SUPPORT_HISTORY = _history(
    ("First version: answers from the model alone.", MAYA, "web", 58, None,
     [_agent_step("answer", "Answer", "{{param.question}}", system="You answer customer support questions.",
                  model="gpt-4o")], [_QUESTION]),
    ("Search the knowledge base before answering; cheaper model.", JON, "cli", 41, 40,
     [_agent_step("answer", "Answer", "Customer question: {{param.question}}",
                  system="You answer support questions, citing knowledge-base articles.",
                  tools=[_tool("kb", "search_articles")])], [_QUESTION]),
    ("Add a tone option (friendly or formal).", MAYA, "claude-code", 12, 11, [_SUPPORT], [_QUESTION, _TONE]),
)

# release_digest
_REPO = _param("repo", "STRING", required=True, description="owner/name of the repository.")
_DEPTH = _param("depth", "OPTION", default="summary", options=["summary", "detailed"])
_COMMITS = [_tool("github", "list_commits")]


def _digest(user: str, system: str, *, model: str = "gpt-4o-mini", tools: bool = True) -> list[dict[str, Any]]:
    return [_agent_step("digest", "Digest", user, system=system, model=model, tools=_COMMITS if tools else None)]


_DIGEST_USER = "Summarise recent commits of {{param.repo}} ({{param.depth}})."
_DIGEST_HISTORY = _history(
    ("First digest: one paragraph per repository.", PRIYA, "web", 55, None,
     _digest("Summarise the recent work on {{param.repo}}.", "You write release notes.", tools=False), [_REPO]),
    ("Read the commit list from GitHub.", PRIYA, "cli", 47, 47,
     _digest("Summarise recent commits of {{param.repo}}.", "You write release notes from commit lists."), [_REPO]),
    ("Shorter digests: three bullet points at most.", JON, "web", 39, 38,
     _digest("Summarise recent commits of {{param.repo}} in three bullets.", "You write short release digests."),
     [_REPO]),
    ("Move to gpt-4o for better summaries.", PRIYA, "cli", 30, 30,
     _digest("Summarise recent commits of {{param.repo}} in three bullets.", "You write short release digests.",
             model="gpt-4o"), [_REPO]),
    ("Add a depth option (summary or detailed).", PRIYA, "claude-code", 21, 20,
     _digest(_DIGEST_USER, "You write release digests.", model="gpt-4o"), [_REPO, _DEPTH]),
    ("Mention breaking changes first.", JON, "web", 9, 9,
     _digest(_DIGEST_USER, "You write release digests; breaking changes come first.", model="gpt-4o"), [_REPO, _DEPTH]),
    ("Tidy the system prompt.", PRIYA, "claude-code", 3, 2,
     _digest(_DIGEST_USER, "You write release digests for engineers.", model="gpt-4o"), [_REPO, _DEPTH]),
)

# refund_desk
_ORDER = _param("order_id", "STRING", required=True, description="The order to refund.")
_AMOUNT = _param("amount", "FLOAT", required=True, description="Amount in USD.")
_REFUND_USER = "Refund order {{param.order_id}} for {{param.amount}} USD."
_REFUND = _agent_step("refund", "Refund", _REFUND_USER, system="You process refunds carefully.",
                      tools=[_tool("payments", "issue_refund", approval=True)])
_REFUND_HISTORY = _history(
    ("Refund orders on request.", JON, "web", 50, None,
     [_agent_step("refund", "Refund", _REFUND_USER, system="You process refunds.",
                  tools=[_tool("payments", "issue_refund")])], [_ORDER, _AMOUNT]),
    ("Every refund now waits for a human approval.", MAYA, "web", 33, 33, [_REFUND], [_ORDER, _AMOUNT]),
)

# trip_planner
_CITY = _param("city", "STRING", required=True, description="Destination city.")
_DAYS = _param("days", "INTEGER", default="3", integer_range=(1, 14), description="Trip length in days.")
_BUDGET = _param("budget_usd", "FLOAT", default="1200", description="Total budget in USD.")
_PLAN_TOOLS = [_tool("math", "calculate"), _tool("units", "convert")]


def _research(model: str, provider: str) -> dict[str, Any]:
    return {"type": "AGENT", "identifier": "research", "name": "Research sub-agent",
            "provider": _provider(provider, model),
            "systemPrompt": {"template": "You research destinations."},
            "userPrompt": {"template": "Find the highlights of {{param.city}} for {{param.days}} days."},
            "tools": [_tool("units", "convert")], "maxToolLoops": 3, "subAgent": True}


_PLAN_USER = "Plan {{param.days}} days in {{param.city}} for {{param.budget_usd}} USD. Research: {{step.research.output}}"
_TRIP = [_research("claude-sonnet", "anthropic"),
         _agent_step("plan", "Planner", _PLAN_USER, system="You plan trips within budget.", tools=_PLAN_TOOLS)]
_TRIP_HISTORY = _history(
    ("Single planner step.", PRIYA, "web", 57, None,
     [_agent_step("plan", "Planner", "Plan {{param.days}} days in {{param.city}}.", system="You plan trips.")],
     [_CITY, _DAYS]),
    ("Add a budget with arithmetic and unit conversion tools.", PRIYA, "cli", 44, 43,
     [_agent_step("plan", "Planner", "Plan {{param.days}} days in {{param.city}} for {{param.budget_usd}} USD.",
                  system="You plan trips within budget.", tools=_PLAN_TOOLS)], [_CITY, _DAYS, _BUDGET]),
    ("Add a research sub-agent.", MAYA, "claude-code", 26, 25,
     [_research("gpt-4o-mini", "openai"), _TRIP[1]], [_CITY, _DAYS, _BUDGET]),
    ("Research with claude-sonnet.", MAYA, "claude-code", 6, 5, _TRIP, [_CITY, _DAYS, _BUDGET]),
)

# doc_reader
_FILE_QUESTION = _param("question", "STRING", required=True, description="What to look for in the files.")
_READER = _agent_step("read", "Reader", "{{param.question}}", system="You answer only from the attached files.",
                      tools=[_tool("files", "search"), _tool("files", "summarize")])
_READER_HISTORY = _history(
    ("Search the attached files.", JON, "cli", 35, None,
     [_agent_step("read", "Reader", "{{param.question}}", system="You answer from the attached files.",
                  tools=[_tool("files", "search")])], [_FILE_QUESTION]),
    ("Also summarise the attached files.", JON, "cli", 15, 15, [_READER], [_FILE_QUESTION]),
)

# echo_agent, stream_bench, draft_only
_MESSAGE = _param("message", "STRING", required=True, description="Anything to echo.")
_ECHO = _agent_step("echo", "Echo", "{{param.message}}", system="You repeat what you are told.")
_BENCH_PARAMETERS = [_param("rate", "INTEGER", default="100", description="Events per second."),
                     _param("count", "INTEGER", default="500", description="How many events.")]
_BENCH = _agent_step("bench", "Bench", "rate {{param.rate}} count {{param.count}}", system="Benchmark.")

QUESTIONS = (
    "How do I reset my password?", "Can I export my data?", "How do refunds work?", "How do I enable two-factor login?",
    "Where do I change my email address?", "How do I cancel my subscription?", "Why was I charged twice?",
)

DEMO_AGENTS: dict[str, DemoAgent] = {
    agent.id: agent
    for agent in (
        DemoAgent(
            id="support_agent", display_name="Support Agent",
            description="Answers customer support questions from the knowledge base.", tags=("support", "demo"),
            current_revision=3, parameters_metadata=[_QUESTION, _TONE], steps=[_SUPPORT], revisions=_SUPPORT_HISTORY,
            history_weight=6, samples={"question": QUESTIONS, "tone": ("friendly", "formal")},
        ),
        DemoAgent(
            id="release_digest", display_name="Release Digest", description="Summarises the recent commits of a repository.",
            tags=("engineering",), current_revision=7, parameters_metadata=[_REPO, _DEPTH],
            steps=_DIGEST_HISTORY[-1].steps, revisions=_DIGEST_HISTORY, history_weight=3,
            samples={"repo": ("acme/app", "acme/billing", "globex/search", "initech/tps"), "depth": ("summary", "detailed")},
        ),
        DemoAgent(
            id="refund_desk", display_name="Refund Desk", description="Issues refunds; every refund waits for a human approval.",
            tags=("payments", "hitl"), current_revision=2, parameters_metadata=[_ORDER, _AMOUNT], steps=[_REFUND],
            revisions=_REFUND_HISTORY, history_weight=1,
            samples={"order_id": ("ord_1042", "ord_2318", "ord_5120", "ord_7781", "ord_9034"),
                     "amount": (12.5, 39.99, 74.0, 129.95, 240.0, 385.5)},
        ),
        DemoAgent(
            id="echo_agent", display_name="Echo Agent", description="Repeats the message back; no tools.", tags=("demo",),
            current_revision=1, parameters_metadata=[_MESSAGE], steps=[_ECHO],
            revisions=_history(("Echo the message back.", MAYA, "web", 59, None, [_ECHO], [_MESSAGE])),
            capabilities=frozenset({Capability.ECHO}), history_weight=2,
            samples={"message": ("hello", "ping", "status check", "are you there?")},
        ),
        DemoAgent(
            id="draft_only", display_name="Draft Only", description="Never deployed: :execute answers 404; test it as a draft.",
            tags=("demo",), current_revision=0, parameters_metadata=[],
            steps=[_agent_step("draft", "Draft", "Say hello.", system="You are a draft.")],
        ),
        DemoAgent(
            id="trip_planner", display_name="Trip Planner",
            description="Plans a trip with a nested research sub-agent, arithmetic, unit conversion and a quality check.",
            tags=("travel", "sub-agents"), current_revision=4, parameters_metadata=[_CITY, _DAYS, _BUDGET], steps=_TRIP,
            revisions=_TRIP_HISTORY, capabilities=frozenset({Capability.JUDGE}), history_weight=2,
            samples={"city": ("Lisbon", "Kyoto", "Oslo", "Montreal", "Nairobi"), "days": (2, 3, 4, 5, 6, 7),
                     "budget_usd": (800.0, 1200.0, 2500.0)},
        ),
        DemoAgent(
            id="doc_reader", display_name="Document Reader",
            description="Answers questions from the attached files (fails a step when nothing is attached).",
            tags=("documents", "attachments"), current_revision=2, parameters_metadata=[_FILE_QUESTION], steps=[_READER],
            revisions=_READER_HISTORY, history_weight=1,
            samples={"question": ("What is the deadline?", "Who approved the budget?")},
        ),
        DemoAgent(
            id="stream_bench", display_name="Stream Bench",
            description="Streams stamped text chunks at a fixed rate (for latency benchmarks).", tags=("benchmark",),
            current_revision=1, parameters_metadata=_BENCH_PARAMETERS, steps=[_BENCH],
            revisions=_history(("Benchmark stream.", "sandbox", "cli", 60, None, [_BENCH], _BENCH_PARAMETERS)),
            capabilities=frozenset({Capability.BENCH}),
        ),
    )
}

DEMO_ENVIRONMENTS: list[dict[str, str]] = [
    {"slug": "acme_corp", "displayName": "Acme Corp"},
    {"slug": "globex", "displayName": "Globex"},
    {"slug": "initech", "displayName": "Initech"},
]
