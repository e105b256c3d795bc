"""Copy-as snippets and curl parsing: the key is never in a snippet; a pasted command fills the form."""

from __future__ import annotations

import ast
import json
import re

import pytest

from fruxon_playground.snippets import (
    ACTIONS,
    CurlParseError,
    ParsedCurl,
    RequestSpec,
    parse_curl,
    to_curl,
    to_python_httpx,
    to_python_sdk,
)

REAL_KEY = "fx_pat_realkey123"
BASE = "https://api.fruxon.com"
# A single quote (breaks naive shell quoting), curly quotes, an em dash, accents and an emoji.
BODY = {
    "parameters": {"question": "It's “quoted” — ünïcode 日本語 🚀", "count": 3},
    "sessionId": "s1",
    "mode": "SANDBOX",
}
STREAMED = {"stream", "streamTest"}


def spec(action: str = "execute", auth: str = "both", body: dict | None = None, base: str = BASE) -> RequestSpec:
    return RequestSpec("POST", base, "acme", "support_agent", action, BODY if body is None else body, auth)


# --- to_curl -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("auth", ["both", "x-api-key", "bearer"])
def test_curl_never_contains_a_real_key_only_the_double_quoted_variable(
    action: str, auth: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FRUXON_API_KEY", REAL_KEY)  # even with a key in the environment
    text = to_curl(spec(action, auth))
    assert REAL_KEY not in text and "fx_pat_" not in text
    occurrences = text.count("$FRUXON_API_KEY")
    assert occurrences == (2 if auth == "both" else 1)
    # Every occurrence sits inside a double-quoted -H argument, so the shell expands it.
    double_quoted = re.findall(r'-H "(?:X-API-KEY|Authorization: Bearer)[^"]*\$FRUXON_API_KEY"', text)
    assert len(double_quoted) == occurrences
    assert "'$FRUXON_API_KEY" not in text and "X-API-KEY: $FRUXON_API_KEY'" not in text
    assert ('-H "X-API-KEY: $FRUXON_API_KEY"' in text) == (auth in ("both", "x-api-key"))
    assert ('-H "Authorization: Bearer $FRUXON_API_KEY"' in text) == (auth in ("both", "bearer"))


@pytest.mark.parametrize("action", ACTIONS)
def test_curl_streaming_flags_only_for_streamed_actions(action: str) -> None:
    text = to_curl(spec(action))
    first_line = text.splitlines()[0]
    assert first_line.split()[:2] == (["curl", "-N"] if action in STREAMED else ["curl", "-X"])
    assert ("-N" in first_line.split()) == (action in STREAMED)
    assert ("Accept: text/event-stream" in text) == (action in STREAMED)
    assert ("Accept: application/json" in text) == (action not in STREAMED)
    assert f"{BASE}/v1/tenants/acme/agents/support_agent:{action}" in first_line


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("auth", ["both", "x-api-key", "bearer"])
def test_round_trip_through_curl_keeps_everything(action: str, auth: str) -> None:
    original = spec(action, auth)
    parsed = parse_curl(to_curl(original))
    assert (parsed.base_url, parsed.tenant, parsed.agent, parsed.action) == (BASE, "acme", "support_agent", action)
    assert parsed.body == BODY
    assert parsed.body["parameters"]["question"] == "It's “quoted” — ünïcode 日本語 🚀"
    assert parsed.auth_header == auth
    assert parsed.api_key is None  # the placeholder is not a key


def test_round_trip_with_a_path_prefix_and_a_trailing_slash() -> None:
    parsed = parse_curl(to_curl(spec("test", base="https://gw.example.com/fruxon/")))
    assert parsed.base_url == "https://gw.example.com/fruxon"
    assert (parsed.tenant, parsed.agent, parsed.action) == ("acme", "support_agent", "test")


def test_round_trip_of_tricky_body_strings() -> None:
    body = {"parameters": {"q": "a'b\"c\\d $HOME `whoami` \\\nnext line\ttab", "empty": "", "nested": [{"x": None}]}}
    parsed = parse_curl(to_curl(spec("execute", body=body)))
    assert parsed.body == body


def test_empty_body_round_trips_as_empty_object() -> None:
    parsed = parse_curl(to_curl(spec("execute", body={})))
    assert parsed.body == {}


# --- Python snippets -----------------------------------------------------------------------------------


def _assigned(tree: ast.Module, name: str) -> ast.expr:
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
            return node.value
    raise AssertionError(f"{name} is never assigned")


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("auth", ["both", "x-api-key", "bearer"])
def test_httpx_snippet_is_valid_python_that_sends_the_body(action: str, auth: str) -> None:
    code = to_python_httpx(spec(action, auth))
    tree = ast.parse(code)
    assert 'os.environ["FRUXON_API_KEY"]' in code and REAL_KEY not in code
    assert ast.literal_eval(_assigned(tree, "url")) == f"{BASE}/v1/tenants/acme/agents/support_agent:{action}"
    body_call = _assigned(tree, "body")
    assert isinstance(body_call, ast.Call)
    assert json.loads(ast.literal_eval(body_call.args[0])) == BODY
    assert ("text/event-stream" in code) == (action in STREAMED)
    assert ('"X-API-KEY": key' in code) == (auth in ("both", "x-api-key"))
    assert ('f"Bearer {key}"' in code) == (auth in ("both", "bearer"))


@pytest.mark.parametrize("action", ACTIONS)
def test_sdk_snippet_is_valid_python(action: str) -> None:
    body = {**BODY, "baseRevision": 7}
    if action in ("test", "streamTest"):  # an inline draft; a pinned revision has no SDK call (test_draft_heads)
        body["flow"] = {"steps": [], "edges": []}
    code = to_python_sdk(spec(action, body=body))
    ast.parse(code)
    assert 'os.environ["FRUXON_API_KEY"]' in code and REAL_KEY not in code
    assert "workspace='acme'" in code and f"base_url='{BASE}'" in code
    method = {"execute": "client.execute(", "stream": "client.stream(", "test": "client.test(",
              "streamTest": "client.stream_test("}[action]
    assert method in code
    if action in ("test", "streamTest"):
        assert "'support_agent', 7," in code  # baseRevision is the revision argument


# --- parse_curl ----------------------------------------------------------------------------------------


def test_parse_handles_continuations_data_raw_and_a_literal_key() -> None:
    command = (
        "curl -X POST \\\n"
        "  'https://api.fruxon.com/v1/tenants/acme/agents/support_agent:execute' \\\n"
        f"  -H 'Authorization: Bearer {REAL_KEY}' \\\r\n"
        "  -H 'Content-Type: application/json' \\\n"
        '  --data-raw \'{"parameters": {"question": "hi"}}\''
    )
    parsed = parse_curl(command)
    assert (parsed.base_url, parsed.tenant, parsed.agent, parsed.action) == (BASE, "acme", "support_agent", "execute")
    assert parsed.body == {"parameters": {"question": "hi"}}
    assert parsed.api_key == REAL_KEY
    assert parsed.auth_header == "bearer"
    assert REAL_KEY not in repr(parsed) and REAL_KEY not in str(parsed)


def test_literal_x_api_key_header_is_found_too() -> None:
    parsed = parse_curl(f"curl https://x.test/v1/tenants/t/agents/a:stream -H 'X-API-KEY: {REAL_KEY}'")
    assert parsed.api_key == REAL_KEY and parsed.auth_header == "x-api-key"
    assert REAL_KEY not in repr(parsed)


@pytest.mark.parametrize("placeholder", ["$FRUXON_API_KEY", "${FRUXON_API_KEY}"])
def test_environment_variable_placeholder_is_not_a_key(placeholder: str) -> None:
    parsed = parse_curl(
        f'curl https://x.test/v1/tenants/t/agents/a:test -H "Authorization: Bearer {placeholder}" '
        f'-H "X-API-KEY: {placeholder}" --data-raw \'{{}}\''
    )
    assert parsed.api_key is None
    assert parsed.auth_header == "both"
    assert parsed.body == {}


def test_parsed_curl_repr_hides_the_key() -> None:
    parsed = ParsedCurl("https://x.test", "t", "a", "execute", {}, api_key=REAL_KEY)
    assert REAL_KEY not in repr(parsed)


@pytest.mark.parametrize(
    ("command", "message"),
    [
        ("", "Paste a curl command"),
        ("   \n\t ", "Paste a curl command"),
        ("wget https://x.test/v1/tenants/t/agents/a:execute", "not a curl command"),
        ("curl -X POST -H 'Accept: application/json'", "No URL"),
        ("curl https://example.com/api/v2/chat", "not a Fruxon agent run URL"),
        ("curl https://x.test/v1/tenants/t/agents/a:explode", r"Unknown action :explode.*:execute, :stream, :test or :streamTest"),
        ("curl https://x.test/v1/tenants/t/agents/a:execute -d '{oops'", r"not valid JSON.*line 1, column"),
        ("curl https://x.test/v1/tenants/t/agents/a:execute --data-raw '[1, 2]'", "must be a JSON object"),
        ("curl 'https://x.test/v1/tenants/t/agents/a:execute", "unbalanced quotes"),
    ],
)
def test_clear_messages_for_what_cannot_be_read(command: str, message: str) -> None:
    with pytest.raises(CurlParseError, match=message):
        parse_curl(command)


def test_curl_parse_error_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        parse_curl("ls -la")
