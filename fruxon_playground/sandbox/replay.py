"""Recorded streams: every `<dir>/<name>.sse` file is served byte for byte as agent `<name>`'s stream,
in chunks of a configurable size with a configurable pause between them (× speed)."""

from __future__ import annotations

import re
from pathlib import Path

_AGENT_ID = re.compile(r"^[a-z][a-z0-9_]+$")


def replay_files(directory: str | None) -> dict[str, Path]:
    """agent id → recording; files whose stem is not a valid agent id are skipped."""
    if not directory:
        return {}
    root = Path(directory)
    if not root.is_dir():
        raise FileNotFoundError(f"replay directory {directory!r} does not exist")
    return {p.stem: p for p in sorted(root.glob("*.sse")) if _AGENT_ID.match(p.stem)}


def chunks(payload: bytes, size: int) -> list[bytes]:
    size = max(1, size)
    return [payload[i:i + size] for i in range(0, len(payload), size)] or [b""]
