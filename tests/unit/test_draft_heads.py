"""Pure rules behind revisions and stored drafts (contract §4.4, §4.6, §7.1): heads ↔ editable
requests, what can be stored, pinned-revision bodies, "Open in draft editor" sources, snippets."""

from __future__ import annotations

import copy

import pytest

from fruxon_playground.api.models import AgentRevision
from fruxon_playground.contract.validation import RequestInvalid, validate_test_body
from fruxon_playground.drafts import (
    TEMPLATES,
    NotStorable,
    draft_fingerprint,
    draft_source_of_run,
    head_changes,
    head_differences,
    head_from_request,
    not_stored_fields,
    pinned_revision_body,
    request_from_head,
    request_from_revision,
    storable_problem,
    stored_run_body,
)
from fruxon_playground.snippets import RequestSpec, to_python_sdk, to_python_sdk_stored_draft

HEAD = {
    "comment": "tone option", "integrationSlots": [{"slot": "kb"}], "integrationBindings": {"kb": "cfg-1"},
    "slots": [], "assets": [{"id": "asset-1"}],
    "definition": {"displayName": "Answer", "provider": {"providerId": "openai", "model": "gpt-4o-mini"},
                   "systemPrompt": {"template": "Be brief."}, "userPrompt": {"template": "{{param.question}}"},
                   "tools": [{"toolKey": {"integrationId": "kb", "id": "search_articles"}}], "maxToolLoops": 5},
    "parametersMetadata": [{"name": "question", "type": "STRING", "required": True}],
}


def test_a_head_opens_as_entry_agent_exit_and_saves_back_unchanged() -> None:
    request = request_from_head(HEAD, base_revision=3, parameters={"question": "Hi"})
    assert [s["type"] for s in request["flow"]["steps"]] == ["ENTRY_POINT", "AGENT", "EXIT_POINT"]
    assert request["flow"]["steps"][1]["name"] == "Answer" and request["baseRevision"] == 3
    assert request["assets"] == [{"id": "asset-1"}] and "integrationBindings" not in request  # tenant bindings stay in the head
    validate_test_body(copy.deepcopy(request))  # the server would run it
    assert head_from_request(request, HEAD) == HEAD
    edited = copy.deepcopy(request)
    edited["flow"]["steps"][1]["userPrompt"] = {"template": "Q: {{param.question}}"}
    saved = head_from_request(edited, HEAD)
    assert saved["definition"]["userPrompt"] == {"template": "Q: {{param.question}}"}
    assert saved["comment"] == "tone option" and saved["integrationBindings"] == {"kb": "cfg-1"}
    assert head_differences(saved, HEAD) == ["definition.userPrompt.template"]


def test_a_head_without_base_gets_every_field_the_sdk_payload_has() -> None:
    head = head_from_request(copy.deepcopy(TEMPLATES["llm"].request))
    assert set(head) == {"comment", "definition", "parametersMetadata", "integrationSlots", "integrationBindings",
                         "assets", "slots"}
    assert head["definition"]["displayName"] == "Answer" and "identifier" not in head["definition"]


@pytest.mark.parametrize(("name", "storable"), [("llm", True), ("llm_tool", True), ("approval", True),
                                                ("calculator", True), ("sub_agent", False)])
def test_only_one_agent_between_entry_and_exit_can_be_stored(name: str, storable: bool) -> None:
    request = TEMPLATES[name].request
    assert (storable_problem(request) is None) is storable
    if not storable:
        assert "2 AGENT" in storable_problem(request)
        with pytest.raises(NotStorable):
            head_from_request(request)


def test_what_else_makes_a_flow_unstorable() -> None:
    base = copy.deepcopy(TEMPLATES["llm"].request)
    with_tool = copy.deepcopy(base)
    with_tool["flow"]["steps"].insert(2, {"type": "TOOL", "identifier": "t", "name": "T"})
    assert "1 TOOL" in storable_problem(with_tool)
    shaped_exit = copy.deepcopy(base)
    shaped_exit["flow"]["steps"][-1]["output"] = {"template": "Done: {{step.answer.output}}"}
    assert "output template" in storable_problem(shaped_exit)
    rewired = copy.deepcopy(base)
    rewired["flow"]["edges"] = [{"source": "entry", "target": "exit"}, {"source": "answer", "target": "exit"}]
    assert "edges" in storable_problem(rewired)
    sub = copy.deepcopy(base)
    sub["flow"]["steps"][1]["subAgent"] = True
    assert "sub-agent" in storable_problem(sub)


def test_a_revision_opens_from_its_flow_or_else_its_definition() -> None:
    flow = {"steps": [{"type": "ENTRY_POINT", "identifier": "entry", "name": "Entry"},
                      {"type": "AGENT", "identifier": "answer", "name": "Answer", "userPrompt": {"template": "x"}},
                      {"type": "EXIT_POINT", "identifier": "exit", "name": "Exit"}],
            "edges": [{"source": "entry", "target": "answer"}, {"source": "answer", "target": "exit"}]}
    metadata = [{"name": "question", "type": "STRING", "required": True}]
    with_flow = AgentRevision.model_validate({"agentRevision": 2, "flow": flow, "parametersMetadata": metadata,
                                              "definition": HEAD["definition"]})
    request = request_from_revision(with_flow, {"question": "q"})
    assert request["flow"]["steps"][1]["identifier"] == "answer"  # the stored flow, not a rebuilt one
    assert request["flow"]["steps"][0]["parameters"] == metadata == request["parametersMetadata"]
    assert request["baseRevision"] == 2 and request["parameters"] == {"question": "q"}
    definition_only = AgentRevision.model_validate({"agentRevision": 5, "definition": HEAD["definition"],
                                                    "parametersMetadata": metadata})
    assert request_from_revision(definition_only)["flow"]["steps"][1]["identifier"] == "agent"
    with pytest.raises(ValueError, match="neither a flow"):
        request_from_revision(AgentRevision.model_validate({"agentRevision": 6}))


def test_a_pinned_revision_body_keeps_only_what_a_test_request_allows() -> None:
    form = {"parameters": {"q": 1}, "attachments": [{"fileId": "f"}], "sessionId": "s", "mode": "SANDBOX",
            "environmentSlug": "globex", "chatUser": {"id": "u"}}
    body, dropped = pinned_revision_body(form, 2)
    assert body == {"baseRevision": 2, "parameters": {"q": 1}, "attachments": [{"fileId": "f"}], "sessionId": "s",
                    "mode": "SANDBOX"}
    assert dropped == ["environmentSlug", "chatUser"]
    with pytest.raises(RequestInvalid):  # no flow and no revision: the server refuses it (422)
        validate_test_body({"parameters": {"q": 1}})


def test_stored_run_body_and_fields_a_stored_draft_does_not_keep() -> None:
    request = {**TEMPLATES["llm"].request, "sessionId": "s", "llmConfigs": [{"providerId": "openai"}], "subAgents": []}
    assert stored_run_body(request) == {"parameters": request["parameters"], "sessionId": "s"}
    assert not_stored_fields(request) == ["llmConfigs"]  # an empty list is nothing lost


def test_saved_or_unsaved_depends_on_the_stored_parts_only() -> None:
    request = copy.deepcopy(TEMPLATES["llm"].request)
    same_draft_other_inputs = {**request, "parameters": {"question": "other"}, "sessionId": "s2", "mode": "SANDBOX"}
    assert draft_fingerprint(request) == draft_fingerprint(same_draft_other_inputs)
    changed = copy.deepcopy(request)
    changed["flow"]["steps"][1]["systemPrompt"]["template"] += "!"
    assert draft_fingerprint(changed) != draft_fingerprint(request)


def test_head_differences_name_each_changed_path() -> None:
    theirs = copy.deepcopy(HEAD)
    theirs["definition"]["tools"][0]["toolKey"]["id"] = "other"
    theirs["parametersMetadata"].append({"name": "tone"})
    theirs["comment"] = None
    assert head_differences(HEAD, theirs) == ["comment", "definition.tools[0].toolKey.id", "parametersMetadata"]
    assert head_changes(HEAD, theirs)[1] == ("definition.tools[0].toolKey.id", "search_articles", "other")
    assert head_differences(HEAD, copy.deepcopy(HEAD)) == []
    many = {f"k{i}": i for i in range(30)}
    assert len(head_differences(many, {})) == 20


def test_what_open_in_draft_editor_loads_for_each_kind_of_run() -> None:
    inline = draft_source_of_run(TEMPLATES["llm"].request, -1)
    assert inline.inline is not None and inline.inline["flow"] == TEMPLATES["llm"].request["flow"]
    deployed = draft_source_of_run({"parameters": {"question": "q"}, "environmentSlug": "globex"}, 3)
    assert (deployed.revision, deployed.parameters) == (3, {"question": "q"})
    pinned_failed = draft_source_of_run({"baseRevision": 2, "parameters": {"question": "q"}}, None)
    assert pinned_failed.revision == 2  # failed before a trace, but the request named its revision
    stored = draft_source_of_run({"parameters": {"question": "q"}}, -1)
    assert stored.revision is None and "stored on the server" in stored.reason
    unknown = draft_source_of_run({"parameters": {}}, None)
    assert unknown.revision is None and "never said" in unknown.reason


def test_snippets_for_a_pinned_revision_and_a_stored_draft() -> None:
    spec = RequestSpec("POST", "http://x", "demo", "support_agent", "test", {"baseRevision": 2, "parameters": {}})
    sdk = to_python_sdk(spec)
    assert "no call that runs a chosen published revision" in sdk and "baseRevision 2" in sdk
    inline = to_python_sdk(RequestSpec("POST", "http://x", "demo", "a", "test", TEMPLATES["llm"].request))
    assert "client.test('a', 0," in inline  # an inline draft keeps the stored-draft advice
    code = to_python_sdk_stored_draft("http://x/", "demo", "a", 3, HEAD, {"parameters": {"question": "q"}},
                                      if_match=4, streamed=False)
    compile(code, "snippet.py", "exec")
    assert "client.put_draft('a', 3, head, if_match=4)" in code and "client.test('a', 3," in code
    assert "base_url='http://x'" in code and "$FRUXON_API_KEY" not in code and 'os.environ["FRUXON_API_KEY"]' in code
