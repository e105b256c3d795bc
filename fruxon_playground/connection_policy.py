"""Which base URLs a connection may use and which auth headers go there (pure rules, no streamlit).

A shared deployment must not become a proxy into its own network (server-side request forgery), must
not send a key in clear text across a network, and must not hand the key to a host in more headers
than it needs. The sidebar asks `ConnectionPolicy` before anything is sent.

Environment:
  PLAYGROUND_ALLOWED_BASE_URLS    comma-separated URL prefixes the Custom profile may use
  PLAYGROUND_ALLOW_INSECURE_HTTP  "1" to allow http:// to a non-loopback host with a key
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from fruxon_playground.settings import DEFAULT_BASE_URL, AuthHeader

ALLOWED_BASE_URLS_ENV = "PLAYGROUND_ALLOWED_BASE_URLS"
ALLOW_INSECURE_HTTP_ENV = "PLAYGROUND_ALLOW_INSECURE_HTTP"

_DEFAULT_PORTS = {"http": 80, "https": 443}
_HOSTNAME = re.compile(r"^(?=.{1,253}$)[a-z0-9_-]{1,63}(?:\.[a-z0-9_-]{1,63})*\.?$")

AUTH_HEADER_LABELS: dict[str, str] = {  # where the key goes, as the sidebar says it
    "both": "X-API-KEY + Bearer headers",
    "x-api-key": "X-API-KEY header",
    "bearer": "Bearer header",
}


@dataclass(frozen=True)
class BaseURL:
    """A base URL reduced to what decides where a request goes."""

    scheme: Literal["http", "https"]
    host: str  # lowercase; IPv6 without brackets
    port: int  # explicit, or the scheme's default
    path: tuple[str, ...]  # path segments, no empty ones

    @property
    def origin(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = _DEFAULT_PORTS[self.scheme] == self.port
        return f"{self.scheme}://{host}" + ("" if default else f":{self.port}")

    def __str__(self) -> str:
        return self.origin + "".join(f"/{segment}" for segment in self.path)

    def starts_with(self, prefix: BaseURL) -> bool:
        """Same scheme, host and port, and `prefix`'s path segments lead this path
        (`https://h/api` covers `https://h/api/v2`, never `https://h/api-internal`)."""
        return (
            (self.scheme, self.host, self.port) == (prefix.scheme, prefix.host, prefix.port)
            and self.path[: len(prefix.path)] == prefix.path
        )


def parse_base_url(url: str) -> BaseURL | None:
    return _parse(url)[0]


def _parse(url: str) -> tuple[BaseURL | None, str | None]:
    text = url.strip()
    if not text:
        return None, "Enter the base URL (for example https://api.fruxon.com)."
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        return None, "The base URL is not a valid URL (check the host and port)."
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        return None, "The base URL must start with https:// (or http:// for a server on this machine)."
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        return None, "Remove the user name or password from the base URL: the key goes in the API key field."
    if parts.query or parts.fragment or "?" in text or "#" in text:
        return None, "The base URL cannot contain “?” or “#”."
    host = (parts.hostname or "").lower()
    if not host or not _valid_host(host):
        return None, "The base URL has no valid host name."
    if "\\" in text or any(ch.isspace() or ord(ch) < 32 for ch in text):
        return None, "The base URL cannot contain spaces or backslashes."
    segments = tuple(s for s in parts.path.split("/") if s)
    if any(s in (".", "..") for s in segments):
        return None, "The base URL's path cannot contain “.” or “..” segments."
    return BaseURL(scheme, host.rstrip("."), port or _DEFAULT_PORTS[scheme], segments), None  # type: ignore[arg-type]


def _valid_host(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return bool(_HOSTNAME.match(host))


def is_loopback_host(host: str | None) -> bool:
    """`localhost` or a loopback IP. An empty host (listen on every interface) is not loopback."""
    if not host:
        return False
    name = host.strip().strip("[]").lower().rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


@dataclass(frozen=True)
class ConnectionPolicy:
    """What the deployment allows. `allowed` None means any base URL (a local, single-user app)."""

    allow_insecure_http: bool = False
    allowed: tuple[BaseURL, ...] | None = None
    allowed_source: str = ""  # says where the allow-list came from, for the refusal message

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None, *, listen_address: str | None = "localhost",
                         configured_base_url: str | None = None) -> ConnectionPolicy:
        """`listen_address` is Streamlit's `server.address` (None/empty = every interface);
        `configured_base_url` the secrets/environment connection's base URL, if any."""
        env = os.environ if environ is None else environ
        insecure = _flag(env.get(ALLOW_INSECURE_HTTP_ENV))
        listed = env.get(ALLOWED_BASE_URLS_ENV, "")
        if listed.strip():
            prefixes = tuple(p for p in (parse_base_url(item) for item in listed.split(",")) if p is not None)
            return cls(insecure, prefixes, ALLOWED_BASE_URLS_ENV)
        if not is_loopback_host(listen_address):
            defaults = [configured_base_url, DEFAULT_BASE_URL]
            prefixes = tuple(p for p in (parse_base_url(u) for u in defaults if u) if p is not None)
            return cls(insecure, tuple(dict.fromkeys(prefixes)), "shared")
        return cls(insecure, None, "")

    def problem(self, url: str, *, custom: bool) -> str | None:
        """None when a connection to `url` carrying a key is allowed; else what to fix.

        The allow-list applies to the Custom profile (what visitors type); the insecure-HTTP rule to
        every profile that sends a key over the network.
        """
        parsed, problem = _parse(url)
        if parsed is None:
            return problem
        if parsed.scheme == "http" and not is_loopback_host(parsed.host) and not self.allow_insecure_http:
            return (f"{parsed.origin} uses plain http://, so the key would cross the network unencrypted. "
                    f"Use https://, or set {ALLOW_INSECURE_HTTP_ENV}=1 on the server if this network is trusted.")
        if custom and self.allowed is not None and not any(parsed.starts_with(p) for p in self.allowed):
            listed = ", ".join(str(p) for p in self.allowed) or "nothing"
            if self.allowed_source == ALLOWED_BASE_URLS_ENV:
                return f"This deployment only connects to: {listed} ({ALLOWED_BASE_URLS_ENV})."
            return (f"This app is shared on the network, so Custom connects only to: {listed}. "
                    f"The operator can list more in {ALLOWED_BASE_URLS_ENV}.")
        return None


def same_host(url: str, other: str) -> bool:
    """Both URLs name the same host and port (the scheme does not matter here)."""
    a, b = parse_base_url(url), parse_base_url(other)
    return a is not None and b is not None and (a.host, a.port) == (b.host, b.port)


@dataclass(frozen=True)
class AuthChoice:
    header: AuthHeader  # what is actually sent
    note: str  # why it differs from what was asked, or ""

    @property
    def label(self) -> str:
        return AUTH_HEADER_LABELS[self.header]


def effective_auth_header(requested: AuthHeader, base_url: str, trusted_base_urls: Sequence[str]) -> AuthChoice:
    """"both" (the key in two headers) is only for a host the deployment configured; anywhere else
    the key goes in the standard `Authorization: Bearer` header alone (proxies and logs redact that
    one; a stray `X-API-KEY` they often do not). An explicit single-header choice is kept."""
    if requested != "both" or any(same_host(base_url, trusted) for trusted in trusted_base_urls):
        return AuthChoice(requested, "")
    hosts = ", ".join(p.origin for p in (parse_base_url(u) for u in trusted_base_urls) if p is not None)
    return AuthChoice("bearer", f"“Both” is used only for the configured host, {hosts}.")
