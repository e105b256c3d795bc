"""Test-case checks on what a run produced: a check (plain JSON) and an `Observed` run in, a verdict out.

Standard library only, and no imports from the playground: this file is copied verbatim into the
pytest files the playground exports, so the app and CI judge a run with the same code.

A check is a dict with a `kind`:

| kind                | fields                                         | passes when                                  |
|---------------------|------------------------------------------------|----------------------------------------------|
| `contains`          | `text`                                         | the answer contains it (any letter case)     |
| `not_contains`      | `text`                                         | the answer does not contain it (any case)    |
| `matches`           | `pattern`                                      | `re.search(pattern, answer)` finds a match   |
| `json_path`         | `path` (`$.a.b[0]`), `equals` (any JSON value) | the answer, read as JSON, has that value there |
| `calls_tool`        | `tool`; `arguments` (subset) or `argumentsMatch` (regex on the JSON) | a call of that tool fits |
| `no_failure`        | —                                              | the run completed                            |
| `max_cost`          | `usd`                                          | the run's total cost ≤ usd                   |
| `max_first_text_ms` | `ms`                                           | the first text arrived within ms             |
| `max_total_ms`      | `ms`                                           | the whole run took at most ms                |
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

KINDS = ("contains", "not_contains", "matches", "json_path", "calls_tool", "no_failure", "max_cost",
         "max_first_text_ms", "max_total_ms")
SHOWN = 80  # characters of a value quoted in a reason


@dataclass(frozen=True)
class ToolCall:
    name: str  # `integration.tool` as the run reported it
    arguments: Any


@dataclass(frozen=True)
class Observed:
    """What one run produced, as the checks read it."""

    outcome: str  # completed | failed | stopped | interrupted | waiting_for_human | rejected
    text: str
    tools: tuple[ToolCall, ...] = ()
    cost_usd: float | None = None  # None: the run reported no cost
    first_text_ms: float | None = None  # None: no text arrived
    total_ms: float | None = None
    error: str | None = None


def _quote(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True)
    return "“" + (text if len(text) <= SHOWN else text[: SHOWN - 1] + "…") + "”"


def _json(value: Any) -> str:
    """A JSON value as JSON (so the string "1" and the number 1 read differently)."""
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    return text if len(text) <= SHOWN else text[: SHOWN - 1] + "…"


def _ms(value: float) -> str:
    return f"{value:,.0f} ms"


def _usd(value: float) -> str:
    return f"${value:.7f}".rstrip("0").rstrip(".") if value else "$0"


# -- JSON answers and paths ----------------------------------------------------------------------------
_FENCE = re.compile(r"```(?:json)?\s*\n(.*?)```", re.DOTALL)
_PATH_PART = re.compile(r"""\.([A-Za-z_][\w-]*)|\[(\d+)\]|\[["']([^"']*)["']\]""")


def parse_path(path: str) -> list[str | int]:
    """`$.a.b[0]["c d"]` (the `$` is optional) → ["a", "b", 0, "c d"]; ValueError names what is wrong."""
    text = path.strip()
    if text.startswith("$"):
        text = text[1:]
    elif text and not text.startswith((".", "[")):
        text = "." + text
    parts: list[str | int] = []
    position = 0
    while position < len(text):
        match = _PATH_PART.match(text, position)
        if match is None:
            raise ValueError(f"JSON path {path!r} is not understood at {text[position:position + 12]!r}; "
                             'write it like $.items[0].name or $["a key"]')
        key, index, quoted = match.groups()
        parts.append(int(index) if index is not None else key if key is not None else quoted)
        position = match.end()
    return parts


def read_json_answer(text: str) -> tuple[Any, str]:
    """The answer as JSON: all of it, else a ```json block, else the first JSON object or array in it.

    Returns (value, where it was found); raises ValueError when there is none."""
    stripped = text.strip()
    try:
        return json.loads(stripped), "the answer"
    except ValueError:
        pass
    fence = _FENCE.search(text)
    if fence:
        try:
            return json.loads(fence.group(1)), "the answer's JSON block"
        except ValueError:
            pass
    decoder = json.JSONDecoder()
    for match in re.finditer(r"[{\[]", text):
        try:
            value, _ = decoder.raw_decode(text, match.start())
        except ValueError:
            continue
        return value, "the JSON inside the answer"
    raise ValueError("the answer is not JSON and contains no JSON object or array")


def value_at(value: Any, parts: list[str | int]) -> Any:
    """The value at a parsed path; KeyError with the path walked so far when it is not there."""
    walked = "$"
    for part in parts:
        if isinstance(part, int) and isinstance(value, list) and part < len(value):
            value = value[part]
            walked += f"[{part}]"
        elif isinstance(value, dict) and str(part) in value:
            value = value[str(part)]
            walked += f".{part}"
        else:
            raise KeyError(f"{walked} has no {'item' if isinstance(part, int) else 'key'} {part!r}")
    return value


def same_json(expected: Any, actual: Any) -> bool:
    """Equal as JSON values: 1 == 1.0, but True is not 1."""
    if isinstance(expected, bool) or isinstance(actual, bool):
        return type(expected) is type(actual) and expected == actual
    if isinstance(expected, int | float) and isinstance(actual, int | float):
        return math.isclose(expected, actual, rel_tol=1e-9, abs_tol=1e-12)
    if isinstance(expected, dict) and isinstance(actual, dict):
        return expected.keys() == actual.keys() and all(same_json(v, actual[k]) for k, v in expected.items())
    if isinstance(expected, list) and isinstance(actual, list):
        return len(expected) == len(actual) and all(same_json(a, b) for a, b in zip(expected, actual, strict=True))
    return bool(expected == actual)


def fits(expected: Any, actual: Any) -> bool:
    """`expected` is a subset of `actual`: every key it names has a fitting value; lists item by item."""
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(k in actual and fits(v, actual[k]) for k, v in expected.items())
    if isinstance(expected, list):
        return (isinstance(actual, list) and len(expected) == len(actual)
                and all(fits(a, b) for a, b in zip(expected, actual, strict=True)))
    return same_json(expected, actual)


def tool_matches(wanted: str, name: str) -> bool:
    """`kb.search_articles` matches itself; `search_articles` matches it in any integration."""
    return name == wanted or ("." not in wanted and name.rsplit(".", 1)[-1] == wanted)


# -- describing and running checks ----------------------------------------------------------------------
def describe(check: dict[str, Any]) -> str:
    """One line a person reads in the grid: what the check asks for."""
    kind = check.get("kind")
    if kind == "contains":
        return f"answer contains {_quote(check.get('text', ''))}"
    if kind == "not_contains":
        return f"answer does not contain {_quote(check.get('text', ''))}"
    if kind == "matches":
        return f"answer matches /{check.get('pattern', '')}/"
    if kind == "json_path":
        return f"{check.get('path', '$')} equals {_json(check.get('equals'))}"
    if kind == "calls_tool":
        extra = ""
        if check.get("arguments") is not None:
            extra = f" with {_quote(check['arguments'])}"
        elif check.get("argumentsMatch"):
            extra = f" with arguments matching /{check['argumentsMatch']}/"
        return f"calls {check.get('tool', '')}{extra}"
    if kind == "no_failure":
        return "must not fail"
    if kind == "max_cost":
        return f"cost ≤ {_usd(float(check.get('usd', 0)))}"
    if kind == "max_first_text_ms":
        return f"first text ≤ {_ms(float(check.get('ms', 0)))}"
    if kind == "max_total_ms":
        return f"total time ≤ {_ms(float(check.get('ms', 0)))}"
    return f"unknown check {kind!r}"


def run_check(check: dict[str, Any], run: Observed) -> tuple[bool, str]:
    """(passed, why) for one check on one run; never raises."""
    kind = check.get("kind")
    try:
        if kind in ("contains", "not_contains"):
            return _contains(str(check.get("text", "")), run.text, negate=kind == "not_contains")
        if kind == "matches":
            found = re.search(str(check.get("pattern", "")), run.text)
            if found:
                return True, f"matched {_quote(found.group(0))}"
            return False, f"no match for /{check.get('pattern', '')}/ in the answer"
        if kind == "json_path":
            return _json_path(str(check.get("path", "$")), check.get("equals"), run.text)
        if kind == "calls_tool":
            return _calls_tool(check, run.tools)
        if kind == "no_failure":
            return _no_failure(run)
        if kind == "max_cost":
            return _at_most(run.cost_usd, float(check["usd"]), _usd, "cost", "the run reported no cost")
        if kind == "max_first_text_ms":
            return _at_most(run.first_text_ms, float(check["ms"]), _ms, "first text after", "no text arrived")
        if kind == "max_total_ms":
            return _at_most(run.total_ms, float(check["ms"]), _ms, "took", "the run's duration is unknown")
    except (re.error, KeyError, TypeError, ValueError) as exc:
        return False, f"the check cannot be applied: {exc}"
    return False, f"unknown check kind {kind!r}"


def _contains(needle: str, text: str, *, negate: bool) -> tuple[bool, str]:
    at = text.casefold().find(needle.casefold())
    if negate:
        if at < 0:
            return True, f"the answer does not contain {_quote(needle)}"
        return False, f"the answer contains {_quote(needle)} at character {at}"
    if at >= 0:
        return True, f"the answer contains {_quote(needle)}"
    if not text:
        return False, "the run gave no answer"
    return False, f"the answer does not contain {_quote(needle)}"


def _json_path(path: str, expected: Any, text: str) -> tuple[bool, str]:
    try:
        value, where = read_json_answer(text)
    except ValueError as exc:
        return False, str(exc)
    try:
        actual = value_at(value, parse_path(path))
    except KeyError as exc:
        return False, f"{exc.args[0]} (in {where})"
    if same_json(expected, actual):
        return True, f"{path} is {_json(actual)}"
    return False, f"{path} is {_json(actual)}, not {_json(expected)}"


def _calls_tool(check: dict[str, Any], tools: tuple[ToolCall, ...]) -> tuple[bool, str]:
    wanted = str(check.get("tool", ""))
    calls = [call for call in tools if tool_matches(wanted, call.name)]
    if not calls:
        called = ", ".join(sorted({call.name for call in tools})) or "no tool"
        return False, f"{wanted} was not called (called: {called})"
    arguments, pattern = check.get("arguments"), check.get("argumentsMatch")
    for call in calls:
        rendered = json.dumps(call.arguments, ensure_ascii=False, sort_keys=True, default=str)
        if arguments is not None and not fits(arguments, call.arguments):
            continue
        if pattern and not re.search(str(pattern), rendered):
            continue
        return True, f"called {call.name} with {_quote(call.arguments)}"
    got = "; ".join(_quote(call.arguments) for call in calls[:3])
    wanted_args = _quote(arguments) if arguments is not None else f"/{pattern}/"
    return False, f"{wanted} was called {len(calls)}× but never with {wanted_args} (got {got})"


_OUTCOME_WORDS = {
    "failed": "the run failed", "stopped": "the run was stopped", "interrupted": "the connection ended early",
    "waiting_for_human": "the run is waiting for a person's approval", "rejected": "the tool call was rejected",
}


def _no_failure(run: Observed) -> tuple[bool, str]:
    if run.outcome == "completed":
        return True, "the run completed"
    what = _OUTCOME_WORDS.get(run.outcome, f"the run ended as {run.outcome}")
    return False, f"{what}: {run.error}" if run.error else what


def _at_most(value: float | None, limit: float, show: Callable[[float], str], label: str, missing: str) -> tuple[bool, str]:
    if value is None:
        return False, missing
    if value <= limit:
        return True, f"{label} {show(value)} ≤ {show(limit)}"
    return False, f"{label} {show(value)} > {show(limit)}"
