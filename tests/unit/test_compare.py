"""Comparing two runs: word diff, side-by-side lines, inputs, figures, aligned steps and the verdict —
on runs built by hand and on runs recorded from the sandbox (sync and streamed, revisions, drafts,
failures)."""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fruxon_playground.api import FruxonClient
from fruxon_playground.compare import (
    MAX_WORD_DIFF_TOKENS,
    Op,
    StepStatus,
    Tone,
    chunks,
    collapse_equal,
    compare_runs,
    format_cost,
    format_ms,
    format_percent,
    line_diff,
    payload_diff,
    tokens,
    word_diff,
)
from fruxon_playground.drafts import TEMPLATES
from fruxon_playground.history import SavedRun, open_store
from fruxon_playground.runs import RunContext, RunHandle, RunKind, RunRecorder
from fruxon_playground.sandbox.config import SandboxConfig
from fruxon_playground.sandbox.embedded import RunningSandbox, start_sandbox

T0 = 1_767_225_600_000
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TEXT = st.text(st.sampled_from(list("ab c.\n\t!?é中🙂<>&-")), max_size=60)


# -- word diff ------------------------------------------------------------------------------------
@FAST
@given(TEXT, TEXT)
def test_each_side_reassembles_exactly_from_its_segments(before: str, after: str) -> None:
    diff = word_diff(before, after)
    assert diff.before == before and diff.after == after
    assert diff.same == (before == after)
    for segment in diff.segments:
        assert segment.before or segment.after
        assert (segment.op is Op.EQUAL) == (segment.before == segment.after)
        assert segment.op is not Op.INSERT or not segment.before
        assert segment.op is not Op.DELETE or not segment.after
    ops = [s.op is Op.EQUAL for s in diff.segments]
    assert all(a != b for a, b in zip(ops, ops[1:], strict=False)), "neighbours of one kind are merged"


@FAST
@given(TEXT)
def test_tokens_and_chunks_keep_every_character(text: str) -> None:
    assert "".join(tokens(text)) == text and "".join(chunks(text)) == text


def test_a_changed_word_is_marked_alone_with_the_whitespace_kept() -> None:
    diff = word_diff("Refunds take  30 days.\n\tAsk support.", "Refunds take  14 days.\n\tAsk support.")
    assert [(s.op, s.before, s.after) for s in diff.segments] == [
        (Op.EQUAL, "Refunds take  ", "Refunds take  "), (Op.REPLACE, "30", "14"),
        (Op.EQUAL, " days.\n\tAsk support.", " days.\n\tAsk support."),
    ]
    assert diff.removed_words == 1 and diff.added_words == 1


def test_insertions_and_deletions() -> None:
    inserted = word_diff("Open Settings.", "Open the Settings page.")
    assert [s.op for s in inserted.segments if s.op is not Op.EQUAL] == [Op.INSERT, Op.INSERT]
    assert {s.after for s in inserted.segments if s.op is Op.INSERT} == {"the ", " page"}
    deleted = word_diff("Let me check that for you. Refunds take 30 days.", "Refunds take 30 days.")
    assert deleted.segments[0] == deleted.segments[0].__class__(Op.DELETE, "Let me check that for you. ", "")
    assert word_diff("", "new answer").segments[0].op is Op.INSERT
    assert word_diff("old answer", "").segments[0].op is Op.DELETE
    assert word_diff("", "").segments == ()


def test_shared_punctuation_between_two_rewrites_is_folded_into_one_replacement() -> None:
    diff = word_diff("You said: plain <b>hello</b>.", "You said: <img src=x onerror=alert(1)>.")
    assert [s.op for s in diff.segments] == [Op.EQUAL, Op.REPLACE, Op.EQUAL]
    assert (diff.segments[1].before, diff.segments[1].after) == ("plain <b>hello</b", "<img src=x onerror=alert(1)")


def test_shared_words_between_two_edits_stay_marked_as_shared() -> None:
    before = "You asked: “How do refunds work?”. Refunds take 30 days. Each point comes from the tools."
    after = "Let me check. You asked: “How do I reset my password?”. A reset link expires after 30 minutes. Each point comes from the tools."
    diff = word_diff(before, after)
    shared = [s.before for s in diff.segments if s.op is Op.EQUAL]
    assert shared[0] == "You asked: “How do " and shared[-1] == ". Each point comes from the tools."
    assert [s.op for s in diff.segments][:3] == [Op.INSERT, Op.EQUAL, Op.REPLACE]


def test_two_long_similar_answers_diff_word_by_word_and_unrelated_pages_whole() -> None:
    sentences = [f"Sentence number {i} talks about refunds and passwords." for i in range(1500)]
    before = " ".join(sentences)
    changed = list(sentences)
    changed[700] = "Sentence number 700 talks about invoices and passwords."
    diff = word_diff(before, " ".join(changed))
    assert not diff.coarse and [(s.before, s.after) for s in diff.segments if s.op is not Op.EQUAL] == [
        ("refunds", "invoices")]
    other = " ".join(f"Word{i} other{i % 7}" for i in range(MAX_WORD_DIFF_TOKENS))
    unrelated = word_diff("A" + before, other)
    assert unrelated.coarse and unrelated.before == "A" + before and unrelated.after == other


# -- side by side lines -----------------------------------------------------------------------------
def test_payloads_side_by_side_pair_changed_lines_and_show_one_sided_ones_alone() -> None:
    rows = payload_diff({"query": "refunds", "limit": 5}, {"query": "passwords", "limit": 5, "lang": "en"})
    assert [(r.op, r.before_number, r.after_number) for r in rows] == [
        (Op.EQUAL, 1, 1), (Op.REPLACE, 2, 2), (Op.REPLACE, 3, 3), (Op.INSERT, None, 4), (Op.EQUAL, 4, 5)]
    query = rows[1]
    assert query.words is not None
    assert [(s.before, s.after) for s in query.words.segments if s.op is not Op.EQUAL] == [("refunds", "passwords")]
    assert rows[3].after == '  "lang": "en"' and rows[3].before == ""
    added = payload_diff(None, {"a": 1})
    assert all(r.op is Op.INSERT and r.before_number is None for r in added)
    assert [r.before for r in payload_diff("plain\ntext", "plain\ntext")] == ["plain", "text"]  # text stays text


def test_long_unchanged_stretches_fold_with_context_around_each_change() -> None:
    before = "\n".join(f"line {i}" for i in range(40))
    after = before.replace("line 20", "line twenty")
    folded = collapse_equal(line_diff(before, after), context=3)
    assert folded[0] == 17 and folded[-1] == 16  # 0..16 hidden, 17..19 kept, the change, 21..23 kept, 24..39 hidden
    kept = [r.before_number for r in folded if not isinstance(r, int)]
    assert kept == [18, 19, 20, 21, 22, 23, 24]
    assert collapse_equal(line_diff("a\nb", "a\nc")) == list(line_diff("a\nb", "a\nc"))  # short: nothing folded


def test_formatting() -> None:
    assert format_cost(0.0000966) == "$0.0000966" and format_cost(1.234) == "$1.23" and format_cost(0) == "$0"
    assert format_cost(-0.00000780, signed=True) == "−$0.00000780" and format_cost(0.05, signed=True) == "+$0.0500"
    assert format_ms(340, signed=True) == "+340 ms" and format_ms(-1200, signed=True) == "−1.20 s"
    assert format_ms(None) == "—" and format_cost(None) == "—"
    assert format_percent(12, 100) == "+12%" and format_percent(-0.4, 100) == "−0.4%"
    assert format_percent(5, 0) == "" and format_percent(0, 10) == "0.0%"


# -- runs built by hand ---------------------------------------------------------------------------
def step(name: str, type_: str, *, start: int = 0, end: int = 100, steps: list | None = None, **extra) -> dict:
    return {"id": name.lower().replace(" ", "_"), "displayName": name, "type": type_, "status": "SUCCESS",
            "startTime": T0 + start, "endTime": T0 + end, "duration": end - start, "steps": steps or [], **extra}


def search(query: str, hits: list[str], **extra) -> dict:
    return step("Search Articles", "TOOL", start=100, end=400,
                toolTrace={"tool": {"integrationId": "kb", "id": "search_articles", "name": "search_articles"},
                           "parameters": {"query": query}},
                result={"strValue": None, "jsonValue": {"hits": hits}, "fileLink": None}, **extra)


def llm(name: str, tokens_in: int, cost: float, *, end: int = 600) -> dict:
    return step(name, "LLM_STEP", start=400, end=end,
                llmStepTrace={"model": "gpt-4o-mini", "inputTokens": tokens_in, "outputTokens": 20,
                              "inputCost": cost, "outputCost": 0.0})


def trace(revision: int, *steps: dict, duration: int = 1000, parameters: dict | None = None) -> dict:
    cost = sum(s.get("llmStepTrace", {}).get("inputCost", 0.0) for s in steps)
    return {"agentId": "support_agent", "agentRevision": revision, "startTime": T0, "endTime": T0 + duration,
            "duration": duration, "totalCost": cost, "parameters": parameters or {},
            "traces": [step("Agent", "FLOW_STEP", end=duration, steps=list(steps))]}


def sync_run(text: str, trace_: dict | None, *, kind: str = "execute", request: dict | None = None,
             duration: float = 1200.0, created: int = T0) -> SavedRun:
    response = {"response": text, "trace": trace_, "status": "COMPLETED", "executionRecordId": "rec-1"}
    return SavedRun(kind=kind, agent_id="support_agent", request=request or {"parameters": {"question": "q"}},
                    status="completed", created_at_ms=created, duration_ms=duration,
                    total_cost=(trace_ or {}).get("totalCost", 0.0), response=response, trace=trace_)


def streamed_run(chunks_: list[str], trace_: dict, *, kind: str = "stream", request: dict | None = None,
                 duration: float = 1500.0) -> SavedRun:
    events = [{"event": "text", "data": json.dumps({"chunk": c}), "t_ms": 100.0 + 10 * i} for i, c in enumerate(chunks_)]
    events.append({"event": "done", "data": json.dumps({"trace": trace_, "status": "COMPLETED"}), "t_ms": duration})
    return SavedRun(kind=kind, agent_id="support_agent", request=request or {"parameters": {"question": "q"}},
                    status="completed", created_at_ms=T0 + 1, duration_ms=duration,
                    total_cost=trace_.get("totalCost", 0.0), events=events, trace=trace_)


def failed_run(message: str, *, request: dict | None = None) -> SavedRun:
    return SavedRun(kind="execute", agent_id="support_agent", request=request or {"parameters": {}},
                    status="failed", error=message, created_at_ms=T0 + 2, duration_ms=40.0)


def inputs(comparison) -> dict[str, tuple[str, str, bool]]:
    return {row.name: (row.before, row.after, row.changed) for row in comparison.inputs}


BASE_STEPS = (llm("LLM Query", 50, 0.00001, end=100), search("refunds", ["kb-103"]), llm("LLM Answer", 120, 0.00002))


def test_two_revisions_differ_in_revision_tool_arguments_and_answer() -> None:
    old = sync_run("Refunds take 30 days.", trace(2, *BASE_STEPS), request={"parameters": {"question": "refunds"}})
    newer_steps = (BASE_STEPS[0], search("refunds (tone: friendly)", ["kb-103"]),
                   llm("LLM Answer", 150, 0.00003, end=700))
    new = sync_run("Refunds take 30 days, friend.", trace(3, *newer_steps, duration=1100),
                   request={"parameters": {"question": "refunds"}}, duration=1300.0)
    comparison = compare_runs(old, new)
    assert (comparison.target_a.revision_label, comparison.target_b.revision_label) == ("rev 2", "rev 3")
    assert inputs(comparison)["Revision"] == ("rev 2", "rev 3", True)
    assert inputs(comparison)["question"] == ("refunds", "refunds", False)
    by_name = {s.span.name: s for s in comparison.steps}
    assert by_name["Search Articles"].status is StepStatus.CHANGED
    assert by_name["Search Articles"].argument_changes == ("$.query",)
    assert "arguments ($.query)" in by_name["Search Articles"].what_differs
    answer = by_name["LLM Answer"]
    assert answer.status is StepStatus.SAME and answer.duration_delta_ms == 100 and answer.tokens_delta == 30
    assert answer.cost_delta == pytest.approx(0.00001)
    assert [(s.after, s.op) for s in comparison.answer.segments if s.op is not Op.EQUAL] == [(", friend", Op.INSERT)]
    verdict = comparison.verdict
    assert [p.topic for p in verdict.parts] == ["answer", "cost", "latency", "tools"]
    assert verdict.line == ("Different answer (−0 +1 words) · Δcost +$0.0000100 (+33%) · Δlatency +100 ms (+8%) · "
                            "Tools called differently: kb.search_articles (arguments)")
    assert [p.tone for p in verdict.parts] == [Tone.DIFFERENT, Tone.WORSE, Tone.WORSE, Tone.DIFFERENT]


def test_draft_against_deployed_with_added_and_removed_steps() -> None:
    flow = {"steps": [{"type": "ENTRY_POINT", "identifier": "entry"}, {"type": "AGENT", "identifier": "answer",
            "systemPrompt": {"template": "Be brief."}}, {"type": "EXIT_POINT", "identifier": "exit"}], "edges": []}
    deployed = sync_run("Refunds take 30 days.", trace(3, *BASE_STEPS))
    draft_steps = (BASE_STEPS[0], BASE_STEPS[2], step("Quality check", "JUDGE", start=600, end=700))
    draft = streamed_run(["Refunds take ", "30 days."], trace(-1, *draft_steps), kind="stream_test",
                         request={"flow": flow, "parameters": {"question": "q"}, "baseRevision": 3})
    comparison = compare_runs(deployed, draft)
    rows = inputs(comparison)
    assert rows["Revision"] == ("rev 3", "draft", True) and rows["Kind"] == ("execute (sync)", "stream test", True)
    assert rows["Draft flow"][:2] == ("deployed flow", "3 steps, 0 edges")
    assert rows["baseRevision"] == ("—", "3", True)
    assert [(s.status, s.span.name) for s in comparison.steps if s.status is not StepStatus.SAME] == [
        (StepStatus.REMOVED, "Search Articles"), (StepStatus.ADDED, "Quality check")]
    removed = next(s for s in comparison.steps if s.status is StepStatus.REMOVED)
    assert removed.has_payloads and removed.after is None and removed.before.arguments == {"query": "refunds"}
    assert comparison.answer.same
    assert comparison.verdict.parts[0].text == "Same answer"
    assert comparison.verdict.parts[-1].text == "Tools called differently: kb.search_articles (only in A)"
    assert comparison.figure("Steps").delta == 0 and comparison.figure("Tool calls").delta == -1


def test_two_inline_drafts_name_the_flow_steps_that_differ() -> None:
    def flow(prompt: str) -> dict:
        return {"steps": [{"type": "AGENT", "identifier": "answer", "systemPrompt": {"template": prompt}},
                          {"type": "EXIT_POINT", "identifier": "exit"}], "edges": []}
    a = sync_run("x", trace(-1, *BASE_STEPS), kind="test", request={"flow": flow("Be brief.")})
    b = sync_run("x", trace(-1, *BASE_STEPS), kind="test", request={"flow": flow("Be kind.")})
    row = next(r for r in compare_runs(a, b).inputs if r.name == "Draft flow")
    assert row.changed and row.note == "steps that differ: answer"


def test_a_failed_run_without_trace_against_a_completed_one() -> None:
    done = sync_run("Refunds take 30 days.", trace(3, *BASE_STEPS), request={"parameters": {"question": "refunds"}})
    failed = failed_run("Parameter question is required")
    comparison = compare_runs(done, failed)
    assert comparison.state_b.phase.value == "failed" and comparison.state_b.error_message
    assert comparison.trace_diff is None and comparison.steps == () and comparison.has_traces == (True, False)
    rows = inputs(comparison)
    assert rows["Revision"] == ("rev 3", "deployed", False)  # an unknown deployed revision is no difference
    assert rows["question"] == ("refunds", "—", True)
    parts = {p.topic: p for p in comparison.verdict.parts}
    assert parts["outcome"].text == "A completed, B failed" and parts["outcome"].tone is Tone.WORSE
    assert parts["cost"].text == "Δcost unknown (B has no trace)" and parts["cost"].tone is Tone.NEUTRAL
    assert parts["latency"].tone is Tone.NEUTRAL  # failing fast is not "better"
    assert comparison.figure("Cost").after is None and comparison.figure("Duration (as waited)").delta == -1160
    reverse = compare_runs(failed, done)
    assert {p.topic: p for p in reverse.verdict.parts}["outcome"].tone is Tone.BETTER


def test_two_runs_without_traces() -> None:
    comparison = compare_runs(failed_run("boom"), failed_run("boom again"))
    assert comparison.steps == () and comparison.trace_diff is None
    assert comparison.verdict.line.startswith("No answer in either run · Both failed · Δcost unknown (no traces)")
    assert comparison.verdict.parts[-1].text == "Same tool calls"


def test_sync_and_streamed_runs_of_one_answer_compare_equal_but_for_the_kind() -> None:
    tr = trace(3, *BASE_STEPS, parameters={"question": "q", "tone": "friendly"})
    sync = sync_run("Refunds take 30 days.", tr)
    streamed = streamed_run(["Refunds ", "take 30", " days."], copy.deepcopy(tr))
    comparison = compare_runs(sync, streamed)
    assert comparison.answer.same and comparison.tools == ()
    assert [r.name for r in comparison.changed_inputs] == ["Kind"]
    assert inputs(comparison)["tone"] == ("friendly (default)", "friendly (default)", False)
    assert all(s.status is StepStatus.SAME and not s.differs for s in comparison.steps)
    assert comparison.figure("Time to first text").after == 100.0 and comparison.figure("Time to first text").before is None
    assert comparison.verdict.line == "Same answer · Δcost $0 · Δlatency +300 ms (+25%) · Same tool calls"


def test_default_parameters_compare_by_the_value_that_ran() -> None:
    a = sync_run("x", trace(3, parameters={"question": "q", "tone": "friendly"}),
                 request={"parameters": {"question": "q"}})
    b = sync_run("x", trace(3, parameters={"question": "q", "tone": "friendly"}),
                 request={"parameters": {"question": "q", "tone": "friendly"}})
    c = sync_run("x", trace(3, parameters={"question": "q", "tone": "formal"}),
                 request={"parameters": {"question": "q", "tone": "formal"}, "environmentSlug": "acme_corp",
                          "mode": "SANDBOX", "sessionId": "s-1",
                          "attachments": [{"fileId": "f1", "displayName": "invoice.pdf"}]})
    assert inputs(compare_runs(a, b))["tone"] == ("friendly (default)", "friendly", False)
    rows = inputs(compare_runs(a, c))
    assert rows["tone"] == ("friendly (default)", "formal", True)
    assert rows["Environment"] == ("none", "acme_corp", True) and rows["Mode"] == ("default", "SANDBOX", True)
    assert rows["Session"] == ("new session", "s-1", True) and rows["Attachments"] == ("none", "invoice.pdf", True)


def test_results_that_differ_with_the_same_calls_are_not_called_differently() -> None:
    a = sync_run("x", trace(3, search("refunds", ["kb-103"])))
    b = sync_run("x", trace(3, search("refunds", ["kb-104"])))
    comparison = compare_runs(a, b)
    (tool,) = comparison.tools
    assert not tool.called_differently and tool.results_differ and tool.summary == "results"
    assert comparison.verdict.parts[-1].text == "Same tool calls, different results: kb.search_articles"
    (changed,) = [s for s in comparison.steps if s.status is StepStatus.CHANGED]
    assert changed.result_changes == ("$.hits[0]",) and changed.has_payloads


# -- runs recorded from the sandbox -----------------------------------------------------------------
@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, SavedRun]]:
    """One sandbox, a few real runs, each saved by its handle like the app saves it."""
    sandbox: RunningSandbox = start_sandbox(SandboxConfig(api_key="fx_pat_compare_tests_000000000042",
                                                          db_path=":memory:", speed=0.0, seed_history=False))
    store = open_store(str(tmp_path_factory.mktemp("compare") / "history.sqlite3"))
    context = RunContext(owner="o", base_url=sandbox.base_url, tenant=sandbox.tenant, secrets=(sandbox.api_key,))
    refunds = {"parameters": {"question": "How do refunds work?"}}
    plan = [
        ("sync", RunKind.EXECUTE, "support_agent", refunds),
        ("streamed", RunKind.STREAM, "support_agent", refunds),
        ("password", RunKind.STREAM, "support_agent", {"parameters": {"question": "How do I reset my password?"}}),
        ("rev2", RunKind.TEST, "support_agent", {**refunds, "baseRevision": 2}),
        ("failed", RunKind.EXECUTE, "support_agent", {"parameters": {}}),
        ("draft", RunKind.STREAM_TEST, "draft_only", TEMPLATES["calculator"].request),
    ]
    runs = {}
    try:
        for name, kind, agent, request in plan:
            handle = RunHandle(kind, agent, request,
                               lambda: FruxonClient(sandbox.base_url, sandbox.api_key, sandbox.tenant),
                               recorder=RunRecorder(store, context)).start()
            assert handle.wait(30)
            deadline = time.monotonic() + 5
            while (saved := store.get(handle.id)) is None or saved.status == "running":
                assert time.monotonic() < deadline, f"{name} was not saved"
                time.sleep(0.02)
            runs[name] = saved
        yield runs
    finally:
        sandbox.stop()


def test_recorded_sync_and_streamed_runs_of_one_question(recorded: dict[str, SavedRun]) -> None:
    comparison = compare_runs(recorded["sync"], recorded["streamed"])
    assert [r.name for r in comparison.changed_inputs] == ["Kind"]
    assert comparison.target_a.revision_label == comparison.target_b.revision_label == "rev 3"
    assert comparison.tools == () and comparison.verdict.parts[-1].text == "Same tool calls"
    assert not any(s.status in (StepStatus.ADDED, StepStatus.REMOVED, StepStatus.CHANGED) for s in comparison.steps)
    # The stream also carried the text the model said before it called the tool; the sync answer has only the last.
    changes = [s for s in comparison.answer.segments if s.op is not Op.EQUAL]
    assert [s.op for s in changes] == [Op.INSERT] and changes[0].after.strip() == "Let me check that for you."


def test_recorded_runs_with_different_questions(recorded: dict[str, SavedRun]) -> None:
    comparison = compare_runs(recorded["streamed"], recorded["password"])
    assert inputs(comparison)["question"] == ("How do refunds work?", "How do I reset my password?", True)
    inserted = " ".join(s.after for s in comparison.answer.segments if s.op is not Op.EQUAL)
    assert "password" in inserted and "Refund" not in inserted
    search_step = next(s for s in comparison.steps if s.span.tool_name == "kb.search_articles")
    assert search_step.argument_changes == ("$.query",) and search_step.result_changes
    assert comparison.verdict.parts[0].tone is Tone.DIFFERENT
    assert "kb.search_articles (arguments, results)" in comparison.verdict.line


def test_recorded_revision_2_against_the_deployed_revision(recorded: dict[str, SavedRun]) -> None:
    comparison = compare_runs(recorded["rev2"], recorded["sync"])
    rows = inputs(comparison)
    assert rows["Revision"] == ("rev 2", "rev 3", True) and rows["baseRevision"] == ("2", "—", True)
    assert rows["tone"] == ("—", "friendly (default)", True)  # revision 2 had no tone parameter
    assert "kb.search_articles (arguments, results)" in comparison.verdict.line
    assert {p.topic for p in comparison.verdict.parts} == {"answer", "cost", "latency", "tools"}


def test_recorded_failure_and_draft(recorded: dict[str, SavedRun]) -> None:
    failed = compare_runs(recorded["sync"], recorded["failed"])
    assert failed.steps == () and "A completed, B failed" in failed.verdict.line
    assert "question" in (failed.state_b.error_message or "")
    draft = compare_runs(recorded["sync"], recorded["draft"])
    assert draft.target_b.revision_label == "draft" and inputs(draft)["Agent"] == ("support_agent", "draft_only", True)
    assert {s.status for s in draft.steps} >= {StepStatus.ADDED, StepStatus.REMOVED}
    assert draft.figure("Time to first text").after is not None
