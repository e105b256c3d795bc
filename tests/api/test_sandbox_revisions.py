"""Revisions (contract §7.1) against the sandbox under uvicorn on loopback: the list, one revision's
body, its parameters, and running a chosen revision with `baseRevision = N` and no flow."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

QUESTION = {"question": "How do I reset my password?"}


@pytest.fixture
def http(sandbox) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"{sandbox.base_url}/v1/tenants/demo", headers={"Authorization": f"Bearer {sandbox.api_key}"},
                      timeout=30) as client:
        yield client


def test_the_list_is_newest_first_with_the_live_revision_marked(http) -> None:
    rows = http.get("/agents/support_agent/revisions").json()
    assert rows["nextPageToken"] is None
    items = rows["items"]
    assert [r["agentRevision"] for r in items] == [3, 2, 1]
    assert [r["isCurrent"] for r in items] == [True, False, False]
    assert [r["createdAt"] for r in items] == sorted((r["createdAt"] for r in items), reverse=True)
    assert items[2]["lastDeployedAt"] is None  # a first revision goes live at creation, without a deploy
    assert items[0]["createdAt"] <= items[0]["lastDeployedAt"]
    assert all(r["agentId"] == "support_agent" and r["comment"] and r["createdBy"] and r["actor"] for r in items)
    assert items[0]["comment"] == "Add a tone option (friendly or formal)." and items[0]["actor"] == "claude-code"


def test_the_list_pages(http) -> None:
    first = http.get("/agents/release_digest/revisions", params={"pageSize": 3}).json()
    assert [r["agentRevision"] for r in first["items"]] == [7, 6, 5]
    seen = [r["agentRevision"] for r in first["items"]]
    token = first["nextPageToken"]
    while token:
        following = http.get("/agents/release_digest/revisions", params={"pageSize": 3, "pageToken": token}).json()
        seen += [r["agentRevision"] for r in following["items"]]
        token = following["nextPageToken"]
    assert seen == [7, 6, 5, 4, 3, 2, 1]
    assert http.get("/agents/draft_only/revisions").json() == {"items": [], "nextPageToken": None}
    assert http.get("/agents/no_such_agent/revisions").status_code == 404


def test_a_revision_body_is_its_definition_flow_and_parameters(http) -> None:
    body = http.get("/agents/support_agent/revisions/2").json()
    assert body["agentId"] == "support_agent" and body["agentRevision"] == 2 and body["isCurrent"] is False
    assert body["comment"].startswith("Search the knowledge base") and body["createdBy"] and body["createdAt"]
    definition = body["definition"]
    assert definition["userPrompt"]["template"] == "Customer question: {{param.question}}"
    assert definition["tools"] == [{"toolKey": {"integrationId": "kb", "id": "search_articles"}}]
    assert "identifier" not in definition and "type" not in definition
    assert [m["name"] for m in body["parametersMetadata"]] == ["question"]
    assert [s["type"] for s in body["flow"]["steps"]] == ["ENTRY_POINT", "AGENT", "EXIT_POINT"]
    assert body["integrationSlots"] == [] and body["integrationBindings"] == {} and body["assets"] == [] and body["slots"] == []
    first = http.get("/agents/support_agent/revisions/1").json()
    assert first["definition"]["tools"] == [] and first["definition"]["provider"]["model"] == "gpt-4o"


def test_a_revision_of_several_agents_has_no_definition_but_its_flow(http) -> None:
    body = http.get("/agents/trip_planner/revisions/4").json()
    assert body["definition"] is None
    assert [s["identifier"] for s in body["flow"]["steps"]] == ["entry", "research", "plan", "exit"]


@pytest.mark.parametrize("path", ["/agents/support_agent/revisions/9", "/agents/support_agent/revisions/0",
                                  "/agents/support_agent/revisions/latest", "/agents/draft_only/revisions/1",
                                  "/agents/no_such_agent/revisions/1"])
def test_unknown_revisions_are_404_problems(http, path) -> None:
    response = http.get(path)
    assert response.status_code == 404 and response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 404


def test_parameters_follow_the_revision(http) -> None:
    def names(revision: str) -> list[str]:
        return http.get(f"/agents/support_agent/revisions/{revision}/parameters").json()["parameters"]

    assert names("2") == ["question"] and names("3") == names("*") == ["question", "tone"]
    assert http.get("/agents/support_agent/revisions/4/parameters").status_code == 404


def test_base_revision_without_a_flow_runs_that_revision(http) -> None:
    answers = {}
    for revision in (1, 2, 3):
        response = http.post("/agents/support_agent:test", json={"baseRevision": revision, "parameters": QUESTION})
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["trace"]["agentRevision"] == revision
        answers[revision] = body["response"]
        record = http.get(f"/agents/support_agent/executionRecords/{body['executionRecordId']}").json()
        assert record["agentRevision"] == revision and record["origin"] == "TEST"
    assert "Customer question: How do I reset my password?" in answers[2]
    assert "(tone: friendly)" in answers[3] and "Customer question" not in answers[3]
    assert "Resetting your password" not in answers[1] and "Resetting your password" in answers[2]  # rev 1 has no tool
    listed = http.get("/agents/support_agent/executionRecords", params={"origin": "TEST", "agentRevision": 2}).json()
    assert listed["items"] and {r["agentRevision"] for r in listed["items"]} == {2}


def test_a_pinned_revision_takes_only_its_own_parameters(http) -> None:
    response = http.post("/agents/support_agent:test",
                         json={"baseRevision": 2, "parameters": {**QUESTION, "tone": "formal"}})
    assert response.status_code == 400 and "parameters.tone" in response.json()["errors"]


def test_stream_test_of_a_pinned_revision_streams_that_revision(http) -> None:
    def events(revision: int) -> list[tuple[str, str]]:
        text = http.post("/agents/support_agent:streamTest", json={"baseRevision": revision, "parameters": QUESTION}).text
        frames = [f.split("\n") for f in text.strip("\n").split("\n\n")]
        return [(lines[0].removeprefix("event: "), lines[1].removeprefix("data: ")) for lines in frames]

    first, third = events(1), events(3)
    assert not any(name == "tool_call" for name, _ in first) and any(name == "tool_call" for name, _ in third)
    assert '"agentRevision":1' in first[-1][1] and '"agentRevision":3' in third[-1][1]
    assert any(name == "step_trace" for name, _ in first)  # a test stream, with its steps


def test_an_inline_flow_is_still_a_draft_whatever_its_base_revision(http) -> None:
    flow = http.get("/agents/support_agent/revisions/2").json()["flow"]
    response = http.post("/agents/support_agent:test", json={"baseRevision": 2, "flow": flow, "parameters": QUESTION})
    assert response.status_code == 200 and response.json()["trace"]["agentRevision"] == -1
    stored = http.post("/agents/support_agent/revisions/2/draft:test", json={"parameters": QUESTION}).json()
    assert stored["trace"]["agentRevision"] == -1 and "Customer question" in stored["response"]
