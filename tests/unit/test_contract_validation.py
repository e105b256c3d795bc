"""The sandbox's request validation (shared with the playground's pre-flight checks)."""

from __future__ import annotations

import copy

import pytest

from fruxon_playground.contract.validation import RequestInvalid, validate_execute_body, validate_test_body
from fruxon_playground.drafts import TEMPLATES

META = [
    {"name": "question", "type": "STRING", "required": True},
    {"name": "tone", "type": "OPTION", "options": [{"value": "friendly"}, {"value": "formal"}], "defaultValue": "friendly"},
    {"name": "days", "type": "INTEGER", "integerRange": {"min": 1, "max": 14}},
    {"name": "urgent", "type": "BOOLEAN"},
]


def test_execute_body_reports_every_problem_at_once() -> None:
    body = {"parameters": {"tone": "rude", "days": 40, "urgent": "maybe", "extra": 1}, "mode": "FAST",
            "environmentSlug": "Bad Slug", "surprise": True}
    _, problems = validate_execute_body(body, META)
    fields = {p.field for p in problems}
    assert fields == {"$.surprise", "$.mode", "environmentSlug", "parameters.question", "parameters.tone",
                      "parameters.days", "parameters.urgent", "parameters.extra"}
    assert any(p.message == "Parameter question is required" for p in problems)


def test_execute_body_applies_defaults_and_coerces_strings() -> None:
    values, problems = validate_execute_body({"parameters": {"question": "hi", "days": "3", "urgent": "true"}}, META)
    assert problems == []
    assert values == {"question": "hi", "tone": "friendly", "days": 3, "urgent": True}


def base() -> dict:
    return copy.deepcopy(TEMPLATES["llm_tool"].request)


def invalid(body: dict) -> RequestInvalid:
    with pytest.raises(RequestInvalid) as caught:
        validate_test_body(body)
    return caught.value


def test_templates_are_valid() -> None:
    for template in TEMPLATES.values():
        assert validate_test_body(copy.deepcopy(template.request)).flow is not None


def test_graph_problems_are_422_and_all_listed() -> None:
    body = base()
    steps = body["flow"]["steps"]
    steps.append({"type": "ENTRY_POINT", "identifier": "entry2"})
    steps.append({"type": "WORMHOLE", "identifier": "w"})
    steps[1]["userPrompt"] = {"template": "{{param.nope}} and {{step.ghost.output}}"}
    body["flow"]["edges"].append({"source": "exit", "target": "missing"})
    error = invalid(body)
    assert error.status == 422
    messages = " | ".join(p.message for p in error.problems)
    assert "exactly one ENTRY_POINT" in messages and "Unknown step type 'WORMHOLE'" in messages
    assert "Cannot resolve parameter 'nope'" in messages and "Cannot resolve step 'ghost'" in messages
    assert "names no step" in messages


def test_unreachable_exit_and_cycle() -> None:
    body = base()
    body["flow"]["edges"] = [{"source": "entry", "target": "answer"}, {"source": "answer", "target": "answer"}]
    error = invalid(body)
    messages = " | ".join(p.message for p in error.problems)
    assert "cannot be reached" in messages and "cycle" in messages


def test_missing_flow_with_base_revision_zero_and_parameter_errors_are_400() -> None:
    assert invalid({"parameters": {}, "baseRevision": 0}).status == 422
    body = base()
    body["parameters"] = {}
    error = invalid(body)
    assert error.status == 400 and error.errors() == {"parameters.question": ["Parameter question is required"]}
    assert invalid({**base(), "environmentSlug": "acme"}).status == 400  # not a TestRequest key


def test_entry_step_parameters_are_used_when_request_level_is_absent() -> None:
    body = base()
    del body["parametersMetadata"]
    body["flow"]["steps"][0]["parametersMetadata"] = body["flow"]["steps"][0].pop("parameters")
    result = validate_test_body(body)
    assert [m["name"] for m in result.metadata] == ["question"]
