"""Query parameters (names bind case-insensitively, contract §12), record filters, bodies and ListPage paging."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from fastapi import Request

from fruxon_playground.contract import normalize_enum
from fruxon_playground.contract.enums import RECORD_STATUSES
from fruxon_playground.sandbox.problems import Problem
from fruxon_playground.sandbox.state import DAY_MS, now_ms
from fruxon_playground.sandbox.store import RecordFilter

MAX_PAGE_SIZE = 100
QUERY_WINDOW_MS = 31 * DAY_MS  # a text query searches at most this window


def query_values(request: Request, *names: str) -> list[str]:
    """Values of a query parameter, matching its name case-insensitively (`PageSize` = `pageSize`)."""
    wanted = {n.lower() for n in names}
    return [v for k, v in request.query_params.multi_items() if k.lower() in wanted]


def query_value(request: Request, *names: str) -> str | None:
    values = query_values(request, *names)
    return values[0] if values else None


def query_int(request: Request, *names: str) -> int | None:
    value = query_value(request, *names)
    if value is None or value == "":
        return None
    try:
        return int(value)
    except ValueError as exc:
        raise Problem(400, f"Query parameter {names[0]} must be an integer.", errors={names[0]: ["must be an integer"]}) from exc


def origin_of(request: Request) -> str:
    origin = (query_value(request, "origin") or "PRODUCTION").upper()
    if origin not in ("PRODUCTION", "TEST"):
        raise Problem(400, "origin must be PRODUCTION or TEST.", errors={"origin": ["must be PRODUCTION or TEST"]})
    return origin


def page_window(request: Request, default_size: int = 10) -> tuple[int, int]:
    """(offset, size) from `pageSize` and an opaque `pageToken` (or the older `PageToken.Skip`)."""
    size = max(1, min(query_int(request, "pageSize") or default_size, MAX_PAGE_SIZE))
    offset = 0
    token = query_value(request, "pageToken", "PageToken.Cursor")
    skip = query_int(request, "PageToken.Skip")
    if token:
        try:
            offset = int(base64.urlsafe_b64decode(token.encode()).decode().removeprefix("offset:"))
        except (ValueError, binascii.Error) as exc:
            raise Problem(400, "pageToken is not a token this server issued.", errors={"pageToken": ["invalid"]}) from exc
    elif skip is not None:
        offset = max(0, skip)
    return offset, size


def page(items: list[Any], offset: int, size: int, has_more: bool) -> dict[str, Any]:
    token = base64.urlsafe_b64encode(f"offset:{offset + size}".encode()).decode() if has_more else None
    return {"items": items, "nextPageToken": token}


def paged(request: Request, items: list[Any], default_size: int) -> dict[str, Any]:
    """One ListPage of an in-memory list."""
    offset, size = page_window(request, default_size)
    return page(items[offset: offset + size], offset, size, offset + size < len(items))


async def read_json(request: Request) -> Any:
    """The whole body (an empty one is `{}`); bad JSON is a 400 on `$`."""
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise Problem(400, f"The request body is not valid JSON: {exc}", errors={"$": ["invalid JSON"]}) from exc


def record_filter(request: Request) -> RecordFilter:
    """The filters of `GET …/executionRecords` (contract §5.1)."""
    statuses = []
    for value in query_values(request, "status"):
        match = next((s for s in RECORD_STATUSES if normalize_enum(s) == normalize_enum(value)), None)
        if match is None:
            raise Problem(400, f"Unknown status {value!r}.", errors={"status": [f"unknown value {value!r}"]})
        statuses.append(match)
    revisions = []
    for value in query_values(request, "agentRevision"):
        try:
            revisions.append(int(value))
        except ValueError as exc:
            raise Problem(400, "agentRevision must be an integer.", errors={"agentRevision": ["must be an integer"]}) from exc
    start, end = query_int(request, "startTime"), query_int(request, "endTime")
    text = query_value(request, "query")
    if text:
        if start is None:
            raise Problem(400, "query needs startTime (and a window of at most 31 days).", errors={"query": ["requires startTime"]})
        if (end or now_ms()) - start > QUERY_WINDOW_MS:
            raise Problem(400, "The query window may span at most 31 days.", errors={"query": ["window longer than 31 days"]})
    flags = {name: (query_value(request, name) or "").lower() == "true" for name in ("withToolErrors", "hasToolCalls")}
    return RecordFilter(
        statuses=statuses, revisions=revisions, origin=origin_of(request), environment=query_value(request, "environment"),
        session_id=query_value(request, "sessionId"), start_time=start, end_time=end,
        min_duration_ms=query_int(request, "minDurationMs"), max_duration_ms=query_int(request, "maxDurationMs"),
        with_tool_errors=flags["withToolErrors"], has_tool_calls=flags["hasToolCalls"], tools=query_values(request, "tools"),
        query=text, trigger_types=[t.upper() for t in query_values(request, "triggerType")],
    )
