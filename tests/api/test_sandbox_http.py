"""The sandbox over plain HTTP: auth rules, byte format, faults, replay, persistence, rate limit, CLI."""

from __future__ import annotations

import subprocess
import sys

import httpx
import pytest

from fruxon_playground.sandbox.config import SandboxConfig
from fruxon_playground.sandbox.embedded import start_sandbox

KEY = "fx_pat_http_tests_key_0000000001"


@pytest.fixture
def http(sandbox) -> httpx.Client:
    with httpx.Client(base_url=f"{sandbox.base_url}/v1/tenants/demo", headers={"Authorization": f"Bearer {sandbox.api_key}"},
                      timeout=30) as client:
        yield client


def test_auth_rules(sandbox) -> None:
    url = f"{sandbox.base_url}/v1/tenants/demo/auth/health"
    missing = httpx.get(url)
    assert missing.status_code == 401 and missing.headers["www-authenticate"] == "Bearer"
    assert missing.headers["content-type"] == "application/problem+json"
    assert httpx.get(url, headers={"X-API-KEY": sandbox.api_key}).status_code == 200
    both_one_wrong = httpx.get(url, headers={"X-API-KEY": sandbox.api_key, "Authorization": "Bearer nope"})
    assert both_one_wrong.status_code == 401  # fail closed
    assert httpx.get(url, headers={"Authorization": f"Basic {sandbox.api_key}"}).status_code == 401
    other = httpx.get(f"{sandbox.base_url}/v1/tenants/other/auth/health", headers={"X-API-KEY": sandbox.api_key})
    assert other.status_code == 403 and other.json()["detail"] == "The key is not bound to tenant 'other'."


def test_problem_bodies_for_bad_json_unknown_routes_and_paths(http) -> None:
    bad = http.post("/agents/support_agent:execute", content=b"{not json", headers={"Content-Type": "application/json"})
    assert bad.status_code == 400 and "$" in bad.json()["errors"]
    unknown = http.get("/no/such/endpoint")
    assert unknown.status_code == 404 and unknown.json()["title"] == "Not Found"
    body = http.post("/agents/support_agent:execute", json={"parameters": {}}).json()
    assert body["detail"] == "Parameter question is required" and body["instance"].endswith("support_agent:execute")


def test_query_names_bind_case_insensitively(http) -> None:
    first = http.get("/agents/support_agent/executionRecords", params={"PageSize": 3, "Status": "Completed"}).json()
    assert len(first["items"]) == 3 and {r["status"] for r in first["items"]} == {"COMPLETED"}
    skipped = http.get("/agents/support_agent/executionRecords", params={"pageSize": 3, "PageToken.Skip": 3,
                                                                       "status": "COMPLETED"}).json()
    following = http.get("/agents/support_agent/executionRecords",
                         params={"pageSize": 3, "pageToken": first["nextPageToken"], "status": "COMPLETED"}).json()
    assert [r["id"] for r in skipped["items"]] == [r["id"] for r in following["items"]]
    assert http.get("/agents/support_agent/execution-records").status_code == 200  # legacy spelling


def test_fault_header_error_drop_latency_and_status(http) -> None:
    body = {"parameters": {"message": "hi"}}
    error = http.post("/agents/echo_agent:stream", json=body, headers={"X-Sandbox-Fault": "error_after=2"})
    assert error.text.count("event: ") == 3 and "event: error" in error.text
    with pytest.raises(httpx.RemoteProtocolError):
        http.post("/agents/echo_agent:stream", json=body, headers={"X-Sandbox-Fault": "drop_after=2"})
    status = http.post("/agents/echo_agent:execute", json=body, headers={"X-Sandbox-Fault": "status=503"})
    assert status.status_code == 503 and status.headers["retry-after"] == "2"
    large = http.post("/agents/echo_agent:stream", json=body, headers={"X-Sandbox-Fault": "large_kb=512"})
    assert len(large.content) > 512 * 1024
    bad = http.post("/agents/echo_agent:execute", json=body, headers={"X-Sandbox-Fault": "explode=1"})
    assert bad.status_code == 400 and "Unknown fault item" in bad.json()["detail"]


def test_per_agent_faults_and_rate_limit(tmp_path) -> None:
    config = SandboxConfig(api_key=KEY, speed=0, seed_history=False, rate_limit=3, agent_faults={"echo_agent": "status=500"})
    sandbox = start_sandbox(config)
    try:
        headers = {"X-API-KEY": KEY}
        base = f"{sandbox.base_url}/v1/tenants/demo/agents"
        assert httpx.post(f"{base}/echo_agent:execute", json={"parameters": {"message": "x"}}, headers=headers).status_code == 500
        codes = [httpx.post(f"{base}/support_agent:execute", json={"parameters": {"question": "q"}}, headers=headers).status_code
                 for _ in range(4)]
        assert codes[:3] == [200, 200, 200] and codes[3] == 429
    finally:
        sandbox.stop()


def test_records_survive_a_restart_on_the_same_file(tmp_path) -> None:
    db = str(tmp_path / "sandbox.sqlite3")
    first = start_sandbox(SandboxConfig(api_key=KEY, db_path=db, speed=0))
    try:
        response = httpx.post(f"{first.base_url}/v1/tenants/demo/agents/echo_agent:execute",
                              json={"parameters": {"message": "remember me"}}, headers={"X-API-KEY": KEY}).json()
    finally:
        first.stop()
    second = start_sandbox(SandboxConfig(api_key=KEY, db_path=db, speed=0))
    try:
        record = httpx.get(f"{second.base_url}/v1/tenants/demo/agents/echo_agent/executionRecords/{response['executionRecordId']}",
                           headers={"X-API-KEY": KEY})
        assert record.status_code == 200 and record.json()["status"] == "COMPLETED"
        history = httpx.get(f"{second.base_url}/v1/tenants/demo/agents/support_agent/executionRecords",
                            params={"pageSize": 100}, headers={"X-API-KEY": KEY}).json()
        assert len(history["items"]) == 100  # seeded once, not twice
    finally:
        second.stop()


def test_seeded_history_spans_thirty_days_and_every_status(http) -> None:
    records = []
    for agent in ("support_agent", "release_digest", "trip_planner", "refund_desk", "echo_agent", "doc_reader"):
        for origin in ("PRODUCTION", "TEST"):
            records += http.get(f"/agents/{agent}/executionRecords", params={"pageSize": 100, "origin": origin}).json()["items"]
    assert len(records) >= 200
    statuses = {r["status"] for r in records}
    assert {"COMPLETED", "FAILED", "WAITING_FOR_ASYNC", "REJECTED"} <= statuses
    span_days = (max(r["startTime"] for r in records) - min(r["startTime"] for r in records)) / 86_400_000
    assert span_days > 25
    assert {r["environmentSlug"] for r in records} >= {"acme_corp", "globex", "initech", None}


def test_replay_serves_recorded_streams_byte_for_byte(tmp_path) -> None:
    recording = b"event: text\r\ndata: {\"chunk\":\"recorded\"}\r\n\r\n: comment\r\nevent: done\r\ndata: {}"
    (tmp_path / "recorded_agent.sse").write_bytes(recording)
    sandbox = start_sandbox(SandboxConfig(api_key=KEY, speed=0, seed_history=False, replay_dir=str(tmp_path), replay_chunk_size=5))
    try:
        base = f"{sandbox.base_url}/v1/tenants/demo/agents"
        response = httpx.post(f"{base}/recorded_agent:stream", json={}, headers={"X-API-KEY": KEY})
        assert response.content == recording
        agents = httpx.get(base, headers={"X-API-KEY": KEY}).json()["items"]
        assert "recorded_agent" in {a["id"] for a in agents}
    finally:
        sandbox.stop()


def test_cli_prints_its_url_and_key_and_serves(tmp_path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "fruxon_playground.sandbox", "--port", "0", "--api-key", KEY, "--speed", "0",
         "--db", str(tmp_path / "cli.sqlite3")],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        url = process.stdout.readline().split(" on ")[1].strip()
        assert "demo" in process.stdout.readline() and KEY in process.stdout.readline()
        assert httpx.get(f"{url}/v1/tenants/demo/auth/health", headers={"X-API-KEY": KEY}).status_code == 200
    finally:
        process.terminate()
        process.wait(10)
    assert process.returncode == 0


def test_fifty_concurrent_streams_lose_nothing(timed_sandbox) -> None:
    import threading

    counts: list[int] = []
    lock = threading.Lock()

    def one() -> None:
        with httpx.stream("POST", f"{timed_sandbox.base_url}/v1/tenants/demo/agents/echo_agent:stream",
                          json={"parameters": {"message": "same for all"}}, headers={"X-API-KEY": timed_sandbox.api_key},
                          timeout=60) as response:
            text = response.read().decode()
        with lock:
            counts.append(text.count("event: "))

    threads = [threading.Thread(target=one) for _ in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(counts) == 50 and len(set(counts)) == 1 and counts[0] > 5  # deterministic runs: identical counts


def test_fault_header_and_agent_faults_take_scenario_switches() -> None:
    config = SandboxConfig(api_key=KEY, speed=0, seed_history=False, agent_faults={"release_digest": "scenario=tool_fail"})
    sandbox = start_sandbox(config)
    try:
        headers = {"X-API-KEY": KEY}
        base = f"{sandbox.base_url}/v1/tenants/demo/agents"
        paused = httpx.post(f"{base}/support_agent:execute", json={"parameters": {"question": "q"}},
                            headers={**headers, "X-Sandbox-Fault": "scenario=hitl"}).json()
        assert paused["status"] == "WAITING_FOR_HUMAN" and paused["humanApprovalRequestId"]
        approved = httpx.post(f"{base}/support_agent/pendingApprovals/{paused['humanApprovalRequestId']}:respond",
                              json={"text": "approve"}, headers=headers)
        assert approved.json()["decision"] == "APPROVE"
        record = httpx.get(f"{base}/support_agent/executionRecords/{paused['executionRecordId']}", headers=headers).json()
        assert record["status"] == "COMPLETED"
        stream = httpx.post(f"{base}/release_digest:stream", json={"parameters": {"repo": "acme/app"}}, headers=headers).text
        assert '"status":"failed"' in stream and stream.rstrip("\n").endswith("}")
        unknown = httpx.post(f"{base}/echo_agent:execute", json={"parameters": {"message": "x"}},
                             headers={**headers, "X-Sandbox-Fault": "scenario=sleepy"})
        assert unknown.status_code == 400 and "Unknown scenario" in unknown.json()["detail"]
    finally:
        sandbox.stop()
