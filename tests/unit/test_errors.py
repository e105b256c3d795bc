"""Error bodies of every shape become the right exception with a message a person can act on."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from fruxon_playground.api import errors as err


def problem(status: int, **extra) -> bytes:
    return json.dumps({"title": "Some title", "status": status, "detail": "Some detail", **extra}).encode()


@pytest.mark.parametrize(
    ("status", "cls"),
    [(400, err.ValidationError), (401, err.AuthenticationError), (403, err.ForbiddenError), (404, err.NotFoundError),
     (405, err.MethodNotAllowedError), (409, err.ConflictError), (422, err.ValidationError), (429, err.RateLimitedError),
     (500, err.ServerError), (502, err.ServerError), (503, err.ServiceUnavailableError), (418, err.FruxonAPIError)],
)
def test_status_table(status: int, cls: type) -> None:
    exc = err.error_from_response(status, {}, problem(status), method="POST", path="/v1/tenants/t/agents/a:execute")
    assert type(exc) is cls
    assert exc.status == status and exc.detail == "Some detail"
    assert "POST /v1/tenants/t/agents/a:execute" in str(exc)


def test_validation_errors_per_field() -> None:
    body = problem(400, errors={"parameters.question": ["Parameter question is required"], "$.mode": ["bad"]})
    exc = err.error_from_response(400, {}, body, method="POST", path="/p")
    assert exc.field_errors == {"parameters.question": ["Parameter question is required"], "$.mode": ["bad"]}
    assert "parameters.question" in str(exc)


def test_message_and_details_variants_plain_text_and_empty_bodies() -> None:
    exc = err.error_from_response(500, {}, b'{"message": "db down", "details": "x"}', method="GET", path="/p")
    assert exc.detail == "db down"
    text = err.error_from_response(502, {}, b"<html>Bad gateway</html>" + b"x" * 2000, method="GET", path="/p")
    assert text.body_text.startswith("<html>Bad gateway") and len(text.body_text) == err.MAX_TEXT_BODY
    empty = err.error_from_response(401, {}, b"", method="GET", path="/p")
    assert isinstance(empty, err.AuthenticationError) and "HTTP 401" in str(empty)


def test_retry_after_seconds_and_http_date() -> None:
    assert err.parse_retry_after("7") == 7.0
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert err.parse_retry_after("Thu, 01 Jan 2026 00:00:30 GMT", now=now) == 30.0
    assert err.parse_retry_after("soon") is None
    exc = err.error_from_response(429, {"retry-after": "3"}, problem(429), method="GET", path="/p")
    assert exc.retry_after == 3.0


def test_forbidden_names_the_missing_scope_and_server_errors_keep_ids() -> None:
    forbidden = err.error_from_response(403, {}, problem(403, error="insufficient_scope", required="agents:test"),
                                        method="GET", path="/p")
    assert forbidden.required_scope == "agents:test"
    failed = err.error_from_response(500, {}, problem(500, executionRecordId="r1", traceId="t1"), method="POST", path="/p")
    assert failed.execution_record_id == "r1" and failed.trace_id == "t1"
