"""Deterministic built-in tools that do real work on their inputs (no network, no randomness)."""

from __future__ import annotations

import ast
import hashlib
import math
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ToolContext:
    attachment_text: dict[str, str] = field(default_factory=dict)  # display name → text
    assets: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class ToolOutcome:
    status: str  # "succeeded" | "failed"
    result: Any
    error: str | None = None


class ToolFailed(Exception):
    pass


KNOWLEDGE_BASE = [
    {"id": "kb-101", "title": "Resetting your password", "body": "Open Settings, choose Security, then Reset password. "
     "A reset link is emailed and expires after 30 minutes."},
    {"id": "kb-102", "title": "Changing your email address", "body": "Open Settings, choose Profile and edit the email. "
     "We send a confirmation to the new address."},
    {"id": "kb-103", "title": "Refund policy", "body": "Refunds are possible within 30 days of purchase. "
     "Amounts above 500 USD need a manager's approval."},
    {"id": "kb-104", "title": "Exporting your data", "body": "Go to Settings, Data, Export. The archive is ready within an hour."},
    {"id": "kb-105", "title": "Two-factor authentication", "body": "Enable 2FA under Security with an authenticator app."},
    {"id": "kb-106", "title": "Cancelling a subscription", "body": "Subscriptions can be cancelled any time under Billing."},
]

_WORD = re.compile(r"[a-z0-9]+")


def _words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if len(w) > 2}


def search_articles(arguments: dict[str, Any], context: ToolContext) -> Any:
    query = str(arguments.get("query") or "")
    terms = _words(query)
    documents = [*KNOWLEDGE_BASE, *({"id": f"file:{name}", "title": name, "body": text}
                                    for name, text in context.attachment_text.items())]
    scored = []
    for doc in documents:
        overlap = len(terms & _words(doc["title"] + " " + doc["body"]))
        if overlap:
            scored.append((overlap, doc))
    scored.sort(key=lambda pair: (-pair[0], pair[1]["id"]))
    return {"query": query, "hits": [{"id": d["id"], "title": d["title"], "snippet": d["body"][:160], "score": s}
                                     for s, d in scored[:3]]}


_BINARY: dict[type[ast.operator], Callable[[float, float], float]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
    ast.Pow: operator.pow, ast.Mod: operator.mod, ast.FloorDiv: operator.floordiv}
_UNARY: dict[type[ast.unaryop], Callable[[float], float]] = {ast.USub: operator.neg, ast.UAdd: operator.pos}


def evaluate(expression: str) -> float:
    """Arithmetic on numbers only (+ - * / // % **, parentheses); no names, calls or attributes."""

    def walk(node: ast.AST) -> float:
        if isinstance(node, ast.Expression):
            return walk(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, int | float) and not isinstance(node.value, bool):
            return node.value
        if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
            left, right = walk(node.left), walk(node.right)
            if isinstance(node.op, ast.Pow) and abs(right) > 100:
                raise ToolFailed("exponent too large")
            return _BINARY[type(node.op)](left, right)
        if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
            return _UNARY[type(node.op)](walk(node.operand))
        raise ToolFailed(f"unsupported expression element: {type(node).__name__}")

    if len(expression) > 200:
        raise ToolFailed("expression too long")
    try:
        tree = ast.parse(expression.replace("^", "**"), mode="eval")
        value = walk(tree)
    except (SyntaxError, ZeroDivisionError, OverflowError) as exc:
        raise ToolFailed(f"cannot evaluate {expression!r}: {exc}") from exc
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        raise ToolFailed("result is not a finite number")
    return value


def calculate(arguments: dict[str, Any], context: ToolContext) -> Any:
    expression = str(arguments.get("expression") or "")
    value = evaluate(expression)
    return {"expression": expression, "value": round(value, 6) if isinstance(value, float) else value}


_LINEAR = {  # unit → (dimension, factor to the base unit)
    "km": ("length", 1000.0), "m": ("length", 1.0), "mi": ("length", 1609.344), "ft": ("length", 0.3048),
    "kg": ("mass", 1.0), "g": ("mass", 0.001), "lb": ("mass", 0.45359237), "oz": ("mass", 0.028349523125),
    "l": ("volume", 1.0), "gal": ("volume", 3.785411784),
    "usd": ("currency", 1.0), "eur": ("currency", 1.08), "gbp": ("currency", 1.27), "jpy": ("currency", 0.0067),
}


KNOWN_UNITS = frozenset(_LINEAR) | {"c", "f", "k"}


def convert_units(value: float, source: str, target: str) -> float:
    source, target = source.lower(), target.lower()
    temperatures = {"c", "f", "k"}
    if source in temperatures and target in temperatures:
        celsius = {"c": value, "f": (value - 32) * 5 / 9, "k": value - 273.15}[source]
        return {"c": celsius, "f": celsius * 9 / 5 + 32, "k": celsius + 273.15}[target]
    if source not in _LINEAR or target not in _LINEAR:
        raise ToolFailed(f"unknown unit: {source if source not in _LINEAR else target}")
    (dim_a, factor_a), (dim_b, factor_b) = _LINEAR[source], _LINEAR[target]
    if dim_a != dim_b:
        raise ToolFailed(f"cannot convert {dim_a} ({source}) to {dim_b} ({target})")
    return value * factor_a / factor_b


def convert(arguments: dict[str, Any], context: ToolContext) -> Any:
    try:
        value = float(arguments.get("value", 0))
    except (TypeError, ValueError) as exc:
        raise ToolFailed(f"value is not a number: {arguments.get('value')!r}") from exc
    source, target = str(arguments.get("from", "")), str(arguments.get("to", ""))
    return {"value": value, "from": source, "to": target, "result": round(convert_units(value, source, target), 3)}


def list_commits(arguments: dict[str, Any], context: ToolContext) -> Any:
    repo = str(arguments.get("repo") or "acme/app")
    digest = hashlib.sha256(repo.encode()).hexdigest()
    verbs = ["Fix", "Add", "Refactor", "Document", "Speed up", "Remove"]
    things = ["login flow", "billing export", "search index", "retry logic", "dark mode", "audit log"]
    commits = []
    for i in range(5):
        n = int(digest[i * 4:(i + 1) * 4], 16)
        commits.append({"sha": digest[i * 7:(i * 7) + 7], "message": f"{verbs[n % 6]} {things[(n // 6) % 6]}",
                        "author": ["ada", "grace", "linus", "ken", "barbara"][n % 5]})
    return {"repo": repo, "commits": commits}


def issue_refund(arguments: dict[str, Any], context: ToolContext) -> Any:
    order = str(arguments.get("order_id") or "unknown")
    amount = float(arguments.get("amount") or 0)
    return {"orderId": order, "refunded": round(amount, 2), "currency": "USD",
            "refundId": "rf_" + hashlib.sha256(f"{order}:{amount}".encode()).hexdigest()[:10]}


def search_files(arguments: dict[str, Any], context: ToolContext) -> Any:
    if not context.attachment_text:
        raise ToolFailed("no files attached: attach a document to search")
    terms = _words(str(arguments.get("query") or ""))
    matches = []
    for name, text in sorted(context.attachment_text.items()):
        for number, line in enumerate(text.splitlines(), start=1):
            if terms & _words(line):
                matches.append({"file": name, "line": number, "text": line.strip()[:200]})
    return {"query": arguments.get("query"), "matches": matches[:10], "files": sorted(context.attachment_text)}


def summarize_files(arguments: dict[str, Any], context: ToolContext) -> Any:
    if not context.attachment_text:
        raise ToolFailed("no files attached: nothing to summarise")
    return {"files": [{"file": name, "lines": len(text.splitlines()), "words": len(text.split()),
                       "firstLine": (text.strip().splitlines() or [""])[0][:120]}
                      for name, text in sorted(context.attachment_text.items())]}


TOOLS = {
    ("kb", "search_articles"): search_articles,
    ("math", "calculate"): calculate,
    ("units", "convert"): convert,
    ("github", "list_commits"): list_commits,
    ("payments", "issue_refund"): issue_refund,
    ("files", "search"): search_files,
    ("files", "summarize"): summarize_files,
}


def run_tool(integration_id: str, tool_id: str, arguments: dict[str, Any], context: ToolContext) -> ToolOutcome:
    function = TOOLS.get((integration_id, tool_id))
    if function is None:
        # Unknown tools still "work": they echo their arguments so any draft can run.
        return ToolOutcome("succeeded", {"tool": f"{integration_id}.{tool_id}", "echo": arguments})
    try:
        return ToolOutcome("succeeded", function(arguments, context))
    except ToolFailed as exc:
        return ToolOutcome("failed", None, str(exc))
