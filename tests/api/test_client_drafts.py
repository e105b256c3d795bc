"""Stored drafts and revision runs through our client, against the sandbox under uvicorn (contract
§4.4, §4.6, §7.1): read/save with If-Match, the 409 a second writer causes, runs of a chosen
revision and of the stored draft, and the draft editor's open/save helpers end to end."""

from __future__ import annotations

import copy
import io
from contextlib import redirect_stdout

import pytest

from fruxon_playground import drafts
from fruxon_playground.api import ConflictError, FruxonClient, NotFoundError
from fruxon_playground.api.errors import UnsafePathSegment
from fruxon_playground.contract.validation import validate_test_body
from fruxon_playground.snippets import to_python_sdk_stored_draft

QUESTION = {"question": "How do I reset my password?"}


@pytest.fixture
def second_client(sandbox):
    """Another writer of the same tenant: what a colleague or the CLI would be."""
    with FruxonClient(sandbox.base_url, sandbox.api_key, sandbox.tenant) as other:
        yield other


def echo_head(template: str) -> dict:
    return {"comment": "test", "definition": {"displayName": "Echo", "userPrompt": {"template": template},
                                              "provider": {"providerId": "openai", "model": "gpt-4o-mini"}},
            "parametersMetadata": [{"name": "message", "type": "STRING", "required": True}]}


def test_get_draft_is_none_until_one_is_stored_then_versions_count_up(client) -> None:
    assert client.get_draft("echo_agent", 1) is None  # 204 No Content
    first = client.put_draft("echo_agent", 1, echo_head("one {{param.message}}"))
    assert first.version == 1 and first.base_revision == 1 and first.agent_id == "echo_agent"
    read = client.get_draft("echo_agent", 1)
    assert read.version == 1 and read.head_data["definition"]["userPrompt"]["template"] == "one {{param.message}}"
    same = client.put_draft("echo_agent", 1, echo_head("one {{param.message}}"), if_match=1)
    assert same.version == 1  # an identical head is a no-op
    second = client.put_draft("echo_agent", 1, echo_head("two {{param.message}}"), if_match=1)
    assert second.version == 2 and client.get_draft("echo_agent", 1).head_data == echo_head("two {{param.message}}")


def test_a_stale_if_match_is_refused_with_the_current_version(client, second_client) -> None:
    base = client.put_draft("doc_reader", 2, echo_head("mine {{param.message}}")).version
    second_client.put_draft("doc_reader", 2, echo_head("theirs {{param.message}}"), if_match=base)
    with pytest.raises(ConflictError) as refused:
        client.put_draft("doc_reader", 2, echo_head("mine again {{param.message}}"), if_match=base)
    assert refused.value.status == 409 and refused.value.code == "stale_draft"
    assert refused.value.current_version == base + 1
    assert client.get_draft("doc_reader", 2).head_data["definition"]["userPrompt"]["template"] == "theirs {{param.message}}"


def test_draft_ids_stay_inside_their_path_segment(client) -> None:
    with pytest.raises(NotFoundError):
        client.get_draft("echo_agent/../support_agent", 1)  # one encoded segment: an unknown agent
    with pytest.raises(UnsafePathSegment):
        client.put_draft("..", 1, {})


def test_a_chosen_revision_runs_by_number_and_leaves_out_what_a_test_request_cannot_carry(client) -> None:
    form = {"parameters": QUESTION, "environmentSlug": "globex", "chatUser": {"id": "u1"}, "sessionId": "s-1"}
    body, dropped = drafts.pinned_revision_body(form, 2)
    assert body == {"baseRevision": 2, "parameters": QUESTION, "sessionId": "s-1"}
    assert dropped == ["environmentSlug", "chatUser"]
    response = client.test("support_agent", body)
    assert response.trace.agent_revision == 2 and "Customer question: How do I reset" in response.response
    with client.stream_test("support_agent", {"baseRevision": 1, "parameters": QUESTION}) as stream:
        done = [e for e in stream if e.event == "done"][-1]
    assert done.trace.agent_revision == 1


def test_a_revision_opens_as_a_valid_draft_that_runs_inline(client) -> None:
    opened = drafts.open_revision(client, "support_agent", 2, QUESTION)
    assert opened.base_revision == 2 and opened.stored is None and not opened.from_stored
    validate_test_body(copy.deepcopy(opened.request))  # what the server would accept
    assert opened.request["parameters"] == QUESTION and opened.request["baseRevision"] == 2
    response = client.test("support_agent", opened.request)
    assert response.trace.agent_revision == -1 and "Customer question: How do I reset" in response.response
    several = drafts.open_revision(client, "trip_planner", 4)
    assert drafts.storable_problem(several.request) is not None  # two agents: runs inline, cannot be stored
    validate_test_body(copy.deepcopy({**several.request, "parameters": {"city": "Oslo"}}))


def test_save_then_a_second_writer_then_keep_mine_or_take_theirs(client, second_client) -> None:
    opened = drafts.open_revision(client, "release_digest", 3)
    mine = drafts.head_from_request(opened.request)
    first = drafts.save_head(client, "release_digest", 3, mine, known_version=None)
    assert not first.conflict and first.saved.version == 1
    theirs = copy.deepcopy(mine)
    theirs["definition"]["systemPrompt"] = {"template": "Theirs."}
    second_client.put_draft("release_digest", 3, theirs, if_match=1)
    mine["definition"]["systemPrompt"] = {"template": "Mine."}
    refused = drafts.save_head(client, "release_digest", 3, mine, known_version=1)
    assert refused.conflict and refused.theirs.version == 2 and refused.theirs.head_data == theirs
    assert drafts.head_differences(mine, refused.theirs.head_data) == ["definition.systemPrompt.template"]
    kept = drafts.save_head(client, "release_digest", 3, mine, known_version=refused.theirs.version)
    assert kept.saved.version == 3 and client.get_draft("release_digest", 3).head_data == mine
    taken = drafts.open_stored(client, "release_digest", 3)
    assert taken.from_stored and taken.stored.version == 3
    assert drafts.head_from_request(taken.request, taken.stored.head_data) == mine  # the round trip is exact


def test_saving_without_a_known_version_never_overwrites_a_draft_unseen(client, second_client) -> None:
    second_client.put_draft("refund_desk", 1, echo_head("someone else's"))
    outcome = drafts.save_head(client, "refund_desk", 1, echo_head("mine"), known_version=None)
    assert outcome.conflict and outcome.theirs.head_data == echo_head("someone else's")
    assert client.get_draft("refund_desk", 1).head_data == echo_head("someone else's")


def test_the_stored_draft_runs_with_the_saved_edits(client) -> None:
    opened = drafts.open_revision(client, "support_agent", 1, QUESTION)
    head = drafts.head_from_request(opened.request)
    head["definition"]["userPrompt"] = {"template": "STORED EDIT {{param.question}}"}
    saved = client.put_draft("support_agent", 1, head)
    body = drafts.stored_run_body({**opened.request, "sessionId": "s-9"})
    assert set(body) == {"parameters", "sessionId"}
    response = client.test_stored_draft("support_agent", 1, body, if_match=saved.version)
    assert "STORED EDIT How do I reset" in response.response and response.trace.agent_revision == -1
    with client.stream_stored_draft("support_agent", 1, body) as stream:
        done = [e for e in stream if e.event == "done"][-1]
    assert "STORED EDIT" in done.response


def test_a_record_opens_as_its_revision_with_its_parameters(client) -> None:
    ran = client.test("support_agent", {"baseRevision": 2, "parameters": {"question": "Where is my invoice?"}})
    record = client.get_execution_record("support_agent", ran.execution_record_id)
    opened = drafts.open_record(client, "support_agent", record.id, record.agent_revision)
    assert opened.base_revision == 2 and opened.request["parameters"] == {"question": "Where is my invoice?"}
    step = next(s for s in opened.request["flow"]["steps"] if s["type"] == "AGENT")
    assert step["userPrompt"]["template"] == "Customer question: {{param.question}}"


def test_the_sdk_snippet_saves_then_runs_the_stored_draft(sandbox, client, monkeypatch) -> None:
    """The official SDK, running the snippet the draft page shows, does what the page does."""
    opened = drafts.open_revision(client, "echo_agent", 1, {"message": "from the snippet"})
    stored = client.put_draft("echo_agent", 1, echo_head("seed {{param.message}}"))
    head = drafts.head_from_request(opened.request, stored.head_data)
    code = to_python_sdk_stored_draft(sandbox.base_url, sandbox.tenant, "echo_agent", 1, head,
                                      drafts.stored_run_body(opened.request), if_match=stored.version, streamed=True)
    monkeypatch.setenv("FRUXON_API_KEY", sandbox.api_key)
    printed = io.StringIO()
    with redirect_stdout(printed):
        exec(compile(code, "snippet.py", "exec"), {})  # noqa: S102 - the snippet is ours, the server is loopback
    assert "done" in printed.getvalue() and "from the snippet" in printed.getvalue()
    assert client.get_draft("echo_agent", 1).version == stored.version + 1
