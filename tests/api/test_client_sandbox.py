"""Our client against the sandbox under uvicorn on loopback: every endpoint, every error status."""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from fruxon_playground.api import (
    AuthenticationError,
    ForbiddenError,
    FruxonClient,
    NotFoundError,
    RateLimitedError,
    ServerError,
    StreamInterrupted,
    ValidationError,
)
from fruxon_playground.api import events as ev
from fruxon_playground.drafts import TEMPLATES

QUESTION = {"question": "How do I reset my password?"}


def test_auth_health_and_both_auth_styles(sandbox, client) -> None:
    assert client.auth_health().token_name == "sandbox"
    for style in ("bearer", "x-api-key"):
        with FruxonClient(sandbox.base_url, sandbox.api_key, sandbox.tenant, auth_header=style) as single:
            assert single.auth_health().authentication_source == "API_KEY"


def test_wrong_key_wrong_tenant_and_key_never_in_messages(sandbox) -> None:
    with FruxonClient(sandbox.base_url, "fx_pat_wrong_key_123456", sandbox.tenant) as bad:
        with pytest.raises(AuthenticationError) as caught:
            bad.auth_health()
    assert "fx_pat_wrong_key_123456" not in str(caught.value) and "fx_pat_wrong" not in repr(bad)
    with FruxonClient(sandbox.base_url, sandbox.api_key, "other_tenant") as other:
        with pytest.raises(ForbiddenError) as forbidden:
            other.list_agents()
    assert "not bound to tenant" in str(forbidden.value)


def test_agents_and_parameters(client) -> None:
    agents = {a.id: a for a in client.list_agents()}
    assert {"support_agent", "release_digest", "refund_desk", "echo_agent", "draft_only", "trip_planner"} <= set(agents)
    assert agents["draft_only"].current_revision == 0
    params = client.get_parameters("support_agent", 3)
    assert params.parameters == ["question", "tone"]
    assert params.metadata[1].options[1].value == "formal"
    with pytest.raises(NotFoundError):
        client.get_agent("no_such_agent")


def test_execute_records_the_run_and_summaries_see_it(client) -> None:
    before = {s.environment_slug: s.execution_count for s in client.environment_summaries("echo_agent").items}
    response = client.execute("echo_agent", {"parameters": {"message": "ping"}, "environmentSlug": "brand_new_env"})
    assert response.status == "COMPLETED" and "ping" in response.response
    assert response.trace.agent_revision == 1 and response.trace.total_cost
    record = client.get_execution_record("echo_agent", response.execution_record_id)
    assert record.status == "COMPLETED" and record.environment_slug == "brand_new_env"
    summaries = client.environment_summaries("echo_agent")
    assert not summaries.approximate
    after = {s.environment_slug: s.execution_count for s in summaries.items}
    assert after["brand_new_env"] == before.get("brand_new_env", 0) + 1
    assert "brand_new_env" in {e.slug for e in client.list_environments()}
    result = client.get_execution_result("echo_agent", response.execution_record_id)
    assert result.parameters == {"message": "ping"} and "ping" in result.result.str_value


def test_session_continuation_changes_the_answer(client) -> None:
    first = client.execute("support_agent", {"parameters": QUESTION})
    second = client.execute("support_agent", {"parameters": QUESTION, "sessionId": first.session_id})
    assert second.session_id == first.session_id
    assert "Continuing our conversation" in second.response


def test_stream_yields_typed_events_and_the_record_exists_at_done(client) -> None:
    with client.stream("support_agent", {"parameters": QUESTION}) as stream:
        events = list(stream)
    assert stream.received == len(events)
    assert isinstance(events[-1], ev.DoneEvent) and not any(isinstance(e, ev.StepTraceEvent) for e in events)
    assert any(isinstance(e, ev.ToolCallEvent) for e in events)
    text = "".join(e.chunk for e in events if isinstance(e, ev.TextEvent))
    assert text.endswith(events[-1].response)
    record = client.get_execution_record("support_agent", events[-1].execution_record_id)
    assert record.status == "COMPLETED"


def test_test_and_stream_test_run_inline_drafts(client) -> None:
    request = TEMPLATES["llm_tool"].request
    response = client.test("draft_only", request)
    assert response.trace.agent_revision == -1 and response.session_id.startswith("ts_")
    with client.stream_test("draft_only", request) as stream:
        events = list(stream)
    steps = [e for e in events if isinstance(e, ev.StepTraceEvent)]
    assert steps[0].type == "FLOW_STEP" and steps[0].is_running and steps[1].parent_id == steps[0].id
    tests = list(client.list_execution_records("draft_only", origin="TEST", limit=5))
    assert response.execution_record_id in {r.id for r in tests}
    assert all(r.origin == "TEST" for r in tests)


def test_stored_draft_paths(client) -> None:
    response = client.test_stored_draft("support_agent", 3, {"parameters": QUESTION})
    assert response.status == "COMPLETED" and response.trace.agent_revision == -1


def test_validation_errors_list_every_field(client) -> None:
    with pytest.raises(ValidationError) as caught:
        client.execute("support_agent", {"parameters": {"tone": "rude"}, "environmentSlug": "Not A Slug"})
    errors = caught.value.field_errors
    assert errors["parameters.question"] == ["Parameter question is required"]
    assert "parameters.tone" in errors and "environmentSlug" in errors
    broken = dict(TEMPLATES["llm"].request)
    broken["flow"] = {"steps": [{"type": "AGENT", "identifier": "a"}], "edges": []}
    with pytest.raises(ValidationError) as graph:
        client.test("draft_only", broken)
    assert graph.value.status == 422 and len(graph.value.field_errors["flow"]) == 2  # no ENTRY, no EXIT


def test_not_found_cases(client) -> None:
    with pytest.raises(NotFoundError) as never_deployed:
        client.execute("draft_only", {})
    assert "no deployed revision" in str(never_deployed.value)
    with pytest.raises(NotFoundError):
        client.get_execution_record("support_agent", "00000000-0000-0000-0000-000000000000")
    with pytest.raises(NotFoundError):
        client.test("support_agent", {"baseRevision": 99, "parameters": QUESTION})


def test_simulated_statuses_and_failed_runs(client) -> None:
    with pytest.raises(RateLimitedError) as limited:
        client.execute("echo_agent", {"parameters": {"message": "[[sandbox:status_429]]"}})
    assert limited.value.retry_after == 2
    with pytest.raises(ServerError) as failed:
        client.execute("echo_agent", {"parameters": {"message": "x [[sandbox:error]]"}})
    record = client.get_execution_record("echo_agent", failed.value.execution_record_id)
    assert record.status == "FAILED"


def test_error_event_and_dropped_stream_keep_every_event(client) -> None:
    with client.stream("support_agent", {"parameters": {"question": "q [[sandbox:error]]"}}) as stream:
        events = list(stream)
    assert isinstance(events[-1], ev.ErrorEvent)
    assert sum(isinstance(e, ev.TextEvent) for e in events) == 3
    received = []
    with client.stream("support_agent", {"parameters": {"question": "q [[sandbox:drop]]"}}) as stream:
        with pytest.raises(StreamInterrupted) as interrupted:
            for event in stream:
                received.append(event)
    assert received and interrupted.value.received == len(received) == stream.received
    assert not any(e.event in ("done", "error") for e in received)


def test_records_paging_filters_and_traces(client) -> None:
    records = list(client.list_execution_records("support_agent", page_size=7))
    ids = [r.id for r in records]
    assert len(ids) == len(set(ids)) > 20
    starts = [r.start_time for r in records]
    assert starts == sorted(starts, reverse=True)
    failed = list(client.list_execution_records("support_agent", status=["Failed"], page_size=50))
    assert failed and all(r.status == "FAILED" for r in failed)
    acme = list(client.list_execution_records("support_agent", environment="acme_corp", page_size=50))
    assert acme and all(r.environment_slug == "acme_corp" for r in acme)
    with pytest.raises(ValidationError):
        client.list_execution_records_page("support_agent", status=["SLEEPING"])
    with pytest.raises(ValidationError):
        client.list_execution_records_page("support_agent", query="password")  # needs startTime
    completed = next(r for r in records if r.status == "COMPLETED")
    envelope = client.get_execution_trace("support_agent", completed.id)
    assert envelope.status == "COMPLETED" and envelope.trace.traces[0].type == "FLOW_STEP"


def test_costs_and_series(client) -> None:
    rollup = client.cost("support_agent")
    assert rollup.revision is None and rollup.execution_count > 0 and float(rollup.total_cost) > 0
    series = client.cost_timeseries("support_agent", interval="DAY")
    assert series.executions and all(b.bucket_start_ms % 86_400_000 == 0 for b in series.executions)
    weekly = client.environment_cost_timeseries("support_agent", ["acme_corp", "globex"], interval="WEEK")
    assert [e.slug for e in weekly.environments] == ["acme_corp", "globex"]
    with pytest.raises(ValidationError):
        client.environment_cost_timeseries("support_agent", ["nowhere"])


def test_approval_resumes_the_same_record(client) -> None:
    response = client.execute("refund_desk", {"parameters": {"order_id": "ord_9", "amount": 19.5}})
    assert response.is_waiting_for_human and response.human_approval_request_id
    record = client.get_execution_record("refund_desk", response.execution_record_id)
    assert record.status == "WAITING_FOR_ASYNC" and record.waiting_for.kind == "APPROVAL"
    pending = client.list_pending_approvals("refund_desk")
    assert response.human_approval_request_id in {a.id for a in pending}
    decided = client.respond_to_approval("refund_desk", response.human_approval_request_id, "approve")
    assert decided.decision == "APPROVE"
    record = client.get_execution_record("refund_desk", response.execution_record_id)
    assert record.status == "COMPLETED"
    trace = client.get_execution_trace("refund_desk", response.execution_record_id)
    assert "Refund rf_" in trace.trace.result.str_value


def test_attachment_reaches_the_agent(client) -> None:
    link = client.upload_file("plan.txt", b"Kick-off on Monday.\nThe deadline is May 3.\n", "text/plain")
    assert link.file_id and link.prompt_link == f"<document:{link.file_id}/>"
    response = client.execute("doc_reader", {"parameters": {"question": "When is the deadline?"},
                                             "attachments": [link.model_dump(by_alias=True, exclude_none=True)]})
    assert "The deadline is May 3." in response.response and "plan.txt" in response.response
    with pytest.raises(ValidationError) as unknown:
        client.execute("doc_reader", {"parameters": QUESTION | {}, "attachments": [{"fileId": "f_missing"}]})
    assert "attachments[0].fileId" in unknown.value.field_errors


def test_cancel_from_another_thread_stops_within_a_second(timed_sandbox) -> None:
    with FruxonClient(timed_sandbox.base_url, timed_sandbox.api_key, timed_sandbox.tenant) as client:
        with client.stream("support_agent", {"parameters": {"question": "q [[sandbox:slow]]"}}) as stream:
            first = threading.Event()
            cancelled_at: list[float] = []

            def cancel_soon() -> None:
                first.wait(10)
                cancelled_at.append(time.monotonic())
                stream.cancel()

            threading.Thread(target=cancel_soon, daemon=True).start()
            received = []
            for event in stream:
                received.append(event)
                first.set()
            stopped_at = time.monotonic()
        assert received and stream.cancelled  # the iteration ended quietly, no StreamInterrupted
        assert stopped_at - cancelled_at[0] < 1.0
        record_id = None
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:  # the server notices the disconnect and stores CANCELLED
            latest = next(client.list_execution_records("support_agent", limit=1))
            record_id = latest.id
            if latest.status == "CANCELLED":
                break
            time.sleep(0.1)
        assert latest.status == "CANCELLED", record_id


def test_keep_alive_comments_during_long_silences(timed_sandbox) -> None:
    headers = {"Authorization": f"Bearer {timed_sandbox.api_key}", "X-Sandbox-Fault": "silence_ms=900"}
    url = f"{timed_sandbox.base_url}/v1/tenants/demo/agents/echo_agent:stream"
    with httpx.stream("POST", url, json={"parameters": {"message": "hi"}}, headers=headers, timeout=30) as response:
        body = response.read()
    assert b": keep-alive\n\n" in body
    assert body.endswith(b"}\n") and not body.endswith(b"\n\n")  # final frame without a blank line
    assert b"\r" not in body
