"""Sandbox settings, from code, the command line or `FRUXON_SANDBOX_*` environment variables."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field

from fruxon_playground.sandbox.catalog import DEMO_TENANT


def new_api_key() -> str:
    return "fx_pat_sandbox_" + secrets.token_urlsafe(18)


@dataclass(frozen=True)
class SandboxConfig:
    api_key: str = field(default_factory=new_api_key, repr=False)
    tenant: str = DEMO_TENANT
    db_path: str = ":memory:"
    speed: float = 1.0  # delay multiplier: 1 = realistic timing, 0 = no sleeps
    seed: int = 7
    rate_limit: int = 120  # runs per key per minute
    replay_dir: str | None = None
    replay_chunk_size: int = 64  # bytes per write when replaying a recorded stream
    replay_delay_ms: float = 20.0  # pause between replayed chunks (× speed)
    keepalive_s: float = 5.0  # a ": keep-alive" comment after this long without an event (× speed)
    max_upload_bytes: int = 25 * 1024 * 1024
    seed_history: bool = True
    agent_faults: Mapping[str, str] = field(default_factory=dict)  # agent id → fault spec (see faults.py)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> SandboxConfig:
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        if env.get("FRUXON_SANDBOX_API_KEY"):
            values["api_key"] = env["FRUXON_SANDBOX_API_KEY"]
        if env.get("FRUXON_SANDBOX_TENANT"):
            values["tenant"] = env["FRUXON_SANDBOX_TENANT"]
        if env.get("FRUXON_SANDBOX_DB"):
            values["db_path"] = env["FRUXON_SANDBOX_DB"]
        if env.get("FRUXON_SANDBOX_SPEED"):
            values["speed"] = float(env["FRUXON_SANDBOX_SPEED"])
        if env.get("FRUXON_SANDBOX_SEED"):
            values["seed"] = int(env["FRUXON_SANDBOX_SEED"])
        if env.get("FRUXON_SANDBOX_RATE_LIMIT"):
            values["rate_limit"] = int(env["FRUXON_SANDBOX_RATE_LIMIT"])
        if env.get("FRUXON_SANDBOX_FAULTS"):  # "agent=spec,agent2=spec"
            pairs = (item.split("=", 1) for item in env["FRUXON_SANDBOX_FAULTS"].split(",") if "=" in item)
            values["agent_faults"] = {agent.strip(): spec.strip() for agent, spec in pairs}
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]
