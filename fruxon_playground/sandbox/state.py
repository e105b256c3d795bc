"""What one sandbox app holds between requests: settings, store, catalog and the run-rate window."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from dataclasses import dataclass, field

from fastapi import Request

from fruxon_playground.sandbox.catalog import Catalog, DemoAgent
from fruxon_playground.sandbox.config import SandboxConfig
from fruxon_playground.sandbox.problems import Problem
from fruxon_playground.sandbox.store import Store

DAY_MS = 86_400_000


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass
class Sandbox:
    config: SandboxConfig
    store: Store
    catalog: Catalog
    started_ms: int
    run_times: dict[str, deque[float]] = field(default_factory=dict)

    def agent(self, agent_id: str) -> DemoAgent:
        agent = self.catalog.get(agent_id)
        if agent is None:
            raise Problem(404, f"Agent {agent_id!r} was not found.")
        return agent

    def check_rate(self, key: str) -> None:
        """Runs beyond the limit per key per minute answer 429 with Retry-After (contract §10.8)."""
        window = self.run_times.setdefault(key, deque())
        now = time.monotonic()
        while window and now - window[0] > 60:
            window.popleft()
        if len(window) >= self.config.rate_limit:
            retry = max(1, int(60 - (now - window[0])) + 1)
            raise Problem(429, f"Rate limit of {self.config.rate_limit} runs per minute exceeded; retry in {retry} s.",
                          headers={"Retry-After": str(retry)})
        window.append(now)

    async def pause(self, seconds: float) -> None:
        """Simulated time × the configured speed (0 = no sleeping at all)."""
        if seconds > 0 and self.config.speed > 0:
            await asyncio.sleep(seconds * self.config.speed)


def sandbox_of(request: Request) -> Sandbox:
    sandbox: Sandbox = request.app.state.sandbox
    return sandbox
