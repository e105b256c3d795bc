"""The connection policy: which base URLs a key may be sent to, and in which headers."""

from __future__ import annotations

import pytest

from fruxon_playground.connection_policy import (
    ConnectionPolicy,
    effective_auth_header,
    is_loopback_host,
    parse_base_url,
)
from fruxon_playground.settings import PlaygroundSettings

LOCAL = ConnectionPolicy.from_environment({}, listen_address="localhost")


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "127.8.9.10", "::1", "[::1]", "app.localhost"])
def test_loopback_hosts(host: str) -> None:
    assert is_loopback_host(host)


@pytest.mark.parametrize("host", [None, "", "0.0.0.0", "::", "10.0.0.5", "example.com", "localhost.example.com"])
def test_not_loopback_hosts(host: str | None) -> None:
    assert not is_loopback_host(host)


def test_plain_http_to_another_machine_is_refused_and_says_what_to_do() -> None:
    problem = LOCAL.problem("http://fruxon.internal:8080", custom=True)
    assert problem is not None
    assert "https://" in problem and "PLAYGROUND_ALLOW_INSECURE_HTTP=1" in problem
    assert "http://fruxon.internal:8080" in problem


def test_plain_http_is_fine_on_this_machine_or_when_the_operator_allows_it() -> None:
    assert LOCAL.problem("http://127.0.0.1:8001", custom=True) is None
    assert LOCAL.problem("http://localhost:8001/", custom=True) is None
    allowing = ConnectionPolicy.from_environment({"PLAYGROUND_ALLOW_INSECURE_HTTP": "1"})
    assert allowing.problem("http://fruxon.internal:8080", custom=True) is None


@pytest.mark.parametrize(("url", "fragment"), [
    ("ftp://api.fruxon.com", "https://"),
    ("api.fruxon.com", "https://"),
    ("https://user:pw@api.fruxon.com", "user name or password"),
    ("https://api.fruxon.com@evil.example", "user name or password"),
    ("https://api.fruxon.com/?x=1", "“?”"),
    ("https://api.fruxon.com/#x", "“#”"),
    ("https://api.fruxon.com:99999", "not a valid URL"),
    ("https://bad host.com", "valid host"),
    ("https://api.fruxon.com/a/../b", "“..”"),
    ("", "Enter the base URL"),
])
def test_malformed_base_urls_are_explained(url: str, fragment: str) -> None:
    problem = LOCAL.problem(url, custom=True)
    assert problem is not None and fragment in problem


def test_prefixes_compare_parsed_parts_not_raw_strings() -> None:
    policy = ConnectionPolicy.from_environment(
        {"PLAYGROUND_ALLOWED_BASE_URLS": " https://API.fruxon.com:443/ , https://gw.acme.example/fruxon,not a url"}
    )
    allowed = ["https://api.fruxon.com", "https://api.fruxon.com/", "https://gw.acme.example/fruxon",
               "https://gw.acme.example/fruxon/v2", "HTTPS://GW.ACME.EXAMPLE:443/fruxon"]
    refused = [
        "https://api.fruxon.com.evil.example",  # a raw string prefix would accept this one
        "https://api.fruxon.com:8443",
        "https://gw.acme.example/fruxon-internal",
        "https://gw.acme.example/",
        "https://gw.acme.example/fruxon/../admin",
        "http://api.fruxon.com",
        "https://169.254.169.254/latest",
    ]
    for url in allowed:
        assert policy.problem(url, custom=True) is None, url
    for url in refused:
        problem = policy.problem(url, custom=True)
        assert problem is not None, url
    listed = policy.problem("https://elsewhere.example", custom=True)
    assert listed == ("This deployment only connects to: https://api.fruxon.com, https://gw.acme.example/fruxon "
                      "(PLAYGROUND_ALLOWED_BASE_URLS).")


def test_the_allow_list_binds_custom_only_but_insecure_http_binds_every_profile() -> None:
    policy = ConnectionPolicy.from_environment({"PLAYGROUND_ALLOWED_BASE_URLS": "https://api.fruxon.com"})
    assert policy.problem("https://staging.acme.example", custom=False) is None
    assert policy.problem("http://staging.acme.example", custom=False) is not None


def test_a_shared_app_without_a_list_allows_the_configured_url_and_the_public_api_only() -> None:
    shared = ConnectionPolicy.from_environment({}, listen_address="0.0.0.0",
                                               configured_base_url="https://fruxon.acme.example/api")
    assert shared.problem("https://api.fruxon.com", custom=True) is None
    assert shared.problem("https://fruxon.acme.example/api", custom=True) is None
    for internal in ("http://127.0.0.1:8080", "http://localhost:6379", "https://10.0.0.7", "https://metadata.internal"):
        problem = shared.problem(internal, custom=True)
        assert problem is not None and "shared on the network" in problem, internal
    nothing_configured = ConnectionPolicy.from_environment({}, listen_address=None)
    assert nothing_configured.problem("https://fruxon.acme.example/api", custom=True) is not None
    assert nothing_configured.problem("https://api.fruxon.com", custom=True) is None


def test_a_loopback_app_without_a_list_allows_any_well_formed_https_url() -> None:
    assert LOCAL.allowed is None
    assert LOCAL.problem("https://staging.acme.example", custom=True) is None


def test_both_headers_only_go_to_the_configured_host() -> None:
    configured = ["https://api.fruxon.com"]
    same = effective_auth_header("both", "https://api.fruxon.com/", configured)
    assert (same.header, same.note) == ("both", "")
    other = effective_auth_header("both", "https://gw.acme.example", configured)
    assert other.header == "bearer"
    assert other.note == "“Both” is used only for the configured host, https://api.fruxon.com."
    assert effective_auth_header("both", "https://api.fruxon.com:8443", configured).header == "bearer"


def test_an_explicit_single_header_is_kept_everywhere() -> None:
    for mode in ("x-api-key", "bearer"):
        choice = effective_auth_header(mode, "https://gw.acme.example", ["https://api.fruxon.com"])
        assert (choice.header, choice.note) == (mode, "")


def test_parsed_base_url_defaults_its_port_and_drops_empty_segments() -> None:
    parsed = parse_base_url("HTTPS://Api.Fruxon.com//v1/")
    assert parsed is not None
    assert (parsed.scheme, parsed.host, parsed.port, parsed.path) == ("https", "api.fruxon.com", 443, ("v1",))
    assert str(parsed) == "https://api.fruxon.com/v1"


@pytest.mark.parametrize(("configured", "ceiling", "limit"), [("10", 50, 10), ("80", 50, 50), ("0.5", 50, 1), ("", 200, 10)])
def test_upload_limit_is_whole_megabytes_under_streamlits_ceiling(configured: str, ceiling: int, limit: int) -> None:
    settings = PlaygroundSettings.from_environment({"PLAYGROUND_MAX_UPLOAD_MB": configured})
    assert settings.upload_limit_mb(ceiling) == limit
