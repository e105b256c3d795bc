"""Fixtures shared by the app and browser tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from fruxon_playground.sandbox.config import SandboxConfig
from fruxon_playground.sandbox.embedded import RunningSandbox, start_sandbox

TEST_KEY = "fx_pat_test_key_for_the_suite_0042"


@pytest.fixture(scope="session")
def shared_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSandbox]:
    """One sandbox under uvicorn on a free loopback port, instant (speed 0), seeded history."""
    db = tmp_path_factory.mktemp("shared-sandbox") / "sandbox.sqlite3"
    sandbox = start_sandbox(SandboxConfig(api_key=TEST_KEY, db_path=str(db), speed=0.0))
    yield sandbox
    sandbox.stop()
