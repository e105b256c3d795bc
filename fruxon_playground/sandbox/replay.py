"""Recorded streams: every `<dir>/<name>.sse` file is served byte for byte as agent `<name>`'s stream,
in chunks of a configurable size with a configurable pause between them (× speed)."""

from __future__ import annotations

from pathlib import Path

from fruxon_playground.contract import is_slug


def replay_files(directory: str | None) -> dict[str, Path]:
    """agent id → recording; files whose stem is not a valid agent id are skipped."""
    if not directory:
        return {}
    root = Path(directory)
    if not root.is_dir():
        raise FileNotFoundError(f"replay directory {directory!r} does not exist")
    return {p.stem: p for p in sorted(root.glob("*.sse")) if is_slug(p.stem)}


def chunks(payload: bytes, size: int) -> list[bytes]:
    size = max(1, size)
    return [payload[i:i + size] for i in range(0, len(payload), size)] or [b""]
