"""Client behaviour that needs a server misbehaving on purpose: retries, fallbacks, awkward framing."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from fruxon_playground.api import (
    FruxonAPIError,
    FruxonClient,
    RateLimitedError,
    ServiceUnavailableError,
    StreamInterrupted,
)
from fruxon_playground.api import events as ev
from tests.api._loopback import serve

TRANSCRIPT = (Path(__file__).parents[1] / "data" / "stream_transcript.sse").read_bytes()
PREFIX = "/v1/tenants/t/agents/a"


class Behaviour:
    """What the purpose-built server does, and what it saw."""

    def __init__(self) -> None:
        self.hits: Counter[str] = Counter()
        self.headers: list[dict[str, str]] = []
        self.status_sequence: list[int] = []


def build_app(behaviour: Behaviour, stream_body: bytes = TRANSCRIPT, chunk: int = 7) -> Starlette:
    async def records(request: Request) -> Response:
        behaviour.hits["records"] += 1
        behaviour.headers.append(dict(request.headers))
        if behaviour.status_sequence:
            status = behaviour.status_sequence.pop(0)
            return JSONResponse({"title": "busy", "status": status}, status_code=status, headers={"Retry-After": "0"})
        token = request.query_params.get("pageToken")
        if token is None:
            return JSONResponse({"items": [{"id": "r1", "environmentSlug": "acme", "totalCost": "0.5", "startTime": 10}],
                                 "nextPageToken": "again"})
        return JSONResponse({"items": [{"id": "r2", "environmentSlug": "acme", "totalCost": 0.25, "startTime": 20, "status": "FAILED"}],
                             "nextPageToken": "again"})  # a server that repeats its token forever

    async def execute(request: Request) -> Response:
        behaviour.hits["execute"] += 1
        return JSONResponse({"title": "unavailable", "status": 503}, status_code=503, headers={"Retry-After": "0"})

    async def stream(request: Request) -> Response:
        behaviour.hits["stream"] += 1

        async def body():
            for i in range(0, len(stream_body), chunk):
                yield stream_body[i:i + chunk]
                await asyncio.sleep(0)

        return StreamingResponse(body(), media_type="text/event-stream")

    async def trace_slash(request: Request) -> Response:
        behaviour.hits["trace_slash"] += 1
        return PlainTextResponse("", status_code=404)  # an older deployment: no such route, no problem body

    async def trace_colon(request: Request) -> Response:
        behaviour.hits["trace_colon"] += 1
        return JSONResponse({"agentId": "a", "traces": [{"id": "s1", "type": "FLOW_STEP"}]})  # bare, old shape

    async def summaries(request: Request) -> Response:
        return Response(status_code=405)

    return Starlette(routes=[
        Route(f"{PREFIX}/executionRecords", records),
        Route(f"{PREFIX}/executionRecords/r1/trace", trace_slash),
        Route(f"{PREFIX}/executionRecords/r1:trace", trace_colon),
        Route(f"{PREFIX}/environmentSummaries", summaries),
        Route(f"{PREFIX}:execute", execute, methods=["POST"]),
        Route(f"{PREFIX}:stream", stream, methods=["POST"]),
    ])


def make_client(url: str, **kwargs) -> FruxonClient:
    return FruxonClient(url, "fx_pat_transport_key", "t", sleep=lambda s: None, **kwargs)


def test_reads_retry_rate_limits_and_runs_never_retry() -> None:
    behaviour = Behaviour()
    behaviour.status_sequence = [429, 503]
    with serve(build_app(behaviour)) as url, make_client(url) as client:
        page = client.list_execution_records_page("a")
        assert page.items[0].id == "r1" and behaviour.hits["records"] == 3
        behaviour.status_sequence = [429, 429, 429]
        with pytest.raises(RateLimitedError):
            client.list_execution_records_page("a")
        assert behaviour.hits["records"] == 6  # three tries, then the error
        with pytest.raises(ServiceUnavailableError):
            client.execute("a", {})
        assert behaviour.hits["execute"] == 1  # a run is never retried


def test_both_auth_headers_are_sent_and_the_key_stays_out_of_the_url() -> None:
    behaviour = Behaviour()
    with serve(build_app(behaviour)) as url, make_client(url) as client:
        client.list_execution_records_page("a")
    headers = behaviour.headers[0]
    assert headers["x-api-key"] == "fx_pat_transport_key"
    assert headers["authorization"] == "Bearer fx_pat_transport_key"


def test_paging_stops_when_the_server_repeats_its_token() -> None:
    with serve(build_app(Behaviour())) as url, make_client(url) as client:
        assert [r.id for r in client.list_execution_records("a", page_size=1)] == ["r1", "r2"]


def test_trace_falls_back_to_colon_spelling_and_accepts_a_bare_trace() -> None:
    behaviour = Behaviour()
    with serve(build_app(behaviour)) as url, make_client(url) as client:
        envelope = client.get_execution_trace("a", "r1")
    assert behaviour.hits["trace_slash"] == 1 and behaviour.hits["trace_colon"] == 1
    assert envelope.trace.traces[0].type == "FLOW_STEP"


def test_summaries_fall_back_to_client_side_aggregation() -> None:
    with serve(build_app(Behaviour())) as url, make_client(url) as client:
        summaries = client.environment_summaries("a")
    assert summaries.approximate
    (acme,) = summaries.items
    assert acme.execution_count == 2 and float(acme.cost) == 0.75 and acme.failed_count == 1 and acme.last_activity_at == 20


@pytest.mark.parametrize("chunk", [1, 3, 7, 64])
@pytest.mark.parametrize("ending", ["\n", "\r\n"])
def test_framing_over_a_real_socket_in_awkward_chunks(chunk: int, ending: str) -> None:
    body = TRANSCRIPT.replace(b"\n", ending.encode())
    with serve(build_app(Behaviour(), body, chunk)) as url, make_client(url) as client:
        with client.stream("a", {}) as stream:
            events = list(stream)
    assert [e.event for e in events][-3:] == ["message", "usage", "done"]
    assert "".join(e.chunk for e in events if isinstance(e, ev.TextEvent)) == "Let me check — open Settings."


def test_stream_without_a_terminal_event_is_interrupted_and_keeps_events() -> None:
    body = TRANSCRIPT.split(b"event: done")[0]
    with serve(build_app(Behaviour(), body)) as url, make_client(url) as client:
        received = []
        with client.stream("a", {}) as stream, pytest.raises(StreamInterrupted) as caught:
            for event in stream:
                received.append(event)
    assert caught.value.received == len(received) == 9


def test_an_error_status_before_the_stream_raises_with_the_problem() -> None:
    async def refuse(request: Request) -> Response:
        return JSONResponse({"title": "Unauthorized", "status": 401, "detail": "The API key was rejected."}, status_code=401,
                            media_type="application/problem+json")

    app = Starlette(routes=[Route(f"{PREFIX}:stream", refuse, methods=["POST"])])
    with serve(app) as url, make_client(url) as client:
        with pytest.raises(FruxonAPIError) as caught, client.stream("a", {}) as stream:
            list(stream)
    assert caught.value.status == 401 and "rejected" in str(caught.value)
    assert json.dumps(caught.value.problem)  # the problem body is kept for the UI
