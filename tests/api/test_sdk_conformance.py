"""The official `fruxon` SDK from PyPI, unchanged, against the sandbox: the peer that keeps it honest.

Each call the contract lists (§10.9) must work, and where our client makes the same call the two
must agree.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from fruxon import FruxonClient as SdkClient
from fruxon.exceptions import AuthenticationError, NotFoundError, StaleDraftError, ValidationError
from fruxon.flow_validation import to_draft_payload, validate_draft

from fruxon_playground.api import events as ev

QUESTION = {"question": "How do I reset my password?"}


@pytest.fixture
def sdk(sandbox) -> SdkClient:
    return SdkClient(token=sandbox.api_key, workspace=sandbox.tenant, base_url=sandbox.base_url)


def test_execute_matches_our_client(sdk, client) -> None:
    theirs = sdk.execute("support_agent", parameters=QUESTION, environment_slug="acme_corp")
    ours = client.execute("support_agent", {"parameters": QUESTION, "environmentSlug": "acme_corp"})
    assert theirs.response == ours.response  # deterministic from the inputs
    assert theirs.trace.agent_revision == ours.trace.agent_revision == 3
    assert theirs.trace.input_tokens == ours.trace.input_tokens
    record = client.get_execution_record("support_agent", theirs.execution_record_id)
    assert record.environment_slug == "acme_corp"


def test_stream_and_stream_text_match_our_stream(sdk, client) -> None:
    sdk_events = list(sdk.stream("support_agent", parameters=QUESTION))
    with client.stream("support_agent", {"parameters": QUESTION}) as stream:
        ours = list(stream)
    assert [e.event for e in sdk_events] == [e.event for e in ours]
    assert sdk_events[-1].event == "done" and sdk_events[-1].data["executionRecordId"]
    text = "".join(sdk.stream_text("support_agent", parameters=QUESTION))
    assert text == "".join(e.chunk for e in ours if isinstance(e, ev.TextEvent))


def test_draft_put_get_test_and_stream_test(sdk) -> None:
    with pytest.raises(NotFoundError):
        sdk.get_draft("release_digest", 7)  # 204: no draft yet
    head = {"comment": "try gpt-4o", "definition": {"displayName": "Digest", "provider": {"providerId": "openai", "model": "gpt-4o"},
                                                    "userPrompt": {"template": "Summarise {{param.repo}}"}},
            "parametersMetadata": [{"name": "repo", "type": "STRING", "required": True}]}
    saved = sdk.put_draft("release_digest", 7, head)
    assert saved["version"] == 1 and sdk.get_draft("release_digest", 7)["headData"] == head
    result = sdk.test("release_digest", 7, {"parameters": {"repo": "acme/app"}}, if_match=1)
    assert "acme/app" in result.response
    events = list(sdk.stream_test("release_digest", 7, {"parameters": {"repo": "acme/app"}}))
    assert events[-1].event == "done" and any(e.event == "step_trace" for e in events)
    assert sdk.put_draft("release_digest", 7, {**head, "comment": "v2"}, if_match=1)["version"] == 2
    with pytest.raises(StaleDraftError):
        sdk.put_draft("release_digest", 7, {**head, "comment": "v3"}, if_match=1)
    with pytest.raises(StaleDraftError):
        sdk.test("release_digest", 7, {"parameters": {"repo": "acme/app"}}, if_match=1)


def test_records_trace_result_match_our_client(sdk, client) -> None:
    theirs = sdk.list_execution_records("support_agent", status=["COMPLETED"], environment="acme_corp")
    ours = list(client.list_execution_records("support_agent", status=["COMPLETED"], environment="acme_corp", limit=50))
    assert [r.id for r in theirs] == [r.id for r in ours]
    record = sdk.get_execution_record("support_agent", theirs[0].id)
    assert record.status == "COMPLETED" and record.total_cost == pytest.approx(float(ours[0].total_cost))
    trace = sdk.get_execution_trace("support_agent", theirs[0].id)
    assert trace is not None
    result = sdk.get_execution_result("support_agent", theirs[0].id)
    assert result is not None
    tests = sdk.list_execution_records("support_agent", origin="TEST")
    assert tests and all(r.agent_revision == -1 for r in tests)


def test_environments_costs_agents_and_parameters(sdk, client) -> None:
    slugs = {e.slug for e in sdk.list_environments()}
    assert {"acme_corp", "globex", "initech"} <= slugs
    cost = sdk.get_test_cost("support_agent")
    assert cost["executionCount"] == client.cost("support_agent", origin="TEST").execution_count
    agents = {a.id: a for a in sdk.list_agents()}
    assert agents["support_agent"].current_revision == 3
    assert sdk.get_agent("trip_planner").display_name == "Trip Planner"
    metadata = sdk.get_agent_parameter_metadata("support_agent", 3)
    assert [m["name"] for m in metadata["metadata"]] == ["question", "tone"]


def test_sdk_errors_map_to_its_exceptions(sandbox, sdk) -> None:
    with pytest.raises(ValidationError):
        sdk.execute("support_agent", parameters={})
    with pytest.raises(NotFoundError):
        sdk.execute("draft_only")
    bad = SdkClient(token="fx_pat_wrong", workspace=sandbox.tenant, base_url=sandbox.base_url)
    with pytest.raises(AuthenticationError):
        bad.list_agents()


def test_sdk_lists_and_reads_revisions(sdk) -> None:
    rows = sdk.list_agent_revisions("support_agent")
    assert [(r.revision, r.is_current) for r in rows] == [(3, True), (2, False), (1, False)]
    assert rows[0].actor == "claude-code" and rows[0].created_by and rows[0].last_deployed_at
    assert rows[2].last_deployed_at is None and rows[2].comment.startswith("First version")
    paged = sdk.list_agent_revisions("release_digest", limit=4)  # pageSize=4, one page
    assert [r.revision for r in paged] == [7, 6, 5, 4]
    body = sdk.get_revision("support_agent", 2)
    assert body["agentRevision"] == 2 and body["definition"]["userPrompt"]["template"].startswith("Customer question")
    with pytest.raises(NotFoundError):
        sdk.get_revision("support_agent", 42)


def test_a_pulled_revision_becomes_a_draft_that_runs(sdk) -> None:
    head, reason = to_draft_payload(sdk.get_revision("support_agent", 2))  # what `fruxon agents draft pull` does
    assert reason is None and validate_draft(head) == []  # the SDK's own lint finds nothing to fix
    sdk.put_draft("support_agent", 2, head)
    result = sdk.test("support_agent", 2, {"parameters": QUESTION})
    assert "Customer question: How do I reset my password?" in result.response
    assert result.trace.agent_revision == -1  # a draft run


def test_cli_draft_pull_seeds_a_file_from_a_revision(sandbox, tmp_path) -> None:
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "FRUXON_CONFIG_DIR": str(tmp_path / "config"),
           "FRUXON_TOKEN": sandbox.api_key, "FRUXON_NO_KEYRING": "1", "FRUXON_NO_UPDATE_CHECK": "1",
           "FRUXON_NO_TELEMETRY": "1", "DO_NOT_TRACK": "1"}
    pulled = subprocess.run(
        [sys.executable, "-m", "fruxon", "agents", "draft", "pull", "echo_agent", "--revision", "1", "--file", "echo.json",
         "--workspace", sandbox.tenant, "--base-url", sandbox.base_url, "-o", "json"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )
    assert pulled.returncode == 0, pulled.stderr
    assert json.loads(pulled.stdout)["source"] == "revision"
    head = json.loads((tmp_path / "echo.json").read_text())
    assert head["definition"]["userPrompt"] == {"template": "{{param.message}}"}
    assert [m["name"] for m in head["parametersMetadata"]] == ["message"]
