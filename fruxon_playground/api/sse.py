"""A small, pure Server-Sent Events decoder: bytes in (any chunking), frames out.

Why our own and not httpx-sse's: httpx-sse 0.4.3 never dispatches a final frame that lacks the
blank line after it (the Fruxon server omits it after `done`), keeps a leading BOM (so the first
frame is lost), and yields empty `message` events for frames that carry only `id:` or `retry:`.
This decoder follows the WHATWG rules the contract lists (§9.2): incremental UTF-8, one leading BOM
dropped, LF / CRLF / lone CR line ends (a CR at the end of a chunk ends its line at once; an LF
starting the next chunk is then skipped), comments ignored, exactly one space stripped after the
colon, `retry` only when all ASCII digits, and the pending frame flushed at end of input.

Cost is linear in the input however it is chunked: only new text is searched for line ends, and
an unfinished line is kept as a list of pieces joined once when its end arrives.
"""

from __future__ import annotations

import codecs
import json
import re
from typing import Any, NamedTuple

_LINE_END = re.compile(r"\r\n|\r|\n")


class ServerSentEvent(NamedTuple):  # a tuple: cheap to build, one per event on the hot path
    event: str  # "message" when the frame named none
    data: str  # data lines joined with "\n"
    id: str | None = None  # the last event id seen so far (persists across frames)
    retry: int | None = None


_new_event = tuple.__new__  # builds a ServerSentEvent without NamedTuple's Python-level __new__


class SSEDecoder:
    """Feed bytes with `feed()`, call `flush()` once at end of input. Output is chunking-independent."""

    __slots__ = ("_decode", "_pieces", "_skip_lf", "_started", "_event", "_data", "_more", "_last_id", "_retry")

    def __init__(self) -> None:
        self._decode = codecs.getincrementaldecoder("utf-8")(errors="replace").decode
        self._pieces: list[str] = []  # the unfinished last line, in the pieces it arrived in
        self._skip_lf = False  # the last chunk ended with CR: an LF starting the next one is its CRLF's half
        self._started = False
        self._event: str | None = None
        self._data: str | None = None  # the frame's first data line; None until it has one
        self._more: list[str] | None = None  # all its data lines, once there are two or more
        self._last_id: str | None = None
        self._retry: int | None = None

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        text = self._decode(chunk)
        if not text:
            return []
        if not self._started:
            self._started = True
            if text[0] == "\ufeff":
                text = text[1:]
        if self._skip_lf:
            self._skip_lf = False
            if text[0] == "\n":
                text = text[1:]
        if not text:
            return []
        if "\r" in text:
            lines = _LINE_END.split(text)
            self._skip_lf = text[-1] == "\r"
        else:
            lines = text.split("\n")
        tail = lines.pop()  # after the last line end: the start of an unfinished line (maybe empty)
        pieces = self._pieces
        if not lines:
            if tail:
                pieces.append(tail)
            return []
        if pieces:
            pieces.append(lines[0])
            lines[0] = "".join(pieces)
            pieces.clear()
        if tail:
            pieces.append(tail)
        return self._process(lines)

    def flush(self) -> list[ServerSentEvent]:
        """End of input: an unterminated last line still counts, and a pending frame is dispatched."""
        self._pieces.append(self._decode(b"", final=True))  # a cut-off UTF-8 sequence becomes U+FFFD
        tail = "".join(self._pieces)
        self._pieces.clear()
        out = self._process([tail]) if tail else []
        out.extend(self._process([""]))  # the blank line the server may have left out
        return out

    def _process(self, lines: list[str]) -> list[ServerSentEvent]:
        out: list[ServerSentEvent] = []
        append = out.append
        # The frame being built: its name, its first data line, and all its data lines once there are two.
        event, data, more = self._event, self._data, self._more
        for line in lines:
            # The three lines nearly every frame is made of come first.
            if not line:  # dispatch (contract §9.2 rule 8)
                if data is not None:
                    append(_new_event(ServerSentEvent, (
                        event or "message", data if more is None else "\n".join(more), self._last_id, self._retry,
                    )))
                    event = data = more = None
                elif event is not None:
                    if event and event != "message":  # a named event without data
                        append(_new_event(ServerSentEvent, (event, "", self._last_id, self._retry)))
                    event = None
                continue
            if line.startswith("data: "):
                value = line[6:]
            elif line.startswith("event: "):
                event = line[7:]
                continue
            elif line[0] == ":":
                continue
            else:
                name, _, value = line.partition(":")
                if value[:1] == " ":
                    value = value[1:]
                if name == "event":
                    event = value
                    continue
                if name == "id":
                    if "\x00" not in value:
                        self._last_id = value
                    continue
                if name == "retry":
                    self._retry = _retry_ms(value, self._retry)
                    continue
                if name != "data":
                    continue
            if data is None:
                data = value
            elif more is None:
                more = [data, value]
            else:
                more.append(value)
        self._event, self._data, self._more = event, data, more
        return out


def _retry_ms(value: str, current: int | None) -> int | None:
    """WHATWG: only ASCII digits set the delay; anything else (`²`, `١٢`, `+5`, `5 `) is ignored."""
    if not (value.isascii() and value.isdigit()):
        return current
    if len(value) > 18:  # beyond any sane delay, and past int()'s digit limit a ValueError
        return current
    return int(value)


def decode_sse(payload: bytes) -> list[ServerSentEvent]:
    """Decode a complete transcript (tests, replays)."""
    decoder = SSEDecoder()
    return decoder.feed(payload) + decoder.flush()


def decode_data(text: str) -> dict[str, Any]:
    """Rule 9: empty → {}; a JSON object → itself; other JSON → {"value": …}; not JSON → {"_raw": text}."""
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        return {"_raw": text}
    return value if isinstance(value, dict) else {"value": value}
