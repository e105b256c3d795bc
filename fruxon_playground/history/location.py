"""Where the history lives and opening it: a PostgreSQL URL for a team, else a SQLite file."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from fruxon_playground.history.base import DEFAULT_STALE_AFTER_S, HistoryUnavailable, RunStore

POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def is_postgres(location: str) -> bool:
    return location.startswith(POSTGRES_SCHEMES)


def default_path(environ: Mapping[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    if env.get("PLAYGROUND_HISTORY_PATH"):
        return Path(env["PLAYGROUND_HISTORY_PATH"])
    base = env.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "fruxon-playground" / "history.sqlite3"


def history_location(environ: Mapping[str, str], secrets: Mapping[str, Any] | None = None) -> str:
    """Secrets `[history] url` > `PLAYGROUND_HISTORY_URL` > `PLAYGROUND_HISTORY_PATH` > the default file.

    A PostgreSQL URL without a password takes it from `PLAYGROUND_HISTORY_PASSWORD_FILE` when set
    (a mounted secret), so the password never has to sit in an environment variable.
    """
    section = (secrets or {}).get("history")
    url = section.get("url") if isinstance(section, Mapping) else None
    location = str(url or environ.get("PLAYGROUND_HISTORY_URL") or default_path(environ))
    password_file = environ.get("PLAYGROUND_HISTORY_PASSWORD_FILE")
    if is_postgres(location) and password_file and urlsplit(location).password is None:
        location = _with_password(location, Path(password_file))
    return location


def _with_password(url: str, password_file: Path) -> str:
    try:
        password = password_file.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise HistoryUnavailable(f"PLAYGROUND_HISTORY_PASSWORD_FILE ({password_file}) cannot be read "
                                 f"({exc.strerror}).") from exc
    parts = urlsplit(url)
    user = quote(parts.username or "", safe="")
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, f"{user}:{quote(password, safe='')}@{host}", parts.path, parts.query, parts.fragment))


def stale_after_s(environ: Mapping[str, str]) -> float:
    """How long a running run may go without a heartbeat before readers mark it interrupted."""
    value = environ.get("PLAYGROUND_RUN_STALE_AFTER_S")
    return max(1.0, float(value)) if value else DEFAULT_STALE_AFTER_S


def open_store(location: str | Path, *, stale_after_s: float = DEFAULT_STALE_AFTER_S) -> RunStore:
    """`postgresql://…` opens PostgreSQL; anything else is a SQLite file path (or ":memory:")."""
    text = str(location)
    if is_postgres(text):
        from fruxon_playground.history.postgres import PostgresRunStore

        return PostgresRunStore(text, stale_after_s=stale_after_s)
    from fruxon_playground.history.sqlite import SqliteRunStore

    return SqliteRunStore(Path(text).expanduser() if text != ":memory:" else text, stale_after_s=stale_after_s)
