"""SSE framing as contract §9.8/§10.6 fixes it: `event:`/`data:` lines with one space, LF endings,
compact UTF-8 JSON, no BOM, and a final `done` frame without the blank line after it."""

from __future__ import annotations

import json
from typing import Any

MEDIA_TYPE = "text/event-stream; charset=utf-8"
HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
KEEPALIVE = b": keep-alive\n\n"


def frame(event: str, data: Any, *, final: bool = False) -> bytes:
    """One event. `final` (the closing `done`) ends with a single LF, as the real service does."""
    payload = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    return f"event: {event}\ndata: {payload}\n{'' if final else chr(10)}".encode()
