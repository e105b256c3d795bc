"""Request paths and redirects, checked on the wire: a loopback server records each request as sent."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest

from fruxon_playground.api import FruxonAPIError, FruxonClient
from fruxon_playground.api.errors import RedirectedError, UnsafePathSegment
from tests.api._loopback import serve
from tests.api._recorder import Recorder

KEY = "fx_pat_paths_suite_key_0000000042"
EVIL = "x/../../internal?"
EVIL_ENCODED = "x%2F..%2F..%2Finternal%3F"


@pytest.fixture(scope="module")
def recorder_server() -> Iterator[tuple[Recorder, str]]:
    recorder = Recorder()
    with serve(recorder) as url:
        yield recorder, url


@pytest.fixture
def recorder(recorder_server: tuple[Recorder, str]) -> Recorder:
    recorder_server[0].reset()
    return recorder_server[0]


def client_for(recorder_server: tuple[Recorder, str], tenant: str = "acme") -> FruxonClient:
    return FruxonClient(recorder_server[1], KEY, tenant)


def test_a_hostile_tenant_stays_one_segment(recorder_server, recorder: Recorder) -> None:
    with client_for(recorder_server, tenant=EVIL) as client:
        client.auth_health()
    assert recorder.paths() == [f"/v1/tenants/{EVIL_ENCODED}/auth/health"]


CALLS = [
    ("get_agent", (EVIL,), f"agents/{EVIL_ENCODED}"),
    ("get_parameters", ("echo_agent", "1/../../x"), "agents/echo_agent/revisions/1%2F..%2F..%2Fx/parameters"),
    ("get_execution_record", ("echo_agent", EVIL), f"agents/echo_agent/executionRecords/{EVIL_ENCODED}"),
    ("get_execution_result", (EVIL, "r#1"), f"agents/{EVIL_ENCODED}/executionRecords/r%231/result"),
    ("get_approval", ("echo_agent", "a b/c"), "agents/echo_agent/pendingApprovals/a%20b%2Fc"),
    ("get_environment", ("%2e%2e",), "environments/%252e%252e"),
    ("list_execution_records_page", (EVIL,), f"agents/{EVIL_ENCODED}/executionRecords?pageSize=50"),
]


@pytest.mark.parametrize(("method", "args", "expected"), CALLS, ids=[c[0] for c in CALLS])
def test_every_id_is_percent_encoded(recorder_server, recorder: Recorder, method: str, args: tuple, expected: str) -> None:
    # The recorder answers 404 for these; what matters is where the request went.
    with client_for(recorder_server) as client, contextlib.suppress(FruxonAPIError):
        getattr(client, method)(*args)
    assert recorder.paths() == [f"/v1/tenants/acme/{expected}"]


def test_action_suffix_keeps_its_colon_and_the_ids_before_it_are_encoded(recorder_server, recorder: Recorder) -> None:
    with client_for(recorder_server) as client:
        for call in (lambda: client.execute("a:b", {}), lambda: client.respond_to_approval("echo_agent", "id?x", "approve"),
                     lambda: client.test_stored_draft("echo_agent", "2/x", {})):
            with pytest.raises(FruxonAPIError):
                call()
    assert recorder.paths() == [
        "/v1/tenants/acme/agents/a%3Ab:execute",
        "/v1/tenants/acme/agents/echo_agent/pendingApprovals/id%3Fx:respond",
        "/v1/tenants/acme/agents/echo_agent/revisions/2%2Fx/draft:test",
    ]


def test_revision_wildcard_is_sent_as_the_contract_spells_it(recorder_server, recorder: Recorder) -> None:
    with client_for(recorder_server) as client, pytest.raises(FruxonAPIError):
        client.cost("echo_agent", "*")
    assert recorder.paths() == ["/v1/tenants/acme/agents/echo_agent/revisions/*/cost"]


@pytest.mark.parametrize("bad", ["", ".", ".."])
def test_dot_and_empty_ids_are_refused_before_sending(recorder_server, recorder: Recorder, bad: str) -> None:
    with client_for(recorder_server) as client:
        with pytest.raises(UnsafePathSegment):
            client.get_execution_record("echo_agent", bad)
        with pytest.raises(UnsafePathSegment):
            client.execute(bad, {})
    with client_for(recorder_server, tenant=bad) as client, pytest.raises(UnsafePathSegment):
        client.auth_health()
    assert recorder.count() == 0


def test_a_path_built_without_encoding_is_refused(recorder_server, recorder: Recorder) -> None:
    """The guard for a method that forgets `_seg`: no dot segment, `?` or `#` ever leaves."""
    with client_for(recorder_server) as client:
        for raw in ("agents/../../internal", "agents/x?admin=1", "agents/x#y", "agents/a b"):
            with pytest.raises(UnsafePathSegment):
                client._get(raw)
    assert recorder.count() == 0


def test_temporary_upload_sends_the_flag_as_a_query_parameter(recorder_server, recorder: Recorder) -> None:
    with client_for(recorder_server) as client:
        link = client.upload_file("a.txt", b"hello", "text/plain", temporary=True)
    assert link.file_id == "f1"
    assert recorder.paths() == ["/v1/tenants/acme/storage?temporary=true"]


@pytest.fixture
def redirecting() -> Iterator[tuple[Recorder, str, Recorder, str]]:
    """A server that redirects every request to a second one, which records what reaches it."""
    target = Recorder()
    with serve(target) as target_url:
        redirector = Recorder(redirect_to=target_url)
        with serve(redirector) as url:
            yield redirector, url, target, target_url


def test_a_redirect_is_reported_and_never_followed_with_the_key(redirecting) -> None:
    redirector, url, target, target_url = redirecting
    with FruxonClient(url, KEY, "acme") as client:
        with pytest.raises(RedirectedError) as caught:
            client.auth_health()
        with pytest.raises(RedirectedError):
            client.list_agents()
        with pytest.raises(RedirectedError):
            client.execute("echo_agent", {})
        with pytest.raises(FruxonAPIError), client.stream("echo_agent", {}):
            pass
    assert str(caught.value).startswith(f"The server redirected to {target_url}; the key was not sent there")
    assert caught.value.target == target_url
    assert target.count() == 0  # nothing, and so no key, reached the redirect's target
    assert redirector.count() == 4  # one request each: a redirect is not retried either
    assert all(r.headers["x-api-key"] == KEY for r in redirector.requests)
