"""Test cases to and from JSONL and CSV: exact round trips, hand-written files, and errors that name the place."""

from __future__ import annotations

import csv
import io
import json

import pytest

from fruxon_playground.cases.io import (
    CaseFormatError,
    decode_value,
    encode_value,
    from_csv,
    from_jsonl,
    to_csv,
    to_jsonl,
)
from fruxon_playground.cases.model import TestCase, check_from_json

EVERY_CHECK = [
    {"kind": "contains", "text": "refund"},
    {"kind": "contains", "text": 'two\nlines and a "quote"'},
    {"kind": "not_contains", "text": '"starts with a quote'},
    {"kind": "matches", "pattern": r"within \d+ days"},
    {"kind": "json_path", "path": '$.items[0]["a key"]', "equals": {"ok": [1, None, "x"]}},
    {"kind": "json_path", "path": "$.status", "equals": "ok"},
    {"kind": "calls_tool", "tool": "kb.search_articles"},
    {"kind": "calls_tool", "tool": "math.calculate", "arguments": {"expression": "1200.0 / 3"}},
    {"kind": "calls_tool", "tool": "units.convert", "argumentsMatch": '"to": "eur"'},
    {"kind": "no_failure"},
    {"kind": "max_cost", "usd": 0.0012345},
    {"kind": "max_first_text_ms", "ms": 800},
    {"kind": "max_total_ms", "ms": 15000.5},
]
TRICKY_VALUES = {
    "text": "How do I reset my password?", "number_as_text": "42", "number": 42, "float": 1200.0, "empty": "",
    "bool": True, "bool_as_text": "true", "null_as_text": "null", "padded": "  padded  ", "lines": "a\nb",
    "unicode": "Zürich — 東京 ✓", "list": ["a", 1], "object": {"k": [1, {"n": None}]}, "json_looking": '{"a": 1}',
    "comma, quote\"": "x,y",
}


def cases() -> list[TestCase]:
    return [
        TestCase(name="Every check and tricky values", agent="support_agent", parameters=TRICKY_VALUES,
                 attachments=[{"fileId": "f_91c2", "fileType": "document", "promptLink": "<doc:f_91c2/>"}],
                 chat_user={"id": "user_42", "displayName": "Ada"}, checks=[check_from_json(c) for c in EVERY_CHECK]),
        TestCase(name="Plain", agent="support_agent", parameters={"text": "Can I export my data?"}),
        TestCase(name="No inputs", agent="support_agent", checks=[check_from_json({"kind": "no_failure"})]),
    ]


def portable(found: list[TestCase]) -> list[dict]:
    return [case.as_json(with_id=False) for case in found]


def test_jsonl_round_trip_is_exact() -> None:
    text = to_jsonl(cases())
    assert len(text.splitlines()) == 3 and all(json.loads(line)["agent"] == "support_agent" for line in text.splitlines())
    assert portable(from_jsonl(text, "support_agent")) == portable(cases())


def test_csv_round_trip_is_exact_one_column_per_parameter_and_per_check_kind() -> None:
    text = to_csv(cases())
    header = next(csv.reader(io.StringIO(text)))
    assert header[0] == "name" and [h for h in header if h.startswith("param:")] == [f"param:{n}" for n in TRICKY_VALUES]
    assert [h for h in header if h.startswith("check:")] == [
        "check:contains", "check:not_contains", "check:matches", "check:json_path", "check:calls_tool",
        "check:no_failure", "check:max_cost", "check:max_first_text_ms", "check:max_total_ms"]
    assert "attachments" in header and "chat_user" in header
    assert portable(from_csv(text, "support_agent")) == portable(cases())  # EVERY_CHECK is in kind order


@pytest.mark.parametrize("value", list(TRICKY_VALUES.values()))
def test_a_parameter_cell_reads_back_as_the_same_value_and_type(value: object) -> None:
    back = decode_value(encode_value(value))
    assert back == value and type(back) is type(value)


def test_plain_text_stays_plain_in_the_spreadsheet() -> None:
    assert encode_value("How do I reset my password?") == "How do I reset my password?"
    assert encode_value("42") == '"42"' and encode_value(42) == "42" and encode_value("") == '""'


def test_a_hand_written_csv_with_a_bom_bare_words_and_empty_cells() -> None:
    text = ("\ufeffname,param:question,param:tone,check:contains,check:json_path,check:no_failure,check:max_cost\n"
            'Refunds,How do refunds work?,,"30 days\nRefund policy",$.status = ok,yes,0.01\n'
            "Formal,Can I export my data?,formal,Dear customer,,no,\n"
            ",,,,,,\n")
    first, second = from_csv(text, "support_agent")
    assert first.parameters == {"question": "How do refunds work?"}  # an empty cell sets nothing
    assert [c.as_json() for c in first.checks] == [
        {"kind": "contains", "text": "30 days"}, {"kind": "contains", "text": "Refund policy"},
        {"kind": "json_path", "path": "$.status", "equals": "ok"}, {"kind": "no_failure"},
        {"kind": "max_cost", "usd": 0.01}]
    assert second.parameters == {"question": "Can I export my data?", "tone": "formal"}
    assert [c.kind for c in second.checks] == ["contains"]


def test_jsonl_errors_name_every_bad_line_at_once() -> None:
    text = "\n".join([
        json.dumps({"name": "ok", "parameters": {"question": "hi"}}),
        "{not json",
        json.dumps({"name": "wrong agent", "agent": "trip_planner"}),
        json.dumps({"name": "bad check", "checks": [{"kind": "matches", "pattern": "a("}]}),
        "[1, 2]",
        "",
        json.dumps({"name": "OK"}),
    ])
    with pytest.raises(CaseFormatError) as caught:
        from_jsonl(text, "support_agent")
    assert caught.value.problems == [
        "line 2: not JSON (Expecting property name enclosed in double quotes at column 2)",
        "line 3: the case is for agent 'trip_planner', not 'support_agent'",
        "line 4: checks[0].pattern: not a valid regular expression: missing ), unterminated subpattern at position 1",
        "line 5: a case is a JSON object, not list",
        "line 7: the name 'OK' is already used on line 1",
    ]


def test_csv_errors_name_the_line_and_the_column() -> None:
    text = ('name,param:question,check:max_cost,check:calls_tool,check:json_path,attachments\n'
            'a,hi,cheap,,,\n'
            'b,"multi\nline question",0.1,kb.search {broken,,\n'
            'c,hi,,kb.search ~ (,$.a,\n'
            'd,hi,,,,{"not": "a list"}\n'
            'e,hi,,,,,,extra\n')
    with pytest.raises(CaseFormatError) as caught:
        from_csv(text, "support_agent")
    assert caught.value.problems == [
        "line 2, column “check:max_cost”: 'cheap' is not a number",
        "line 3, column “check:calls_tool”: the arguments are not JSON (Expecting property name enclosed in double quotes)",
        "line 5, column “check:calls_tool”: argumentsMatch: not a valid regular expression: missing ), unterminated "
        "subpattern at position 0",
        "line 5, column “check:json_path”: write it as $.path = value, e.g. $.status = \"ok\"",
        "line 6: attachments: Input should be a valid list",
        "line 7: 8 cells but only 6 columns",
    ]


@pytest.mark.parametrize(("header", "problem"), [
    ("question,check:contains", "line 1: there is no “name” column"),
    ("name,question", "line 1, column 2: unknown column “question”; parameters are written param:<name> and checks "
                      "check:<kind>"),
    ("name,check:sentiment", "line 1, column 2: unknown check “check:sentiment”"),
    ("name,param:q,param:q", "line 1, column 3: “param:q” appears twice"),
    ("name,param:", "line 1, column 2: “param:” names no parameter"),
])
def test_csv_header_problems(header: str, problem: str) -> None:
    with pytest.raises(CaseFormatError) as caught:
        from_csv(header + "\nx,y\n", "support_agent")
    assert any(p.startswith(problem) for p in caught.value.problems), caught.value.problems


def test_an_empty_csv_and_duplicate_names_in_csv() -> None:
    with pytest.raises(CaseFormatError, match="line 1: the file is empty"):
        from_csv("", "support_agent")
    with pytest.raises(CaseFormatError, match="line 3: the name 'Same' is already used on line 2"):
        from_csv("name\nsame\nSame\n", "support_agent")


def test_many_problems_are_capped_in_the_message_but_all_kept() -> None:
    text = "\n".join("{bad" for _ in range(30))
    with pytest.raises(CaseFormatError) as caught:
        from_jsonl(text, "a")
    assert len(caught.value.problems) == 30
    assert str(caught.value).endswith("…and 10 more problem(s)")
