"""Our decoder against httpx-sse 0.4.3, both reading the same bytes from a loopback server.

A tiny uvicorn app echoes the request body back as `text/event-stream`, written in pieces of the
size the query asks for, so both readers see real network chunking. Where both are correct they
must yield the same events. httpx-sse 0.4.3 is wrong in four known places, each pinned below so
this list stays true (and the reasons in sse.py's docstring with it):

1. a final frame without a blank line after it is never dispatched — the Fruxon server and the
   sandbox end every stream that way, so httpx-sse loses the `done` (or `error`) of every run;
2. an `id`-only or `retry`-only frame is dispatched as an empty `message` event, and once an id
   was seen so is every later blank line that ends an empty frame;
3. a leading BOM is kept, so the first field name is not recognised and the first frame is lost;
4. `retry` is read with `int()`, which takes signs, underscores, spaces and non-ASCII decimal
   digits (`+5`, `1_0`, `١٢`); WHATWG allows ASCII digits only.

Not compared: `retry` (httpx-sse forgets it after each frame, ours reports the last one seen) and
an absent id (None here, "" there).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from httpx_sse import connect_sse
from httpx_sse._decoders import SSEDecoder as PeerDecoder
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import StreamingResponse
from starlette.routing import Route

from fruxon_playground.api.sse import SSEDecoder
from tests.api._loopback import serve

DATA = Path(__file__).parents[1] / "data"
TRANSCRIPTS = sorted([DATA / "stream_transcript.sse", *(DATA / "sse").glob("*.sse")])

Frame = tuple[str, str, str]  # (event, data, id) with "" for "no id"


async def echo(request: Request) -> StreamingResponse:
    payload = await request.body()  # read the body before answering
    size = int(request.query_params.get("chunk", "65536"))

    async def pieces() -> AsyncIterator[bytes]:
        for i in range(0, len(payload), size):
            yield payload[i:i + size]

    return StreamingResponse(pieces(), media_type="text/event-stream")


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with serve(Starlette(routes=[Route("/echo", echo, methods=["POST"])])) as base:
        yield f"{base}/echo"


def ours(client: httpx.Client, url: str, payload: bytes, chunk: int) -> list[Frame]:
    decoder = SSEDecoder()
    with client.stream("POST", url, params={"chunk": chunk}, content=payload) as response:
        frames = [e for piece in response.iter_bytes() for e in decoder.feed(piece)] + decoder.flush()
    return [(e.event, e.data, e.id or "") for e in frames]


def theirs(client: httpx.Client, url: str, payload: bytes, chunk: int) -> list[Frame]:
    with connect_sse(client, "POST", url, params={"chunk": chunk}, content=payload) as source:
        return [(e.event, e.data, e.id) for e in source.iter_sse()]


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=30) as http:
        yield http


@pytest.mark.parametrize("path", TRANSCRIPTS, ids=lambda p: p.name)
@pytest.mark.parametrize("chunk", [5, 64, 65536])
def test_transcripts_agree_but_for_an_unterminated_final_frame(client, url, path: Path, chunk: int) -> None:
    payload = path.read_bytes()
    mine, peer = ours(client, url, payload, chunk), theirs(client, url, payload, chunk)
    assert mine[-1][0] in ("done", "error")
    if payload.endswith(b"\n\n"):
        assert peer == mine
    else:
        assert peer == mine[:-1]  # difference 1: the terminal event is lost by httpx-sse
        assert theirs(client, url, payload.rstrip(b"\n") + b"\n\n", chunk) == mine  # with a blank line: alike


def test_most_recorded_runs_end_without_a_blank_line() -> None:
    unterminated = [p.name for p in TRANSCRIPTS if not p.read_bytes().endswith(b"\n\n")]
    assert len(unterminated) >= len(TRANSCRIPTS) - 1  # only the `error` run ends with one


def test_id_only_and_retry_only_frames(client, url) -> None:
    payload = b"id: 7\n\nretry: 1500\n\n\n\ndata: a\n\n: keep-alive\n\n"
    assert ours(client, url, payload, 3) == [("message", "a", "7")]
    # difference 2: an empty message for the id-only frame, the retry-only frame, each of the two
    # extra blank lines and the comment-only frame (an id had been seen).
    assert theirs(client, url, payload, 3) == [("message", "", "7")] * 4 + [("message", "a", "7"), ("message", "", "7")]


def test_leading_bom(client, url) -> None:
    payload = "\ufeffevent: text\ndata: first\n\nevent: text\ndata: second\n\n".encode()
    assert ours(client, url, payload, 2) == [("text", "first", ""), ("text", "second", "")]
    assert theirs(client, url, payload, 2) == [("message", "first", ""), ("text", "second", "")]  # difference 3


@pytest.mark.parametrize("value", ["+5", "1_0", "١٢", " 5"])
def test_retry_that_is_not_ascii_digits(value: str) -> None:
    decoder = PeerDecoder()  # httpx-sse's field decoder alone: the value is the only thing compared
    for line in (f"retry: {value}", "data: x", ""):
        event = decoder.decode(line)
    assert event is not None and event.retry is not None  # difference 4: httpx-sse accepts it
    ours_decoder = SSEDecoder()
    (mine,) = ours_decoder.feed(f"retry: {value}\ndata: x\n\n".encode())
    assert mine.retry is None


# -- generated streams -----------------------------------------------------------------------------
_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n\x00\ufeff"), max_size=40)
_line_end = st.sampled_from(["\n", "\r\n", "\r"])


@st.composite
def frames(draw: st.DrawFn) -> str:
    """One frame both decoders must agree on: at least one data line (so both dispatch it), an
    optional named event, ids, retries and comments in any order, any line ends, then a blank line."""
    lines = [f"data:{draw(st.sampled_from(['', ' ', '  ']))}{draw(_text)}" for _ in range(draw(st.integers(1, 3)))]
    if draw(st.booleans()):
        lines.append(f"event: {draw(st.sampled_from(['text', 'tool_call', 'done', 'message', 'x-ü']))}")
    lines += [f"id: {draw(_text)}" for _ in range(draw(st.integers(0, 1)))]
    lines += [f"retry: {draw(st.sampled_from(['0', '1500', '²', 'abc']))}" for _ in range(draw(st.integers(0, 1)))]
    lines += [f":{draw(_text)}" for _ in range(draw(st.integers(0, 2)))]
    lines += [draw(st.sampled_from(["data", "foo: bar", "justtext"])) for _ in range(draw(st.integers(0, 1)))]
    ends = [draw(_line_end) for _ in lines]
    # The blank line repeats the last line's end: after a CR, an LF would only complete a CRLF.
    return "".join(line + end for line, end in zip(draw(st.permutations(lines)), ends, strict=True)) + ends[-1]


@settings(max_examples=40, deadline=None)
@given(stream=st.lists(frames(), min_size=1, max_size=8).map("".join), chunk=st.integers(1, 50))
def test_generated_streams_agree(client, url, stream: str, chunk: int) -> None:
    payload = stream.encode()
    assert ours(client, url, payload, chunk) == theirs(client, url, payload, chunk)
