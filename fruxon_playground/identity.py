"""Who is using the playground, and what they may open. Pure rules: no streamlit here.

The run owner is, in order: the account a trusted single-sign-on proxy names in a header (only when
`PLAYGROUND_TRUSTED_USER_HEADER` is set), the account signed in through OIDC (`st.login`), the local
user when the server listens on loopback only and no sign-in is configured, else the browser (a
random id the browser keeps in a cookie). The Streamlit side (`components/identity.py`) gathers the
request facts; `resolve_identity` decides.
"""

from __future__ import annotations

import ipaddress
import os
import re
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

OwnerMode = Literal["auto", "browser"]
GateKind = Literal["sign_in", "refused", "misconfigured"]

BROWSER_COOKIE = "fruxon_playground_browser"
# secrets.token_urlsafe(24) is 32 characters; accept a little either way, nothing else (the cookie
# is client-controlled text that becomes part of the owner key).
_BROWSER_ID = re.compile(r"[A-Za-z0-9_-]{22,64}")
_HEADER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]*")
_DOMAIN = re.compile(r"(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+")
# A proxy in front of a loopback-only server makes every visitor look local: these headers say so.
_FORWARDING_HEADERS = ("x-forwarded-for", "x-forwarded-host", "forwarded", "x-real-ip")
_MAX_ACCOUNT = 320  # the longest e-mail address RFC 3696 allows
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}
DAY_MS = 86_400_000


class IdentityConfigError(ValueError):
    """A `PLAYGROUND_*` sign-in variable has a value the app cannot use."""


@dataclass(frozen=True)
class Identity:
    owner: str  # the owner key stored with every run
    label: str  # shown in the sidebar
    method: str  # "oidc" | "header" | "browser" | "local"
    sees_all: bool  # the local user on a loopback-only server: History lists every run in the file
    signed_in: bool
    sign_in_enabled: bool = False  # this deployment has sign-in (OIDC or a trusted header) configured


LOCAL = Identity(owner="local", label="local user", method="local", sees_all=True, signed_in=False)


@dataclass(frozen=True)
class Gate:
    """What to show instead of the app: a sign-in screen, a refused account or a setup error."""

    kind: GateKind
    message: str
    account: str = ""  # the refused account, shown as text


@dataclass(frozen=True)
class IdentitySettings:
    owner_mode: OwnerMode = "auto"
    trusted_user_header: str | None = None
    require_login: bool = False
    allowed_email_domains: tuple[str, ...] = ()
    share_ttl_days: float | None = None

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> IdentitySettings:
        env = os.environ if environ is None else environ
        mode = env.get("PLAYGROUND_OWNER", "").strip().lower() or "auto"
        if mode not in ("auto", "browser"):
            raise IdentityConfigError(f"PLAYGROUND_OWNER must be “auto” or “browser”, not {mode!r}.")
        header = env.get("PLAYGROUND_TRUSTED_USER_HEADER", "").strip() or None
        if header is not None and not _HEADER_NAME.fullmatch(header):
            raise IdentityConfigError(f"PLAYGROUND_TRUSTED_USER_HEADER is not a header name: {header!r}.")
        return cls(
            owner_mode=mode,  # type: ignore[arg-type]
            trusted_user_header=header,
            require_login=_flag(env, "PLAYGROUND_REQUIRE_LOGIN"),
            allowed_email_domains=_domains(env.get("PLAYGROUND_ALLOWED_EMAIL_DOMAINS", "")),
            share_ttl_days=_ttl_days(env.get("PLAYGROUND_SHARE_TTL_DAYS", "")),
        )


def _flag(env: Mapping[str, str], name: str) -> bool:
    value = env.get(name, "").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise IdentityConfigError(f"{name} must be 1 or 0, not {value!r}.")


def _domains(raw: str) -> tuple[str, ...]:
    domains = tuple(d.strip().lower().lstrip("@") for d in raw.split(",") if d.strip())
    for domain in domains:
        if not _DOMAIN.fullmatch(domain):
            raise IdentityConfigError(f"PLAYGROUND_ALLOWED_EMAIL_DOMAINS has a value that is not a domain: {domain!r}.")
    return domains


def _ttl_days(raw: str) -> float | None:
    if not raw.strip():
        return None
    try:
        days = float(raw)
    except ValueError:
        days = float("nan")
    if not days > 0 or days == float("inf"):
        raise IdentityConfigError(f"PLAYGROUND_SHARE_TTL_DAYS must be a positive number of days, not {raw!r}.")
    return days


_PROVIDER_KEYS = ("client_id", "client_secret", "server_metadata_url")


def oidc_providers(auth: Mapping[str, Any] | None) -> tuple[str | None, ...]:
    """The sign-in providers an `[auth]` secrets section configures, as `st.login` names them.

    `(None,)` for the unnamed default provider (its settings sit in `[auth]` itself), the names of
    `[auth.<name>]` sections otherwise, `()` when sign-in is not configured or is incomplete.
    """
    if not auth or not auth.get("redirect_uri") or not auth.get("cookie_secret"):
        return ()
    if all(auth.get(key) for key in _PROVIDER_KEYS):
        return (None,)
    return tuple(name for name, section in auth.items()
                 if isinstance(section, Mapping) and "_" not in name and all(section.get(k) for k in _PROVIDER_KEYS))


def is_loopback_address(address: str | None) -> bool:
    """Whether `server.address` accepts connections from this machine only (unset = every interface)."""
    host = (address or "").strip().strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def new_browser_id() -> str:
    """An unguessable id for a browser. Not a credential, but guessing it would open someone's History."""
    return secrets.token_urlsafe(24)


def valid_browser_id(value: object) -> str | None:
    """`value` when it has the shape of an id this app makes (it comes from the client), else None."""
    return value if isinstance(value, str) and _BROWSER_ID.fullmatch(value) else None


def browser_identity(browser_id: str, *, sign_in_enabled: bool = False) -> Identity:
    return Identity(owner=f"browser:{browser_id}", label="this browser", method="browser", sees_all=False,
                    signed_in=False, sign_in_enabled=sign_in_enabled)


def oidc_identity(user: Mapping[str, Any]) -> Identity:
    """The signed-in OIDC account: the issuer plus its stable subject (the e-mail when there is none)."""
    issuer = str(user.get("iss") or "oidc")
    subject = str(user.get("sub") or "") or _email(user)
    label = _email(user) or str(user.get("name") or "") or subject
    return Identity(owner=f"user:{issuer}|{subject}", label=label, method="oidc", sees_all=False, signed_in=True,
                    sign_in_enabled=True)


def header_identity(value: str) -> Identity:
    account = value.strip().lower()  # e-mail addresses and user names from SSO proxies ignore case
    return Identity(owner=f"header:{account}", label=account, method="header", sees_all=False, signed_in=True,
                    sign_in_enabled=True)


def _email(user: Mapping[str, Any]) -> str:
    return str(user.get("email") or "").strip().lower()


def account_refusal(account: str, allowed_domains: tuple[str, ...], *, email_verified: object = True) -> str | None:
    """Why `account` may not use this deployment (None = allowed). No list = every account is allowed."""
    if not allowed_domains:
        return None
    _, at, domain = account.rpartition("@")
    if not at or domain.lower() not in allowed_domains:
        return f"This deployment accepts accounts from {_listing(allowed_domains)} only."
    if email_verified is False:
        return "Your identity provider says this e-mail address is not verified."
    return None


def _listing(domains: tuple[str, ...]) -> str:
    return ", ".join(f"@{d}" for d in domains)


def resolve_identity(
    settings: IdentitySettings,
    *,
    server_address: str | None,
    oidc_configured: bool,
    user: Mapping[str, Any],
    headers: Mapping[str, str],
    browser_id: str,
) -> Identity | Gate:
    """Who this request is, or what to show instead of the app.

    `user` is `st.user` (`is_logged_in` True only after an OIDC sign-in), `headers` the headers of
    the request that opened the session (keys in any case), `browser_id` the id the browser keeps
    (or a fresh one it will be asked to keep).
    """
    lowered = {k.lower(): v for k, v in headers.items()}
    header = settings.trusted_user_header
    sign_in_enabled = oidc_configured or header is not None
    if header is not None:
        value = (lowered.get(header.lower()) or "").strip()
        if value:
            if len(value) > _MAX_ACCOUNT or not value.isprintable():
                return Gate("refused", f"The sign-in proxy sent a {header} header the app cannot use.")
            refusal = account_refusal(value, settings.allowed_email_domains)
            if refusal:
                return Gate("refused", refusal, account=value.lower())
            return header_identity(value)
    if oidc_configured and user.get("is_logged_in") is True:
        email = _email(user)
        refusal = account_refusal(email, settings.allowed_email_domains, email_verified=user.get("email_verified"))
        if refusal:
            return Gate("refused", refusal, account=email or str(user.get("sub") or ""))
        return oidc_identity(user)
    if settings.require_login:
        if oidc_configured:
            return Gate("sign_in", "Sign in to use the Fruxon Playground.")
        if header is not None:
            return Gate("sign_in", f"This deployment signs people in through its single sign-on proxy, and this "
                                   f"request came without the proxy's {header} header. Open the playground "
                                   "through your company's sign-in address.")
        return Gate("misconfigured", "PLAYGROUND_REQUIRE_LOGIN is set but no sign-in is configured: add an [auth] "
                                     "section to .streamlit/secrets.toml or set PLAYGROUND_TRUSTED_USER_HEADER.")
    local = (not sign_in_enabled and settings.owner_mode == "auto" and is_loopback_address(server_address)
             and not any(name in lowered for name in _FORWARDING_HEADERS))
    if local:
        return LOCAL
    return browser_identity(browser_id, sign_in_enabled=sign_in_enabled)


def share_link_access(
    run_owner: str,
    run_created_at_ms: int,
    identity: Identity,
    *,
    settings: IdentitySettings | None = None,
    now_ms: int | None = None,
) -> str | None:
    """Whether `identity` may open a shared run: None = yes, else the reason shown to the visitor.

    The run's owner (and the local user, who owns the whole file) always may. When sign-in is on,
    others must be signed in to this deployment. `PLAYGROUND_SHARE_TTL_DAYS` makes links expire that
    many days after the run (deleting the run revokes its link: the store no longer has it).
    """
    if identity.sees_all or run_owner == identity.owner:
        return None
    settings = settings or IdentitySettings.from_environment()
    if identity.sign_in_enabled and not identity.signed_in:
        return "Sign in to open runs shared on this deployment."
    ttl = settings.share_ttl_days
    now = int(time.time() * 1000) if now_ms is None else now_ms
    if ttl is not None and now - run_created_at_ms > ttl * DAY_MS:
        return f"This share link has expired: links to a run last {ttl:g} days on this deployment."
    return None
