"""Copy-as snippets and curl parsing: the key is never in a snippet; a pasted command fills the form."""

from __future__ import annotations

import ast

import pytest

from fruxon_playground.snippets import (
    CurlParseError,
    RequestSpec,
    parse_curl,
    to_curl,
    to_python_httpx,
    to_python_sdk,
)

BODY = {"parameters": {"question": "It's “quoted” — ünïcode"}, "sessionId": "s1", "mode": "SANDBOX"}


def spec(action: str = "execute", auth: str = "both") -> RequestSpec:
    return RequestSpec("POST", "https://api.fruxon.com/", "acme", "support_agent", action, BODY, auth)


def test_curl_uses_the_environment_variable_never_a_key() -> None:
    text = to_curl(spec())
    assert '-H "X-API-KEY: $FRUXON_API_KEY"' in text and '-H "Authorization: Bearer $FRUXON_API_KEY"' in text
    assert "https://api.fruxon.com/v1/tenants/acme/agents/support_agent:execute" in text
    assert "-N" not in text and "text/event-stream" not in text
    streamed = to_curl(spec("stream", "bearer"))
    assert streamed.startswith("curl -N") and "Accept: text/event-stream" in streamed and "X-API-KEY" not in streamed


@pytest.mark.parametrize("action", ["execute", "stream", "test", "streamTest"])
@pytest.mark.parametrize("auth", ["both", "x-api-key", "bearer"])
def test_round_trip_through_curl(action: str, auth: str) -> None:
    parsed = parse_curl(to_curl(spec(action, auth)))
    assert (parsed.base_url, parsed.tenant, parsed.agent, parsed.action) == ("https://api.fruxon.com", "acme", "support_agent", action)
    assert parsed.body == BODY and parsed.auth_header == auth and parsed.api_key is None


@pytest.mark.parametrize("action", ["execute", "stream", "test", "streamTest"])
def test_python_snippets_are_valid_code(action: str) -> None:
    for snippet in (to_python_httpx(spec(action)), to_python_sdk(spec(action))):
        ast.parse(snippet)
        assert 'os.environ["FRUXON_API_KEY"]' in snippet


def test_a_literal_key_in_a_pasted_command_is_returned_apart_and_never_shown() -> None:
    parsed = parse_curl("curl https://x.test/v1/tenants/t/agents/a:test \\\n -H 'Authorization: Bearer fx_pat_realkey123' -d '{}'")
    assert parsed.api_key == "fx_pat_realkey123" and "fx_pat_realkey123" not in repr(parsed)
    assert parsed.auth_header == "bearer"


@pytest.mark.parametrize(
    ("command", "message"),
    [("", "Paste a curl command"), ("wget http://x", "not a curl command"), ("curl -X POST", "No URL"),
     ("curl https://example.com/api", "not a Fruxon agent run URL"),
     ("curl https://x.test/v1/tenants/t/agents/a:explode", "Unknown action"),
     ("curl https://x.test/v1/tenants/t/agents/a:execute -d '{oops'", "not valid JSON"),
     ("curl https://x.test/v1/tenants/t/agents/a:execute -d '[1]'", "must be a JSON object"),
     ("curl 'https://x.test/v1/tenants/t/agents/a:execute", "unbalanced quotes")],
)
def test_clear_messages_for_what_cannot_be_read(command: str, message: str) -> None:
    with pytest.raises(CurlParseError, match=message):
        parse_curl(command)
