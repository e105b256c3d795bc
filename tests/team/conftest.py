"""The team topology for these tests: scripts/team-local.sh with PostgreSQL, two replicas and HAProxy."""

from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.team.postgres import TEAM_LOCAL, free_port, postgres_installed, read_env, require

STALE_AFTER_S = 3  # how long the replicas wait for a heartbeat before a running run is interrupted


class Team:
    def __init__(self, team_dir: Path, env: dict[str, str]) -> None:
        self.team_dir = team_dir
        self.script_env = env
        values = read_env(team_dir)
        self.proxy_url = values["TEAM_PROXY_URL"]
        self.history_url = values["TEAM_HISTORY_URL"]
        self.stats_url = values["TEAM_STATS_URL"]
        self.replica_pid_files = {"app1": Path(values["TEAM_APP1_PID_FILE"]), "app2": Path(values["TEAM_APP2_PID_FILE"])}

    def sessions(self) -> dict[str, int]:
        """Sessions HAProxy has sent to each replica so far (its `stot` counter)."""
        text = httpx.get(self.stats_url + ";csv", timeout=5).text.lstrip("# ")
        return {row["svname"]: int(row["stot"]) for row in csv.DictReader(io.StringIO(text))
                if row["pxname"] == "replicas" and row["svname"] in ("app1", "app2")}

    def log(self, name: str) -> str:
        path = self.team_dir / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        subprocess.run(["bash", str(TEAM_LOCAL), "stop"], env=self.script_env, check=False, capture_output=True, timeout=120)


def start_team() -> Team:
    require("PostgreSQL", postgres_installed())
    require("HAProxy", shutil.which("haproxy") is not None)
    team_dir = Path(tempfile.mkdtemp(prefix="fruxon-team-"))  # reachable by the postgres user
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FRUXON_", "PLAYGROUND_"))}
    env.update(
        TEAM_DIR=str(team_dir), TEAM_PG_PORT=str(free_port()), TEAM_PROXY_PORT=str(free_port()),
        TEAM_APP_PORTS=f"{free_port()} {free_port()}", TEAM_STATS_PORT=str(free_port()),
        PLAYGROUND_SANDBOX_SPEED="0.2", PLAYGROUND_RUN_STALE_AFTER_S=str(STALE_AFTER_S),
    )
    result = subprocess.run(["bash", str(TEAM_LOCAL), "start"], env=env, capture_output=True, text=True, timeout=240)
    if result.returncode != 0:
        logs = "\n".join((team_dir / name).read_text(errors="replace")[-2000:]
                         for name in ("app1.log", "app2.log", "haproxy.log") if (team_dir / name).exists())
        subprocess.run(["bash", str(TEAM_LOCAL), "stop"], env=env, check=False, capture_output=True, timeout=120)
        pytest.fail(f"team-local.sh start failed: {result.stderr}\n{logs}")
    return Team(team_dir, env)


@pytest.fixture(scope="module")
def team() -> Iterator[Team]:
    started = start_team()
    yield started
    started.stop()


@pytest.fixture
def fresh_team() -> Iterator[Team]:
    """A topology of its own, for a test that kills a replica."""
    started = start_team()
    yield started
    started.stop()
