"""Simulated execution engine of the sandbox (pure: no I/O, no sleeping, no clock reads).

A run is planned up front: ``plan_run`` walks the flow and returns every stream event with its
offset from the run start plus the final outcome. The server then either sleeps through the
offsets (scaled by ``--speed``) while writing SSE frames, or waits the total duration and answers
synchronously. Planning up front keeps the engine deterministic and trivially testable.

The scenario switches it simulates and the faults applied to its plan come from faults.py (the one
fault system); what makes an agent special (echo, judge, bench) is a catalog capability.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from dataclasses import replace
from typing import Any

from fruxon_playground.sandbox import faults as fault_system
from fruxon_playground.sandbox import pricing
from fruxon_playground.sandbox.catalog import Capability, capabilities_of
from fruxon_playground.sandbox.faults import Faults, Switch
from fruxon_playground.sandbox.plan import PendingApproval, PlannedEvent, RunOutcome, RunPlan, RunSpec
from fruxon_playground.sandbox.tools import KNOWN_UNITS, ToolContext, run_tool

__all__ = ["PendingApproval", "PlannedEvent", "RunOutcome", "RunPlan", "RunSpec", "plan_run", "resume_run"]


# ----------------------------------------------------------------------------------------------
# Planning
# ----------------------------------------------------------------------------------------------

SEND_TIME_MARKER = "@SEND_MS@"  # replaced by the server with the epoch ms at which the frame is written
_PLACEHOLDER = re.compile(r"\{\{\s*(param|input|step)\.([A-Za-z0-9_\-]+)(?:\.output)?\s*\}\}")
HTML_PAYLOAD = (
    '<script>alert(1)</script> <img src=x onerror=alert(1)> &lt;b&gt;not bold&lt;/b&gt; '
    "[click me](javascript:alert(1)) {{param.x}} ${x}"
)
FILLERS = [
    "Here is a short, practical answer.",
    "I kept it brief so it is easy to act on.",
    "Let me know if you need more detail on any step.",
    "This reflects the information available right now.",
    "Each point below comes from the tools I used.",
    "I double-checked the figures before answering.",
]


def render_template(template: str, parameters: dict[str, Any], outputs: dict[str, str]) -> str:
    """Resolves `{{param.x}}`, `{{input.x}}` and `{{step.<name>.output}}`; unknown ones stay as written."""

    def replace_one(match: re.Match[str]) -> str:
        kind, name = match.group(1), match.group(2)
        if kind in ("param", "input") and name in parameters:
            value = parameters[name]
            return value if isinstance(value, str) else json.dumps(value)
        if kind == "step" and name in outputs:
            return outputs[name]
        return match.group(0)

    return _PLACEHOLDER.sub(replace_one, template or "")


def topological_order(flow: dict[str, Any]) -> list[dict[str, Any]]:
    """Steps reachable from ENTRY_POINT in execution order (ties broken by their order in the flow)."""
    steps = flow.get("steps") or []
    by_id = {s.get("identifier"): s for s in steps}
    position = {s.get("identifier"): i for i, s in enumerate(steps)}
    targets: dict[str, list[str]] = {}
    for edge in flow.get("edges") or []:
        targets.setdefault(edge.get("source"), []).append(edge.get("target"))
    entry = next((s for s in steps if s.get("type") == "ENTRY_POINT"), None)
    if entry is None:
        return []
    reachable: set[str] = set()
    stack = [entry.get("identifier")]
    while stack:
        node = stack.pop()
        if node in reachable or node not in by_id:
            continue
        reachable.add(node)
        stack.extend(targets.get(node, []))
    indegree = {n: 0 for n in reachable}
    for source in reachable:
        for target in targets.get(source, []):
            if target in indegree:
                indegree[target] += 1
    ready = sorted((n for n, d in indegree.items() if d == 0), key=lambda n: position[n])
    order: list[str] = []
    while ready:
        node = ready.pop(0)
        order.append(node)
        for target in targets.get(node, []):
            if target in indegree:
                indegree[target] -= 1
                if indegree[target] == 0:
                    ready.append(target)
                    ready.sort(key=lambda n: position[n])
    return [by_id[n] for n in order]


def _seed(spec: RunSpec) -> int:
    canonical = json.dumps([spec.agent_id, spec.flow, spec.parameters, spec.session_turn], sort_keys=True, default=str)
    return int.from_bytes(hashlib.sha256(canonical.encode()).digest()[:8], "big")


class _Planner:
    """Walks the flow once, appending events and building the trace as simulated time advances."""

    def __init__(self, spec: RunSpec, record_id: str, decisions: dict[str, tuple[bool, str]] | None = None,
                 resume_offset_ms: int | None = None) -> None:
        self.spec = spec
        self.record_id = record_id
        self.rng = random.Random(_seed(spec))
        # Switches come from the parameters and from whatever the server put in the spec (a fault header).
        self.switches = fault_system.as_switches(spec.scenario) | fault_system.switches_in(spec.parameters)
        self.capabilities = capabilities_of(spec.agent_id)
        self.slow = 10.0 if Switch.SLOW in self.switches else 1.0
        self.decisions = decisions or {}
        self.resume_offset_ms = resume_offset_ms
        self.t = 40  # ms after start: first bytes go out quickly
        self.events: list[PlannedEvent] = []
        self.outputs: dict[str, str] = {}
        self.answer_parts: list[str] = []
        self.input_tokens = self.output_tokens = 0
        self.input_cost = self.output_cost = 0.0
        self.tool_errors = 0
        self.tool_keys: list[str] = []
        self.id_counter = 0
        self.pending: PendingApproval | None = None
        self.failed: tuple[str, str] | None = None  # (message, code)
        self.text_chunks_sent = 0
        names: dict[str, str] = {}
        for link in spec.attachments:
            names[str(link.get("fileId"))] = str(link.get("displayName") or link.get("fileId"))
        self.tool_context = ToolContext(
            attachment_text={names.get(fid, fid): text for fid, text in spec.attachment_text.items()},
            assets=list(spec.assets),
        )

    # -- ids, time, events ---------------------------------------------------------------------
    def new_id(self, prefix: str) -> str:
        self.id_counter += 1
        digest = hashlib.sha256(f"{self.record_id}:{self.id_counter}".encode()).hexdigest()
        return f"{prefix}_{digest[:12]}"

    def wait(self, low: int, high: int) -> None:
        self.t += int(self.rng.randint(low, high) * self.slow)

    @property
    def now(self) -> int:
        return self.spec.start_ms + self.t

    def emit(self, event: str, data: dict[str, Any]) -> None:
        if event == "step_trace" and not self.spec.is_test:
            return
        self.events.append(PlannedEvent(self.t, event, data))

    def emit_usage(self) -> None:
        self.emit("usage", {"inputTokens": self.input_tokens, "outputTokens": self.output_tokens,
                            "cachedTokens": 0, "thinkingTokens": 0})

    def start_step(self, step_type: str, name: str, parent: dict[str, Any] | None, **extra: Any) -> dict[str, Any]:
        node: dict[str, Any] = {"id": self.new_id("st"), "displayName": name, "type": step_type,
                                "status": "UNSPECIFIED", "startTime": self.now, "endTime": 0,
                                "duration": -self.now, **extra, "steps": []}
        if parent is not None:
            parent["steps"].append(node)
        frame = {k: v for k, v in node.items() if k != "steps"}
        frame["parentId"] = parent["id"] if parent is not None else None
        self.emit("step_trace", frame)
        node["_parent"] = parent["id"] if parent is not None else None
        return node

    def end_step(self, node: dict[str, Any], status: str = "SUCCESS", error: str | None = None) -> None:
        node["endTime"] = self.now
        node["duration"] = node["endTime"] - node["startTime"]
        node["status"] = status
        if error:
            node["error"] = error
        frame = {k: v for k, v in node.items() if k not in ("steps", "_parent")}
        frame["parentId"] = node["_parent"]
        self.emit("step_trace", frame)

    def stream_text(self, text: str) -> bool:
        """Streams text in chunks of 1–4 words; False when the `error` scenario cut the run short."""
        words = re.findall(r"\S+\s*|\n+", text)
        i = 0
        while i < len(words):
            size = self.rng.randint(1, 4)
            chunk = "".join(words[i:i + size])
            i += size
            self.wait(15, 60)
            self.emit("text", {"chunk": chunk})
            self.text_chunks_sent += 1
            if Switch.ERROR in self.switches and self.text_chunks_sent == 3 and self.failed is None:
                self.failed = ("Simulated failure after the third text chunk ([[sandbox:error]]).", "SANDBOX_SIMULATED_ERROR")
                return False
        self.answer_parts.append(text.lstrip("\n"))
        return True

    # -- text generation -----------------------------------------------------------------------
    def compose(self, step: dict[str, Any], prompt: str, tool_results: list[tuple[str, Any, str | None]]) -> str:
        quoted = prompt.strip().replace("\n", " ")
        if len(quoted) > 160:
            quoted = quoted[:157] + "…"
        sentences: list[str] = []
        if self.spec.session_turn:
            sentences.append(f"Continuing our conversation (turn {self.spec.session_turn + 1}).")
        if Capability.ECHO in self.capabilities:
            sentences.append(f"You said: {prompt.strip()}")
        else:
            sentences.append(f"You asked: “{quoted}”.")
        for key, result, error in tool_results:
            sentences.append(_describe_tool(key, result, error))
        tone = self.spec.parameters.get("tone")
        if tone == "formal":
            sentences.insert(0, "Dear customer,")
        sentences.append(self.rng.choice(FILLERS))
        if Switch.HTML in self.switches:
            sentences.append(HTML_PAYLOAD)
        if Switch.LONG in self.switches:
            paragraphs = []
            for p in range(60):
                body = " ".join(self.rng.choice(FILLERS) for _ in range(20))
                paragraphs.append(f"Part {p + 1}. {body}")
            sentences.append("\n\n" + "\n\n".join(paragraphs))
        return " ".join(sentences)

    # -- steps ---------------------------------------------------------------------------------
    def run_agent_step(self, step: dict[str, Any], parent: dict[str, Any]) -> None:
        if step.get("subAgent"):
            wrapper = self.start_step("AGENT_STEP", step.get("name") or step.get("identifier") or "Sub-agent", parent)
            self.wait(5, 20)
            self.run_llm(step, wrapper)
            self.wait(5, 20)
            self.end_step(wrapper, "ERROR" if self.failed else "SUCCESS")
        else:
            self.run_llm(step, parent)

    def run_llm(self, step: dict[str, Any], parent: dict[str, Any]) -> None:
        provider = step.get("provider") or {}
        model = provider.get("model") or ("claude-sonnet" if step.get("type") == "CLAUDE_BOX" else "gpt-4o-mini")
        system = render_template((step.get("systemPrompt") or {}).get("template", ""), self.spec.parameters, self.outputs)
        prompt = render_template((step.get("userPrompt") or {}).get("template", ""), self.spec.parameters, self.outputs)
        tools = (step.get("tools") or [])[: max(0, int(step.get("maxToolLoops") or 5))]
        name = "Claude Box" if step.get("type") == "CLAUDE_BOX" else "LLM Query"
        query = self.start_step("LLM_STEP", name, parent)
        preface = "Let me check that for you. " if tools else ""
        if preface and self.text_chunks_sent:
            preface = "\n\n" + preface
        tool_results: list[tuple[str, Any, str | None]] = []
        if preface:
            self.wait(120, 300)
            if not self.stream_text(preface):
                self.finish_llm(query, model, system, prompt, preface, error=True)
                return
        self.wait(60, 200)
        if tools:
            self.finish_llm(query, model, system, prompt, preface)
        for index, tool in enumerate(tools):
            outcome = self.run_tool_call(tool, index, step, parent, prompt)
            if outcome is None:  # paused at a human gate
                return
            tool_results.append(outcome)
        answer_node = self.start_step("LLM_STEP", "LLM Answer", parent) if tools else query
        text = self.compose(step, prompt, tool_results)
        if self.answer_parts and not preface:
            text = "\n\n" + text  # a later step's answer starts a new paragraph of the stream
        completed = self.stream_text(text)
        self.wait(20, 80)
        context = system + prompt + json.dumps([r[1] for r in tool_results], default=str)
        self.finish_llm(answer_node, model, system, context, text, error=not completed)
        if completed:
            self.outputs[step.get("identifier") or step.get("name") or "step"] = text.lstrip("\n")

    def finish_llm(self, node: dict[str, Any], model: str, system: str, prompt: str, output: str, *, error: bool = False) -> None:
        input_tokens = pricing.estimate_tokens(system + prompt) + 24
        output_tokens = pricing.estimate_tokens(output)
        input_cost, output_cost = pricing.price(model, input_tokens, output_tokens)
        self.input_tokens += input_tokens
        self.output_tokens += output_tokens
        self.input_cost += input_cost
        self.output_cost += output_cost
        node["llmStepTrace"] = {
            "providerId": "anthropic" if model.startswith("claude") else "openai",
            "model": model,
            "inputTokens": input_tokens,
            "outputTokens": output_tokens,
            "inputCost": input_cost,
            "outputCost": output_cost,
            "systemInstructions": [{"content": system}],
            "llmMessages": [{"role": "user", "content": prompt}, {"role": "assistant", "content": output}],
            "llmCalls": [{"startedAt": node["startTime"], "endedAt": self.now, "durationMs": self.now - node["startTime"],
                          "inputTokens": input_tokens, "outputTokens": output_tokens}],
        }
        node["result"] = {"strValue": output, "jsonValue": None, "fileLink": None}
        if error:
            self.end_step(node, "ERROR", self.failed[0] if self.failed else "failed")
        else:
            self.end_step(node)

    def run_tool_call(self, tool: dict[str, Any], index: int, step: dict[str, Any], parent: dict[str, Any],
                      prompt: str) -> tuple[str, Any, str | None] | None:
        key = tool.get("toolKey") or {}
        integration, tool_id = str(key.get("integrationId") or ""), str(key.get("id") or "tool")
        tool_key = f"{integration}.{tool_id}" if integration else tool_id
        arguments = _tool_arguments(integration, tool_id, prompt, self.spec.parameters)
        call_id = self.new_id("call")
        display = tool_id.replace("_", " ").title()
        tool_trace = {"tool": {"integrationId": integration, "id": tool_id, "name": tool_id}, "displayName": display,
                      "toolType": "API_TOOL", "parameters": arguments}
        self.wait(30, 120)
        started = self.now
        self.emit("tool_call", {"id": call_id, "toolTrace": tool_trace, "arguments": arguments, "startTime": started})
        self.tool_keys.append(tool_key)
        gated = bool(tool.get("humanApproval")) or (Switch.HITL in self.switches and index == 0)
        if gated:
            request_id = self.new_id("apr")
            requested_at = self.now
            message = f"Approve {display} with {json.dumps(arguments, ensure_ascii=False)}?"
            hitl: dict[str, Any] = {"requestId": request_id, "gateType": "PROMPT_TOOL", "toolKey": tool_key,
                                    "stepIdentifier": step.get("identifier"), "requestedAt": requested_at,
                                    "outboundMessage": message, "proposedParameters": arguments}
            decision = self.decisions.get(request_id)
            gate = self.start_step("HITL", f"Approval: {display}", parent, hitlTrace=dict(hitl))
            if decision is None:
                self.pending = PendingApproval(request_id, call_id, str(step.get("identifier")), tool_key, message,
                                               arguments)
                self.wait(10, 30)
                self.emit_usage()
                self.emit("status", {"status": "WaitingForHuman"})
                return None
            approved, reason = decision
            if self.resume_offset_ms is not None:
                self.t = max(self.t, self.resume_offset_ms)
            gate["hitlTrace"].update({"respondedAt": self.now, "respondedBy": "sandbox-user",
                                      "decision": "APPROVE" if approved else "REJECT", "responseText": reason,
                                      "durationMs": self.now - requested_at})
            self.end_step(gate)
            if not approved:
                rejection = {"rejected": True, "reason": reason or "rejected by a human"}
                self.emit("tool_result", {"id": call_id, "status": "failed", "result": rejection,
                                          "endTime": self.now, "error": "rejected by a human"})
                tool_node = {"id": call_id, "displayName": display, "type": "TOOL", "status": "ERROR",
                             "error": "rejected by a human", "startTime": started, "endTime": self.now,
                             "duration": self.now - started, "toolTrace": tool_trace,
                             "result": {"strValue": None, "jsonValue": rejection, "fileLink": None}, "steps": []}
                parent["steps"].append(tool_node)
                return tool_key, rejection, f"rejected: {reason}" if reason else "rejected"
        self.wait(150, 1200)
        outcome = run_tool(integration, tool_id, arguments, self.tool_context)
        status, result, error = outcome.status, outcome.result, outcome.error
        if Switch.TOOL_FAIL in self.switches:
            status, result, error = "failed", None, "Simulated tool failure ([[sandbox:tool_fail]])."
        if Switch.HTML in self.switches and status == "succeeded":
            result = {"note": HTML_PAYLOAD, "data": result}
        if status == "failed":
            self.tool_errors += 1
        data: dict[str, Any] = {"id": call_id, "status": status, "result": result, "endTime": self.now}
        if error:
            data["error"] = error
        self.emit("tool_result", data)
        rendered = json.dumps(result, ensure_ascii=False, default=str) if result is not None else ""
        tool_node = {"id": call_id, "displayName": display, "type": "TOOL",
                     "status": "SUCCESS" if status == "succeeded" else "ERROR", "startTime": started,
                     "endTime": self.now, "duration": self.now - started,
                     "toolTrace": {**tool_trace, "resultDelivery": {"resultBytes": len(rendered.encode()),
                                                                    "deliveredBytes": min(len(rendered.encode()), 4000)}},
                     "result": {"strValue": None, "jsonValue": result, "fileLink": None}, "steps": []}
        if error:
            tool_node["error"] = error
        parent["steps"].append(tool_node)
        return tool_key, result, error

    def run_tool_step(self, step: dict[str, Any], parent: dict[str, Any]) -> None:
        key = step.get("toolKey") or {}
        arguments = {k: render_template(v, self.spec.parameters, self.outputs) if isinstance(v, str) else v
                     for k, v in (step.get("parameters") or {}).items()}
        prompt = json.dumps(arguments, ensure_ascii=False)
        outcome = self.run_tool_call({"toolKey": key, "humanApproval": step.get("humanApproval")}, 1, step, parent, prompt)
        if outcome is not None:
            self.outputs[step.get("identifier") or "tool"] = json.dumps(outcome[1], ensure_ascii=False, default=str)

    def run_judge(self, parent: dict[str, Any]) -> None:
        node = self.start_step("JUDGE", "Quality check", parent)
        self.wait(80, 200)
        score = round(0.7 + self.rng.random() * 0.3, 2)
        verdict = {"aggregate": score, "metrics": [{"name": "relevance", "score": score},
                                                   {"name": "budget_respected", "score": 1.0}],
                   "summary": "The plan is relevant and stays within budget."}
        node["result"] = {"strValue": json.dumps(verdict), "jsonValue": None, "fileLink": None}
        self.end_step(node)

    def run_bench(self, parent: dict[str, Any]) -> None:
        """BENCH agents: `count` stamped chunks at `rate` per second (send time stamped by the server)."""
        rate = max(1, int(self.spec.parameters.get("rate") or 100))
        count = max(1, int(self.spec.parameters.get("count") or 500))
        node = self.start_step("LLM_STEP", "Bench", parent)
        start = self.t
        for seq in range(count):
            self.t = start + int(seq * 1000 / rate)
            self.events.append(PlannedEvent(self.t, "text", {"chunk": f"⟦{seq}:{SEND_TIME_MARKER}⟧ "}))
        self.answer_parts.append(f"{count} stamped chunks")
        self.end_step(node)

    # -- the whole run -------------------------------------------------------------------------
    def plan(self) -> RunPlan:
        spec = self.spec
        flow_node = self.start_step("FLOW_STEP", "Agent", None)
        order = topological_order(spec.flow)
        exit_step = None
        for step in order:
            if self.failed or self.pending:
                break
            kind = step.get("type")
            if kind in ("AGENT", "CLAUDE_BOX"):
                if Capability.BENCH in self.capabilities:
                    self.run_bench(flow_node)
                else:
                    self.run_agent_step(step, flow_node)
            elif kind == "TOOL":
                self.run_tool_step(step, flow_node)
            elif kind == "EXIT_POINT":
                exit_step = step
        if Capability.JUDGE in self.capabilities and not self.failed and not self.pending:
            self.run_judge(flow_node)
        return self.finish(flow_node, exit_step)

    def finish(self, flow_node: dict[str, Any], exit_step: dict[str, Any] | None) -> RunPlan:
        spec = self.spec
        response = None
        if exit_step is not None and (exit_step.get("output") or {}).get("template"):
            response = render_template(exit_step["output"]["template"], spec.parameters, self.outputs)
        elif self.answer_parts:
            response = self.answer_parts[-1]
        status = "COMPLETED"
        if self.failed:
            status = "FAILED"
            self.end_step(flow_node, "ERROR", self.failed[0])
        elif self.pending:
            status = "WAITING_FOR_ASYNC"
        else:
            self.wait(10, 30)
            self.end_step(flow_node)
        result = {"strValue": response, "jsonValue": None, "fileLink": None} if status == "COMPLETED" else None
        trace: dict[str, Any] = {
            "agentId": spec.agent_id,
            "agentRevision": spec.revision,
            "createdAt": spec.start_ms,
            "parameters": spec.parameters,
            "startTime": spec.start_ms,
            "endTime": self.now if not self.pending else 0,
            "duration": self.t if not self.pending else -spec.start_ms,
            "traces": [_clean(flow_node)],
            "result": result,
            "inputCost": self.input_cost,
            "outputCost": self.output_cost,
            "totalCost": self.input_cost + self.output_cost,
            "inputTokens": self.input_tokens,
            "outputTokens": self.output_tokens,
        }
        if status == "COMPLETED":
            self.wait(5, 15)
            self.emit_usage()
        if self.failed:
            self.emit("error", {"message": self.failed[0], "code": self.failed[1], "executionRecordId": self.record_id})
        elif self.pending:
            self.emit("done", {"status": "WaitingForHuman", "executionRecordId": self.record_id,
                               "sessionId": spec.session_id, "humanApprovalRequestId": self.pending.request_id})
        else:
            self.emit("done", {"response": response, "trace": trace, "sessionId": spec.session_id,
                               "links": [{k: v for k, v in a.items() if k in ("fileId", "fileType", "promptLink")}
                                         for a in spec.attachments],
                               "executionRecordId": self.record_id, "status": "COMPLETED",
                               "humanApprovalRequestId": None})
        error, error_code = (self.failed if self.failed else (None, None))
        outcome = RunOutcome(
            status=status, response_text=response if status == "COMPLETED" else None, trace=trace,
            result=result, end_offset_ms=self.t, input_tokens=self.input_tokens,
            output_tokens=self.output_tokens, input_cost=self.input_cost, output_cost=self.output_cost,
            error=error, error_code=error_code, pending_approval=self.pending, tool_error_count=self.tool_errors,
            tool_keys=tuple(self.tool_keys),
        )
        return RunPlan(self.events, outcome)


def _clean(node: dict[str, Any]) -> dict[str, Any]:
    """Drops the planner's bookkeeping keys from a trace subtree."""
    return {k: ([_clean(c) for c in v] if k == "steps" else v) for k, v in node.items() if k != "_parent"}


def _describe_tool(key: str, result: Any, error: str | None) -> str:
    if error:
        return f"The tool {key} did not work ({error}), so this answer goes without it."
    if not isinstance(result, dict):
        return f"The tool {key} answered."
    if "hits" in result:
        hits = result["hits"]
        return (f"The most relevant article is “{hits[0]['title']}”: {hits[0]['snippet']}" if hits
                else "The knowledge base has no article on this.")
    if "value" in result and "expression" in result:
        return f"The calculation {result['expression']} gives {result['value']}."
    if "result" in result and "from" in result:
        return f"{result['value']} {result['from']} is {result['result']} {result['to']}."
    if "commits" in result:
        return "Recent changes: " + "; ".join(c["message"] for c in result["commits"][:3]) + "."
    if "refunded" in result:
        return f"Refund {result['refundId']} of {result['refunded']} {result['currency']} was issued."
    if "matches" in result:
        matches = result["matches"]
        return (f"The files mention it in {len(matches)} place(s), e.g. “{matches[0]['text']}” ({matches[0]['file']})."
                if matches else "The attached files do not mention it.")
    if "files" in result and result["files"] and isinstance(result["files"][0], dict):
        return "Attached: " + ", ".join(f"{f['file']} ({f['words']} words)" for f in result["files"]) + "."
    return f"The tool {key} answered."


_EXPRESSION = re.compile(r"[-+]?\d[\d.\s]*(?:[-+*/^%][\s(]*\d[\d.\s)]*)+")
_CONVERSION = re.compile(r"(\d+(?:\.\d+)?)\s*([a-zA-Z]+)\s+(?:to|in)\s+([a-zA-Z]+)")


def _tool_arguments(integration: str, tool_id: str, prompt: str, parameters: dict[str, Any]) -> dict[str, Any]:
    key = f"{integration}.{tool_id}"
    if key == "kb.search_articles":
        return {"query": prompt[:120]}
    if key == "github.list_commits":
        return {"repo": str(parameters.get("repo") or "acme/app"), "limit": 5}
    if key == "math.calculate":
        match = _EXPRESSION.search(prompt)
        if match:
            return {"expression": match.group(0).strip()}
        budget, days = parameters.get("budget_usd"), parameters.get("days")
        return {"expression": f"{budget or 1000} / {days or 3}"}
    if key == "units.convert":
        for match in _CONVERSION.finditer(prompt):
            if match.group(2).lower() in KNOWN_UNITS and match.group(3).lower() in KNOWN_UNITS:
                return {"value": float(match.group(1)), "from": match.group(2), "to": match.group(3)}
        return {"value": float(parameters.get("budget_usd") or 100), "from": "usd", "to": "eur"}
    if key == "payments.issue_refund":
        return {"order_id": parameters.get("order_id"), "amount": parameters.get("amount")}
    if key in ("files.search", "files.summarize"):
        return {"query": prompt[:120]} if tool_id == "search" else {}
    return {"input": prompt[:120]}


def plan_run(spec: RunSpec, execution_record_id: str, faults: Faults | None = None) -> RunPlan:
    """Plans a whole run: every event with its offset, and the outcome (deterministic).

    `faults` are the request's and the agent's (the fault header, `agent_faults`); the switches in
    the parameters apply either way."""
    if faults is not None and faults.switches:
        spec = replace(spec, scenario=spec.scenario | faults.switches)
    return _faulted(_Planner(spec, execution_record_id), faults)


def resume_run(spec: RunSpec, execution_record_id: str, pending: PendingApproval, approved: bool, reason: str,
               resume_start_ms: int) -> RunPlan:
    """The run after a human decided on `pending`: same ids and text up to the gate, then onwards."""
    planner = _Planner(spec, execution_record_id, decisions={pending.request_id: (approved, reason)},
                       resume_offset_ms=max(0, resume_start_ms - spec.start_ms))
    return _faulted(planner, None)


def _faulted(planner: _Planner, faults: Faults | None) -> RunPlan:
    plan = planner.plan()
    active = faults or Faults()
    return fault_system.apply(plan, replace(active, switches=active.switches | planner.switches), planner.record_id)
