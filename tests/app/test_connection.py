"""The connection sidebar with AppTest: nothing is sent before Connect, refusals, profile memory.

Requests are counted on a purpose-built loopback server that records each one as it arrived.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit as st
from streamlit import config
from streamlit.testing.v1 import AppTest

from components import state
from components.connection import FruxonConnection
from components.safe import WORD_JOINER
from fruxon_playground.contract import tenant_problem
from tests.api._loopback import serve
from tests.api._recorder import Recorder

ROOT = Path(__file__).resolve().parents[2]
ENTRY = f"import runpy\nrunpy.run_path({str(ROOT / 'app.py')!r}, run_name='__main__')\n"
KEY = "fx_pat_connection_suite_key_000042"
PAGES = ["pages/execute.py", "pages/draft_test.py", "pages/remote_runs.py", "pages/environments.py"]


@pytest.fixture(autouse=True)
def quiet_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    monkeypatch.setenv("PLAYGROUND_HISTORY_PATH", str(tmp_path / "history.sqlite3"))
    monkeypatch.setenv("PLAYGROUND_SANDBOX_DB", ":memory:")
    monkeypatch.setenv("PLAYGROUND_SANDBOX_SPEED", "0")
    for name in ("FRUXON_API_KEY", "FRUXON_BASE_URL", "FRUXON_TENANT", "FRUXON_AUTH_HEADER",
                 "PLAYGROUND_ALLOWED_BASE_URLS", "PLAYGROUND_ALLOW_INSECURE_HTTP", "PLAYGROUND_MAX_UPLOAD_MB"):
        monkeypatch.delenv(name, raising=False)
    before = config.get_option("server.address")
    config.set_option("server.address", "localhost")  # as .streamlit/config.toml has it, whatever the cwd
    yield
    config.set_option("server.address", before)
    # st.connection keeps its instance for the whole process: forget a connection a test configured.
    st.connection("fruxon", type=FruxonConnection).reset()


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[Recorder, str]]:
    recorder = Recorder()
    with serve(recorder) as url:
        yield recorder, url


@pytest.fixture
def recorder(server: tuple[Recorder, str]) -> Recorder:
    server[0].reset()
    server[0].health_status = 200
    return server[0]


@pytest.fixture
def listening_on_every_interface() -> Iterator[None]:
    before = config.get_option("server.address")
    config.set_option("server.address", "0.0.0.0")
    try:
        yield
    finally:
        config.set_option("server.address", before)


def start() -> AppTest:
    at = AppTest.from_string(ENTRY, default_timeout=60)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def fill_custom(at: AppTest, base_url: str, tenant: str = "acme", key: str = KEY, auth: str | None = None) -> AppTest:
    at.sidebar.radio[0].set_value("Custom").run()
    at.sidebar.text_input(key=state.CUSTOM_BASE_URL).input(base_url).run()
    at.sidebar.text_input(key=state.CUSTOM_TENANT).input(tenant).run()
    at.sidebar.text_input(key=state.CUSTOM_KEY).input(key).run()
    if auth is not None:
        at.sidebar.selectbox(key=state.CUSTOM_AUTH).set_value(auth).run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def sidebar_button(at: AppTest, label: str):
    return next(b for b in at.sidebar.button if b.label == label)


def has_button(at: AppTest, label: str) -> bool:
    return any(b.label == label for b in at.sidebar.button)


def unescaped(values) -> list[str]:
    """Markdown sources as the reader sees them (escaping backslashes and word joiners removed)."""
    return [v.value.replace("\\", "").replace(WORD_JOINER, "") for v in values]


def test_custom_sends_nothing_until_connect(server, recorder: Recorder) -> None:
    at = fill_custom(start(), server[1])
    for page in PAGES:
        at.switch_page(str(ROOT / page)).run()
        assert any("Connect to start" in i.value for i in at.info), page
    assert at.session_state[state.CONNECTION] is None
    assert recorder.count() == 0  # the key has been typed, yet nothing left

    sidebar_button(at, "Connect").click().run()
    assert recorder.paths()[:2] == ["/v1/tenants/acme/auth/health", "/v1/tenants/acme/agents?pageSize=100"]
    assert any("The key works for tenant **acme**" in s.value for s in at.sidebar.success)
    assert at.session_state[state.CONNECTION].agent == "echo_agent"
    assert has_button(at, "Disconnect") and not has_button(at, "Connect")


def test_test_connection_checks_without_connecting(server, recorder: Recorder) -> None:
    at = fill_custom(start(), server[1])
    sidebar_button(at, "Test connection").click().run()
    assert recorder.paths() == ["/v1/tenants/acme/auth/health"]
    assert any("The key works" in s.value for s in at.sidebar.success)
    assert at.session_state[state.CONNECTION] is None and has_button(at, "Connect")


def test_editing_any_field_after_connecting_disconnects(server, recorder: Recorder) -> None:
    at = fill_custom(start(), server[1])
    sidebar_button(at, "Connect").click().run()
    assert at.session_state[state.CONNECTION] is not None
    for key, value in ((state.CUSTOM_TENANT, "acme-two"), (state.CUSTOM_KEY, KEY + "x"), (state.CUSTOM_BASE_URL, server[1] + "/")):
        sent = recorder.count()
        at.sidebar.text_input(key=key).input(value).run()
        assert at.session_state[state.CONNECTION] is None, key
        assert has_button(at, "Connect") and recorder.count() == sent, key  # the edit itself sent nothing
        sidebar_button(at, "Connect").click().run()
        assert at.session_state[state.CONNECTION] is not None
    sent = recorder.count()
    at.sidebar.selectbox(key=state.CUSTOM_AUTH).set_value("x-api-key").run()
    assert at.session_state[state.CONNECTION] is None
    at.switch_page(str(ROOT / "pages/remote_runs.py")).run()
    assert any("Connect to start" in i.value for i in at.info)
    assert recorder.count() == sent


def test_both_headers_go_only_to_the_configured_host(server, recorder: Recorder) -> None:
    at = fill_custom(start(), server[1])
    notes = unescaped(at.sidebar.caption)
    assert "The key goes in the Bearer header only. “Both” is used only for the configured host, https://api.fruxon.com." in notes
    sidebar_button(at, "Connect").click().run()
    assert all("authorization" in r.headers and "x-api-key" not in r.headers for r in recorder.requests)
    assert any("key ••••0042 in the Bearer header · connected" in c.value for c in at.sidebar.caption)

    recorder.reset()
    at.sidebar.selectbox(key=state.CUSTOM_AUTH).set_value("x-api-key").run()
    sidebar_button(at, "Connect").click().run()
    assert recorder.requests and all("authorization" not in r.headers and r.headers["x-api-key"] == KEY
                                     for r in recorder.requests)


def test_both_headers_are_kept_for_the_configured_host(server, recorder: Recorder, monkeypatch) -> None:
    monkeypatch.setenv("FRUXON_BASE_URL", server[1])
    monkeypatch.setenv("FRUXON_TENANT", "acme")
    monkeypatch.setenv("FRUXON_API_KEY", KEY)
    at = start()
    assert any("in the X-API-KEY + Bearer headers · from environment" in c.value for c in at.sidebar.caption)
    fill_custom(at, server[1] + "/", key=KEY)  # Custom pointed at the configured host keeps both
    sidebar_button(at, "Connect").click().run()
    last = recorder.requests[-1]
    assert last.headers["x-api-key"] == KEY and last.headers["authorization"] == f"Bearer {KEY}"


def test_sandbox_caption_names_the_headers_next_to_the_masked_key() -> None:
    caption = "\n".join(c.value for c in start().sidebar.caption)
    assert "in the X-API-KEY + Bearer headers · demo data" in caption and "••••" in caption


def test_plain_http_to_another_host_is_refused_with_what_to_do(recorder: Recorder, monkeypatch) -> None:
    at = fill_custom(start(), "http://fruxon.example.test")
    errors = unescaped(at.sidebar.error)
    assert any("plain http://" in e and "Use https://" in e and "PLAYGROUND_ALLOW_INSECURE_HTTP=1" in e for e in errors)
    assert not has_button(at, "Connect") and not has_button(at, "Test connection")

    monkeypatch.setenv("PLAYGROUND_ALLOW_INSECURE_HTTP", "1")
    at.run()
    assert not at.sidebar.error and has_button(at, "Connect")


def test_a_tenant_that_is_not_one_segment_is_refused(server, recorder: Recorder) -> None:
    at = fill_custom(start(), server[1], tenant="x/../../internal?")
    assert [e.value for e in at.sidebar.error] == [tenant_problem("x/../../internal?")]
    assert not has_button(at, "Connect")
    assert recorder.count() == 0


def test_a_redirect_is_reported_and_the_key_does_not_follow() -> None:
    target = Recorder()
    with serve(target) as target_url:
        redirector = Recorder(redirect_to=target_url)
        with serve(redirector) as url:
            at = fill_custom(start(), url)
            sidebar_button(at, "Connect").click().run()
    assert any(f"The server redirected to {target_url}; the key was not sent there" in e for e in unescaped(at.sidebar.error))
    assert at.session_state[state.CONNECTION] is None
    assert redirector.count() == 1 and target.count() == 0


def test_server_error_text_is_escaped_and_capped(server, recorder: Recorder) -> None:
    recorder.health_status = 401
    recorder.health_detail = "[click](http://evil.example) ![x](http://evil.example/p.png) <b>hi</b> " + "A" * 2000
    at = fill_custom(start(), server[1])
    sidebar_button(at, "Connect").click().run()
    [error] = [e.value for e in at.sidebar.error]
    assert error.startswith("The key was rejected for tenant **acme**.")
    assert r"\[click\]\(http\:" in error and r"\!\[x\]" in error and r"\<b\>" in error
    assert "A" * 400 not in error and len(error) < 800
    assert at.session_state[state.CONNECTION] is None


def test_a_shared_deployment_limits_custom_to_known_urls(server, recorder: Recorder, monkeypatch,
                                                         listening_on_every_interface) -> None:
    at = fill_custom(start(), server[1])
    assert any("shared on the network" in e and "https://api.fruxon.com" in e for e in unescaped(at.sidebar.error))
    assert not has_button(at, "Connect") and recorder.count() == 0

    monkeypatch.setenv("PLAYGROUND_ALLOWED_BASE_URLS", f"https://api.fruxon.com, {server[1]}")
    at.run()
    assert not at.sidebar.error
    sidebar_button(at, "Connect").click().run()
    assert at.session_state[state.CONNECTION] is not None


def test_custom_is_remembered_across_profiles(server, recorder: Recorder) -> None:
    at = fill_custom(start(), server[1], tenant="acme-prod", auth="bearer")
    sidebar_button(at, "Connect").click().run()
    sent = recorder.count()
    at.sidebar.radio[0].set_value("Local sandbox").run()
    assert at.session_state[state.CONNECTION].settings.source == "sandbox"
    at.switch_page(str(ROOT / "pages/history.py")).run()  # another page, a few runs in between
    at.sidebar.radio[0].set_value("Custom").run()
    assert at.sidebar.text_input(key=state.CUSTOM_BASE_URL).value == server[1]
    assert at.sidebar.text_input(key=state.CUSTOM_TENANT).value == "acme-prod"
    assert at.sidebar.text_input(key=state.CUSTOM_KEY).value == KEY
    assert at.sidebar.selectbox(key=state.CUSTOM_AUTH).value == "bearer"
    conn = at.session_state[state.CONNECTION]
    assert conn is not None and conn.settings.tenant == "acme-prod"  # the same values: still connected
    assert recorder.count() == sent  # coming back sent nothing new (the agent list is cached)


def test_attachment_limit_is_the_same_in_the_drop_zone_and_the_label(monkeypatch) -> None:
    monkeypatch.setenv("PLAYGROUND_MAX_UPLOAD_MB", "3")
    at = start()
    at.switch_page(str(ROOT / "pages/draft_test.py")).run()
    [uploader] = [u for u in at.get("file_uploader") if u.proto.label.startswith("Attachments")]
    assert uploader.proto.max_upload_size_mb == 3
    assert uploader.proto.label == "Attachments (up to 3 MB each)"
