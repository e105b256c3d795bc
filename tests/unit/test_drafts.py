"""Draft templates, import/export and secret handling."""

from __future__ import annotations

import copy
import json

import pytest

from fruxon_playground.drafts import (
    MASK,
    TEMPLATES,
    draft_from_json,
    draft_to_json,
    entry_step,
    restore_secrets,
    strip_secrets,
    sync_parameters_metadata,
)
from fruxon_playground.sandbox.validation import validate_test_body

SECRETIVE = {
    **TEMPLATES["llm"].request,
    "llmConfigs": [{"providerId": "openai", "parameters": {"apiKey": "sk-live-abc", "temperature": 0.2}}],
    "integrationConfigs": [{"id": "c1", "integrationId": "kb", "parameters": {"region": "eu", "note": "sk-abcdefghijkl"},
                            "auth": {"parameters": {"token": "t0ken"}}}],
}


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_every_template_is_a_valid_draft_with_consistent_parameters(name: str) -> None:
    request = copy.deepcopy(TEMPLATES[name].request)
    validate_test_body(request)
    assert entry_step(request)["parameters"] == request["parametersMetadata"]


def test_sync_parameters_both_ways() -> None:
    request = copy.deepcopy(TEMPLATES["llm"].request)
    request["parametersMetadata"] = [{"name": "topic", "type": "STRING"}]
    assert entry_step(sync_parameters_metadata(request))["parameters"] == [{"name": "topic", "type": "STRING"}]
    request = copy.deepcopy(TEMPLATES["llm"].request)
    entry_step(request)["parameters"] = [{"name": "other", "type": "STRING"}]
    assert sync_parameters_metadata(request, source="entry")["parametersMetadata"] == [{"name": "other", "type": "STRING"}]


def test_secrets_are_masked_for_export_and_restored_for_sending() -> None:
    original = copy.deepcopy(SECRETIVE)
    masked = strip_secrets(SECRETIVE)
    assert original == SECRETIVE  # the input is not touched
    assert masked["llmConfigs"][0]["parameters"] == {"apiKey": MASK, "temperature": 0.2}
    assert masked["integrationConfigs"][0]["parameters"] == {"region": "eu", "note": MASK}
    assert masked["integrationConfigs"][0]["auth"]["parameters"]["token"] == MASK
    exported = draft_to_json(SECRETIVE)
    assert "sk-live-abc" not in exported and "t0ken" not in exported and "sk-abcdefghijkl" not in exported
    assert restore_secrets(masked, SECRETIVE) == SECRETIVE
    retyped = copy.deepcopy(masked)
    retyped["llmConfigs"][0]["parameters"]["apiKey"] = "sk-new-one"
    assert restore_secrets(retyped, SECRETIVE)["llmConfigs"][0]["parameters"]["apiKey"] == "sk-new-one"


def test_import_accepts_requests_bom_and_saved_runs() -> None:
    text = json.dumps(TEMPLATES["approval"].request)
    assert draft_from_json(text)["flow"] == TEMPLATES["approval"].request["flow"]
    assert draft_from_json(b"\xef\xbb\xbf" + text.encode())["parameters"] == {"order_id": "ord_1234", "amount": 42.5}
    assert draft_from_json(json.dumps({"request": TEMPLATES["llm"].request}))["flow"]["steps"][1]["identifier"] == "answer"


@pytest.mark.parametrize(("text", "message"), [("{nope", "not valid JSON"), ("[1, 2]", "JSON object"),
                                               ('{"parameters": {}}', "no draft found")])
def test_import_explains_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        draft_from_json(text)
