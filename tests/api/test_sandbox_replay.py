"""Recorded streams (`.sse` replay agents) against the sandbox under uvicorn on loopback.

A replay agent is an agent like the others: it has details, parameters and a revision, and its
recording is served byte for byte on every stream path, the stored-draft one included.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fruxon import FruxonClient as SdkClient

from fruxon_playground.sandbox.config import SandboxConfig
from fruxon_playground.sandbox.embedded import RunningSandbox, start_sandbox

KEY = "fx_pat_replay_tests_key_00000001"
SMALL = b"event: text\r\ndata: {\"chunk\":\"recorded\"}\r\n\r\n: comment\r\nevent: done\r\ndata: {}"


def big_recording(frames: int = 12_000) -> bytes:
    """About 1 MB of text frames and a final `done`, as a long recorded run."""
    text = "".join(f"event: text\ndata: {json.dumps({'chunk': f'word {i} of a long recorded answer '})}\n\n"
                   for i in range(frames))
    return (text + 'event: done\ndata: {"executionRecordId":"rec_1","sessionId":"s_1"}\n').encode()


BIG = big_recording()


@pytest.fixture(scope="module")
def replays(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSandbox]:
    directory: Path = tmp_path_factory.mktemp("replays")
    (directory / "recorded_agent.sse").write_bytes(SMALL)
    (directory / "big_replay.sse").write_bytes(BIG)
    running = start_sandbox(SandboxConfig(api_key=KEY, speed=0, seed_history=False, replay_dir=str(directory),
                                          replay_chunk_size=4096))
    yield running
    running.stop()


@pytest.fixture
def http(replays: RunningSandbox) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"{replays.base_url}/v1/tenants/demo", headers={"Authorization": f"Bearer {KEY}"},
                      timeout=30) as client:
        yield client


def post_with_late_body(base_url: str, path: str, body: bytes) -> bytes:
    """POST whose body arrives 0.3 s after its headers (as a busy client sends it), then read slowly.

    Returns the de-chunked response body; raises ConnectionResetError if the server reset the
    connection (what answering before the body arrived did, losing the end of big replays)."""
    host, port = base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        head = (f"POST /v1/tenants/demo/{path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {KEY}\r\n"
                f"Content-Type: application/json\r\nConnection: close\r\nContent-Length: {len(body)}\r\n\r\n")
        sock.sendall(head.encode())
        time.sleep(0.3)
        sock.sendall(body)
        time.sleep(0.3)  # a reader that is not waiting on the socket
        raw = bytearray()
        while chunk := sock.recv(65536):
            raw += chunk
    headers, _, payload = bytes(raw).partition(b"\r\n\r\n")
    assert headers.startswith(b"HTTP/1.1 200"), headers[:200]
    return dechunk(payload)


def dechunk(payload: bytes) -> bytes:
    out = bytearray()
    while payload:
        size_line, _, rest = payload.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        out += rest[:size]
        payload = rest[size + 2:]
    return bytes(out)


@pytest.mark.parametrize("path", ["agents/big_replay:stream", "agents/big_replay:streamTest",
                                  "agents/big_replay/revisions/1/draft:streamTest"])
def test_a_late_request_body_still_gets_the_whole_recording(replays, path) -> None:
    assert post_with_late_body(replays.base_url, path, b'{"parameters": {}}') == BIG


@pytest.mark.parametrize("path", ["agents/recorded_agent:stream", "agents/recorded_agent:streamTest",
                                  "agents/recorded_agent/revisions/1/draft:streamTest"])
def test_every_stream_path_serves_the_recording_byte_for_byte(http, path) -> None:
    response = http.post(path, json={"parameters": {}})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
    assert response.content == SMALL


def test_official_sdk_reads_big_replays_on_every_stream_path(replays) -> None:
    sdk = SdkClient(token=KEY, workspace="demo", base_url=replays.base_url)
    for _ in range(3):
        events = list(sdk.stream("big_replay", parameters={}))
        assert len(events) == 12_001 and events[-1].event == "done" and events[-1].data["executionRecordId"] == "rec_1"
    drafted = list(sdk.stream_test("big_replay", 1, {"parameters": {}}))
    assert len(drafted) == 12_001 and drafted[-1].event == "done"


def test_replay_agents_have_details_parameters_and_a_revision(http) -> None:
    listed = {a["id"]: a for a in http.get("/agents").json()["items"]}
    detail = http.get("/agents/recorded_agent")
    assert detail.status_code == 200 and detail.json() == listed["recorded_agent"]
    assert detail.json()["displayName"] == "Replay: recorded_agent" and detail.json()["currentRevision"] == 1
    assert http.get("/agents/recorded_agent/revisions/1/parameters").json() == {"parameters": [], "metadata": []}
    assert http.get("/agents/recorded_agent/revisions/2/parameters").status_code == 404
    (row,) = http.get("/agents/recorded_agent/revisions").json()["items"]
    assert row["agentRevision"] == 1 and row["isCurrent"] is True
    body = http.get("/agents/recorded_agent/revisions/1").json()
    assert body["definition"] is None and body["flow"] is None and body["parametersMetadata"] == []
    assert http.get("/agents/recorded_agent/executionRecords").json()["items"] == []


def test_replays_only_stream_and_take_the_fault_header(http) -> None:
    sync = http.post("/agents/recorded_agent:execute", json={})
    assert sync.status_code == 400 and sync.headers["content-type"] == "application/problem+json"
    assert ":stream" in sync.json()["detail"]
    assert http.post("/agents/recorded_agent/revisions/1/draft:test", json={}).status_code == 400
    unavailable = http.post("/agents/recorded_agent:stream", json={}, headers={"X-Sandbox-Fault": "status=503"})
    assert unavailable.status_code == 503 and unavailable.headers["retry-after"] == "2"
    switched = http.post("/agents/recorded_agent:stream", json={"parameters": {"q": "[[sandbox:status_429]]"}})
    assert switched.status_code == 429
    assert http.post("/agents/recorded_agent:stream", content=b"{broken").status_code == 400


def test_a_recording_named_like_a_demo_agent_replaces_its_stream_only(tmp_path) -> None:
    (tmp_path / "echo_agent.sse").write_bytes(SMALL)
    sandbox = start_sandbox(SandboxConfig(api_key=KEY, speed=0, seed_history=False, replay_dir=str(tmp_path)))
    try:
        headers = {"X-API-KEY": KEY}
        base = f"{sandbox.base_url}/v1/tenants/demo/agents"
        assert httpx.post(f"{base}/echo_agent:stream", json={}, headers=headers).content == SMALL
        assert httpx.get(f"{base}/echo_agent", headers=headers).json()["displayName"] == "Echo Agent"
        params = httpx.get(f"{base}/echo_agent/revisions/1/parameters", headers=headers).json()
        assert params["parameters"] == ["message"]
    finally:
        sandbox.stop()
