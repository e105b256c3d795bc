"""Authentication (contract §2, §10.2) as a router dependency: either header, fail closed, one tenant."""

from __future__ import annotations

import hmac

from fastapi import Request

from fruxon_playground.sandbox.problems import Problem
from fruxon_playground.sandbox.state import sandbox_of

CHALLENGE = {"WWW-Authenticate": "Bearer"}


async def require_key(request: Request, tenant: str) -> None:
    """No header → 401; any presented key wrong → 401; a non-Bearer Authorization → 401; other tenant → 403."""
    sandbox = sandbox_of(request)
    expected = sandbox.config.api_key.encode()
    presented: list[str] = []
    api_key = request.headers.get("x-api-key")
    authorization = request.headers.get("authorization")
    if api_key is None and authorization is None:
        raise Problem(401, "Missing API key: send Authorization: Bearer <key> or X-API-KEY.", headers=CHALLENGE)
    if authorization is not None:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Problem(401, "The Authorization header must use the Bearer scheme.", headers=CHALLENGE)
        presented.append(token.strip())
    if api_key is not None:
        presented.append(api_key.strip())
    if not all(hmac.compare_digest(p.encode(), expected) for p in presented):
        raise Problem(401, "The API key was rejected.", headers=CHALLENGE)
    if tenant != sandbox.config.tenant:
        raise Problem(403, f"The key is not bound to tenant {tenant!r}.")
