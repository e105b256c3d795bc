"""Our client's revision calls against the sandbox under uvicorn on loopback (contract §7.1)."""

from __future__ import annotations

import httpx
import pytest
from fruxon.flow_validation import to_draft_payload

from fruxon_playground.api import NotFoundError
from fruxon_playground.api.models import AgentRevision

QUESTION = {"question": "How do I reset my password?"}


def test_list_revisions_walks_every_page_newest_first(client) -> None:
    rows = client.list_revisions("release_digest")
    assert [r.agent_revision for r in rows] == [7, 6, 5, 4, 3, 2, 1]
    assert [r.is_current for r in rows].count(True) == 1 and rows[0].is_current
    assert rows[-1].last_deployed_at is None and rows[0].last_deployed_at >= rows[0].created_at
    assert rows[0].comment == "Tidy the system prompt." and rows[0].actor == "claude-code" and rows[0].created_by
    assert client.list_revisions("draft_only") == []
    with pytest.raises(NotFoundError):
        client.list_revisions("no_such_agent")


def test_get_revision_reads_definition_flow_and_parameters(client) -> None:
    revision = client.get_revision("support_agent", 2)
    assert revision.agent_revision == 2 and revision.is_current is False and revision.agent_id == "support_agent"
    assert revision.definition["userPrompt"] == {"template": "Customer question: {{param.question}}"}
    assert [m.name for m in revision.parameters_metadata] == ["question"]
    assert [s.type for s in revision.flow.steps] == ["ENTRY_POINT", "AGENT", "EXIT_POINT"]
    several = client.get_revision("trip_planner", 4)
    assert several.definition is None and several.draft_head() is None and len(several.flow.steps) == 4
    with pytest.raises(NotFoundError):
        client.get_revision("support_agent", 99)


def test_a_revision_runs_by_number_and_its_draft_head_matches_the_official_sdk(client, sandbox) -> None:
    raw = httpx.get(f"{sandbox.base_url}/v1/tenants/{sandbox.tenant}/agents/support_agent/revisions/2",
                    headers={"Authorization": f"Bearer {sandbox.api_key}"}).json()
    theirs, _ = to_draft_payload(raw)
    assert AgentRevision.model_validate(raw).draft_head() == theirs
    response = client.test("support_agent", {"baseRevision": 2, "parameters": QUESTION})
    assert response.trace.agent_revision == 2 and "Customer question" in response.response
    record = client.get_execution_record("support_agent", response.execution_record_id)
    assert record.agent_revision == 2 and record.origin == "TEST"
