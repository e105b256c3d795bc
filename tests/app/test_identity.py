"""Who the user is, through app.py under AppTest: the sidebar's account line, the sign-in screen, the
refused account and the owner every run is saved under."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from components import state
from components.safe import WORD_JOINER
from fruxon_playground.identity import BROWSER_COOKIE, Identity, valid_browser_id

ROOT = Path(__file__).resolve().parents[2]
ENTRY = f"import runpy\nrunpy.run_path({str(ROOT / 'app.py')!r}, run_name='__main__')\n"
AUTH = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "c" * 32, "client_id": "playground",
        "client_secret": "s" * 24, "server_metadata_url": "https://idp.example.com/.well-known/openid-configuration"}
ADA = {"is_logged_in": True, "iss": "https://idp.example.com", "sub": "ada-0001", "email": "ada@example.com",
       "email_verified": True, "name": "Ada Lovelace"}


@pytest.fixture(autouse=True)
def plain_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PLAYGROUND_HISTORY_PATH", str(tmp_path / "history.sqlite3"))
    monkeypatch.setenv("PLAYGROUND_SANDBOX_DB", ":memory:")
    monkeypatch.setenv("PLAYGROUND_SANDBOX_SPEED", "0")
    for name in ("FRUXON_API_KEY", "FRUXON_BASE_URL", "FRUXON_TENANT", "PLAYGROUND_OWNER", "PLAYGROUND_REQUIRE_LOGIN",
                 "PLAYGROUND_TRUSTED_USER_HEADER", "PLAYGROUND_ALLOWED_EMAIL_DOMAINS", "PLAYGROUND_SHARE_TTL_DAYS"):
        monkeypatch.delenv(name, raising=False)


def start(*, auth: dict[str, Any] | None = None, user: dict[str, Any] | None = None) -> AppTest:
    at = AppTest.from_string(ENTRY, default_timeout=60)
    if auth is not None:
        at.secrets["auth"] = auth
    if user is not None:
        at.user = user
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def errors(at: AppTest) -> str:
    """The error boxes' text as the reader sees it (without the Markdown escapes of safe.md)."""
    return "\n".join(re.sub(r"\\(.)", r"\1", e.value) for e in at.error)


def sidebar_text(at: AppTest) -> str:
    return "\n".join([*(c.value for c in at.sidebar.caption), *(t.value for t in at.sidebar.text)])


def app_is_drawn(at: AppTest) -> bool:
    return any(r.value == "Local sandbox" for r in at.sidebar.radio)


def cookie_keeper(at: AppTest) -> dict[str, Any]:
    (element,) = [e for e in at.sidebar if getattr(e, "type", "") == "bidi_component"]
    return json.loads(element.proto.json)


def test_on_a_loopback_server_the_local_user_owns_every_run() -> None:
    at = start()  # .streamlit/config.toml listens on 127.0.0.1, and AppTest reads it
    identity: Identity = at.session_state[state.IDENTITY]
    assert identity.method == "local" and identity.sees_all and at.session_state[state.OWNER] == "local"
    assert "Local user" in sidebar_text(at) and app_is_drawn(at)
    assert not [e for e in at.sidebar if getattr(e, "type", "") == "bidi_component"]  # no browser id needed


def test_each_browser_session_gets_its_own_unguessable_owner_kept_across_reruns(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLAYGROUND_OWNER", "browser")
    first, second = start(), start()
    owner = first.session_state[state.OWNER]
    browser_id = owner.removeprefix("browser:")
    assert owner.startswith("browser:") and valid_browser_id(browser_id) == browser_id
    assert second.session_state[state.OWNER] != owner
    assert "This browser" in sidebar_text(first)
    assert cookie_keeper(first) == {"id": browser_id, "name": BROWSER_COOKIE, "maxAge": 400 * 86_400}
    first.run()
    assert first.session_state[state.OWNER] == owner  # the same session keeps its owner


def test_required_sign_in_draws_only_the_sign_in_screen(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLAYGROUND_REQUIRE_LOGIN", "1")
    at = start(auth=AUTH)
    assert [t.value for t in at.title] == ["Fruxon Playground"]
    assert any("Sign in to use the Fruxon Playground" in m.value for m in at.markdown)
    assert [b.label for b in at.button] == ["Sign in"]
    assert not app_is_drawn(at) and state.OWNER not in at.session_state and state.CONNECTION not in at.session_state


def test_optional_sign_in_offers_a_button_and_keeps_runs_per_browser() -> None:
    at = start(auth=AUTH, user={})
    identity: Identity = at.session_state[state.IDENTITY]
    assert identity.method == "browser" and identity.sign_in_enabled and not identity.sees_all
    assert "Not signed in" in sidebar_text(at) and [b.label for b in at.sidebar.button][0] == "Sign in"
    assert app_is_drawn(at)


def test_a_signed_in_user_owns_runs_and_can_sign_out(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLAYGROUND_REQUIRE_LOGIN", "1")
    at = start(auth=AUTH, user=ADA)
    assert at.session_state[state.OWNER] == "user:https://idp.example.com|ada-0001"
    assert "Signed in as" in sidebar_text(at) and "ada@example.com" in [t.value for t in at.sidebar.text]
    assert app_is_drawn(at)
    next(b for b in at.sidebar.button if b.label == "Sign out").click().run()
    at.run()  # st.logout() emptied st.user; the next run is signed out
    assert [b.label for b in at.button] == ["Sign in"] and not app_is_drawn(at)


def test_an_account_outside_the_allowed_domains_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLAYGROUND_ALLOWED_EMAIL_DOMAINS", "example.com")
    at = start(auth=AUTH, user={**ADA, "email": "mallory@elsewhere.org", "sub": "m-3"})
    assert "This account cannot use this playground. This deployment accepts accounts from @example.com only." \
        in errors(at).replace(WORD_JOINER, "")
    assert "mallory@elsewhere.org" in [t.value for t in at.text]
    assert [b.label for b in at.button] == ["Sign out and use another account"]
    assert not app_is_drawn(at) and state.OWNER not in at.session_state


def test_required_sign_in_without_any_sign_in_configured_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLAYGROUND_REQUIRE_LOGIN", "1")
    at = start()
    assert "PLAYGROUND_REQUIRE_LOGIN is set but no sign-in is configured" in errors(at)
    assert not app_is_drawn(at)


def test_a_bad_setting_stops_the_app_with_its_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLAYGROUND_SHARE_TTL_DAYS", "a week")
    at = start()
    assert "PLAYGROUND_SHARE_TTL_DAYS must be a positive number of days" in errors(at) and not app_is_drawn(at)
