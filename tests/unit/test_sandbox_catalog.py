"""The catalog: revision histories that agree with the agents, capabilities instead of agent ids,
recordings as agents, and the SSE framing the sandbox writes."""

from __future__ import annotations

import json

from fruxon_playground.contract import validation
from fruxon_playground.sandbox import catalog, sse
from fruxon_playground.sandbox.catalog import Capability, Catalog
from fruxon_playground.sandbox.definitions import definition_of, flow_of
from fruxon_playground.sandbox.engine import RunSpec, plan_run
from fruxon_playground.sandbox.seed import seed_history
from fruxon_playground.sandbox.store import RecordFilter, Store


def test_every_revision_exists_from_one_to_current_and_the_current_is_the_newest_definition() -> None:
    for agent in catalog.DEMO_AGENTS.values():
        assert [r.number for r in agent.revisions] == list(range(1, agent.current_revision + 1)), agent.id
        if agent.current_revision:
            current = agent.revision(agent.current_revision)
            assert current.steps == agent.steps and current.parameters_metadata == agent.parameters_metadata
        created = [r.created_days_ago for r in agent.revisions]
        assert created == sorted(created, reverse=True)  # numbered in the order they were made
        for revision in agent.revisions:
            assert revision.deployed_days_ago is None or revision.deployed_days_ago <= revision.created_days_ago


def test_every_revision_flow_passes_the_contract_validator() -> None:
    for agent in catalog.DEMO_AGENTS.values():
        for revision in agent.revisions:
            parameters = {name: values[0] for name, values in agent.samples.items()
                          if name in {m["name"] for m in revision.parameters_metadata}}
            problems = validation.validate_flow(agent.flow(revision.number), parameters, revision.parameters_metadata)
            assert problems == [], (agent.id, revision.number, problems)


def test_support_agent_revisions_differ_in_prompt_tools_and_inputs() -> None:
    agent = catalog.DEMO_AGENTS["support_agent"]
    one, two, three = (agent.revision(n).steps[0] for n in (1, 2, 3))
    assert one["tools"] == [] and two["tools"] and two["userPrompt"] != three["userPrompt"]
    assert [m["name"] for m in agent.parameters_of(2)] == ["question"]
    assert [m["name"] for m in agent.parameters_of(3)] == ["question", "tone"]


def test_capabilities_not_agent_ids_make_agents_special() -> None:
    bench = catalog.DEMO_AGENTS["stream_bench"]
    assert Capability.BENCH in bench.capabilities
    renamed = RunSpec("stream_bench", 1, bench.flow(1), {"rate": 1000, "count": 5}, bench.parameters_metadata, 0, "s")
    chunks = [e.data["chunk"] for e in plan_run(renamed, "r").events if e.event == "text"]
    assert len(chunks) == 5 and chunks[0].startswith("⟦0:")
    echo = catalog.DEMO_AGENTS["echo_agent"]
    said = plan_run(RunSpec("echo_agent", 1, echo.flow(1), {"message": "hi there"}, echo.parameters_metadata, 0, "s"), "r")
    assert said.outcome.response_text.startswith("You said: hi there")


def test_seeded_history_leaves_out_agents_without_a_history_weight() -> None:
    store = Store(":memory:")
    seed_history(store, "demo", seed=7, now=1_767_225_600_000, count=120)
    everything = RecordFilter(statuses=[], revisions=[], origin="PRODUCTION")
    assert store.list_records("demo", "stream_bench", everything, 0, 10) == []
    revisions = {r["agent_revision"] for r in store.list_records("demo", "support_agent", everything, 0, 200)}
    assert revisions == {2, 3}  # the current revision and, for some runs, the one before


def test_recordings_join_the_catalog_as_replay_agents(tmp_path) -> None:
    (tmp_path / "my_recording.sse").write_bytes(b"event: done\ndata: {}\n")
    (tmp_path / "Not A Slug.sse").write_bytes(b"")
    (tmp_path / "support_agent.sse").write_bytes(b"")
    loaded = Catalog.load(str(tmp_path))
    recorded = loaded.get("my_recording")
    assert recorded.recording == tmp_path / "my_recording.sse" and recorded.flow(1) is None
    assert loaded.get("support_agent").recording and loaded.get("support_agent").flow(3) is not None
    assert loaded.get("Not A Slug") is None and catalog.DEMO_AGENTS["support_agent"].recording is None


def test_definitions_round_trip_through_a_draft_flow() -> None:
    agent = catalog.DEMO_AGENTS["support_agent"]
    definition = definition_of(agent.revision(2).steps)
    flow, metadata = flow_of({"definition": definition, "parametersMetadata": agent.parameters_of(2)}, [], "x")
    assert flow["steps"][1]["userPrompt"] == agent.revision(2).steps[0]["userPrompt"]
    assert flow["steps"][1]["name"] == "Answer" and metadata == agent.parameters_of(2)
    assert definition_of(catalog.DEMO_AGENTS["trip_planner"].steps) is None  # two agents: no single definition


def test_sse_frames_use_lf_one_space_compact_json_and_no_blank_line_after_the_final_done() -> None:
    text = sse.frame("text", {"chunk": "héllo\nworld"})
    assert text == 'event: text\ndata: {"chunk":"héllo\\nworld"}\n\n'.encode()
    final = sse.frame("done", {"status": "COMPLETED"}, final=True)
    assert final.endswith(b"}\n") and not final.endswith(b"\n\n") and b"\r" not in final
    assert json.loads(final.split(b"data: ", 1)[1]) == {"status": "COMPLETED"}
    assert sse.KEEPALIVE == b": keep-alive\n\n"
