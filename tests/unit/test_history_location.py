"""Where the history lives: secrets, environment, password files, and which backend opens."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest

from fruxon_playground.history import (
    HistoryUnavailable,
    default_path,
    history_location,
    open_store,
    stale_after_s,
)
from fruxon_playground.history.postgres import describe
from fruxon_playground.history.sqlite import SqliteRunStore

PG = "postgresql://playground@db.internal:5432/playground"


def test_secrets_win_over_the_environment_which_wins_over_the_default_file(tmp_path: Path) -> None:
    env = {"PLAYGROUND_HISTORY_URL": PG, "PLAYGROUND_HISTORY_PATH": str(tmp_path / "h.sqlite3")}
    assert history_location(env, {"history": {"url": "postgresql://u:p@secret-host/db"}}) == "postgresql://u:p@secret-host/db"
    assert history_location(env, {"history": {}}) == PG
    assert history_location(env, {}) == PG
    assert history_location({"PLAYGROUND_HISTORY_PATH": str(tmp_path / "h.sqlite3")}, None) == str(tmp_path / "h.sqlite3")
    assert history_location({"XDG_DATA_HOME": str(tmp_path)}, {}) == str(tmp_path / "fruxon-playground" / "history.sqlite3")
    assert default_path({"XDG_DATA_HOME": "/data"}) == Path("/data/fruxon-playground/history.sqlite3")


def test_a_password_file_completes_a_url_without_a_password(tmp_path: Path) -> None:
    secret = tmp_path / "pg_password"
    secret.write_text("p@ss:w/rd %1\n")
    url = history_location({"PLAYGROUND_HISTORY_URL": PG, "PLAYGROUND_HISTORY_PASSWORD_FILE": str(secret)}, {})
    parts = urlsplit(url)
    assert parts.username == "playground" and parts.hostname == "db.internal" and parts.port == 5432
    assert parts.password == "p%40ss%3Aw%2Frd%20%251" and parts.path == "/playground"  # percent-encoded
    with_password = "postgresql://playground:given@db.internal/playground"
    assert history_location({"PLAYGROUND_HISTORY_URL": with_password,
                             "PLAYGROUND_HISTORY_PASSWORD_FILE": str(secret)}, {}) == with_password
    with pytest.raises(HistoryUnavailable, match="PLAYGROUND_HISTORY_PASSWORD_FILE"):
        history_location({"PLAYGROUND_HISTORY_URL": PG, "PLAYGROUND_HISTORY_PASSWORD_FILE": str(tmp_path / "no")}, {})


def test_messages_name_the_database_without_credentials() -> None:
    assert describe("postgresql://user:secret@db.internal:5433/hist?sslmode=require") == "postgresql://db.internal:5433/hist"
    assert describe("postgres://db/hist") == "postgresql://db/hist"


def test_the_stale_delay_comes_from_the_environment() -> None:
    assert stale_after_s({}) == 30.0
    assert stale_after_s({"PLAYGROUND_RUN_STALE_AFTER_S": "5"}) == 5.0
    assert stale_after_s({"PLAYGROUND_RUN_STALE_AFTER_S": "0"}) == 1.0  # never "always stale"


def test_anything_but_a_postgresql_url_is_a_sqlite_file(tmp_path: Path) -> None:
    store = open_store(str(tmp_path / "x.sqlite3"), stale_after_s=7)
    try:
        assert isinstance(store, SqliteRunStore) and store.stale_after_ms == 7000
        assert store.location == str(tmp_path / "x.sqlite3")
    finally:
        store.close()
    assert isinstance(open_store(":memory:"), SqliteRunStore)
