"""Test-case checks: each kind's verdict and reason, the case model's validation, and judging a folded run."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from fruxon_playground.api import events as ev
from fruxon_playground.api.sse import ServerSentEvent
from fruxon_playground.cases import checks, evaluate
from fruxon_playground.cases.checks import Observed, ToolCall, run_check
from fruxon_playground.cases.model import TestCase, case_from_request, check_from_json, explain
from fruxon_playground.runs import lifecycle as lc
from fruxon_playground.runs.fold import Received, fold_all

ANSWER = "The most relevant article is “Refund policy”: Refunds are possible within 30 days of purchase."
RUN = Observed(
    outcome="completed", text=ANSWER,
    tools=(ToolCall("kb.search_articles", {"query": "How do refunds work?", "limit": 3}),
           ToolCall("math.calculate", {"expression": "1200.0 / 3"})),
    cost_usd=0.0000725, first_text_ms=180.0, total_ms=2400.0,
)


def verdict(check: dict, run: Observed = RUN) -> tuple[bool, str]:
    check_from_json(check)  # every check used here is one the model accepts
    return run_check(check, run)


def test_text_checks_ignore_letter_case_and_say_what_they_saw() -> None:
    assert verdict({"kind": "contains", "text": "refund POLICY"}) == (True, "the answer contains “refund POLICY”")
    assert verdict({"kind": "contains", "text": "500 EUR"}) == (False, "the answer does not contain “500 EUR”")
    passed, reason = verdict({"kind": "not_contains", "text": "30 DAYS"})
    assert not passed and reason == f"the answer contains “30 DAYS” at character {ANSWER.index('30 days')}"
    assert verdict({"kind": "not_contains", "text": "sorry"})[0]
    empty = Observed(outcome="failed", text="")
    assert verdict({"kind": "contains", "text": "x"}, empty) == (False, "the run gave no answer")


def test_regex_is_searched_and_is_case_sensitive_unless_told() -> None:
    assert verdict({"kind": "matches", "pattern": r"within \d+ days"}) == (True, "matched “within 30 days”")
    assert verdict({"kind": "matches", "pattern": "REFUNDS"}) == (False, "no match for /REFUNDS/ in the answer")
    assert verdict({"kind": "matches", "pattern": "(?i)REFUNDS"})[0]


@pytest.mark.parametrize(("text", "where"), [
    ('{"status": "ok", "items": [{"price": 12.5}]}', "the answer"),
    ('Here you go:\n```json\n{"status": "ok", "items": [{"price": 12.5}]}\n```\nBye', "the answer's JSON block"),
    ('You said: {"status": "ok", "items": [{"price": 12.5}]} Anything else?', "the JSON inside the answer"),
])
def test_json_path_reads_the_answer_as_json_wherever_it_is(text: str, where: str) -> None:
    run = Observed(outcome="completed", text=text)
    assert verdict({"kind": "json_path", "path": "$.items[0].price", "equals": 12.5}, run) == (True, "$.items[0].price is 12.5")
    assert verdict({"kind": "json_path", "path": "status", "equals": "ok"}, run)[0]  # the leading $ is optional
    assert checks.read_json_answer(text)[1] == where
    passed, reason = verdict({"kind": "json_path", "path": "$.items[1].price", "equals": 1}, run)
    assert not passed and reason == f"$.items has no item 1 (in {where})"


def test_json_path_compares_as_json_values() -> None:
    run = Observed(outcome="completed", text='{"n": 1, "flag": true, "none": null, "key with space": [1, 2]}')
    assert verdict({"kind": "json_path", "path": "$.n", "equals": 1.0}, run)[0]
    assert not verdict({"kind": "json_path", "path": "$.flag", "equals": 1}, run)[0]  # true is not 1
    assert verdict({"kind": "json_path", "path": "$.none", "equals": None}, run)[0]
    assert verdict({"kind": "json_path", "path": '$["key with space"]', "equals": [1, 2]}, run)[0]
    assert verdict({"kind": "json_path", "path": "$.n", "equals": "1"}, run) == (False, '$.n is 1, not "1"')
    prose = Observed(outcome="completed", text="No JSON here.")
    assert verdict({"kind": "json_path", "path": "$.n", "equals": 1}, prose) == (
        False, "the answer is not JSON and contains no JSON object or array")


def test_calls_tool_by_name_with_argument_subset_or_regex() -> None:
    assert verdict({"kind": "calls_tool", "tool": "kb.search_articles"})[0]
    assert verdict({"kind": "calls_tool", "tool": "search_articles"})[0]  # any integration
    assert not verdict({"kind": "calls_tool", "tool": "other.search_articles"})[0]
    assert verdict({"kind": "calls_tool", "tool": "math.calculate", "arguments": {"expression": "1200.0 / 3"}}) == (
        True, "called math.calculate with “{\"expression\": \"1200.0 / 3\"}”")
    assert verdict({"kind": "calls_tool", "tool": "kb.search_articles", "argumentsMatch": "(?i)REFUNDS"})[0]
    passed, reason = verdict({"kind": "calls_tool", "tool": "kb.search_articles", "arguments": {"limit": 5}})
    assert not passed and reason.startswith("kb.search_articles was called 1× but never with “{\"limit\": 5}”")
    passed, reason = verdict({"kind": "calls_tool", "tool": "payments.issue_refund"})
    assert reason == "payments.issue_refund was not called (called: kb.search_articles, math.calculate)"
    no_tools = Observed(outcome="completed", text="hi")
    assert verdict({"kind": "calls_tool", "tool": "x"}, no_tools)[1] == "x was not called (called: no tool)"


def test_argument_subset_goes_into_nested_objects_and_lists() -> None:
    run = Observed(outcome="completed", text="", tools=(ToolCall("t", {"a": {"b": 1, "c": [1, {"d": 2, "e": 3}]}}),))
    assert verdict({"kind": "calls_tool", "tool": "t", "arguments": {"a": {"c": [1, {"d": 2}]}}}, run)[0]
    assert not verdict({"kind": "calls_tool", "tool": "t", "arguments": {"a": {"c": [1]}}}, run)[0]


@pytest.mark.parametrize(("outcome", "error", "reason"), [
    ("completed", None, "the run completed"),
    ("failed", "Parameter question is required", "the run failed: Parameter question is required"),
    ("waiting_for_human", None, "the run is waiting for a person's approval"),
    ("stopped", "Stopped by you.", "the run was stopped: Stopped by you."),
])
def test_must_not_fail_names_how_the_run_ended(outcome: str, error: str | None, reason: str) -> None:
    run = Observed(outcome=outcome, text="", error=error)
    assert verdict({"kind": "no_failure"}, run) == (outcome == "completed", reason)


def test_limits_pass_at_the_limit_and_fail_above_or_when_unknown() -> None:
    assert verdict({"kind": "max_cost", "usd": 0.0000725}) == (True, "cost $0.0000725 ≤ $0.0000725")
    assert verdict({"kind": "max_cost", "usd": 0.00005}) == (False, "cost $0.0000725 > $0.00005")
    assert verdict({"kind": "max_first_text_ms", "ms": 180}) == (True, "first text after 180 ms ≤ 180 ms")
    assert verdict({"kind": "max_total_ms", "ms": 2000}) == (False, "took 2,400 ms > 2,000 ms")
    silent = Observed(outcome="failed", text="")
    assert verdict({"kind": "max_cost", "usd": 1}, silent) == (False, "the run reported no cost")
    assert verdict({"kind": "max_first_text_ms", "ms": 1}, silent) == (False, "no text arrived")


def test_a_check_that_cannot_be_applied_fails_with_a_reason_instead_of_raising() -> None:
    assert run_check({"kind": "matches", "pattern": "("}, RUN)[0] is False
    assert run_check({"kind": "max_cost"}, RUN) == (False, "the check cannot be applied: 'usd'")
    assert run_check({"kind": "telepathy"}, RUN) == (False, "unknown check kind 'telepathy'")


def test_labels_say_what_each_check_asks() -> None:
    labels = [check_from_json(c).label for c in (
        {"kind": "contains", "text": "refund"}, {"kind": "not_contains", "text": "sorry"},
        {"kind": "matches", "pattern": r"\d+ days"}, {"kind": "json_path", "path": "$.a", "equals": "ok"},
        {"kind": "calls_tool", "tool": "kb.search", "arguments": {"q": 1}},
        {"kind": "calls_tool", "tool": "kb.search", "argumentsMatch": "x+"}, {"kind": "no_failure"},
        {"kind": "max_cost", "usd": 0.01}, {"kind": "max_first_text_ms", "ms": 800}, {"kind": "max_total_ms", "ms": 5000})]
    assert labels == ["answer contains “refund”", "answer does not contain “sorry”", r"answer matches /\d+ days/",
                      "$.a equals \"ok\"", "calls kb.search with “{\"q\": 1}”", "calls kb.search with arguments matching /x+/",
                      "must not fail", "cost ≤ $0.01", "first text ≤ 800 ms", "total time ≤ 5,000 ms"]


@pytest.mark.parametrize(("check", "message"), [
    ({"kind": "matches", "pattern": "a("}, "pattern: not a valid regular expression"),
    ({"kind": "json_path", "path": "$.a b", "equals": 1}, "path: JSON path '$.a b' is not understood at ' b'"),
    ({"kind": "json_path", "path": "$.a"}, "equals: Field required"),
    ({"kind": "max_cost", "usd": -1}, "usd: must be a number ≥ 0"),
    ({"kind": "max_total_ms", "ms": float("nan")}, "ms: must be a number ≥ 0"),
    ({"kind": "calls_tool", "tool": "t", "arguments": {}, "argumentsMatch": "x"}, "either arguments"),
    ({"kind": "contains", "text": ""}, "text: String should have at least 1 character"),
    ({"kind": "guess"}, "Input tag 'guess' found using 'kind' does not match"),
])
def test_invalid_checks_are_refused_with_the_field_named(check: dict, message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        TestCase(name="x", agent="a", checks=[check])
    assert message in explain(caught.value)
    assert explain(caught.value).startswith("checks[0]")


def test_a_case_from_the_execute_form_keeps_inputs_and_drops_run_options_and_secrets() -> None:
    request = {"parameters": {"question": "Why was I charged twice?", "apiKey": "hunter2-long-secret",
                              "note": "use fx_pat_live_ABCDEFGH123 please"},
               "attachments": [{"fileId": "f_1", "fileType": "document"}], "chatUser": {"id": "user_42"},
               "sessionId": "s-1", "environmentSlug": "acme_corp", "mode": "SANDBOX"}
    case = case_from_request("support_agent", "  Double   charge ", request, secrets=("hunter2-long-secret",))
    assert case.name == "Double charge" and case.agent == "support_agent"
    assert case.parameters["question"] == "Why was I charged twice?"
    assert "hunter2" not in json.dumps(case.as_json()) and "fx_pat_live" not in json.dumps(case.as_json())
    assert case.attachments == [{"fileId": "f_1", "fileType": "document"}] and case.chat_user == {"id": "user_42"}
    assert set(case.as_json()) == {"id", "name", "agent", "parameters", "attachments", "chatUser", "checks"}


# -- judging a folded run ---------------------------------------------------------------------------
def wire(event: str, data: dict, t_ms: float) -> Received:
    return Received(ev.parse_event(ServerSentEvent(event, json.dumps(data))), t_ms)


STREAM = [
    wire("tool_call", {"id": "c1", "toolTrace": {"tool": {"integrationId": "kb", "id": "search_articles",
                                                           "name": "search_articles"}}, "arguments": {"query": "refunds"}}, 90),
    wire("tool_result", {"id": "c1", "status": "succeeded", "result": {"hits": []}}, 400),
    wire("text", {"chunk": "Refunds are possible "}, 450),
    wire("text", {"chunk": "within 30 days."}, 500),
    wire("done", {"status": "COMPLETED", "response": "Refunds are possible within 30 days.",
                  "trace": {"totalCost": 0.00007, "traces": []}}, 700),
]


def test_evaluate_judges_a_streamed_run_from_its_folded_state() -> None:
    case = TestCase(name="refunds", agent="support_agent", checks=[
        check_from_json({"kind": "contains", "text": "30 days"}),
        check_from_json({"kind": "calls_tool", "tool": "kb.search_articles", "arguments": {"query": "refunds"}}),
        check_from_json({"kind": "max_first_text_ms", "ms": 400}),
        check_from_json({"kind": "max_cost", "usd": 0.001}),
    ])
    result = evaluate(case, fold_all(STREAM), elapsed_ms=712.4)
    assert not result.passed and result.outcome == "completed"
    assert [c.passed for c in result.checks] == [True, True, False, True]
    assert result.failed_checks[0].reason == "first text after 450 ms > 400 ms"
    assert (result.cost_usd, result.total_ms, result.first_text_ms) == (0.00007, 712.4, 450.0)


def test_a_sync_runs_text_arrives_with_its_only_event() -> None:
    done = wire("done", {"status": "COMPLETED", "response": "All good.", "trace": {"totalCost": "0.0001"}}, 820)
    case = TestCase(name="sync", agent="a", checks=[check_from_json({"kind": "max_first_text_ms", "ms": 900})])
    result = evaluate(case, fold_all([done]), elapsed_ms=830)
    assert result.passed and result.first_text_ms == 820 and result.cost_usd == 0.0001


def test_a_case_without_checks_must_at_least_not_fail() -> None:
    case = TestCase(name="bare", agent="a")
    assert evaluate(case, fold_all(STREAM), 700).passed
    failed = fold_all([Received(lc.RequestFailed(title="Bad request", message="Parameter question is required",
                                                 status=400), 30)])
    result = evaluate(case, failed, 31)
    assert not result.passed and result.error == "Parameter question is required"
    (only,) = result.checks
    assert only.label == "must not fail (implicit: the case has no checks)"
    assert only.reason == "the run failed: Parameter question is required"
