"""The SSE defects as a user meets them: a run read with `FruxonClient.stream` from a loopback server.

The server answers each agent's `:stream` with a fixed body, written in pieces of a fixed size.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import StreamingResponse
from starlette.routing import Route

from fruxon_playground.api import FruxonClient
from fruxon_playground.api import events as ev
from tests.api._loopback import serve

DONE = b'event: done\ndata: {"executionRecordId":"r1","sessionId":"s1"}\n'
BIG = 1 << 20
STREAMS: dict[str, tuple[bytes, int]] = {  # agent → (body, bytes per write)
    # `²` is a digit to str.isdigit() and not to int(): the whole first chunk, done included, was lost.
    "odd_retry": (b'retry: \xc2\xb2\nevent: text\ndata: {"chunk":"hi"}\n\n' + DONE, 65536),
    # One space stays in the value; an empty first data line: both were typed by the text's first byte.
    "spaced": (b'event: text\ndata:  {"chunk":"x"}\n\nevent: done\ndata:\ndata: {"executionRecordId":"r2"}\n', 65536),
    # One 1 MiB line in 1 KiB writes: decoding it re-scanned the line on every chunk (seconds).
    "long_line": (b'event: done\ndata: {"executionRecordId":"r3","response":"' + b"y" * BIG + b'"}\n', 1024),
}


async def stream(request: Request) -> StreamingResponse:
    await request.body()
    body, size = STREAMS[request.path_params["agent"]]

    async def pieces() -> AsyncIterator[bytes]:
        for i in range(0, len(body), size):
            yield body[i:i + size]

    return StreamingResponse(pieces(), media_type="text/event-stream")


@pytest.fixture(scope="module")
def client() -> Iterator[FruxonClient]:
    app = Starlette(routes=[Route("/v1/tenants/t/agents/{agent}:stream", stream, methods=["POST"])])
    with serve(app) as url, FruxonClient(url, "fx_pat_loopback", "t") as fruxon:
        yield fruxon


def run(client: FruxonClient, agent: str) -> list[ev.StreamEvent]:
    with client.stream(agent) as events:
        return list(events)


def test_a_non_ascii_retry_digit_loses_nothing(client: FruxonClient) -> None:
    events = run(client, "odd_retry")
    assert [type(e) for e in events] == [ev.TextEvent, ev.DoneEvent]
    assert events[0].chunk == "hi" and events[1].execution_record_id == "r1"


def test_text_after_two_spaces_and_done_after_an_empty_data_line_are_typed(client: FruxonClient) -> None:
    text, done = run(client, "spaced")
    assert isinstance(text, ev.TextEvent) and text.chunk == "x"
    assert isinstance(done, ev.DoneEvent) and done.execution_record_id == "r2"


def test_a_one_mebibyte_line_in_small_writes_arrives_whole(client: FruxonClient) -> None:
    (done,) = run(client, "long_line")
    assert isinstance(done, ev.DoneEvent) and done.execution_record_id == "r3" and done.response == "y" * BIG
