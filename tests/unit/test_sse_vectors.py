"""Decoder vectors from the WHATWG spec and public SSE parser test suites, checked at every chunking.

Sources (vectors re-written here as data, no code taken):
  whatwg   — html.spec.whatwg.org, "Interpreting an event stream" examples
  wpt      — web-platform-tests/wpt eventsource/format-*.js|htm
  esp      — rexxars/eventsource-parser test/parse.test.ts and test/fixtures.ts
  httpx    — florimondmanca/httpx-sse tests/test_decoders.py
  rust     — jpopesculian/eventsource-stream (README example)

Where the contract deliberately differs from a browser (§9.2 rule 8 and rule 10: a pending frame
is dispatched at end of input; a named event without data is dispatched), the vector says so.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

import pytest

from fruxon_playground.api.sse import ServerSentEvent as E
from fruxon_playground.api.sse import SSEDecoder, decode_sse

LONG = "x" * 2049


class Vector(NamedTuple):
    source: str
    stream: str | bytes
    expected: list[E]
    note: str = ""


VECTORS: dict[str, Vector] = {
    # -- WHATWG spec examples --------------------------------------------------------------------------
    "whatwg-stock": Vector("whatwg", "data: YHOO\ndata: +2\ndata: 10\n\n", [E("message", "YHOO\n+2\n10")]),
    "whatwg-ids": Vector(
        "whatwg", ": test stream\n\ndata: first event\nid: 1\n\ndata:second event\nid\n\ndata:  third event\n",
        [E("message", "first event", "1"), E("message", "second event", ""), E("message", " third event", "")],
        "a browser drops the last block (no blank line after it); rule 10 dispatches it at end of input",
    ),
    "whatwg-empty-data": Vector(
        "whatwg", "data\n\ndata\ndata\n\ndata:", [E("message", ""), E("message", "\n"), E("message", "")],
        "the last block again: dispatched at end of input (rule 10), dropped by a browser",
    ),
    "whatwg-one-space": Vector("whatwg", "data:test\n\ndata: test\n\n", [E("message", "test"), E("message", "test")]),
    # -- web-platform-tests --------------------------------------------------------------------------
    "wpt-field-data": Vector("wpt", "data:\n\ndata\ndata\n\ndata:test\n\n",
                             [E("message", ""), E("message", "\n"), E("message", "test")]),
    "wpt-comment-fest": Vector(
        "wpt", f"data:1\r:\0\n:\r\ndata:2\n:{LONG}\rdata:3\n:data:fail\r:{LONG}\ndata:4\n\n",
        [E("message", "1\n2\n3\n4")],
    ),
    "wpt-bom": Vector("wpt", "\ufeffdata:1\n\n\ufeffdata:2\n\ndata:3\n\n", [E("message", "1"), E("message", "3")],
                      "only one leading BOM is dropped; a later one makes the field name unknown"),
    "wpt-double-bom": Vector("wpt", "\ufeff\ufeffdata:1\n\ndata:2\n\ndata:3\n\n", [E("message", "2"), E("message", "3")]),
    "wpt-null-character": Vector("wpt", "data:\0\n\n", [E("message", "\0")]),
    "wpt-empty-event-name": Vector("wpt", "event: \ndata:data\n\n", [E("message", "data")]),
    "wpt-custom-event-name": Vector("wpt", "event:test\ndata:x\n\ndata:x\n\n", [E("test", "x"), E("message", "x")]),
    "wpt-retry-bogus": Vector("wpt", "retry:2000\nretry:1000x\ndata:x\n\n", [E("message", "x", None, 2000)]),
    "wpt-utf-8": Vector("wpt", b"data:ok\xe2\x80\xa6\n\n", [E("message", "ok…")]),
    "wpt-data-before-final-empty-line": Vector(
        "wpt", "retry:1000\ndata:test1\n\nid:test\ndata:test2",
        [E("message", "test1", None, 1000), E("message", "test2", "test", 1000)],
        "a browser drops test2 (no blank line); rule 10 dispatches it",
    ),
    # -- eventsource-parser (rexxars) ------------------------------------------------------------------
    "esp-carriage-returns": Vector("esp", "data: dog\rdata: bark\r\rdata: cat\rdata: meow\r\revent: done\rdata: ✔\r\r",
                                   [E("message", "dog\nbark"), E("message", "cat\nmeow"), E("done", "✔")]),
    "esp-line-feeds": Vector("esp", "data: cow\ndata: moo\n\ndata: horse\ndata: neigh\n\n",
                             [E("message", "cow\nmoo"), E("message", "horse\nneigh")]),
    "esp-crlf": Vector("esp", "data: sheep\r\ndata: bleat\r\n\r\ndata: pig\r\ndata: oink\r\n\r\n",
                       [E("message", "sheep\nbleat"), E("message", "pig\noink")]),
    "esp-comments": Vector(
        "esp", ": Hello\n\n" + ":" * 300 + "\ndata: First\n\n: Первый: 第二\ndata: Second\n\n" + ": Moop \n" * 10
        + ": ثالث\ndata: Third\n\n:നാലാമത്തെ\ndata: Fourth\n\n: 😀 🎉 :\ndata: Fifth\n\n",
        [E("message", "First"), E("message", "Second"), E("message", "Third"), E("message", "Fourth"), E("message", "Fifth")],
    ),
    "esp-mixed-comments": Vector(
        "esp", f"data:1\r\r:\0\n:\r\ndata:2\n\n:{LONG}\rdata:3\n\n:data:fail\r:{LONG}\ndata:4\n\ndata:5",
        [E("message", "1"), E("message", "2"), E("message", "3"), E("message", "4"), E("message", "5")],
        "eventsource-parser leaves `data:5` pending (no newline); rule 10 dispatches it",
    ),
    "esp-empty-event-field": Vector("esp", "event:\ndata: Hello 1\n\nevent:\n\nevent: done\ndata: ✔\n\n",
                                    [E("message", "Hello 1"), E("done", "✔")]),
    "esp-empty-retry": Vector("esp", "id: 1\nretry: 500\ndata: 🥌\n\nid:2\nretry:\ndata:🧹\n\nid: 3\ndata: ✅\n\n",
                              [E("message", "🥌", "1", 500), E("message", "🧹", "2", 500), E("message", "✅", "3", 500)]),
    "esp-incorrect-retry": Vector("esp", "\nretry: 500\n\ndata: first\n\nretry: 50x\n\ndata: second\n\n",
                                  [E("message", "first", None, 500), E("message", "second", None, 500)]),
    "esp-id-with-null": Vector("esp", "id: 123\nid: bad\0id\ndata: hello\n\n", [E("message", "hello", "123")]),
    "esp-id-only-blocks": Vector("esp", "id: 42\n\nid: bad\0id\n\nid:\n\ndata: after\n\n", [E("message", "after", "")],
                                 "id-only blocks dispatch nothing, but the empty id resets the last id"),
    "esp-unknown-fields": Vector("esp", "data:abc\n data\ndata\nfoobar:xxx\njustsometext\n:thisisacommentyay\ndata:123\n\n",
                                 [E("message", "abc\n\n123")]),
    "esp-multibyte-after-empty-lines": Vector("esp", "\n\n\n\nid: 1\ndata: 我現在都看實況不玩遊戲\n\nevent: done\ndata: ✔\n\n",
                                              [E("message", "我現在都看實況不玩遊戲", "1"), E("done", "✔", "1")]),
    "esp-cr-then-crlf-halves": Vector("esp", "data: A\r\ndata: B\r\ndata: C\r\n\n", [E("message", "A\nB\nC")]),
    "esp-blank-cr-line": Vector("esp", "data: one\r\r\n", [E("message", "one")]),
    "esp-bare-field-line": Vector("esp", "data: one\ndata\r\ndata: two\n\n", [E("message", "one\n\ntwo")]),
    "esp-discarded-comment-crlf": Vector("esp", "data: one\n:ignored\r\ndata: two\n\n", [E("message", "one\ntwo")]),
    "esp-not-an-event-stream": Vector("esp", '{"error":"Internal Server Error"}\n', [],
                                      "a JSON body is one unknown field: nothing is dispatched, nothing raises"),
    # -- httpx-sse -------------------------------------------------------------------------------------
    "httpx-named-event": Vector("httpx", "event: logline\ndata: New user connected\n\n", [E("logline", "New user connected")]),
    "httpx-id-null": Vector("httpx", "data: test\nid: 123\0\n\n", [E("message", "test")]),
    "httpx-retry-only": Vector("httpx", "retry: 10000\n\n", [],
                               "httpx-sse 0.4.3 yields an empty `message` here; a retry-only frame dispatches nothing"),
    "httpx-retry-invalid": Vector("httpx", "retry: 1667a\n\n", []),
    "httpx-unknown-field": Vector("httpx", "something: ignore\n\n", []),
    # -- Rust eventsource-stream -----------------------------------------------------------------------
    "rust-mixed-line-ends": Vector(
        "rust", "event: my-event\r\ndata:line1\ndata: line2\n:\nid: my-id\n:should be ignored too\rretry:42\n\n",
        [E("my-event", "line1\nline2", "my-id", 42)],
    ),
}


def _payload(vector: Vector) -> bytes:
    return vector.stream if isinstance(vector.stream, bytes) else vector.stream.encode()


def _chunkings(payload: bytes) -> Iterator[tuple[str, list[bytes]]]:
    yield "whole", [payload]
    for size in (1, 2, 3, 7):
        yield f"{size}-byte pieces", [payload[i:i + size] for i in range(0, len(payload), size)]
    for cut in range(1, len(payload)):
        yield f"split at {cut}", [payload[:cut], payload[cut:]]


def _decode(pieces: list[bytes]) -> list[E]:
    decoder = SSEDecoder()
    out = [event for piece in pieces for event in decoder.feed(piece)]
    return out + decoder.flush()


@pytest.mark.parametrize("name", VECTORS)
def test_vector_at_every_chunking(name: str) -> None:
    vector = VECTORS[name]
    assert decode_sse(_payload(vector)) == vector.expected, vector.note
    for how, pieces in _chunkings(_payload(vector)):
        assert _decode(pieces) == vector.expected, how


@pytest.mark.parametrize(("pieces", "expected"), [
    # eventsource-parser: a CR ending a chunk may be half of a CRLF: one event, not two.
    (["data: A\r\n", "data: B\r", "\n", "data: C\r\n", "\n"], [E("message", "A\nB\nC")]),
    (["data: one\r", "\r", "\n"], [E("message", "one")]),
    (["data: one\n:", "ignored\r", "\ndata: two\n\n"], [E("message", "one\ntwo")]),
    (["data: one\n:", "ignored\r", "data: two\n\n"], [E("message", "one\ntwo")]),
    (["data: one\ndata\r", "\ndata: two\n\n"], [E("message", "one\n\ntwo")]),
    (["da", "ta\n\n"], [E("message", "")]),
    # eventsource-parser: one 1 MB line arriving in pieces, nothing terminates it but the end.
    (["data: ", "x" * 500_000, "x" * 500_000], [E("message", "x" * 1_000_000)]),
])
def test_explicit_chunk_sequences(pieces: list[str], expected: list[E]) -> None:
    assert _decode([p.encode() for p in pieces]) == expected
