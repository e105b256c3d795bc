"""Request validation with the server's rules (contract §4.4, §10.4). Pure: the playground's
pre-flight checks call the same functions, so what the form reports is what the server would.

Every finding of a request is reported at once; the first one is the problem's `detail`.
Shape and parameter problems answer 400, graph semantics 422.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from fruxon_playground.contract.enums import normalize_enum as _norm
from fruxon_playground.contract.slugs import MAX_ENVIRONMENT_SLUG, SLUG

STEP_TYPES = {"ENTRY_POINT", "EXIT_POINT", "AGENT", "TOOL", "CLAUDE_BOX"}
MODES = {"UNSPECIFIED", "PRODUCTION", "SANDBOX"}
EXECUTE_KEYS = {"parameters", "attachments", "chatUser", "sessionId", "environmentSlug", "mode"}
TEST_KEYS = {"assets", "flow", "parametersMetadata", "subAgents", "parameters", "attachments", "integrationConfigs",
             "integrationBindings", "llmConfigs", "baseRevision", "mode", "sessionId"}
DRAFT_RUN_KEYS = {"parameters", "attachments", "sessionId", "mode", "environmentSlug"}
PLACEHOLDER = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")
PLACEHOLDER_FORMS = re.compile(r"^(param|input)\.([A-Za-z0-9_\-]+)$|^step\.([A-Za-z0-9_\-]+)\.output$")


@dataclass(frozen=True)
class Problem:
    field: str
    message: str


class RequestInvalid(Exception):
    def __init__(self, status: int, problems: list[Problem]) -> None:
        self.status = status
        self.problems = problems
        super().__init__(problems[0].message if problems else "invalid request")

    def errors(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for p in self.problems:
            out.setdefault(p.field, []).append(p.message)
        return out


@dataclass
class TestInput:
    __test__ = False
    flow: dict[str, Any] | None
    parameters: dict[str, Any]
    metadata: list[dict[str, Any]]
    base_revision: int
    mode: str | None
    session_id: str | None
    attachments: list[dict[str, Any]] = field(default_factory=list)
    assets: list[dict[str, Any]] = field(default_factory=list)


def validate_environment_slug(slug: Any) -> list[Problem]:
    if slug is None:
        return []
    if not isinstance(slug, str) or not SLUG.match(slug) or len(slug) > MAX_ENVIRONMENT_SLUG:
        return [Problem("environmentSlug", "environmentSlug must match ^[a-z][a-z0-9_]+$ and be at most 64 characters.")]
    return []


def _as_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in {"true", "false"}:
        return value.strip().lower() == "true"
    return None


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            return None
    return None


def _as_float(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def _default(meta: dict[str, Any]) -> Any:
    value = meta.get("defaultValue")
    kind = _norm(meta.get("type") or meta.get("typeName") or "STRING")
    if value is None:
        return None
    coerced = {"INTEGER": _as_int, "FLOAT": _as_float, "BOOLEAN": _as_bool}.get(kind)
    if coerced is not None:
        result = coerced(value)
        return value if result is None else result
    if kind in {"STRINGARRAY", "JSON", "DICTIONARY"} and isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def validate_parameters(values: Any, metadata: list[dict[str, Any]]) -> tuple[dict[str, Any], list[Problem]]:
    """Value checks of §4.4: required (or defaulted), no unknown names, types, options, ranges.

    Returns the normalized values (defaults applied, strings that parse as the declared type
    converted) and every problem found.
    """
    problems: list[Problem] = []
    if values is None:
        values = {}
    if not isinstance(values, dict):
        return {}, [Problem("parameters", "parameters must be a JSON object.")]
    declared: dict[str, dict[str, Any]] = {str(m["name"]): m for m in metadata if isinstance(m, dict) and m.get("name")}
    normalized: dict[str, Any] = {}
    for name in values:
        if declared and name not in declared:
            problems.append(Problem(f"parameters.{name}", f"Parameter {name} is not declared by this agent."))
    for name, meta in declared.items():
        present = name in values and values[name] is not None and values[name] != ""
        if not present:
            default = _default(meta)
            if default is not None:
                normalized[name] = default
            elif meta.get("required"):
                problems.append(Problem(f"parameters.{name}", f"Parameter {name} is required"))
            continue
        value, problem = _check_value(name, values[name], meta)
        if problem:
            problems.append(Problem(f"parameters.{name}", problem))
        else:
            normalized[name] = value
    if not declared:
        normalized = dict(values)
    return normalized, problems


def _check_value(name: str, value: Any, meta: dict[str, Any]) -> tuple[Any, str | None]:
    kind = _norm(meta.get("type") or meta.get("typeName") or "STRING")
    if kind in {"STRING", "OPTION"}:
        if not isinstance(value, str):
            return value, f"Parameter {name} must be a string."
        if kind == "OPTION" and meta.get("options"):
            allowed = [str(o.get("value")) for o in meta["options"] if isinstance(o, dict)]
            if value not in allowed:
                return value, f"Parameter {name} must be one of: {', '.join(allowed)}."
        return value, None
    if kind == "INTEGER":
        number = _as_int(value)
        if number is None:
            return value, f"Parameter {name} must be a whole number."
        return number, _range_problem(name, number, meta.get("integerRange"))
    if kind == "FLOAT":
        real = _as_float(value)
        if real is None:
            return value, f"Parameter {name} must be a number."
        return real, _range_problem(name, real, meta.get("floatRange"))
    if kind == "BOOLEAN":
        flag = _as_bool(value)
        return (value, f"Parameter {name} must be true or false.") if flag is None else (flag, None)
    if kind == "STRINGARRAY":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            return value, f"Parameter {name} must be a list of strings."
        return value, None
    return value, None


def _range_problem(name: str, number: float, bounds: Any) -> str | None:
    if not isinstance(bounds, dict):
        return None
    low, high = bounds.get("min"), bounds.get("max")
    if low is not None and number < low or high is not None and number > high:
        return f"Parameter {name} must be between {low if low is not None else '-∞'} and {high if high is not None else '∞'}."
    return None


def _shape_problems(body: Any, allowed: set[str]) -> list[Problem]:
    if not isinstance(body, dict):
        return [Problem("$", "The request body must be a JSON object.")]
    problems = [Problem(f"$.{key}", f"Unknown field {key}: this endpoint accepts {', '.join(sorted(allowed))}.")
                for key in body if key not in allowed]
    if body.get("mode") is not None and str(body["mode"]).upper() not in MODES:
        problems.append(Problem("$.mode", "mode must be UNSPECIFIED, PRODUCTION or SANDBOX."))
    if body.get("sessionId") is not None and not isinstance(body["sessionId"], str):
        problems.append(Problem("$.sessionId", "sessionId must be a string."))
    attachments = body.get("attachments")
    if attachments is not None:
        if not isinstance(attachments, list):
            problems.append(Problem("$.attachments", "attachments must be a list of file links."))
        else:
            for i, link in enumerate(attachments):
                if not isinstance(link, dict) or not isinstance(link.get("fileId"), str) or not link.get("fileId"):
                    problems.append(Problem(f"attachments[{i}].fileId", "Each attachment needs the fileId of an uploaded file."))
    chat_user = body.get("chatUser")
    if chat_user is not None:
        if not isinstance(chat_user, dict):
            problems.append(Problem("$.chatUser", "chatUser must be an object."))
        elif "id" in chat_user and (not isinstance(chat_user["id"], str) or not chat_user["id"].strip()):
            problems.append(Problem("chatUser.id", "chatUser.id must be a non-empty string."))
    return problems


def validate_execute_body(body: Any, parameters_metadata: list[dict[str, Any]],
                          allowed: set[str] = EXECUTE_KEYS) -> tuple[dict[str, Any], list[Problem]]:
    """ExecuteRequest checks (400): shape, environment slug, parameters. Returns normalized parameters."""
    problems = _shape_problems(body, allowed)
    if not isinstance(body, dict):
        return {}, problems
    problems += validate_environment_slug(body.get("environmentSlug"))
    parameters, parameter_problems = validate_parameters(body.get("parameters"), parameters_metadata)
    return parameters, problems + parameter_problems


def validate_flow(flow: Any, parameters: dict[str, Any], metadata: list[dict[str, Any]]) -> list[Problem]:
    """Graph rules (422): one ENTRY and one EXIT, unique ids, known types, valid edges, reachable
    EXIT, no cycle, and every placeholder resolvable."""
    if not isinstance(flow, dict) or not isinstance(flow.get("steps"), list):
        return [Problem("flow", "flow must be an object with a steps list and an edges list.")]
    steps = flow["steps"]
    edges = flow.get("edges") or []
    problems: list[Problem] = []
    if not isinstance(edges, list):
        problems.append(Problem("flow.edges", "flow.edges must be a list."))
        edges = []
    identifiers: dict[str, int] = {}
    types: dict[str, str] = {}
    for i, step in enumerate(steps):
        if not isinstance(step, dict):
            problems.append(Problem(f"flow.steps[{i}]", "Each step must be an object."))
            continue
        kind = step.get("type")
        if kind not in STEP_TYPES:
            problems.append(Problem(f"flow.steps[{i}].type", f"Unknown step type {kind!r}; use one of {', '.join(sorted(STEP_TYPES))}."))
        identifier = step.get("identifier")
        if not isinstance(identifier, str) or not identifier.strip():
            problems.append(Problem(f"flow.steps[{i}].identifier", "Every step needs a non-empty identifier."))
            continue
        if identifier in identifiers:
            problems.append(Problem(f"flow.steps[{i}].identifier", f"Identifier {identifier!r} is used by more than one step."))
            continue
        identifiers[identifier] = i
        types[identifier] = str(kind)
    entries = [s for s in steps if isinstance(s, dict) and s.get("type") == "ENTRY_POINT"]
    exits = [s for s in steps if isinstance(s, dict) and s.get("type") == "EXIT_POINT"]
    if len(entries) != 1:
        problems.append(Problem("flow", f"A flow needs exactly one ENTRY_POINT step (found {len(entries)})."))
    if len(exits) != 1:
        problems.append(Problem("flow", f"A flow needs exactly one EXIT_POINT step (found {len(exits)})."))
    adjacency: dict[str, list[str]] = {}
    for i, edge in enumerate(edges):
        if not isinstance(edge, dict):
            problems.append(Problem(f"flow.edges[{i}]", "Each edge must be an object with source and target."))
            continue
        source, target = str(edge.get("source")), str(edge.get("target"))
        ok = True
        if source not in identifiers:
            problems.append(Problem(f"flow.edges[{i}].source", f"Edge source {source!r} names no step."))
            ok = False
        if target not in identifiers:
            problems.append(Problem(f"flow.edges[{i}].target", f"Edge target {target!r} names no step."))
            ok = False
        if not ok:
            continue
        if types.get(target) == "ENTRY_POINT":
            problems.append(Problem(f"flow.edges[{i}].target", "Nothing may flow into the ENTRY_POINT step."))
        if types.get(source) == "EXIT_POINT":
            problems.append(Problem(f"flow.edges[{i}].source", "Nothing may flow out of the EXIT_POINT step."))
        adjacency.setdefault(source, []).append(target)
    if len(entries) == 1 and len(exits) == 1:
        entry_id, exit_id = str(entries[0].get("identifier")), str(exits[0].get("identifier"))
        if entry_id in identifiers and exit_id in identifiers and exit_id not in _reachable(entry_id, adjacency):
            problems.append(Problem("flow", f"The EXIT_POINT step {exit_id!r} cannot be reached from {entry_id!r}; add edges between them."))
    cycle = _find_cycle(identifiers, adjacency)
    if cycle:
        problems.append(Problem("flow", "The flow has a cycle: " + " → ".join(cycle) + "."))
    names = {str(m.get("name")) for m in metadata if isinstance(m, dict)} | {str(p) for p in parameters}
    for i, step in enumerate(steps):
        if isinstance(step, dict):
            problems += _placeholder_problems(i, step, names, set(identifiers))
    return problems


def _reachable(start: str, adjacency: dict[str, list[str]]) -> set[str]:
    seen: set[str] = set()
    stack = [start]
    while stack:
        node = stack.pop()
        if node not in seen:
            seen.add(node)
            stack.extend(adjacency.get(node, []))
    return seen


def _find_cycle(nodes: dict[str, int], adjacency: dict[str, list[str]]) -> list[str] | None:
    color: dict[str, int] = {}
    for root in nodes:
        if color.get(root):
            continue
        stack: list[tuple[str, int]] = [(root, 0)]
        path: list[str] = []
        while stack:
            node, index = stack.pop()
            if index == 0:
                color[node] = 1
                path.append(node)
            children = adjacency.get(node, [])
            if index < len(children):
                stack.append((node, index + 1))
                child = children[index]
                if color.get(child) == 1:
                    return path[path.index(child):] + [child]
                if not color.get(child):
                    stack.append((child, 0))
            else:
                color[node] = 2
                path.pop()
    return None


def _placeholder_problems(index: int, step: dict[str, Any], names: set[str], identifiers: set[str]) -> list[Problem]:
    problems = []
    for field_name in ("userPrompt", "systemPrompt", "output"):
        template = (step.get(field_name) or {}).get("template") if isinstance(step.get(field_name), dict) else None
        if isinstance(template, str):
            problems += _check_template(f"flow.steps[{index}].{field_name}", template, names, identifiers)
    if step.get("type") == "TOOL" and isinstance(step.get("parameters"), dict):
        for key, value in step["parameters"].items():
            if isinstance(value, str):
                problems += _check_template(f"flow.steps[{index}].parameters.{key}", value, names, identifiers)
    return problems


def _check_template(path: str, template: str, names: set[str], identifiers: set[str]) -> list[Problem]:
    problems = []
    for expression in PLACEHOLDER.findall(template):
        match = PLACEHOLDER_FORMS.match(expression)
        if match is None:
            problems.append(Problem(path, f"Cannot resolve placeholder '{{{{{expression}}}}}': use param.<name>, input.<name> or step.<name>.output."))
        elif match.group(2) is not None and match.group(2) not in names:
            problems.append(Problem(path, f"Cannot resolve parameter '{match.group(2)}'"))
        elif match.group(3) is not None and match.group(3) not in identifiers:
            problems.append(Problem(path, f"Cannot resolve step '{match.group(3)}': no step has that identifier."))
    return problems


def _binding_problems(body: dict[str, Any]) -> list[Problem]:
    bindings = body.get("integrationBindings")
    if not bindings:
        return []
    if not isinstance(bindings, dict):
        return [Problem("$.integrationBindings", "integrationBindings must be an object {integrationId: configId}.")]
    configs = {c.get("id"): c for c in body.get("integrationConfigs") or [] if isinstance(c, dict)}
    problems = []
    for integration, config_id in bindings.items():
        config = configs.get(config_id)
        if config is None:
            problems.append(Problem(f"integrationBindings.{integration}", f"Binding names config {config_id!r}, which is not in integrationConfigs."))
        elif config.get("integrationId") != integration:
            problems.append(Problem(f"integrationBindings.{integration}", f"Config {config_id!r} belongs to integration {config.get('integrationId')!r}, not {integration!r}."))
    return problems


def entry_parameters(flow: Any) -> list[dict[str, Any]]:
    """The ENTRY_POINT step's declared inputs (`parameters`, or the SDK's `parametersMetadata`)."""
    if not isinstance(flow, dict):
        return []
    for step in flow.get("steps") or []:
        if isinstance(step, dict) and step.get("type") == "ENTRY_POINT":
            declared = step.get("parameters") or step.get("parametersMetadata") or []
            return [m for m in declared if isinstance(m, dict)]
    return []


def validate_test_body(body: Any, *, stored_flow: dict[str, Any] | None = None) -> TestInput:
    """TestRequest checks. Raises RequestInvalid(400) for shape/parameters, (422) for the graph.

    `stored_flow` is the flow of `baseRevision` when the request carries none (the server passes
    it; None when that revision does not exist)."""
    problems = _shape_problems(body, TEST_KEYS)
    if problems:
        raise RequestInvalid(400, problems)
    base_revision = body.get("baseRevision", 0)
    if base_revision is None:
        base_revision = 0
    if isinstance(base_revision, bool) or not isinstance(base_revision, int):
        raise RequestInvalid(400, [Problem("baseRevision", "baseRevision must be an integer (0 = none).")])
    if base_revision < 0:
        raise RequestInvalid(400, [Problem("baseRevision", "baseRevision cannot be negative (0 = none).")])
    flow = body.get("flow")
    if flow is None:
        if base_revision == 0:
            raise RequestInvalid(422, [Problem("flow", "A flow is required when baseRevision is 0 (a new agent has no stored flow).")])
        flow = stored_flow
    metadata = body.get("parametersMetadata")
    if metadata is None:
        metadata = entry_parameters(flow)
    if not isinstance(metadata, list):
        raise RequestInvalid(400, [Problem("$.parametersMetadata", "parametersMetadata must be a list.")])
    parameters, parameter_problems = validate_parameters(body.get("parameters"), metadata)
    if parameter_problems:
        raise RequestInvalid(400, parameter_problems)
    graph_problems = (validate_flow(flow, parameters, metadata) if flow is not None else []) + _binding_problems(body)
    if graph_problems:
        raise RequestInvalid(422, graph_problems)
    return TestInput(
        flow=flow,
        parameters=parameters,
        metadata=metadata,
        base_revision=base_revision,
        mode=body.get("mode"),
        session_id=body.get("sessionId"),
        attachments=list(body.get("attachments") or []),
        assets=list(body.get("assets") or []),
    )
