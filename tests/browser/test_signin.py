"""Sign-in end to end: chromium, `streamlit run` with `st.login` pointed at a real OIDC provider on
loopback (tests/oidc_provider.py), and the trusted-header mode of an SSO proxy."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import StreamlitServer, app_env, screenshot
from tests.oidc_provider import OidcProvider, OidcUser, running_provider

ADA = OidcUser("ada-0001", "ada@example.com", "Ada Lovelace")
GRACE = OidcUser("grace-0002", "grace@example.com", "Grace Hopper")
MALLORY = OidcUser("mallory-0003", "mallory@elsewhere.org", "Mallory")


def data_env(folder: Path, **overrides: str) -> dict[str, str]:
    return app_env(PLAYGROUND_SANDBOX_DB=str(folder / "sandbox.sqlite3"), PLAYGROUND_SANDBOX_SPEED="0",
                   PLAYGROUND_HISTORY_PATH=str(folder / "history.sqlite3"), **overrides)


@pytest.fixture(scope="module")
def provider() -> Iterator[OidcProvider]:
    with running_provider([ADA, GRACE, MALLORY], redirect_uri="set once the app has a port") as running:
        yield running


@pytest.fixture(scope="module")
def oidc_app(provider: OidcProvider, tmp_path_factory: pytest.TempPathFactory) -> Iterator[StreamlitServer]:
    """The app with `[auth]` in its secrets, sign-in required, accounts from example.com only."""
    folder = tmp_path_factory.mktemp("oidc-app")
    secrets_file = folder / "secrets.toml"
    secrets_file.write_text(
        "[auth]\n"
        'redirect_uri = "http://127.0.0.1:{port}/oauth2callback"\n'  # Streamlit fills in server.port
        f'cookie_secret = "{secrets.token_urlsafe(32)}"\n'
        f'client_id = "{provider.client_id}"\n'
        f'client_secret = "{provider.client_secret}"\n'
        f'server_metadata_url = "{provider.metadata_url}"\n'
    )
    server = StreamlitServer(data_env(folder, STREAMLIT_SECRETS_FILES=str(secrets_file), PLAYGROUND_REQUIRE_LOGIN="1",
                                      PLAYGROUND_ALLOWED_EMAIL_DOMAINS="example.com"))
    provider.client.redirect_uris[:] = [f"{server.url}/oauth2callback"]
    provider.client.client_metadata["post_logout_redirect_uris"] = [f"{server.url}/oauth2callback"]
    yield server
    server.stop()


@pytest.fixture(scope="module")
def header_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StreamlitServer]:
    """The app behind an SSO proxy that names the user in X-Forwarded-Email; sign-in required."""
    server = StreamlitServer(data_env(tmp_path_factory.mktemp("header-app"),
                                      PLAYGROUND_TRUSTED_USER_HEADER="X-Forwarded-Email",
                                      PLAYGROUND_REQUIRE_LOGIN="1"))
    yield server
    server.stop()


def sign_in_as(page: Page, user: OidcUser) -> None:
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("heading", name="Test identity provider")).to_be_visible()
    page.get_by_role("button", name=f"Sign in as {user.name}").click()


def expect_only_the_sign_in_screen(page: Page) -> None:
    expect(page.get_by_text("Sign in to use the Fruxon Playground.")).to_be_visible(timeout=30_000)
    expect(page.get_by_role("button", name="Sign in", exact=True)).to_be_visible()
    expect(page.get_by_role("heading", name="Execute agent")).to_have_count(0)
    expect(page.get_by_role("link", name="History")).to_have_count(0)
    expect(page.get_by_text("Local sandbox")).to_have_count(0)  # no connection sidebar, no connection made


def test_sign_in_shows_the_user_and_sign_out_returns_to_the_sign_in_screen(
        playwright_browser, provider: OidcProvider, oidc_app: StreamlitServer) -> None:
    context = playwright_browser.new_context(viewport={"width": 1400, "height": 900})
    try:
        page = context.new_page()
        page.set_default_timeout(20_000)
        page.goto(f"{oidc_app.url}/history")  # any page asks for sign-in first
        expect_only_the_sign_in_screen(page)
        screenshot(page, "signin-screen")

        sign_in_as(page, ADA)
        sidebar = page.get_by_test_id("stSidebar")
        expect(sidebar.get_by_text("Signed in as")).to_be_visible(timeout=30_000)
        expect(sidebar.get_by_text("ada@example.com", exact=True)).to_be_visible()
        expect(sidebar.locator("a[href^='mailto:']")).to_have_count(0)
        expect(page.get_by_role("heading", name="Execute agent")).to_be_visible()
        assert ("login", ADA.sub) in provider.log and ("token", ADA.sub) in provider.log
        expect(page.get_by_role("button", name="Run", exact=True)).to_be_visible()
        screenshot(page, "signin-signed-in")

        page.reload()  # Streamlit's identity cookie keeps the account across sessions
        expect(sidebar.get_by_text("ada@example.com")).to_be_visible(timeout=30_000)

        sidebar.get_by_role("button", name="Sign out").click()
        expect_only_the_sign_in_screen(page)
        assert ("logout", ADA.sub) in provider.log  # RP-initiated logout reached the provider
        page.reload()
        expect_only_the_sign_in_screen(page)
    finally:
        context.close()


def test_an_account_from_another_domain_is_refused(playwright_browser, oidc_app: StreamlitServer) -> None:
    context = playwright_browser.new_context(viewport={"width": 1400, "height": 900})
    try:
        page = context.new_page()
        page.set_default_timeout(20_000)
        page.goto(oidc_app.url)
        expect_only_the_sign_in_screen(page)
        sign_in_as(page, MALLORY)
        expect(page.get_by_text("This account cannot use this playground.", exact=False)).to_be_visible(timeout=30_000)
        expect(page.get_by_text("mallory@elsewhere.org", exact=True)).to_be_visible()
        expect(page.locator("a[href^='mailto:']")).to_have_count(0)  # the account is text, not a link
        # an invisible word joiner before "@" keeps the domain from becoming a mailto: link
        expect(page.get_by_text(re.compile("accepts accounts from \u2060?@example\\.com only"))).to_be_visible()
        expect(page.get_by_role("heading", name="Execute agent")).to_have_count(0)
        expect(page.get_by_text("Local sandbox")).to_have_count(0)
        screenshot(page, "signin-refused")
        page.get_by_role("button", name="Sign out and use another account").click()
        expect_only_the_sign_in_screen(page)
        sign_in_as(page, GRACE)
        expect(page.get_by_test_id("stSidebar").get_by_text("grace@example.com")).to_be_visible(timeout=30_000)
    finally:
        context.close()


def test_the_sso_proxy_header_names_the_user(playwright_browser, header_app: StreamlitServer) -> None:
    proxied = playwright_browser.new_context(viewport={"width": 1400, "height": 900},
                                             extra_http_headers={"X-Forwarded-Email": "Ada@Example.com"})
    direct = playwright_browser.new_context(viewport={"width": 1400, "height": 900})
    try:
        page = proxied.new_page()
        page.goto(header_app.url)
        sidebar = page.get_by_test_id("stSidebar")
        expect(sidebar.get_by_text("ada@example.com")).to_be_visible(timeout=30_000)
        expect(sidebar.get_by_text("Signed in through your company's single sign-on.")).to_be_visible()
        expect(page.get_by_role("heading", name="Execute agent")).to_be_visible()
        screenshot(page, "signin-header")

        bypass = direct.new_page()  # the same deployment reached without the proxy: no header, no app
        bypass.goto(header_app.url)
        expect(bypass.get_by_text(re.compile("came without the proxy's X-Forwarded-Email header"))).to_be_visible(
            timeout=30_000)
        expect(bypass.get_by_role("heading", name="Execute agent")).to_have_count(0)
    finally:
        proxied.close()
        direct.close()


def test_the_header_is_ignored_when_no_trusted_header_is_configured(playwright_browser, app_server) -> None:
    context = playwright_browser.new_context(viewport={"width": 1400, "height": 900},
                                             extra_http_headers={"X-Forwarded-Email": "ada@example.com"})
    try:
        page = context.new_page()
        page.goto(app_server.url)
        expect(page.get_by_role("heading", name="Execute agent")).to_be_visible(timeout=30_000)
        sidebar = page.get_by_test_id("stSidebar")
        expect(sidebar.get_by_text(re.compile("^.*Local user"))).to_be_visible()  # loopback, no sign-in configured
        expect(sidebar.get_by_text("Signed in as")).to_have_count(0)
        expect(sidebar.get_by_text("ada@example.com")).to_have_count(0)
    finally:
        context.close()
