"""A purpose-built loopback server that records every request exactly as it arrived.

`Recorder` is a raw ASGI app (no framework: nothing decodes or normalises the path before it is
recorded). By default it answers like a tiny Fruxon API (auth/health, one agent); `redirect_to`
turns every answer into a 302 to another server.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Seen:
    method: str
    raw_path: str  # as sent, percent-escapes intact, with "?query" when there was one
    headers: dict[str, str]


@dataclass
class Recorder:
    redirect_to: str | None = None
    health_status: int = 200
    health_detail: str = "Nope"
    requests: list[Seen] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def paths(self) -> list[str]:
        with self._lock:
            return [r.raw_path for r in self.requests]

    def count(self) -> int:
        with self._lock:
            return len(self.requests)

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        while (await receive()).get("more_body"):
            pass
        raw = scope["raw_path"].decode("latin-1") + (f"?{scope['query_string'].decode('latin-1')}" if scope["query_string"] else "")
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        with self._lock:
            self.requests.append(Seen(scope["method"], raw, headers))
        status, extra, body = self._answer(raw)
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"), *extra]})
        await send({"type": "http.response.body", "body": json.dumps(body).encode()})

    def _answer(self, raw_path: str) -> tuple[int, list[tuple[bytes, bytes]], Any]:
        if self.redirect_to is not None:
            return 302, [(b"location", f"{self.redirect_to}{raw_path}".encode())], {}
        path = raw_path.split("?", 1)[0]
        if path.endswith("/auth/health"):
            if self.health_status != 200:
                return self.health_status, [], {"title": "Refused", "status": self.health_status,
                                                "detail": self.health_detail}
            return 200, [], {"tokenName": "recorder-token"}
        if path.endswith("/agents"):
            return 200, [], {"items": [{"id": "echo_agent", "displayName": "Echo"}], "nextPageToken": None}
        if path.endswith("/storage"):
            return 200, [], {"fileId": "f1", "url": "https://files.example/f1"}
        return 404, [], {"title": "Not found", "status": 404}
