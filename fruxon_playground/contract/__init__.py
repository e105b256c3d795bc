"""The contract's rules in one home (shared/fruxon-api.md): enum comparison and status sets, the
slug rule, the request and draft validator, and the secret masker. The client, the UI and the
sandbox all import them from here."""

from fruxon_playground.contract.enums import (
    FAILURE_STATUSES,
    IN_FLIGHT_STATUSES,
    SUCCESS_STATUSES,
    WAITING_STATUSES,
    ZERO_VALUES,
    is_failure,
    is_success,
    is_waiting_for_human,
    normalize_enum,
)
from fruxon_playground.contract.secrets import (
    MASK,
    is_secret_key,
    looks_secret,
    mask_json_text,
    mask_key,
    mask_secrets,
    mask_text,
    strip_url_credentials,
)
from fruxon_playground.contract.slugs import SLUG, environment_slug_problem, is_slug, tenant_problem

__all__ = [
    "FAILURE_STATUSES", "IN_FLIGHT_STATUSES", "MASK", "SLUG", "SUCCESS_STATUSES", "WAITING_STATUSES", "ZERO_VALUES",
    "environment_slug_problem", "is_failure", "is_secret_key", "is_slug", "looks_secret", "is_success", "is_waiting_for_human",
    "mask_json_text", "mask_key", "mask_secrets", "mask_text", "normalize_enum", "strip_url_credentials",
    "tenant_problem",
]
