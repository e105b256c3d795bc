"""The identifier rule of the contract (§1, §4.1): agent ids, environment slugs and tenants."""

from __future__ import annotations

import re

SLUG = re.compile(r"^[a-z][a-z0-9_]+$")
MAX_ENVIRONMENT_SLUG = 64
# Tenants ("workspaces") are slugs in the contract's examples, but real ones may carry hyphens and
# digits first; what matters is that a tenant is one path segment and cannot change the path.
TENANT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$")


def is_slug(value: object) -> bool:
    return isinstance(value, str) and bool(SLUG.match(value))


def environment_slug_problem(slug: object) -> str | None:
    """None when `slug` is a valid environment slug (or empty); else what to fix, in one sentence."""
    if slug is None or slug == "":
        return None
    if not isinstance(slug, str):
        return "The environment slug must be a string."
    if len(slug) > MAX_ENVIRONMENT_SLUG:
        return f"At most {MAX_ENVIRONMENT_SLUG} characters (this one has {len(slug)})."
    if not SLUG.match(slug):
        return "Use lowercase letters, digits and underscores, starting with a letter (e.g. acme_corp)."
    return None


def tenant_problem(tenant: object) -> str | None:
    """None when `tenant` can be used as the `{tenant}` path segment; else what to fix."""
    if not isinstance(tenant, str) or not tenant:
        return "Enter the tenant (your workspace's slug)."
    if not TENANT.match(tenant):
        return ("The tenant is one word of letters, digits, `-` and `_` (e.g. acme-prod); "
                "slashes, dots, spaces and `?` are not allowed.")
    return None
