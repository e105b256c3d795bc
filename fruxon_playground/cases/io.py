"""Test cases to and from JSONL and CSV files.

JSONL: one case per line, the case's JSON (`name`, `agent`, `parameters`, `attachments`, `chatUser`,
`checks`). CSV: one row per case; columns `name`, `param:<name>` (one per parameter), `attachments`
and `chat_user` (JSON), and `check:<kind>` (one per kind of check). A check cell holds one check per
line:

| column                    | a line of the cell                     |
|---------------------------|----------------------------------------|
| `check:contains`, `check:not_contains`, `check:matches` | the text or pattern (JSON-quoted when it has a line break or starts with `"`) |
| `check:json_path`         | `$.path = <JSON value>` (a bare word is a string) |
| `check:calls_tool`        | `tool`, `tool {"arg": "subset"}` or `tool ~ regex` |
| `check:no_failure`        | `yes`                                  |
| `check:max_cost`          | USD, e.g. `0.01`                       |
| `check:max_first_text_ms`, `check:max_total_ms` | milliseconds |

A parameter cell is the text itself, or JSON for anything that is not plain text (numbers, true,
lists, objects, and text that would read as one of those, which is written quoted). An empty cell
means the parameter is not set. CSV groups a case's checks by kind. Both importers read a whole
file or nothing: every problem is reported at once, by line and column.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable
from typing import Any

from pydantic import ValidationError

from fruxon_playground.cases import checks as portable
from fruxon_playground.cases.model import Check, TestCase, check_from_json, explain

PARAM = "param:"
CHECK = "check:"
FIXED = ("name", "attachments", "chat_user")
MAX_PROBLEMS = 20
_YES = {"yes", "y", "true", "1", "x", "✓"}
_NO = {"", "no", "n", "false", "0"}


class CaseFormatError(ValueError):
    """A file that could not be read as test cases; `problems` name the line (and column) of each."""

    def __init__(self, problems: list[str]) -> None:
        shown = problems[:MAX_PROBLEMS]
        more = len(problems) - len(shown)
        self.problems = problems
        super().__init__("\n".join(shown + ([f"…and {more} more problem(s)"] if more > 0 else [])))


# -- JSONL --------------------------------------------------------------------------------------------
def to_jsonl(cases: Iterable[TestCase]) -> str:
    return "".join(json.dumps(case.as_json(with_id=False), ensure_ascii=False) + "\n" for case in cases)


def from_jsonl(text: str, agent: str) -> list[TestCase]:
    cases: list[TestCase] = []
    places: list[str] = []
    problems: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(f"line {number}: not JSON ({exc.msg} at column {exc.colno})")
            continue
        if not isinstance(data, dict):
            problems.append(f"line {number}: a case is a JSON object, not {type(data).__name__}")
            continue
        case = _case(data, agent, f"line {number}", problems)
        if case is not None:
            cases.append(case)
            places.append(f"line {number}")
    return _unique(cases, problems, places)


def _case(data: dict[str, Any], agent: str, where: str, problems: list[str]) -> TestCase | None:
    data = {k: v for k, v in data.items() if k != "id"}  # ids belong to the store that made them
    named = data.setdefault("agent", agent)
    if named != agent:
        problems.append(f"{where}: the case is for agent {named!r}, not {agent!r}")
        return None
    try:
        return TestCase.model_validate(data)
    except ValidationError as exc:
        problems.append(f"{where}: {explain(exc)}")
        return None


def _unique(cases: list[TestCase], problems: list[str], places: list[str]) -> list[TestCase]:
    """No two cases of one file share a name (the store keeps one case per name)."""
    first: dict[str, str] = {}
    for case, place in zip(cases, places, strict=True):
        key = case.name.casefold()
        if key in first:
            problems.append(f"{place}: the name {case.name!r} is already used on {first[key]}")
        first.setdefault(key, place)
    if problems:
        raise CaseFormatError(problems)
    return cases


# -- CSV ----------------------------------------------------------------------------------------------
def _plain(value: str) -> bool:
    """Text that reads back as itself: anything that does not parse as JSON."""
    try:
        json.loads(value)
    except ValueError:
        return value.strip() == value  # surrounding blanks would be lost to spreadsheets; quote them
    return False


def encode_value(value: Any) -> str:
    return value if isinstance(value, str) and value and _plain(value) else json.dumps(value, ensure_ascii=False)


def decode_value(cell: str) -> Any:
    try:
        return json.loads(cell)
    except ValueError:
        return cell


def _text_line(text: str) -> str:
    return json.dumps(text, ensure_ascii=False) if "\n" in text or "\r" in text or text.startswith('"') else text


def check_to_text(check: dict[str, Any]) -> str:
    """A check as one line of its `check:<kind>` cell (also what the page's check editor shows)."""
    kind = check["kind"]
    if kind in ("contains", "not_contains"):
        return _text_line(check["text"])
    if kind == "matches":
        return _text_line(check["pattern"])
    if kind == "json_path":
        return f"{check['path']} = {json.dumps(check.get('equals'), ensure_ascii=False)}"
    if kind == "calls_tool":
        if check.get("arguments") is not None:
            return f"{check['tool']} {json.dumps(check['arguments'], ensure_ascii=False, sort_keys=True)}"
        if check.get("argumentsMatch"):
            return f"{check['tool']} ~ {check['argumentsMatch']}"
        return str(check["tool"])
    if kind == "no_failure":
        return "yes"
    if kind == "max_cost":
        return repr(float(check["usd"]))
    return f"{float(check['ms']):g}"


def to_csv(cases: list[TestCase]) -> str:
    parameters: list[str] = []
    for case in cases:
        parameters += [name for name in case.parameters if name not in parameters]
    kinds = [k for k in portable.KINDS if any(c.kind == k for case in cases for c in case.checks)]
    columns = ["name", *(PARAM + p for p in parameters)]
    columns += [c for c, used in (("attachments", any(case.attachments for case in cases)),
                                  ("chat_user", any(case.chat_user is not None for case in cases))) if used]
    columns += [CHECK + k for k in kinds]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for case in cases:
        row = {"name": case.name}
        row |= {PARAM + p: encode_value(v) for p, v in case.parameters.items()}
        if case.attachments:
            row["attachments"] = json.dumps(case.attachments, ensure_ascii=False)
        if case.chat_user is not None:
            row["chat_user"] = json.dumps(case.chat_user, ensure_ascii=False)
        for kind in kinds:
            lines = [check_to_text(c.as_json()) for c in case.checks if c.kind == kind]
            row[CHECK + kind] = "\n".join(lines)
        writer.writerow([row.get(column, "") for column in columns])
    return out.getvalue()


_PATH_PREFIX = re.compile(r"""\s*\$?(?:\.[A-Za-z_][\w-]*|\[\d+\]|\[["'][^"']*["']\])*""")


def _parse_check(kind: str, line: str) -> dict[str, Any]:
    """One line of a `check:<kind>` cell as check JSON; ValueError says what is wrong."""
    text = line.strip()
    if kind in ("contains", "not_contains", "matches"):
        value = json.loads(text) if text.startswith('"') else text
        return {"kind": kind, ("pattern" if kind == "matches" else "text"): value}
    if kind == "json_path":
        head = _PATH_PREFIX.match(text)
        path = head.group(0).strip() if head else ""
        rest = text[head.end():].strip() if head else text
        if not path or not rest.startswith("="):
            raise ValueError('write it as $.path = value, e.g. $.status = "ok"')
        return {"kind": kind, "path": path, "equals": decode_value(rest[1:].strip())}
    if kind == "calls_tool":
        tool, _, rest = text.partition(" ")
        rest = rest.strip()
        if not rest:
            return {"kind": kind, "tool": tool}
        if rest.startswith("~"):
            return {"kind": kind, "tool": tool, "argumentsMatch": rest[1:].strip()}
        if rest.startswith("{"):
            try:
                arguments = json.loads(rest)
            except json.JSONDecodeError as exc:
                raise ValueError(f"the arguments are not JSON ({exc.msg})") from exc
            return {"kind": kind, "tool": tool, "arguments": arguments}
        raise ValueError('write it as tool, tool {"arg": value} or tool ~ regex')
    if kind == "no_failure":
        if text.lower() not in _YES:
            raise ValueError(f"write yes (or leave the cell empty), not {text!r}")
        return {"kind": kind}
    try:
        number = float(text)
    except ValueError as exc:
        raise ValueError(f"{text!r} is not a number") from exc
    return {"kind": kind, "usd" if kind == "max_cost" else "ms": number}


def check_from_text(kind: str, text: str) -> Check:
    """A check from its kind and one cell line; ValueError (pydantic's included) says what is wrong."""
    if kind not in portable.KINDS:
        raise ValueError(f"unknown kind of check {kind!r}")
    try:
        return check_from_json(_parse_check(kind, text))
    except ValidationError as exc:
        raise ValueError(explain(exc)) from exc


def _read_checks(kind: str, cell: str, where: str, problems: list[str]) -> list[Check]:
    found: list[Check] = []
    if kind == "no_failure" and cell.strip().lower() in _NO:
        return found
    for line in cell.splitlines():
        if not line.strip():
            continue
        try:
            found.append(check_from_json(_parse_check(kind, line)))
        except ValidationError as exc:
            problems.append(f"{where}: {explain(exc)}")
        except ValueError as exc:
            problems.append(f"{where}: {exc}")
    return found


def from_csv(text: str, agent: str) -> list[TestCase]:
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff")))
    try:
        header = [column.strip() for column in next(reader)]
    except StopIteration:
        raise CaseFormatError(["line 1: the file is empty (the first line names the columns)"]) from None
    problems = _header_problems(header)
    if problems:
        raise CaseFormatError(problems)
    cases: list[TestCase] = []
    places: list[str] = []
    start = reader.line_num + 1
    for row in reader:
        where = f"line {start}"
        start = reader.line_num + 1
        if not any(cell.strip() for cell in row):
            continue
        if len(row) > len(header):
            problems.append(f"{where}: {len(row)} cells but only {len(header)} columns")
            continue
        cells = dict(zip(header, row + [""] * (len(header) - len(row)), strict=True))
        case = _case_of_row(cells, agent, where, problems)
        if case is not None:
            cases.append(case)
            places.append(where)
    return _unique(cases, problems, places)


def _header_problems(header: list[str]) -> list[str]:
    problems = []
    if "name" not in header:
        problems.append("line 1: there is no “name” column")
    for index, column in enumerate(header, start=1):
        if header.index(column) != index - 1:
            problems.append(f"line 1, column {index}: “{column}” appears twice")
        elif column.startswith(CHECK) and column[len(CHECK):] not in portable.KINDS:
            problems.append(f"line 1, column {index}: unknown check “{column}”; the check columns are "
                            + ", ".join(CHECK + k for k in portable.KINDS))
        elif column.startswith(PARAM) and not column[len(PARAM):].strip():
            problems.append(f"line 1, column {index}: “{column}” names no parameter")
        elif column not in FIXED and not column.startswith((CHECK, PARAM)):
            problems.append(f"line 1, column {index}: unknown column “{column}”; parameters are written "
                            f"{PARAM}<name> and checks {CHECK}<kind>")
    return problems


def _case_of_row(cells: dict[str, str], agent: str, where: str, problems: list[str]) -> TestCase | None:
    before = len(problems)
    data: dict[str, Any] = {"name": cells.get("name", ""), "agent": agent, "parameters": {}, "checks": []}
    for column, cell in cells.items():
        at = f"{where}, column “{column}”"
        if column.startswith(PARAM) and cell != "":
            data["parameters"][column[len(PARAM):].strip()] = decode_value(cell)
        elif column in ("attachments", "chat_user") and cell.strip():
            try:
                value = json.loads(cell)
            except json.JSONDecodeError as exc:
                problems.append(f"{at}: not JSON ({exc.msg})")
                continue
            data["attachments" if column == "attachments" else "chatUser"] = value
        elif column.startswith(CHECK):
            data["checks"] += _read_checks(column[len(CHECK):], cell, at, problems)
    if len(problems) > before:
        return None
    try:
        return TestCase.model_validate(data)
    except ValidationError as exc:
        problems.append(f"{where}: {explain(exc)}")
        return None
