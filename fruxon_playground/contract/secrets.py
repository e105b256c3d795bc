"""One secret masker for everything saved, shown or shared: history, exports, share links, drafts.

A value is masked when it sits under a secret-looking key (`apiKey`, `Authorization`, `password`,
`clientSecret`, `githubToken`…), when it has a known key's shape (`fx_pat_…`, `sk_live_…`,
`Bearer …`, JWTs…), or when it contains one of the caller's own secrets (the connection's key,
matched exactly, wherever it appears — a server that echoes the `X-API-KEY` header in an error
body included).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

MASK = "••••"

# Key names are compared lowercased with `_` and `-` removed. Counts such as `inputTokens` are not
# secrets; `token`, `accessToken`, `githubToken` are.
_SECRET_KEY_PARTS = ("apikey", "authorization", "password", "passwd", "secret", "credential", "privatekey",
                     "cookie", "bearer", "xapikey", "signature")
_SECRET_KEY_EXACT = frozenset({"auth", "key", "token", "pat", "sig"})
_SECRET_VALUE = re.compile(
    r"(?:fx_pat_|sk-|sk_live_|sk_test_|rk_live_|rk_test_|pk_live_|xox[abpsr]-|ghp_|gho_|ghs_|github_pat_|glpat-)"
    r"[A-Za-z0-9_\-]{6,}"
    r"|AKIA[0-9A-Z]{12,}"
    r"|(?<=Bearer )[A-Za-z0-9._~+/=\-]{6,}"
    r"|(?<=Basic )[A-Za-z0-9+/=]{8,}"
    r"|eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}",
)
# A cheap pre-check before a structural pass over JSON text.
_KEY_HINT = re.compile(r"key|auth|pass|secret|credential|token|cookie|bearer|signature|\bpat\b|\bsig\b", re.I)
_MIN_KNOWN = 4  # a "secret" shorter than this would mask ordinary words


def is_secret_key(name: object) -> bool:
    key = str(name).lower().replace("_", "").replace("-", "")
    if key in _SECRET_KEY_EXACT:
        return True
    if key.endswith("token") and not key.endswith("pagetoken"):
        return True
    return any(part in key for part in _SECRET_KEY_PARTS)


def _known(secrets: Iterable[str | None]) -> tuple[str, ...]:
    # Longest first, so a secret that contains another is masked whole.
    return tuple(sorted({s for s in secrets if s and len(s) >= _MIN_KNOWN}, key=len, reverse=True))


def looks_secret(value: str) -> bool:
    """A string that has a known key's shape somewhere in it."""
    return bool(_SECRET_VALUE.search(value))


def mask_text(text: str, secrets: Iterable[str | None] = ()) -> str:
    """`text` with the given secrets (exact) and secret-shaped substrings replaced by the mask."""
    for secret in _known(secrets):
        if secret in text:
            text = text.replace(secret, MASK)
    return _SECRET_VALUE.sub(MASK, text)


def mask_secrets(value: Any, secrets: Iterable[str | None] = (), *, key: str = "") -> Any:
    """A copy of a JSON-like value with every secret masked (see the module docstring)."""
    return _mask(value, _known(secrets), key)


def _mask(value: Any, known: tuple[str, ...], key: str) -> Any:
    if isinstance(value, dict):
        return {k: _mask(v, known, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_mask(v, known, key) for v in value]
    if isinstance(value, str):
        if value and key and is_secret_key(key):
            return MASK
        return mask_text(value, known)
    return value


def mask_json_text(text: str, secrets: Iterable[str | None] = ()) -> str:
    """JSON text (an event's data) with secrets masked; it is re-encoded only when something changed.

    Text that is not JSON is masked as plain text.
    """
    known = _known(secrets)
    masked = mask_text(text, known)
    if not _KEY_HINT.search(masked):
        return masked
    try:
        parsed = json.loads(masked)
    except ValueError:
        return masked
    cleaned = _mask(parsed, known, "")
    return masked if cleaned == parsed else json.dumps(cleaned, ensure_ascii=False, separators=(",", ":"))


def strip_url_credentials(url: str | None) -> str | None:
    """`https://user:pass@host/x` → `https://host/x`: base URLs are saved and shown without them."""
    if not url or "@" not in url:
        return url
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    netloc = host + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def mask_key(key: str | None) -> str:
    """How a key is shown: at most its last four characters."""
    if not key:
        return "(none)"
    return MASK + key[-4:] if len(key) > 8 else MASK
