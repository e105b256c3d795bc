"""Secrets never reach what is saved or shared (issue 10 §2), against servers that misbehave on purpose."""

from __future__ import annotations

import json

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from fruxon_playground.api import FruxonClient
from fruxon_playground.history import RunStore, open_store
from fruxon_playground.runs import Phase, RunContext, RunHandle, RunKind, RunRecorder
from fruxon_playground.runs.record import snapshot_of_saved
from tests.api._loopback import serve

KEY = "fx_pat_echoed_back_by_a_careless_server_1234"


async def echo_the_key_in_an_error(request: Request) -> Response:
    body = {"title": "Internal error", "status": 500,
            "detail": f"request failed; headers were X-API-KEY={request.headers.get('x-api-key')} "
                      f"Authorization={request.headers.get('authorization')}"}
    return JSONResponse(body, status_code=500, media_type="application/problem+json")


async def echo_the_key_in_the_answer(request: Request) -> Response:
    payload = await request.json()
    token = request.headers.get("x-api-key")
    answer = {"response": f"you sent {token}", "status": "COMPLETED", "sessionId": "s1",
              "trace": {"agentRevision": 1, "traces": [{"id": "t", "type": "TOOL", "displayName": "Call",
                        "toolTrace": {"tool": {"integrationId": "http", "id": "get"},
                                      "parameters": {"apiKey": "sk_live_abcdefghijklmnop", "q": token}}}]},
              "echo": payload}
    return Response(json.dumps(answer), media_type="application/json")


def app() -> Starlette:
    return Starlette(routes=[Route("/v1/tenants/demo/agents/leaky:execute", echo_the_key_in_an_error, methods=["POST"]),
                             Route("/v1/tenants/demo/agents/echoing:execute", echo_the_key_in_the_answer,
                                   methods=["POST"])])


def run(url: str, store: RunStore, agent: str, request: dict) -> RunHandle:
    context = RunContext(owner="browser:ada", base_url=url.replace("http://", "http://ada:pw@"), tenant="demo",
                         secrets=(KEY,))
    handle = RunHandle(RunKind.EXECUTE, agent, request, lambda: FruxonClient(url, KEY, "demo"),
                       recorder=RunRecorder(store, context)).start()
    assert handle.wait(10)
    return handle


def stored_bytes(store: RunStore) -> bytes:
    with open(store.path, "rb") as file:
        return file.read()


def test_a_key_echoed_in_an_error_body_is_masked_before_it_is_saved(tmp_path) -> None:
    store = open_store(str(tmp_path / "history.sqlite3"))
    with serve(app()) as url:
        handle = run(url, store, "leaky", {"parameters": {"q": "hi"}})
    state = handle.snapshot().state
    assert state.phase is Phase.FAILED and KEY not in state.error_message  # not on screen either
    assert "••••" in state.failure.message
    saved = store.get(handle.id)
    assert KEY not in (saved.error or "") and "••••" in saved.error
    assert KEY.encode() not in stored_bytes(store)
    assert "ada:pw" not in (saved.base_url or "")
    assert KEY not in json.dumps(store.export_bundle(handle.id))


def test_secret_shaped_values_are_masked_in_response_events_and_trace(tmp_path) -> None:
    store = open_store(str(tmp_path / "history.sqlite3"))
    request = {"parameters": {"password": "hunter2-secret", "note": "token fx_pat_another_one_99999", "q": "ok"}}
    with serve(app()) as url:
        handle = run(url, store, "echoing", request)
    assert handle.snapshot().state.phase is Phase.COMPLETED
    raw = stored_bytes(store)
    for secret in (KEY, "sk_live_abcdefghijklmnop", "hunter2-secret", "fx_pat_another_one_99999"):
        assert secret.encode() not in raw, secret
    rebuilt = snapshot_of_saved(store.get(handle.id)).state
    assert rebuilt.text == "you sent ••••" and rebuilt.trace is not None
