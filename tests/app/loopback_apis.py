"""Servers on loopback for the Environments and Remote runs tests, each counting the requests it serves:
the sandbox, and a small Fruxon API whose environment names, record subjects and error texts are
hostile Markdown/HTML, with one stale environment (the sandbox only creates environments whose
display name is their slug)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from fruxon_playground.sandbox.config import SandboxConfig
from fruxon_playground.sandbox.embedded import create_app  # the app factory, wherever the sandbox defines it
from tests.api._loopback import serve

# What an outside check used: bold, a live link and a remote image (the image host is a closed port).
PAYLOAD = '<b>x</b><a href="http://127.0.0.1:9/x">link</a>![i](http://127.0.0.1:9/leak.png)'
IDLE_NAME = "Idle *Co* ![logo](http://127.0.0.1:9/logo.png)"  # Markdown only: for the stale warning
ERROR_PAYLOAD = "Upstream said **no**: [click me](http://127.0.0.1:9/phish) ![img](http://127.0.0.1:9/err.png)"
TENANT = "acme"
KEY = "fx_pat_untrusted_api_tests_0042"
DAY_MS = 86_400_000
EVIL, IDLE = "evil_env", "idle_env"


def _now() -> int:
    return int(time.time() * 1000)


def _problem(status: int, detail: str) -> JSONResponse:
    return JSONResponse({"type": "about:blank", "title": "Error", "status": status, "detail": detail}, status_code=status,
                        media_type="application/problem+json")


SANDBOX_KEY = "fx_pat_environment_page_tests_0042"


@dataclass
class Server:
    url: str
    tenant: str
    key: str
    paths: list[str]  # every request's path, in order

    def reads(self, since: int) -> list[str]:
        """The endpoint of each request since `since` (last path segment; "trace" for a record's trace), sorted."""
        return sorted("trace" if path.endswith("/trace") else path.rsplit("/", 1)[-1] for path in self.paths[since:])


class Counting:
    """ASGI wrapper that records the path of every request it passes on."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.paths: list[str] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            self.paths.append(scope["path"])
        await self.app(scope, receive, send)


@contextmanager
def counted_sandbox(folder: Path) -> Iterator[Server]:
    """The sandbox (seeded history, instant runs) under uvicorn, with its requests counted."""
    config = SandboxConfig(api_key=SANDBOX_KEY, db_path=str(folder / "sandbox.sqlite3"), speed=0.0, rate_limit=100_000)
    app = Counting(create_app(config))
    with serve(app) as url:
        yield Server(url, config.tenant, SANDBOX_KEY, app.paths)


@contextmanager
def untrusted_server() -> Iterator[Server]:
    app = create_untrusted_api()
    with serve(app) as url:
        yield Server(url, TENANT, KEY, app.state.paths)


def create_untrusted_api() -> FastAPI:
    app = FastAPI()
    app.state.paths = []
    prefix = f"/v1/tenants/{TENANT}"

    @app.middleware("http")
    async def count(request: Request, call_next: Any) -> Any:
        app.state.paths.append(request.url.path)
        return await call_next(request)

    def records() -> list[dict[str, Any]]:
        now = _now()
        return [
            {"id": f"rec-{i}", "agentId": "support_agent", "agentRevision": -1 if i % 2 else 3,
             "status": "FAILED" if i == 0 else "COMPLETED", "startTime": now - (i + 1) * 3_600_000,
             "endTime": now - (i + 1) * 3_600_000 + 1500, "environmentSlug": EVIL, "origin": "PRODUCTION",
             "subject": PAYLOAD, "inputTokens": 100, "outputTokens": 50, "totalCost": 0.01 * (i + 1)}
            for i in range(4)
        ]

    @app.get(prefix + "/auth/health")
    async def health() -> dict[str, Any]:
        return {"tenant": TENANT, "tokenName": "tests"}

    @app.get(prefix + "/agents")
    async def agents() -> dict[str, Any]:
        return {"items": [{"id": "support_agent", "displayName": "Support Agent", "currentRevision": 3}]}

    @app.get(prefix + "/agents/{agent}/environmentSummaries")
    async def summaries(request: Request, agent: str) -> Any:
        if request.query_params.get("origin") == "TEST":
            return _problem(400, ERROR_PAYLOAD)
        now = _now()
        items = [{"environmentSlug": EVIL, "displayName": PAYLOAD, "executionCount": 4, "totalCost": 0.1,
                  "lastActivityAt": now - 3_600_000, "failedCount": 1}]
        if request.query_params.get("from") is None:  # all time: the idle environment ran 40½ days ago
            items.append({"environmentSlug": IDLE, "displayName": IDLE_NAME, "executionCount": 9, "totalCost": 0.2,
                          "lastActivityAt": now - 40 * DAY_MS - DAY_MS // 2, "failedCount": 0})
        return items

    @app.get(prefix + "/agents/{agent}/revisions/{revision}/environmentCostTimeseries")
    async def series(request: Request, agent: str, revision: str) -> dict[str, Any]:
        to_ms = int(request.query_params.get("to") or _now())
        from_ms = int(request.query_params.get("from") or to_ms - 30 * DAY_MS)
        day = (to_ms - DAY_MS) // DAY_MS * DAY_MS
        environments = [{"slug": slug, "executions": [{"bucketStartMs": day, "count": 4}] if slug == EVIL else [],
                         "cost": [{"bucketStartMs": day, "cost": {"total": 0.1}}] if slug == EVIL else []}
                        for slug in request.query_params.getlist("environment")]
        return {"agentId": agent, "revision": None, "interval": "DAY", "window": {"fromMs": from_ms, "toMs": to_ms},
                "environments": environments}

    @app.get(prefix + "/agents/{agent}/executionRecords")
    async def list_records(request: Request, agent: str) -> dict[str, Any]:
        if request.query_params.get("origin") == "TEST":
            return JSONResponse({"detail": ERROR_PAYLOAD}, status_code=400)  # type: ignore[return-value]
        return {"items": records(), "nextPageToken": None}

    @app.get(prefix + "/agents/{agent}/executionRecords/{record_id}/trace")
    async def trace(agent: str, record_id: str) -> Any:
        return _problem(500, ERROR_PAYLOAD)

    return app
