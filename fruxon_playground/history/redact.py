"""Secrets never reach the history, exports or share links: masked by key name and by value shape."""

from __future__ import annotations

import re
from typing import Any

MASK = "••••"
_SECRET_KEY = re.compile(r"(api[_-]?key|authorization|x-api-key|token|secret|password|credential|private[_-]?key)", re.I)
_SECRET_VALUE = re.compile(r"(fx_pat_|sk-|sk_live_|xox[bp]-|ghp_|AKIA)[A-Za-z0-9_\-]{6,}")


def redact_request(value: Any, key: str = "") -> Any:
    """A copy with secrets masked: values under secret-looking keys, and key-shaped strings anywhere."""
    if isinstance(value, dict):
        return {k: redact_request(v, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_request(v, key) for v in value]
    if isinstance(value, str):
        if value and _SECRET_KEY.search(key):
            return MASK
        return _SECRET_VALUE.sub(MASK, value)
    return value


def redact_text(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, MASK)
    return _SECRET_VALUE.sub(MASK, text)
