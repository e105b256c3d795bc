"""Fixtures shared by the app, browser and team tests."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

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


@pytest.fixture(scope="session")
def playwright_browser():
    """One chromium for the session: tests/browser and tests/team share it (a second sync
    Playwright cannot start while the first one runs)."""
    from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS

    if not Path(CHROMIUM).exists():
        message = f"{CHROMIUM} is missing: install Debian's chromium (scripts/install.sh --test does)."
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
