"""A throwaway PostgreSQL for the test session, started by scripts/team-local.sh (`--only postgres`).

Every test gets a database of its own, so migrations run from scratch each time. In CI a missing
PostgreSQL fails the tests; elsewhere they are skipped with how to install it.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from glob import glob
from pathlib import Path

import psycopg
import pytest

ROOT = Path(__file__).resolve().parents[2]
TEAM_LOCAL = ROOT / "scripts" / "team-local.sh"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def require(tool: str, found: bool) -> None:
    if found:
        return
    message = f"{tool} is missing: run `bash scripts/install.sh --test` (it installs postgresql and haproxy)."
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def read_env(team_dir: Path) -> dict[str, str]:
    lines = (team_dir / "env").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if "=" in line)


class LocalPostgres:
    def __init__(self, team_dir: Path) -> None:
        self.team_dir = team_dir
        self.env = read_env(team_dir)
        self.url = self.env["TEAM_HISTORY_URL"]

    def new_database(self) -> str:
        """A URL to a fresh, empty database."""
        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return self.url.rsplit("/", 1)[0] + f"/{name}"

    def drop_database(self, url: str) -> None:
        name = url.rsplit("/", 1)[1]
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def postgres_installed() -> bool:
    return bool(glob("/usr/lib/postgresql/*/bin/initdb") or shutil.which("initdb"))


@pytest.fixture(scope="session")
def local_postgres() -> Iterator[LocalPostgres]:
    require("PostgreSQL", postgres_installed())
    # Not under pytest's 0700 base folder: the postgres user must be able to reach its data.
    team_dir = Path(tempfile.mkdtemp(prefix="fruxon-pg-"))
    env = {**os.environ, "TEAM_DIR": str(team_dir), "TEAM_PG_PORT": str(free_port())}
    subprocess.run(["bash", str(TEAM_LOCAL), "start", "--only", "postgres"], env=env, check=True,
                   capture_output=True, timeout=120)
    try:
        yield LocalPostgres(team_dir)
    finally:
        subprocess.run(["bash", str(TEAM_LOCAL), "stop"], env=env, check=False, capture_output=True, timeout=60)
