"""The sandbox's HTTP surface, one router per area of the contract. Every route below the tenant
prefix requires the key (`auth.require_key`)."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from fruxon_playground.sandbox.auth import require_key

PREFIX = "/v1/tenants/{tenant}"


def tenant_router() -> APIRouter:
    return APIRouter(prefix=PREFIX, dependencies=[Depends(require_key)])
