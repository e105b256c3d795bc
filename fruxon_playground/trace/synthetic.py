"""Realistic ExecutionTrace JSON of any size, for tests and benchmarks. Deterministic for a seed.

The run is generated the way it would execute: a FLOW root ("Agent") runs LLM steps (some calling
tools), sub-agents (which run their own steps), quality checks, summaries, approval gates and steps of
types this client does not know, one after another on a shared clock. So every child starts after
and ends before its parent, costs and tokens add up to the run's totals, and nesting stays within
the SDK's 12 levels.
"""

from __future__ import annotations

import json
import random
from typing import Any

from fruxon_playground.trace.builder import MAX_DEPTH

START_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z
# USD per million input and output tokens.
MODELS = {"gpt-4o-mini": (0.15, 0.60), "claude-3-5-haiku": (0.80, 4.00), "gpt-4o": (2.50, 10.00)}
TOOLS = [("kb", "search_articles"), ("weather", "forecast"), ("units", "convert"), ("", "web_search"),
         ("crm", "lookup_customer"), ("calendar", "create_event")]  # fmt: skip
UNKNOWN_TYPES = ["MEMORY_RECALL", "GUARDRAIL", "Unknown"]
SUB_AGENTS = ["Research sub-agent", "Planner", "Critic", "Translator"]


class _Run:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.clock = START_MS
        self.count = 0
        self.input_tokens = self.output_tokens = 0
        self.input_cost = self.output_cost = 0.0

    def step(self, step_type: str, name: str, **extra: Any) -> dict[str, Any]:
        self.count += 1
        self.clock += self.rng.randint(1, 15)
        return {"id": f"st_{self.count:06d}", "displayName": name, "type": step_type, "status": "SUCCESS",
                "startTime": self.clock, "endTime": 0, "duration": -self.clock, **extra, "steps": []}  # fmt: skip

    def finish(self, node: dict[str, Any], spent_low: int, spent_high: int) -> None:
        self.clock += self.rng.randint(spent_low, spent_high)
        node["endTime"] = self.clock
        node["duration"] = self.clock - node["startTime"]

    def llm(self, name: str, step_type: str = "LLM_STEP") -> dict[str, Any]:
        model = self.rng.choice(list(MODELS))
        tokens_in, tokens_out = self.rng.randint(80, 4000), self.rng.randint(10, 900)
        price_in, price_out = MODELS[model]
        cost_in, cost_out = tokens_in * price_in / 1e6, tokens_out * price_out / 1e6
        # Some deployments send money as decimal strings (contract §1).
        sent_cost_in: float | str = cost_in if self.rng.random() < 0.8 else f"{cost_in:.10f}"
        self.input_tokens += tokens_in
        self.output_tokens += tokens_out
        self.input_cost += float(sent_cost_in)
        self.output_cost += cost_out
        answer = f"Step {self.count}: here is what I found."
        node = self.step(step_type, name, llmStepTrace={
            "providerId": "anthropic" if model.startswith("claude") else "openai", "model": model,
            "inputTokens": tokens_in, "outputTokens": tokens_out,
            "inputCost": sent_cost_in, "outputCost": cost_out,
            "systemInstructions": [{"content": "You are a helpful agent."}],
            "llmMessages": [{"role": "user", "content": f"Question {self.count}"}, {"role": "assistant", "content": answer}],
        }, result={"strValue": answer, "jsonValue": None, "fileLink": None})  # fmt: skip
        if self.rng.random() < 0.01:
            node.update(status="ERROR", error="LLM provider returned 503: overloaded", result=None)
        return node

    def tool(self) -> dict[str, Any]:
        integration, tool_id = self.rng.choice(TOOLS)
        arguments = {"query": f"q{self.count}", "limit": self.rng.randint(1, 10)}
        failed = self.rng.random() < 0.04
        node = self.step("TOOL", tool_id.replace("_", " ").title(), toolTrace={
            "tool": {"integrationId": integration, "id": tool_id, "name": tool_id},
            "displayName": tool_id.replace("_", " ").title(), "toolType": "API_TOOL",
            # Older servers send parameters as JSON text; the builder decodes them.
            "parameters": arguments if self.rng.random() < 0.8 else json.dumps(arguments),
            "cost": 0.0005 if integration == "" else 0.0,
        })  # fmt: skip
        if failed:
            node.update(status="ERROR", error=f"{tool_id} answered 503: upstream unavailable", result=None)
        else:
            hits = [
                {"title": f"hit {i}", "score": round(self.rng.random(), 3)}
                for i in range(self.rng.randint(0, 3))
            ]
            node["result"] = {"strValue": None, "jsonValue": {"hits": hits}, "fileLink": None}
        return node

    def judge(self) -> dict[str, Any]:
        score = round(self.rng.uniform(0.4, 1.0), 2)
        verdict = {
            "aggregate": score,
            "metrics": [{"name": "relevance", "score": score}],
            "summary": "Looks fine.",
        }
        return self.step(
            "JUDGE", "Quality check", result={"strValue": json.dumps(verdict), "jsonValue": None}
        )

    def hitl(self) -> dict[str, Any]:
        integration, tool_id = self.rng.choice(TOOLS)
        approved = self.rng.random() < 0.8
        node = self.step("HITL", f"Approval: {tool_id}", hitlTrace={
            "requestId": f"apr_{self.count:06d}", "gateType": "PROMPT_TOOL", "toolKey": f"{integration}.{tool_id}",
            "outboundMessage": f"Approve {tool_id}?", "proposedParameters": {"query": f"q{self.count}"},
            "decision": "APPROVE" if approved else "REJECT", "respondedBy": "reviewer@example.com",
        })  # fmt: skip
        if not approved:
            node.update(status="ERROR", error="rejected by a human")
        return node


def _child(run: _Run, container: dict[str, Any], depth: int) -> tuple[dict[str, Any], int]:
    """The next step inside `container`, and how many children it will get in turn."""
    rng = run.rng
    if container["type"] == "LLM_STEP":
        return run.tool(), 0
    if container["type"] == "TOOL":  # an AGENT_TOOL: a sub-task runs as its own agent
        return run.step("AGENT_STEP", rng.choice(SUB_AGENTS)), rng.randint(2, 8)
    roll = rng.random()
    if roll < 0.45:
        return run.llm(rng.choice(["LLM Query", "Plan", "Answer"])), rng.choice([0, 0, 1, 2, 3])
    if roll < 0.62:
        tool = run.tool()
        if depth < MAX_DEPTH - 2 and rng.random() < 0.08:
            tool["toolTrace"]["toolType"] = "AGENT_TOOL"
            return tool, 1
        return tool, 0
    if roll < 0.74 and depth < MAX_DEPTH - 1:
        return run.step("AGENT_STEP", rng.choice(SUB_AGENTS)), rng.randint(2, 8)
    if roll < 0.82:
        return run.judge(), 0
    if roll < 0.89:
        return run.llm("Summarize", "SUMMARIZATION"), 0
    if roll < 0.95:
        return run.hitl(), 0
    return run.step(rng.choice(UNKNOWN_TYPES), "Mystery step", status=rng.choice(["SUCCESS", "SKIPPED"])), 0


def random_trace(n_spans: int, seed: int = 0, *, live: bool = False) -> dict[str, Any]:
    """An ExecutionTrace dict with exactly `n_spans` steps (at least 1). `live` leaves the steps that
    were still running when the last step started open (`endTime: 0`, negative duration)."""
    rng = random.Random(seed)
    run = _Run(rng)
    root = run.step("FLOW_STEP", "Agent")
    # Steps that are still running: (the step, how many more children it gets (-1: any number), its depth).
    stack: list[tuple[dict[str, Any], int, int]] = [(root, -1, 0)]
    while run.count < max(1, n_spans):
        container, left, depth = stack[-1]
        if left == 0 or depth >= MAX_DEPTH:
            stack.pop()
            _close(run, container)
            continue
        node, grandchildren = _child(run, container, depth)
        container["steps"].append(node)
        stack[-1] = (container, left - 1 if left > 0 else -1, depth)
        if grandchildren and depth + 1 < MAX_DEPTH:
            stack.append((node, grandchildren, depth + 1))
        elif node["endTime"] == 0:
            run.finish(node, *_duration_range(node["type"]))
    while stack:
        container = stack.pop()[0]
        if live:  # still running: what a start frame says (contract §9.8)
            container["status"] = "UNSPECIFIED"
        else:
            _close(run, container)
    finished = root["endTime"] > 0
    return {
        "agentId": "synthetic_agent",
        "agentRevision": 1 + seed % 5,
        "createdAt": START_MS,
        "parameters": {"question": "What should I do?"},
        "startTime": root["startTime"],
        "endTime": root["endTime"] if finished else 0,
        "duration": root["duration"],
        "traces": [root],
        "result": {"strValue": "Done.", "jsonValue": None, "fileLink": None} if finished else None,
        "inputCost": run.input_cost,
        "outputCost": run.output_cost,
        "totalCost": run.input_cost + run.output_cost + _tool_costs(root),
        "inputTokens": run.input_tokens,
        "outputTokens": run.output_tokens,
    }


def _close(run: _Run, container: dict[str, Any]) -> None:
    """End a step that had children: an LLM step answers after its tools; an agent whose model call
    failed fails too."""
    run.finish(container, *((100, 800) if container["type"] == "LLM_STEP" else (5, 40)))
    if container["type"] in ("FLOW_STEP", "AGENT_STEP") and any(
        child["status"] == "ERROR" and child["type"] == "LLM_STEP" for child in container["steps"]
    ):
        container.update(status="ERROR", error="the agent failed: its model call failed")


def _duration_range(step_type: str) -> tuple[int, int]:
    return {"LLM_STEP": (300, 3000), "TOOL": (50, 1200), "JUDGE": (200, 800), "HITL": (1000, 60_000),
            "SUMMARIZATION": (200, 1500)}.get(step_type, (5, 200))  # fmt: skip


def _tool_costs(root: dict[str, Any]) -> float:
    total, stack = 0.0, [root]
    while stack:
        node = stack.pop()
        total += (node.get("toolTrace") or {}).get("cost") or 0.0
        stack.extend(node["steps"])
    return total
