"""The SSE decoder: identical output for any chunking, and every framing quirk of contract §9.2."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fruxon_playground.api.sse import ServerSentEvent, SSEDecoder, decode_data, decode_sse

TRANSCRIPT = (Path(__file__).parents[1] / "data" / "stream_transcript.sse").read_bytes()


def feed_in_pieces(payload: bytes, cuts: list[int]) -> list[ServerSentEvent]:
    decoder = SSEDecoder()
    out: list[ServerSentEvent] = []
    previous = 0
    for cut in [*cuts, len(payload)]:
        out += decoder.feed(payload[previous:cut])
        previous = cut
    return out + decoder.flush()


def test_transcript_decodes_to_every_named_unnamed_and_final_event() -> None:
    events = decode_sse(TRANSCRIPT)
    assert [e.event for e in events] == [
        "step_trace", "step_trace", "text", "tool_call", "tool_result", "text", "reasoning", "message", "usage", "done",
    ]
    assert events[-1].data.startswith('{"executionRecordId"')  # the last frame had no blank line, not even a newline


@pytest.mark.parametrize("variant", ["lf", "crlf", "cr"])
def test_every_split_point_and_line_ending_gives_the_same_events(variant: str) -> None:
    payload = {"lf": TRANSCRIPT, "crlf": TRANSCRIPT.replace(b"\n", b"\r\n"), "cr": TRANSCRIPT.replace(b"\n", b"\r")}[variant]
    expected = decode_sse(TRANSCRIPT)
    assert decode_sse(payload) == expected
    for cut in range(len(payload) + 1):
        assert feed_in_pieces(payload, [cut]) == expected, cut


def test_one_byte_feeds_and_split_utf8_sequences() -> None:
    payload = "event: text\ndata: {\"chunk\":\"héllo — 𝔘 ✓\"}\n\n".encode()
    one_byte = feed_in_pieces(payload, list(range(1, len(payload))))
    assert one_byte == decode_sse(payload)
    assert one_byte[0].data == '{"chunk":"héllo — 𝔘 ✓"}'


def test_split_crlf_is_one_line_end_not_two() -> None:
    payload = b"data: a\r\n\r\ndata: b\r\n\r\n"
    for cut in range(len(payload) + 1):
        assert [e.data for e in feed_in_pieces(payload, [cut])] == ["a", "b"]


def test_bom_comments_and_one_space_rule() -> None:
    payload = "\ufeffevent: text\n: a comment between fields\ndata:  two spaces\ndata:none\n\n".encode()
    (event,) = decode_sse(payload)
    assert event.event == "text"
    assert event.data == " two spaces\nnone"


def test_id_and_retry_only_frames_yield_nothing_but_id_persists() -> None:
    events = decode_sse(b"id: 7\n\nretry: 1500\n\n\n\nevent: done\ndata: {}\n\n")
    assert len(events) == 1
    assert events[0].id == "7" and events[0].retry == 1500


def test_named_event_without_data_is_dispatched_with_empty_data() -> None:
    assert decode_sse(b"event: heartbeat\n\n") == [ServerSentEvent("heartbeat", "")]


def test_field_without_colon_and_unknown_fields() -> None:
    events = decode_sse(b"data\nfoo: bar\n\n")
    assert events == [ServerSentEvent("message", "")]


def test_last_line_without_newline_is_flushed() -> None:
    assert decode_sse(b"event: done\ndata: {\"a\":1}") == [ServerSentEvent("done", '{"a":1}')]


def test_decode_data_never_raises() -> None:
    assert decode_data("") == {}
    assert decode_data('{"chunk":"x"}') == {"chunk": "x"}
    assert decode_data("[1,2]") == {"value": [1, 2]}
    assert decode_data("42") == {"value": 42}
    assert decode_data("<html>not json") == {"_raw": "<html>not json"}
    assert decode_data('{"truncated":') == {"_raw": '{"truncated":'}


# -- regressions -------------------------------------------------------------------------------------
TEXT_THEN_DONE = b'event: text\ndata: {"chunk":"hi"}\n\nevent: done\ndata: {"executionRecordId":"r1"}\n\n'


@pytest.mark.parametrize("value", ["²", "١٢", "１２", "+5", "-5", "5 ", "1_000", "5x", "", "9" * 5000])
def test_retry_that_is_not_only_ascii_digits_is_ignored_and_the_chunk_survives(value: str) -> None:
    # "²".isdigit() is True and int("²") raises: the whole chunk (with its done) used to be lost.
    payload = b"retry: 3000\n\n" + f"retry: {value}\n".encode() + TEXT_THEN_DONE
    events = decode_sse(payload)
    assert [(e.event, e.retry) for e in events] == [("text", 3000), ("done", 3000)]


def test_retry_of_ascii_digits_is_kept() -> None:
    events = decode_sse(b"retry: 0012\n" + TEXT_THEN_DONE)
    assert {e.retry for e in events} == {12}


def test_a_cr_ending_a_chunk_ends_its_line_at_once() -> None:
    # The frame is complete when its blank line's CR arrives; an LF in the next chunk is not a new line.
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\r") == []
    assert decoder.feed(b"\r") == [ServerSentEvent("message", "a")]
    assert decoder.feed(b"\n") == []
    assert decoder.feed(b"data: b\n\n") == [ServerSentEvent("message", "b")]
    assert decoder.flush() == []


def _fed_in_pieces(payload: bytes, piece: int) -> float:
    """Seconds to decode `payload` fed `piece` bytes at a time (best of three)."""
    pieces = [payload[i:i + piece] for i in range(0, len(payload), piece)]
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        decoder = SSEDecoder()
        for p in pieces:
            decoder.feed(p)
        decoder.flush()
        best = min(best, time.perf_counter() - started)
    return best


@pytest.mark.parametrize(("size", "piece"), [(1 << 20, 1024), (40_000, 1)])
def test_a_long_line_costs_no_more_than_the_same_bytes_in_short_lines(size: int, piece: int) -> None:
    # A complexity check, not a speed target (those live in benchmarks/sse_long_lines.py). Re-scanning
    # the unfinished line on every feed made one long line quadratic: a 1 MiB line in 1 KiB network
    # chunks took seconds, a 40 KB line fed byte by byte 8 s, while the same bytes as short lines took
    # milliseconds. Fed the same way, both must now cost about the same.
    long_line = b'event: done\ndata: {"response":"' + b"x" * size + b'"}\n\n'
    short_lines = (b": " + b"x" * 62 + b"\n") * (len(long_line) // 65)
    (event,) = decode_sse(long_line)
    assert len(event.data) == size + 15
    assert _fed_in_pieces(long_line, piece) < 3 * _fed_in_pieces(short_lines, piece)


def test_a_utf8_sequence_cut_off_by_the_end_of_the_stream_becomes_a_replacement_character() -> None:
    assert decode_sse(b"data: caf\xc3") == [ServerSentEvent("message", "caf\ufffd")]


PIECES = st.sampled_from(["data:", "data: ", "event: ", "id: ", "retry: ", "12", "²", ":", " ", "x", "é", "𝔘",
                          "\ufeff", "\x00", "\r", "\n", "\r\n", "\n\n", "{\"chunk\":\"a\"}"])


@given(stream=st.lists(PIECES, max_size=40).map("".join).map(str.encode), cuts=st.lists(st.integers(0, 400), max_size=8))
def test_any_chunking_of_any_stream_gives_the_same_events(stream: bytes, cuts: list[int]) -> None:
    assert feed_in_pieces(stream, sorted({c for c in cuts if c <= len(stream)})) == decode_sse(stream)
