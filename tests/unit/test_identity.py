"""Who owns a run and who may open a shared one: the pure rules of fruxon_playground.identity."""

from __future__ import annotations

from typing import Any

import pytest

from fruxon_playground.identity import (
    DAY_MS,
    LOCAL,
    Gate,
    Identity,
    IdentityConfigError,
    IdentitySettings,
    account_refusal,
    browser_identity,
    is_loopback_address,
    new_browser_id,
    oidc_providers,
    resolve_identity,
    share_link_access,
    valid_browser_id,
)

BROWSER = "Zq3xYp0rT8mW2vN6kL1sJ4hG7fD9cB5a"
ADA: dict[str, Any] = {"is_logged_in": True, "iss": "https://idp.example.com", "sub": "ada-0001",
                       "email": "Ada@Example.com", "email_verified": True, "name": "Ada Lovelace"}


def resolve(settings: IdentitySettings | None = None, *, address: str | None = "127.0.0.1", oidc: bool = False,
            user: dict[str, Any] | None = None, headers: dict[str, str] | None = None) -> Identity | Gate:
    return resolve_identity(settings or IdentitySettings(), server_address=address, oidc_configured=oidc,
                            user=user or {}, headers=headers or {}, browser_id=BROWSER)


@pytest.mark.parametrize("address", ["127.0.0.1", "localhost", "::1", "[::1]", "127.0.0.2", " LOCALHOST "])
def test_loopback_addresses(address: str) -> None:
    assert is_loopback_address(address)


@pytest.mark.parametrize("address", [None, "", "0.0.0.0", "::", "10.0.0.5", "example.com", "localhost.evil.com"])
def test_addresses_reachable_from_elsewhere(address: str | None) -> None:
    assert not is_loopback_address(address)


def test_the_local_user_owns_the_whole_file_on_a_loopback_server() -> None:
    assert resolve() == LOCAL and LOCAL.sees_all and LOCAL.owner == "local"


def test_a_server_on_every_interface_gives_each_browser_its_own_runs() -> None:
    identity = resolve(address="0.0.0.0")
    assert identity == browser_identity(BROWSER)
    assert identity.owner == f"browser:{BROWSER}" and not identity.sees_all and not identity.signed_in


def test_the_owner_switch_forces_browser_owners_on_loopback() -> None:
    assert resolve(IdentitySettings(owner_mode="browser")) == browser_identity(BROWSER)


@pytest.mark.parametrize("header", ["X-Forwarded-For", "x-forwarded-host", "Forwarded", "X-Real-IP"])
def test_a_proxy_in_front_of_a_loopback_server_is_not_the_local_user(header: str) -> None:
    assert resolve(headers={header: "203.0.113.9"}).method == "browser"


def test_configured_sign_in_turns_the_local_shortcut_off() -> None:
    identity = resolve(oidc=True, user={"is_logged_in": False})
    assert identity == browser_identity(BROWSER, sign_in_enabled=True)


def test_an_oidc_account_owns_runs_by_issuer_and_subject() -> None:
    identity = resolve(oidc=True, user=ADA)
    assert identity == Identity(owner="user:https://idp.example.com|ada-0001", label="ada@example.com",
                                method="oidc", sees_all=False, signed_in=True, sign_in_enabled=True)


def test_an_oidc_account_without_a_subject_is_keyed_by_its_email() -> None:
    identity = resolve(oidc=True, user={"is_logged_in": True, "iss": "https://idp", "email": "b@x.io"})
    assert identity.owner == "user:https://idp|b@x.io" and identity.label == "b@x.io"


def test_st_user_without_a_sign_in_flag_is_not_signed_in() -> None:
    # AppTest (and a platform without [auth]) fills st.user with an e-mail but no is_logged_in.
    assert resolve(oidc=True, user={"email": "test@example.com"}).signed_in is False
    assert resolve(oidc=False, user=ADA) == LOCAL  # OIDC claims count only when sign-in is configured


def test_the_trusted_header_names_the_user_only_when_configured() -> None:
    headers = {"x-forwarded-email": " Ada@Example.com "}
    assert resolve(headers=headers) == LOCAL
    identity = resolve(IdentitySettings(trusted_user_header="X-Forwarded-Email"), headers=headers)
    assert identity.owner == "header:ada@example.com" and identity.method == "header" and identity.signed_in


def test_a_header_deployment_without_the_header_falls_back_to_the_browser() -> None:
    identity = resolve(IdentitySettings(trusted_user_header="X-Forwarded-Email"))
    assert identity == browser_identity(BROWSER, sign_in_enabled=True)


def test_required_sign_in_shows_the_sign_in_screen_until_signed_in() -> None:
    settings = IdentitySettings(require_login=True)
    gate = resolve(settings, oidc=True, user={"is_logged_in": False})
    assert isinstance(gate, Gate) and gate.kind == "sign_in"
    assert resolve(settings, oidc=True, user=ADA).signed_in


def test_required_sign_in_behind_a_proxy_explains_the_missing_header() -> None:
    gate = resolve(IdentitySettings(require_login=True, trusted_user_header="X-Auth-User"))
    assert isinstance(gate, Gate) and gate.kind == "sign_in" and "X-Auth-User" in gate.message


def test_required_sign_in_with_nothing_configured_refuses_to_start() -> None:
    gate = resolve(IdentitySettings(require_login=True), address="0.0.0.0")
    assert isinstance(gate, Gate) and gate.kind == "misconfigured"


def test_accounts_outside_the_allowed_domains_are_refused() -> None:
    settings = IdentitySettings(allowed_email_domains=("example.com",))
    assert resolve(settings, oidc=True, user=ADA).signed_in
    gate = resolve(settings, oidc=True, user={**ADA, "email": "mallory@elsewhere.org"})
    assert gate == Gate("refused", "This deployment accepts accounts from @example.com only.",
                        account="mallory@elsewhere.org")
    header_gate = resolve(IdentitySettings(trusted_user_header="X-Email", allowed_email_domains=("example.com",)),
                          headers={"X-Email": "eve@example.com.evil.org"})
    assert isinstance(header_gate, Gate) and header_gate.kind == "refused"


def test_an_unverified_email_is_refused_when_domains_are_restricted() -> None:
    assert account_refusal("ada@example.com", ("example.com",), email_verified=False)
    assert account_refusal("ada@example.com", ("example.com",), email_verified=None) is None
    assert account_refusal("anyone@anywhere", ()) is None


def test_an_unusable_header_value_is_refused() -> None:
    settings = IdentitySettings(trusted_user_header="X-Email")
    assert isinstance(resolve(settings, headers={"X-Email": "a" * 400}), Gate)
    assert isinstance(resolve(settings, headers={"X-Email": "ada@example.com\x00"}), Gate)


def test_settings_from_the_environment() -> None:
    settings = IdentitySettings.from_environment({
        "PLAYGROUND_OWNER": "browser", "PLAYGROUND_TRUSTED_USER_HEADER": "X-Forwarded-Email",
        "PLAYGROUND_REQUIRE_LOGIN": "true", "PLAYGROUND_ALLOWED_EMAIL_DOMAINS": " Example.com, @corp.example.org ,",
        "PLAYGROUND_SHARE_TTL_DAYS": "7.5"})
    assert settings == IdentitySettings(owner_mode="browser", trusted_user_header="X-Forwarded-Email",
                                        require_login=True, allowed_email_domains=("example.com", "corp.example.org"),
                                        share_ttl_days=7.5)
    assert IdentitySettings.from_environment({}) == IdentitySettings()


@pytest.mark.parametrize("name, value", [
    ("PLAYGROUND_OWNER", "everyone"), ("PLAYGROUND_TRUSTED_USER_HEADER", "X Email"),
    ("PLAYGROUND_REQUIRE_LOGIN", "maybe"), ("PLAYGROUND_ALLOWED_EMAIL_DOMAINS", "example.com,not a domain"),
    ("PLAYGROUND_SHARE_TTL_DAYS", "0"), ("PLAYGROUND_SHARE_TTL_DAYS", "-3"), ("PLAYGROUND_SHARE_TTL_DAYS", "nan"),
    ("PLAYGROUND_SHARE_TTL_DAYS", "inf"), ("PLAYGROUND_SHARE_TTL_DAYS", "a week"),
])
def test_bad_settings_are_reported_by_name(name: str, value: str) -> None:
    with pytest.raises(IdentityConfigError, match=name):
        IdentitySettings.from_environment({name: value})


def test_browser_ids_are_random_and_only_well_formed_ones_are_taken_from_the_client() -> None:
    ids = {new_browser_id() for _ in range(200)}
    assert len(ids) == 200 and all(valid_browser_id(i) == i and len(i) == 32 for i in ids)
    for bad in (None, "", "short", "x' OR 1=1 --", "a" * 65, "ok" * 12 + "\n", 12345, b"bytes" * 10):
        assert valid_browser_id(bad) is None


def test_oidc_providers_from_the_auth_section() -> None:
    shared = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "s" * 32}
    provider = {"client_id": "id", "client_secret": "secret", "server_metadata_url": "https://idp/.well-known"}
    assert oidc_providers(None) == () and oidc_providers({}) == ()
    assert oidc_providers({**shared, **provider}) == (None,)
    assert oidc_providers({**shared, "google": provider, "okta": provider, "bad_name": provider}) == ("google", "okta")
    assert oidc_providers({**provider}) == ()  # no redirect_uri / cookie_secret: st.login would fail
    assert oidc_providers({**shared, "client_id": "id"}) == ()  # incomplete provider


NOW = 1_800_000_000_000
SIGNED_IN = Identity("user:https://idp|bob", "bob@example.com", "oidc", False, True, True)
ANONYMOUS_ON_SIGN_IN_DEPLOYMENT = browser_identity(BROWSER, sign_in_enabled=True)


def access(owner: str, created_at_ms: int, identity: Identity, ttl: float | None = None) -> str | None:
    return share_link_access(owner, created_at_ms, identity, settings=IdentitySettings(share_ttl_days=ttl), now_ms=NOW)


def test_without_sign_in_anyone_with_the_link_opens_the_run() -> None:
    assert access("browser:someone-else", NOW - 400 * DAY_MS, browser_identity(BROWSER)) is None


def test_with_sign_in_only_signed_in_users_open_shared_runs() -> None:
    reason = access("user:https://idp|ada", NOW, ANONYMOUS_ON_SIGN_IN_DEPLOYMENT)
    assert reason == "Sign in to open runs shared on this deployment."
    assert access("user:https://idp|ada", NOW, SIGNED_IN) is None


def test_share_links_expire_after_the_configured_days() -> None:
    assert access("user:https://idp|ada", NOW - 6 * DAY_MS, SIGNED_IN, ttl=7) is None
    reason = access("user:https://idp|ada", NOW - 8 * DAY_MS, SIGNED_IN, ttl=7)
    assert reason == "This share link has expired: links to a run last 7 days on this deployment."
    assert access("browser:other", NOW - 8 * DAY_MS, browser_identity(BROWSER), ttl=7) is not None


def test_owners_and_the_local_user_always_open_their_runs() -> None:
    assert access(SIGNED_IN.owner, NOW - 900 * DAY_MS, SIGNED_IN, ttl=1) is None
    assert access("browser:anyone", NOW - 900 * DAY_MS, LOCAL, ttl=1) is None
