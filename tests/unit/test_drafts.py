"""Draft templates, import/export and secret handling."""

from __future__ import annotations

import copy
import json

import pytest

from fruxon_playground.contract.validation import validate_test_body
from fruxon_playground.drafts import (
    MASK,
    TEMPLATES,
    draft_from_json,
    draft_to_json,
    entry_step,
    strip_secrets,
    sync_parameters_metadata,
)

SECRETS = ("sk-live-abcdef123456", "t0ken-value-xyz", "sk-abcdefghijkl", "hunter2-password")

SECRETIVE = {
    **copy.deepcopy(TEMPLATES["llm"].request),
    "llmConfigs": [{"providerId": "openai", "model": "gpt-4o-mini",
                    "parameters": {"apiKey": SECRETS[0], "temperature": 0.2, "maxTokens": 1024,
                                   "baseUrl": "https://api.openai.com/v1"}}],
    "integrationConfigs": [{"id": "c1", "integrationId": "kb",
                            "parameters": {"region": "eu", "note": SECRETS[2], "enabled": True},
                            "auth": {"type": "BEARER", "parameters": {"token": SECRETS[1], "password": SECRETS[3]}}}],
}


# --- templates -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_every_template_passes_server_validation(name: str) -> None:
    request = copy.deepcopy(TEMPLATES[name].request)
    validate_test_body(request)  # raises RequestInvalid on any problem
    assert request == TEMPLATES[name].request  # validation did not need to change it


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_template_metadata_matches_the_entry_step(name: str) -> None:
    request = TEMPLATES[name].request
    entry = entry_step(request)
    assert entry is not None
    assert request["parametersMetadata"] == entry["parameters"]
    assert request["parametersMetadata"] is not entry["parameters"]  # editing one must not edit the other
    declared = {p["name"] for p in request["parametersMetadata"]}
    assert set(request["parameters"]) == declared  # example values fill every declared parameter


# --- sync_parameters_metadata --------------------------------------------------------------------------


def test_sync_from_request_level_metadata_onto_the_entry_step() -> None:
    request = copy.deepcopy(TEMPLATES["llm"].request)
    request["parametersMetadata"] = [{"name": "topic", "type": "STRING", "required": True}]
    synced = sync_parameters_metadata(request)
    assert entry_step(synced)["parameters"] == [{"name": "topic", "type": "STRING", "required": True}]
    assert synced["parametersMetadata"] == [{"name": "topic", "type": "STRING", "required": True}]
    assert entry_step(request)["parameters"][0]["name"] == "question"  # the input was not mutated


def test_sync_from_the_entry_step_onto_request_level_metadata() -> None:
    request = copy.deepcopy(TEMPLATES["llm"].request)
    entry_step(request)["parameters"] = [{"name": "other", "type": "INTEGER"}]
    synced = sync_parameters_metadata(request, source="entry")
    assert synced["parametersMetadata"] == [{"name": "other", "type": "INTEGER"}]
    assert entry_step(synced)["parameters"] == [{"name": "other", "type": "INTEGER"}]
    assert request["parametersMetadata"][0]["name"] == "question"  # the input was not mutated


def test_sync_from_entry_accepts_a_legacy_parametersmetadata_key_on_the_step() -> None:
    request = copy.deepcopy(TEMPLATES["llm"].request)
    entry = entry_step(request)
    del entry["parameters"]
    entry["parametersMetadata"] = [{"name": "legacy", "type": "STRING"}]
    synced = sync_parameters_metadata(request, source="entry")
    assert synced["parametersMetadata"] == [{"name": "legacy", "type": "STRING"}]
    assert entry_step(synced)["parameters"] == [{"name": "legacy", "type": "STRING"}]
    assert "parametersMetadata" not in entry_step(synced)


def test_sync_without_an_entry_step_changes_nothing() -> None:
    request = {"flow": {"steps": [], "edges": []}, "parametersMetadata": [{"name": "x"}]}
    assert sync_parameters_metadata(request) == request


# --- strip_secrets / draft_to_json ---------------------------------------------------------------------


def test_strip_secrets_masks_secrets_and_keeps_everything_else() -> None:
    original = copy.deepcopy(SECRETIVE)
    masked = strip_secrets(SECRETIVE)
    assert original == SECRETIVE  # the input is not touched
    llm = masked["llmConfigs"][0]
    assert llm["parameters"]["apiKey"] == MASK
    assert llm["parameters"]["temperature"] == 0.2 and llm["parameters"]["maxTokens"] == 1024
    assert llm["parameters"]["baseUrl"] == "https://api.openai.com/v1"
    assert (llm["providerId"], llm["model"]) == ("openai", "gpt-4o-mini")
    integration = masked["integrationConfigs"][0]
    assert integration["auth"]["parameters"]["token"] == MASK
    assert integration["auth"]["parameters"]["password"] == MASK
    assert integration["parameters"]["note"] == MASK  # looks like a key even under an innocuous name
    assert integration["parameters"]["region"] == "eu" and integration["parameters"]["enabled"] is True
    assert (integration["id"], integration["integrationId"], integration["auth"]["type"]) == ("c1", "kb", "BEARER")
    # Flow, parameters and metadata are untouched.
    for key in ("flow", "parameters", "parametersMetadata", "baseRevision"):
        assert masked[key] == SECRETIVE[key]


def test_strip_secrets_returns_a_copy_not_sharing_nested_objects() -> None:
    masked = strip_secrets(SECRETIVE)
    masked["flow"]["steps"].append({"type": "TOOL"})
    masked["llmConfigs"][0]["parameters"]["temperature"] = 1.0
    assert len(SECRETIVE["flow"]["steps"]) == 3
    assert SECRETIVE["llmConfigs"][0]["parameters"]["temperature"] == 0.2


def test_draft_to_json_contains_no_secret_and_stays_readable() -> None:
    exported = draft_to_json(SECRETIVE)
    for secret in SECRETS:
        assert secret not in exported
    data = json.loads(exported)
    assert data["llmConfigs"][0]["parameters"]["apiKey"] == MASK
    assert data["flow"] == SECRETIVE["flow"]
    request = {**copy.deepcopy(TEMPLATES["sub_agent"].request), "parameters": {"topic": "Zürich — ünïcode"}}
    assert "Zürich — ünïcode" in draft_to_json(request)  # not \u-escaped


def test_exported_draft_imports_back() -> None:
    back = draft_from_json(draft_to_json(SECRETIVE))
    assert back["flow"] == SECRETIVE["flow"] and back["parameters"] == SECRETIVE["parameters"]
    assert back["llmConfigs"][0]["parameters"]["apiKey"] == MASK


# --- draft_from_json -----------------------------------------------------------------------------------


def test_import_accepts_a_test_request() -> None:
    request = TEMPLATES["approval"].request
    imported = draft_from_json(json.dumps(request))
    assert imported == request


def test_import_accepts_bytes_with_a_utf8_bom() -> None:
    request = {**copy.deepcopy(TEMPLATES["llm"].request), "parameters": {"question": "Ça va? 🚀"}}
    data = b"\xef\xbb\xbf" + json.dumps(request, ensure_ascii=False).encode("utf-8")
    imported = draft_from_json(data)
    assert imported["parameters"] == {"question": "Ça va? 🚀"}
    assert imported["flow"] == request["flow"]


def test_import_accepts_a_saved_run_wrapper() -> None:
    request = TEMPLATES["llm_tool"].request
    assert draft_from_json(json.dumps({"request": request, "status": "completed"})) == request
    assert draft_from_json(json.dumps({"run": {"request": request}})) == request


def test_import_fills_missing_metadata_from_the_entry_step() -> None:
    request = copy.deepcopy(TEMPLATES["calculator"].request)
    del request["parametersMetadata"]
    imported = draft_from_json(json.dumps(request))
    assert imported["parametersMetadata"] == entry_step(request)["parameters"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{nope", r"not valid JSON.*line 1, column"),
        ("", "not valid JSON"),
        ("[1, 2]", "expected a JSON object"),
        ('"just a string"', "expected a JSON object"),
        ('{"parameters": {}}', "no draft found.*`flow`"),
        ('{"request": {"parameters": {}}}', "no draft found"),
        ('{"flow": "not an object"}', "no draft found"),
    ],
)
def test_import_explains_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        draft_from_json(text)
