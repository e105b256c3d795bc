"""Connection settings and where they come from (no streamlit here).

Precedence, highest first: what the user typed in the sidebar ("Custom"), the deployment's secrets
(`[connections.fruxon]` in `.streamlit/secrets.toml`), the environment (`FRUXON_*`), and finally the
embedded sandbox, which needs no configuration at all.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from fruxon_playground.contract.secrets import mask_key

AuthHeader = Literal["both", "x-api-key", "bearer"]
AUTH_HEADERS: tuple[AuthHeader, ...] = ("both", "x-api-key", "bearer")
DEFAULT_BASE_URL = "https://api.fruxon.com"


@dataclass(frozen=True)
class ConnectionSettings:
    """Where to send requests and with which key. `repr` never shows the key."""

    base_url: str
    tenant: str
    api_key: str = field(repr=False)
    auth_header: AuthHeader = "both"
    source: str = "custom"  # "sandbox" | "secrets" | "environment" | "custom"

    def __post_init__(self) -> None:
        object.__setattr__(self, "base_url", self.base_url.strip().rstrip("/"))
        object.__setattr__(self, "tenant", self.tenant.strip())

    @property
    def masked_key(self) -> str:
        return mask_key(self.api_key)

    @property
    def host(self) -> str:
        return self.base_url.split("://", 1)[-1].split("/", 1)[0]


def settings_from_mapping(values: Mapping[str, Any], *, source: str) -> ConnectionSettings | None:
    """Build settings from a secrets section (`api_key`, `base_url`, `tenant`, `auth_header`)."""
    key = str(values.get("api_key") or values.get("key") or "").strip()
    if not key:
        return None
    auth = str(values.get("auth_header") or "both").lower()
    return ConnectionSettings(
        base_url=str(values.get("base_url") or DEFAULT_BASE_URL),
        tenant=str(values.get("tenant") or values.get("workspace") or ""),
        api_key=key,
        auth_header=auth if auth in AUTH_HEADERS else "both",
        source=source,
    )


def settings_from_environment(environ: Mapping[str, str] | None = None) -> ConnectionSettings | None:
    env = os.environ if environ is None else environ
    return settings_from_mapping(
        {
            "api_key": env.get("FRUXON_API_KEY"),
            "base_url": env.get("FRUXON_BASE_URL"),
            "tenant": env.get("FRUXON_TENANT"),
            "auth_header": env.get("FRUXON_AUTH_HEADER"),
        },
        source="environment",
    )


def _data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "fruxon-playground"


@dataclass(frozen=True)
class PlaygroundSettings:
    """App-wide settings from `PLAYGROUND_*` environment variables (documented in the README)."""

    sandbox_db: str
    sandbox_speed: float
    history_path: str
    max_upload_mb: float

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> PlaygroundSettings:
        env = os.environ if environ is None else environ
        data = _data_dir()
        return cls(
            sandbox_db=env.get("PLAYGROUND_SANDBOX_DB") or str(data / "sandbox.sqlite3"),
            sandbox_speed=float(env.get("PLAYGROUND_SANDBOX_SPEED") or 1.0),
            history_path=env.get("PLAYGROUND_HISTORY_PATH") or str(data / "history.sqlite3"),
            max_upload_mb=float(env.get("PLAYGROUND_MAX_UPLOAD_MB") or 10),
        )

    def upload_limit_mb(self, server_ceiling_mb: int) -> int:
        """The per-file limit the drop zone and the app both state: whole megabytes (the uploader
        takes an int), at least 1, and never above Streamlit's `server.maxUploadSize`, which its
        upload endpoint enforces for every widget."""
        return max(1, min(int(self.max_upload_mb), int(server_ceiling_mb)))
