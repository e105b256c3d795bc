"""The contract module's rules, written from shared/fruxon-api.md's examples."""

from __future__ import annotations

import pytest

from fruxon_playground.contract import (
    MASK,
    environment_slug_problem,
    is_failure,
    is_secret_key,
    is_waiting_for_human,
    mask_json_text,
    mask_secrets,
    mask_text,
    normalize_enum,
    strip_url_credentials,
    tenant_problem,
)


@pytest.mark.parametrize("spelling", ["WaitingForHuman", "WAITING_FOR_HUMAN", "waiting-for-human", "WAITING_FOR_ASYNC"])
def test_every_waiting_spelling_is_waiting(spelling: str) -> None:
    assert is_waiting_for_human(spelling)
    assert not is_failure(spelling)


@pytest.mark.parametrize("status", ["ERROR", "failed", "Failure", "CANCELLED", "cancelled"])
def test_failure_statuses(status: str) -> None:
    assert is_failure(status)


def test_enums_compare_without_case_or_separators() -> None:
    assert normalize_enum("Flow_Step") == normalize_enum("FLOW-STEP") == "FLOWSTEP"
    assert normalize_enum(None) == ""


@pytest.mark.parametrize(("slug", "ok"), [("acme_corp", True), ("a1", True), ("Acme", False), ("1acme", False),
                                          ("a", False), ("acme-corp", False), ("a" * 65, False)])
def test_environment_slug_rule(slug: str, ok: bool) -> None:
    assert (environment_slug_problem(slug) is None) is ok


@pytest.mark.parametrize("tenant", ["x/../../internal?", "demo/agents", "a b", "..", "demo?x=1", ""])
def test_a_tenant_cannot_change_the_path(tenant: str) -> None:
    assert tenant_problem(tenant)


def test_tenants_that_are_slugs_pass() -> None:
    assert tenant_problem("demo") is None and tenant_problem("acme-prod") is None


def test_secret_keys_but_not_token_counts() -> None:
    assert all(is_secret_key(k) for k in ("apiKey", "X-API-KEY", "Authorization", "client_secret", "githubToken", "password"))
    assert not any(is_secret_key(k) for k in ("inputTokens", "outputTokens", "question", "nextPageToken", "author"))


def test_masking_by_key_shape_and_known_secret() -> None:
    own = "my-very-own-key-123"
    value = {"parameters": {"apiKey": "abc", "note": "use sk_live_abcdef123456 please", "q": f"echo {own}"},
             "header": "Bearer abcdefghijkl", "inputTokens": 12}
    masked = mask_secrets(value, [own])
    assert masked["parameters"]["apiKey"] == MASK
    assert masked["parameters"]["note"] == f"use {MASK} please"
    assert masked["parameters"]["q"] == f"echo {MASK}"
    assert masked["header"] == f"Bearer {MASK}"
    assert masked["inputTokens"] == 12
    assert mask_text(f"key={own}!", [own]) == f"key={MASK}!"


def test_json_text_is_masked_structurally() -> None:
    text = '{"chunk":"ok","toolTrace":{"parameters":{"password":"hunter22"}}}'
    assert "hunter22" not in mask_json_text(text)
    assert mask_json_text('{"chunk":"nothing secret"}') == '{"chunk":"nothing secret"}'
    assert mask_json_text("not json fx_pat_abcdefgh") == f"not json {MASK}"


def test_url_credentials_are_stripped() -> None:
    assert strip_url_credentials("https://ada:pw@api.example.com:8443/x") == "https://api.example.com:8443/x"
    assert strip_url_credentials("https://api.fruxon.com") == "https://api.fruxon.com"
