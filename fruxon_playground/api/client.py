"""`FruxonClient`: the typed client for the Fruxon API over httpx.

Runs (`execute`, `test`, the streams) are POSTs that are never retried. Reads retry 429/503
(honouring Retry-After, capped), 500 once and connection errors once. The transport is the seam
for tests and for pointing at an in-process server.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
from pydantic import BaseModel

from fruxon_playground.api import errors as err
from fruxon_playground.api._streaming import EventStream
from fruxon_playground.api.models import (
    Agent,
    AgentDraft,
    AgentRevision,
    AgentRevisionSummary,
    Approval,
    AuthHealth,
    CostRollup,
    CostTimeseries,
    Environment,
    EnvironmentCostTimeseries,
    EnvironmentSummary,
    ExecuteRequest,
    ExecuteResponse,
    ExecutionRecord,
    ExecutionResult,
    FileLink,
    Page,
    ParametersResponse,
    TestRequest,
    TraceEnvelope,
    to_decimal,
)
from fruxon_playground.contract import is_failure

DEFAULT_BASE_URL = "https://api.fruxon.com"
AUTH_HEADERS = ("both", "x-api-key", "bearer")
MAX_RETRY_AFTER_S = 30.0
SUMMARY_FALLBACK_CAP = 2_000


@dataclass(frozen=True)
class Timeouts:
    connect: float = 10.0
    read: float = 300.0  # synchronous runs may take minutes
    stream_read: float = 130.0  # longest silence tolerated between stream bytes
    write: float = 60.0


@dataclass(frozen=True)
class Summaries:
    items: list[EnvironmentSummary]
    approximate: bool  # computed client-side from execution records (the endpoint is missing)


RequestBody = BaseModel | dict[str, Any]

# A relative API path once its ids went through `_seg`: segments of unreserved characters and
# %-escapes (`*` is the revision wildcard, §6.3), then at most one `:action` suffix (§1).
_SAFE_RELATIVE_PATH = re.compile(r"[A-Za-z0-9._~%*-]+(?:/[A-Za-z0-9._~%*-]+)*(?::[A-Za-z]+)?")


def _seg(value: object) -> str:
    """One path segment: every reserved character percent-encoded, so an id such as
    `x/../../internal?` stays inside its segment. "." and ".." cannot be encoded away
    (servers may decode `%2E` and normalise), so they are refused; so is an empty id."""
    text = str(value)
    if text in ("", ".", ".."):
        raise err.UnsafePathSegment(f"{text!r} cannot be used as an id in a request path.")
    return "*" if text == "*" else quote(text, safe="")


def _wire(body: RequestBody | None) -> dict[str, Any] | None:
    if body is None:
        return None
    if isinstance(body, BaseModel):
        return body.to_wire() if hasattr(body, "to_wire") else body.model_dump(by_alias=True, exclude_none=True)
    return body


class FruxonClient:
    def __init__(
        self,
        base_url: str,
        api_key: str,
        tenant: str,
        *,
        auth_header: str = "both",
        timeouts: Timeouts | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if auth_header not in AUTH_HEADERS:
            raise ValueError(f"auth_header must be one of {', '.join(AUTH_HEADERS)}")
        self.base_url = base_url.strip().rstrip("/")
        self.tenant = tenant.strip()
        self.auth_header = auth_header
        self.timeouts = timeouts or Timeouts()
        self._sleep = sleep
        self._secrets = (api_key,)  # masked in any error text a server sends back
        headers = {"User-Agent": "fruxon-playground"}
        if auth_header in ("both", "x-api-key"):
            headers["X-API-KEY"] = api_key
        if auth_header in ("both", "bearer"):
            headers["Authorization"] = f"Bearer {api_key}"
        self._http = httpx.Client(
            base_url=self.base_url,
            headers=headers,
            timeout=httpx.Timeout(self.timeouts.read, connect=self.timeouts.connect, write=self.timeouts.write),
            transport=transport,
            follow_redirects=False,
        )

    def __repr__(self) -> str:  # never the key
        return f"FruxonClient(base_url={self.base_url!r}, tenant={self.tenant!r}, auth_header={self.auth_header!r})"

    def __enter__(self) -> FruxonClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # -- plumbing ----------------------------------------------------------------------------------
    def _path(self, path: str) -> str:
        """`/v1/tenants/{tenant}/{path}`. Callers put every id through `_seg`; a path that still
        holds `?`, `#`, spaces or a dot segment was built without it and is refused, not sent."""
        if not _SAFE_RELATIVE_PATH.fullmatch(path) or any(s in (".", "..") for s in path.split(":")[0].split("/")):
            raise err.UnsafePathSegment(f"Refusing to send a request to an unencoded path: {path[:100]!r}.")
        return f"/v1/tenants/{_seg(self.tenant)}/{path}"

    def _send(self, method: str, path: str, *, json: Any = None, params: Any = None,
              headers: dict[str, str] | None = None, files: Any = None, retry: bool) -> httpx.Response:
        """One request; reads retry per the contract's table (§8.2), runs never do."""
        full_path = self._path(path)
        rate_tries = 0
        retried_500 = retried_connect = False
        while True:
            try:
                response = self._http.request(method, full_path, json=json, params=params, headers=headers, files=files)
            except httpx.TimeoutException as exc:
                if retry and not retried_connect and isinstance(exc, httpx.ConnectTimeout):
                    retried_connect = True
                    continue
                raise err.FruxonTimeoutError(f"No answer from {self._http.base_url.host} in time ({method} {full_path}).") from exc
            except httpx.TransportError as exc:
                if retry and not retried_connect:
                    retried_connect = True
                    continue
                raise err.FruxonConnectionError(
                    f"Cannot reach {self._http.base_url.host} ({method} {full_path}): {exc.__class__.__name__}."
                ) from exc
            status = response.status_code
            if 300 <= status < 400:  # never followed (follow_redirects=False): the key would go along
                raise err.RedirectedError(status, response.headers.get("location", ""), method=method, path=full_path)
            if status < 400:
                return response
            failure = err.error_from_response(status, response.headers, response.content, method=method, path=full_path,
                                              secrets=self._secrets)
            if retry and status in (429, 503) and rate_tries < 2:
                rate_tries += 1
                self._sleep(min(failure.retry_after if failure.retry_after is not None else 1.0, MAX_RETRY_AFTER_S))
                continue
            if retry and status == 500 and not retried_500:
                retried_500 = True
                self._sleep(1.0)
                continue
            raise failure

    def _get(self, path: str, params: Any = None) -> Any:
        response = self._send("GET", path, params=params, retry=True)
        return response.json() if response.content else None

    def _post(self, path: str, body: Any = None, *, headers: dict[str, str] | None = None) -> Any:
        response = self._send("POST", path, json=body, headers=headers, retry=False)
        return response.json() if response.content else None

    def _stream(self, path: str, body: dict[str, Any] | None, headers: dict[str, str] | None = None) -> EventStream:
        timeout = httpx.Timeout(self.timeouts.stream_read, connect=self.timeouts.connect, write=self.timeouts.write)
        request = self._http.build_request(
            "POST", self._path(path), json=body or {},
            headers={"Accept": "text/event-stream", **(headers or {})}, timeout=timeout,
        )
        return EventStream(self._http, request, method="POST", path=self._path(path), secrets=self._secrets)

    # -- connection --------------------------------------------------------------------------------
    def auth_health(self) -> AuthHealth:
        return AuthHealth.model_validate(self._get("auth/health") or {})

    # -- agents ------------------------------------------------------------------------------------
    def list_agents(self, query: str | None = None) -> list[Agent]:
        params = {"query": query} if query else {}
        items = self._all_pages("agents", params)
        return [a for a in (Agent.model_validate(i) for i in items) if not a.deleted_at]

    def get_agent(self, agent: str) -> Agent:
        return Agent.model_validate(self._get(f"agents/{_seg(agent)}"))

    def get_parameters(self, agent: str, revision: int | str) -> ParametersResponse:
        return ParametersResponse.model_validate(self._get(f"agents/{_seg(agent)}/revisions/{_seg(revision)}/parameters") or {})

    # -- revisions (contract §7.1) -----------------------------------------------------------------
    def list_revisions(self, agent: str) -> list[AgentRevisionSummary]:
        """Every published revision of `agent`, newest first (`is_current` marks the live one)."""
        return [AgentRevisionSummary.model_validate(i) for i in self._all_pages(f"agents/{_seg(agent)}/revisions", {})]

    def get_revision(self, agent: str, revision: int) -> AgentRevision:
        """One revision's definition, flow and parameters; NotFoundError when it does not exist."""
        return AgentRevision.model_validate(self._get(f"agents/{_seg(agent)}/revisions/{_seg(revision)}"))

    # -- stored drafts (contract §4.6, E7) ---------------------------------------------------------
    def get_draft(self, agent: str, revision: int | str) -> AgentDraft | None:
        """The draft stored for base `revision`; None when there is none (the server answers 204)."""
        payload = self._get(f"agents/{_seg(agent)}/revisions/{_seg(revision)}/draft")
        return AgentDraft.model_validate(payload) if payload else None

    def put_draft(self, agent: str, revision: int | str, head: dict[str, Any], *,
                  if_match: int | None = None) -> AgentDraft:
        """Store `head` as the draft of base `revision`; the answer carries the new `version`.

        With `if_match` the server refuses (409, `ConflictError` with `current_version`) when the
        stored draft is no longer that version. Never retried: a second PUT could overwrite."""
        headers = {"If-Match": str(if_match)} if if_match is not None else None
        response = self._send("PUT", f"agents/{_seg(agent)}/revisions/{_seg(revision)}/draft", json=head,
                              headers=headers, retry=False)
        return AgentDraft.model_validate(response.json())

    # -- runs (never retried) ----------------------------------------------------------------------
    @staticmethod
    def _run_path(action: str, agent: str, draft_revision: int | str | None) -> str:
        """`agents/{agent}:{action}`, or the stored-draft path (E5/E6) for a base revision."""
        if draft_revision is None:
            return f"agents/{_seg(agent)}:{action}"
        return f"agents/{_seg(agent)}/revisions/{_seg(draft_revision)}/draft:{action}"

    def run_json(self, action: str, agent: str, body: RequestBody | None, *, draft_revision: int | str | None = None,
                 if_match: int | None = None) -> str:
        """POST a sync run (`execute`, `test`) and return the response body exactly as received."""
        headers = {"If-Match": str(if_match)} if if_match is not None else None
        response = self._send("POST", self._run_path(action, agent, draft_revision), json=_wire(body) or {},
                              headers=headers, retry=False)
        return response.text

    def open_stream(self, action: str, agent: str, body: RequestBody | None, *,
                    draft_revision: int | str | None = None, if_match: int | None = None) -> EventStream:
        """POST a streamed run (`stream`, `streamTest`); use the result as a context manager."""
        headers = {"If-Match": str(if_match)} if if_match is not None else None
        return self._stream(self._run_path(action, agent, draft_revision), _wire(body), headers)

    def execute(self, agent: str, request: ExecuteRequest | dict[str, Any] | None = None) -> ExecuteResponse:
        return ExecuteResponse.model_validate_json(self.run_json("execute", agent, request) or "{}")

    def stream(self, agent: str, request: ExecuteRequest | dict[str, Any] | None = None) -> EventStream:
        return self.open_stream("stream", agent, request)

    def test(self, agent: str, request: TestRequest | dict[str, Any]) -> ExecuteResponse:
        return ExecuteResponse.model_validate_json(self.run_json("test", agent, request) or "{}")

    def stream_test(self, agent: str, request: TestRequest | dict[str, Any]) -> EventStream:
        return self.open_stream("streamTest", agent, request)

    def test_stored_draft(self, agent: str, revision: int | str, body: dict[str, Any] | None = None,
                          *, if_match: int | None = None) -> ExecuteResponse:
        text = self.run_json("test", agent, body, draft_revision=revision, if_match=if_match)
        return ExecuteResponse.model_validate_json(text or "{}")

    def stream_stored_draft(self, agent: str, revision: int | str, body: dict[str, Any] | None = None,
                            *, if_match: int | None = None) -> EventStream:
        return self.open_stream("streamTest", agent, body, draft_revision=revision, if_match=if_match)

    # -- execution records -------------------------------------------------------------------------
    @staticmethod
    def _record_params(
        *, status: Iterable[str] = (), revision: Iterable[int] = (), start_time: int | None = None,
        end_time: int | None = None, environment: str | None = None, origin: str | None = None,
        session_id: str | None = None, query: str | None = None, min_duration_ms: int | None = None,
        max_duration_ms: int | None = None, with_tool_errors: bool = False, has_tool_calls: bool = False,
        tools: Iterable[str] = (),
    ) -> list[tuple[str, str]]:
        params: list[tuple[str, str]] = [("status", s) for s in status]
        params += [("agentRevision", str(r)) for r in revision]
        params += [("tools", t) for t in tools]
        for name, value in (("startTime", start_time), ("endTime", end_time), ("environment", environment),
                            ("origin", origin), ("sessionId", session_id), ("minDurationMs", min_duration_ms),
                            ("maxDurationMs", max_duration_ms)):
            if value is not None and value != "":
                params.append((name, str(value)))
        if query and query.strip():
            params.append(("query", query.strip()))
        if with_tool_errors:
            params.append(("withToolErrors", "true"))
        if has_tool_calls:
            params.append(("hasToolCalls", "true"))
        return params

    def list_execution_records_page(self, agent: str, *, page_token: str | None = None, page_size: int = 50,
                                    **filters: Any) -> Page[ExecutionRecord]:
        params = self._record_params(**filters) + [("pageSize", str(page_size))]
        if page_token:
            params.append(("pageToken", page_token))
        return Page[ExecutionRecord].model_validate(self._get(f"agents/{_seg(agent)}/executionRecords", params) or {})

    def list_execution_records(self, agent: str, *, page_size: int = 50, limit: int | None = None,
                               **filters: Any) -> Iterator[ExecutionRecord]:
        """Every matching record, newest first, page after page (stops on a repeated token or empty page)."""
        token: str | None = None
        seen: set[str] = set()
        count = 0
        while True:
            page = self.list_execution_records_page(agent, page_token=token, page_size=page_size, **filters)
            for record in page.items:
                yield record
                count += 1
                if limit is not None and count >= limit:
                    return
            token = page.next_page_token or None
            if not page.items or token is None or token in seen:
                return
            seen.add(token)

    def get_execution_record(self, agent: str, record_id: str) -> ExecutionRecord:
        return ExecutionRecord.model_validate(self._get(f"agents/{_seg(agent)}/executionRecords/{_seg(record_id)}"))

    def get_execution_trace(self, agent: str, record_id: str) -> TraceEnvelope:
        """`/trace`, falling back once to `:trace` when the first spelling is missing (§5.3)."""
        return TraceEnvelope.model_validate(self.execution_trace_envelope(agent, record_id))

    def execution_trace_data(self, agent: str, record_id: str) -> dict[str, Any]:
        """The record's ExecutionTrace as received (a dict for the tree builder, no model round trip)."""
        trace = self.execution_trace_envelope(agent, record_id).get("trace")
        return trace if isinstance(trace, dict) else {}

    def execution_trace_envelope(self, agent: str, record_id: str) -> dict[str, Any]:
        """`{"status", "trace": {...}, …}` whichever shape the server sent (§5.3)."""
        try:
            payload = self._get(f"agents/{_seg(agent)}/executionRecords/{_seg(record_id)}/trace")
        except (err.NotFoundError, err.MethodNotAllowedError) as exc:
            if exc.problem:
                raise
            payload = self._get(f"agents/{_seg(agent)}/executionRecords/{_seg(record_id)}:trace")
        payload = payload if isinstance(payload, dict) else {}
        if isinstance(payload.get("trace"), dict):
            return payload
        return {"trace": payload}  # an older server's bare trace

    def get_execution_result(self, agent: str, record_id: str) -> ExecutionResult | None:
        """The inputs and final output; None when the run stored none (failed, cancelled, running)."""
        try:
            payload = self._get(f"agents/{_seg(agent)}/executionRecords/{_seg(record_id)}/result")
        except err.NotFoundError:
            return None
        return ExecutionResult.model_validate(payload) if payload else None

    # -- summaries and costs -----------------------------------------------------------------------
    def environment_summaries(self, agent: str, *, origin: str | None = None, from_ms: int | None = None,
                              to_ms: int | None = None) -> Summaries:
        params = {k: v for k, v in (("origin", origin), ("from", from_ms), ("to", to_ms)) if v is not None}
        try:
            payload = self._get(f"agents/{_seg(agent)}/environmentSummaries", params)
        except (err.NotFoundError, err.MethodNotAllowedError) as exc:
            if isinstance(exc, err.NotFoundError) and exc.problem:
                raise
            return Summaries(self._aggregate_summaries(agent, origin, from_ms, to_ms), approximate=True)
        items = payload.get("items", []) if isinstance(payload, dict) else (payload or [])
        return Summaries([EnvironmentSummary.model_validate(i) for i in items], approximate=False)

    def _aggregate_summaries(self, agent: str, origin: str | None, from_ms: int | None, to_ms: int | None) -> list[EnvironmentSummary]:
        groups: dict[str, dict[str, Any]] = {}
        records = self.list_execution_records(agent, page_size=100, limit=SUMMARY_FALLBACK_CAP, origin=origin,
                                              start_time=from_ms, end_time=to_ms)
        for record in records:
            if not record.environment_slug:
                continue
            group = groups.setdefault(record.environment_slug, {"count": 0, "cost": to_decimal(0), "last": 0, "failed": 0})
            group["count"] += 1
            group["cost"] += record.cost
            group["last"] = max(group["last"], record.start_time or 0)
            group["failed"] += is_failure(record.status)
        summaries = [
            EnvironmentSummary(environment_slug=slug, execution_count=g["count"], total_cost=float(g["cost"]),
                               last_activity_at=g["last"] or None, failed_count=g["failed"])
            for slug, g in groups.items()
        ]
        return sorted(summaries, key=lambda s: s.last_activity_at or 0, reverse=True)

    def cost(self, agent: str, revision: int | str = "*", *, environment: str | None = None,
             origin: str | None = None) -> CostRollup:
        params = {k: v for k, v in (("environment", environment), ("origin", origin)) if v}
        return CostRollup.model_validate(self._get(f"agents/{_seg(agent)}/revisions/{_seg(revision)}/cost", params) or {})

    def cost_timeseries(self, agent: str, revision: int | str = "*", *, interval: str = "DAY",
                        from_ms: int | None = None, to_ms: int | None = None, origin: str | None = None) -> CostTimeseries:
        params = {k: v for k, v in (("interval", interval), ("from", from_ms), ("to", to_ms), ("origin", origin)) if v is not None}
        return CostTimeseries.model_validate(self._get(f"agents/{_seg(agent)}/revisions/{_seg(revision)}/costTimeseries", params) or {})

    def environment_cost_timeseries(self, agent: str, environments: Iterable[str], revision: int | str = "*", *,
                                    interval: str = "DAY", from_ms: int | None = None, to_ms: int | None = None,
                                    origin: str | None = None) -> EnvironmentCostTimeseries:
        params: list[tuple[str, Any]] = [("environment", e) for e in environments]
        params += [(k, v) for k, v in (("interval", interval), ("from", from_ms), ("to", to_ms), ("origin", origin)) if v is not None]
        return EnvironmentCostTimeseries.model_validate(
            self._get(f"agents/{_seg(agent)}/revisions/{_seg(revision)}/environmentCostTimeseries", params) or {}
        )

    # -- environments ------------------------------------------------------------------------------
    def list_environments(self, query: str | None = None) -> list[Environment]:
        return [Environment.model_validate(i) for i in self._all_pages("environments", {"query": query} if query else {})]

    def get_environment(self, environment_id: str) -> Environment:
        return Environment.model_validate(self._get(f"environments/{_seg(environment_id)}"))

    # -- approvals ---------------------------------------------------------------------------------
    def list_pending_approvals(self, agent: str | None = None) -> list[Approval]:
        params = {"status": "PENDING", **({"agentId": agent} if agent else {})}
        return [Approval.model_validate(i) for i in self._all_pages("pendingApprovals", params)]

    def get_approval(self, agent: str, approval_id: str) -> Approval:
        return Approval.model_validate(self._get(f"agents/{_seg(agent)}/pendingApprovals/{_seg(approval_id)}"))

    def respond_to_approval(self, agent: str, approval_id: str, text: str) -> Approval:
        """`text` starting with "approve" approves; anything else rejects (the text is the reason)."""
        return Approval.model_validate(self._post(f"agents/{_seg(agent)}/pendingApprovals/{_seg(approval_id)}:respond", {"text": text}) or {"id": approval_id})

    def cancel_approval(self, agent: str, approval_id: str, reason: str | None = None) -> Approval:
        body = {"reason": reason} if reason else {}
        return Approval.model_validate(self._post(f"agents/{_seg(agent)}/pendingApprovals/{_seg(approval_id)}:cancel", body) or {"id": approval_id})

    # -- files -------------------------------------------------------------------------------------
    def upload_file(self, name: str, content: bytes, content_type: str = "application/octet-stream",
                    *, temporary: bool = False) -> FileLink:
        params = {"temporary": "true"} if temporary else None
        response = self._send("POST", "storage", params=params, files={"file": (name, content, content_type)}, retry=False)
        return FileLink.model_validate(response.json())

    # -- paging ------------------------------------------------------------------------------------
    def _all_pages(self, path: str, params: dict[str, Any], page_size: int = 100) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        token: str | None = None
        seen: set[str] = set()
        while True:
            query = {**params, "pageSize": page_size, **({"pageToken": token} if token else {})}
            payload = self._get(path, query) or {}
            page = payload.get("items", []) if isinstance(payload, dict) else payload
            items.extend(page)
            token = payload.get("nextPageToken") if isinstance(payload, dict) else None
            if not page or not token or token in seen:
                return items
            seen.add(token)
