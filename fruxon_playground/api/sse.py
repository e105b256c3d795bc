"""A small, pure Server-Sent Events decoder: bytes in (any chunking), frames out.

Why our own and not httpx-sse's: httpx-sse 0.4.3 never dispatches a final frame that lacks the
blank line after it (the Fruxon server omits it after `done`), and it yields empty `message`
events for frames that carry only `id:` or `retry:`. This decoder follows the WHATWG rules the
contract lists (§9.2): incremental UTF-8, one leading BOM dropped, LF / CRLF / lone CR line ends
(a CR at the end of a chunk is held until the next byte), comments ignored, exactly one space
stripped after the colon, and the pending frame flushed at end of input.
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


class SSEDecoder:
    """Feed bytes with `feed()`, call `flush()` once at end of input. Output is chunking-independent."""

    __slots__ = ("_decoder", "_buffer", "_started", "_event", "_data", "_has_data", "_last_id", "_retry")

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._buffer = ""
        self._started = False
        self._event: str | None = None
        self._data: list[str] = []
        self._has_data = False
        self._last_id: str | None = None
        self._retry: int | None = None

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        text = self._decoder.decode(chunk)
        if not text:
            return []
        if not self._started:
            self._started = True
            if text.startswith("\ufeff"):
                text = text[1:]
        buffer = self._buffer + text if self._buffer else text
        # A trailing CR may be the first half of a CRLF split across chunks: keep it for later.
        if buffer.endswith("\r"):
            body, self._buffer = buffer[:-1], "\r"
        else:
            body, self._buffer = buffer, ""
        lines = _LINE_END.split(body)
        # The last piece is an unterminated line: keep it (after any held CR, which ends nothing yet).
        self._buffer = lines.pop() + self._buffer
        if not lines:
            return []
        return self._process(lines)

    def flush(self) -> list[ServerSentEvent]:
        """End of input: an unterminated last line still counts, and a pending frame is dispatched."""
        tail = self._buffer + self._decoder.decode(b"", final=True)
        self._buffer = ""
        out: list[ServerSentEvent] = []
        if tail:
            lines = _LINE_END.split(tail)
            if lines and lines[-1] == "":
                lines.pop()  # a trailing CR terminated the last line; nothing follows it
            out.extend(self._process(lines))
        dispatched = self._dispatch()
        if dispatched is not None:
            out.append(dispatched)
        return out

    def _process(self, lines: list[str]) -> list[ServerSentEvent]:
        out: list[ServerSentEvent] = []
        for line in lines:
            # Fast paths for the two lines nearly every frame is made of.
            if line.startswith("data: "):
                self._data.append(line[6:])
                self._has_data = True
                continue
            if line.startswith("event: "):
                self._event = line[7:]
                continue
            if not line:
                event = self._dispatch()
                if event is not None:
                    out.append(event)
                continue
            if line[0] == ":":
                continue
            name, sep, value = line.partition(":")
            if sep and value[:1] == " ":
                value = value[1:]
            if name == "data":
                self._data.append(value)
                self._has_data = True
            elif name == "event":
                self._event = value
            elif name == "id":
                if "\x00" not in value:
                    self._last_id = value
            elif name == "retry" and value.isdigit():
                self._retry = int(value)
        return out

    def _dispatch(self) -> ServerSentEvent | None:
        name = self._event
        if not self._has_data and (name is None or name == "" or name == "message"):
            self._event = None
            return None
        data = self._data[0] if len(self._data) == 1 else "\n".join(self._data)
        event = ServerSentEvent(name or "message", data, self._last_id, self._retry)
        self._event = None
        self._data = []
        self._has_data = False
        return event


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
