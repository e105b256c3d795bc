"""API tests talk to real servers on loopback: the sandbox under uvicorn, or purpose-built apps."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from fruxon_playground.api import FruxonClient
from fruxon_playground.sandbox.config import SandboxConfig
from fruxon_playground.sandbox.embedded import RunningSandbox, start_sandbox

KEY = "fx_pat_api_tests_key_000000000042"


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSandbox]:
    db = tmp_path_factory.mktemp("sandbox") / "sandbox.sqlite3"
    running = start_sandbox(SandboxConfig(api_key=KEY, db_path=str(db), speed=0.0, rate_limit=10_000))
    yield running
    running.stop()


@pytest.fixture(scope="module")
def timed_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSandbox]:
    """Realistic timing, for cancel and keep-alive tests."""
    running = start_sandbox(SandboxConfig(api_key=KEY, db_path=":memory:", speed=1.0, seed_history=False,
                                          keepalive_s=0.3))
    yield running
    running.stop()


@pytest.fixture
def client(sandbox: RunningSandbox) -> Iterator[FruxonClient]:
    with FruxonClient(sandbox.base_url, sandbox.api_key, sandbox.tenant) as c:
        yield c
