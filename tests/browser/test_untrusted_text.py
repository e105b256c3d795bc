"""Untrusted text is text, everywhere (issue 10 §1): a hostile Fruxon-shaped server puts the same payload
into every string it controls — agent names and descriptions, parameter labels, answers, tool and step
names, error details — and the URL carries it too. Nothing may load from the image host, no link may
be clickable, no HTML may become markup and no script may run."""

from __future__ import annotations

import json
import re
import threading

import pytest
from playwright.sync_api import Page, expect
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from tests.api._loopback import serve
from tests.browser.conftest import StreamlitServer, app_env, screenshot
from tests.browser.test_playground import RUN_TIMEOUT, open_page

KEY = "fx_pat_hostile_server_test_key_0001"


def payload(host: str) -> str:
    return (f'<script>alert(1)</script><img src=x onerror=alert(1)><a href="javascript:alert(1)">js</a> '
            f'[md-link](http://{host}/leak-link) ![md-image](http://{host}/leak.png) <b>bold</b> '
            f'http://{host}/leak-auto :red[red] $x^2$ **strong**')


class Hostile:
    def __init__(self) -> None:
        self.leaks: list[str] = []
        self.lock = threading.Lock()
        self.host = ""

    def app(self) -> Starlette:
        def p() -> str:
            return payload(self.host)

        async def leak(request: Request) -> Response:
            with self.lock:
                self.leaks.append(request.url.path)
            return Response(b"", media_type="image/png")

        async def health(request: Request) -> Response:
            return JSONResponse({"authenticationSource": "API_KEY", "tokenName": p(), "scopes": []})

        async def agents(request: Request) -> Response:
            return JSONResponse({"items": [{"id": "evil_agent", "displayName": p(), "currentRevision": 1}]})

        async def agent(request: Request) -> Response:
            return JSONResponse({"id": "evil_agent", "displayName": p(), "description": p(), "currentRevision": 1})

        async def parameters(request: Request) -> Response:
            return JSONResponse({"parameters": ["question"], "metadata": [
                {"name": "question", "type": "STRING", "required": True, "displayName": p(), "description": p()}]})

        async def environments(request: Request) -> Response:
            return JSONResponse({"items": []})

        async def execute(request: Request) -> Response:
            await request.body()
            return JSONResponse({"title": p(), "detail": p(), "status": 500, "executionRecordId": p()},
                                status_code=500, media_type="application/problem+json")

        async def stream(request: Request) -> Response:
            await request.body()
            tool = {"id": "c1", "toolTrace": {"tool": {"integrationId": p(), "id": p(), "name": p()},
                                               "displayName": p(), "parameters": {"q": p()}},
                    "arguments": {"q": p()}, "startTime": 1}
            frames = [("text", {"chunk": p()}), ("tool_call", tool),
                      ("tool_result", {"id": "c1", "status": p(), "result": p(), "endTime": 5, "error": p()}),
                      ("step_trace", {"id": "s1", "displayName": p(), "type": p(), "status": "ERROR", "error": p(),
                                      "startTime": 1, "endTime": 9, "duration": 8}),
                      ("error", {"message": p(), "code": p(), "executionRecordId": p()})]

            async def body():
                for name, data in frames:
                    yield f"event: {name}\ndata: {json.dumps(data)}\n\n".encode()

            return StreamingResponse(body(), media_type="text/event-stream")

        base = "/v1/tenants/evil"
        return Starlette(routes=[
            Route("/leak-link", leak), Route("/leak.png", leak), Route("/leak-auto", leak),
            Route(f"{base}/auth/health", health), Route(f"{base}/agents", agents),
            Route(f"{base}/agents/evil_agent", agent),
            Route(f"{base}/agents/evil_agent/revisions/{{rev}}/parameters", parameters),
            Route(f"{base}/environments", environments),
            Route(f"{base}/agents/evil_agent:execute", execute, methods=["POST"]),
            Route(f"{base}/agents/evil_agent:stream", stream, methods=["POST"]),
        ])


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    server = Hostile()
    with serve(server.app()) as url:
        server.host = url.removeprefix("http://")
        data = tmp_path_factory.mktemp("hostile")
        app = StreamlitServer(app_env(FRUXON_BASE_URL=url, FRUXON_TENANT="evil", FRUXON_API_KEY=KEY,
                                      PLAYGROUND_HISTORY_PATH=str(data / "history.sqlite3"),
                                      PLAYGROUND_SANDBOX_DB=str(data / "sandbox.sqlite3")))
        try:
            yield server, app
        finally:
            app.stop()


def assert_inert(page: Page, server: Hostile) -> None:
    main = page.get_by_test_id("stMain")
    assert main.locator(f"a[href*='{server.host}']").count() == 0, "a link to the hostile host is clickable"
    assert main.locator("a[href^='javascript:']").count() == 0
    assert page.locator("img[src='x'], img[src*='leak']").count() == 0
    assert main.locator("b", has_text="bold").count() == 0, "HTML from the server became markup"
    with server.lock:
        assert server.leaks == [], f"the page requested {server.leaks}"


def test_every_surface_shows_the_payload_as_text(playwright_browser, hostile) -> None:
    server, app = hostile
    dialogs: list[str] = []
    context = playwright_browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        page = context.new_page()
        page.set_default_timeout(30_000)
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        open_page(page, app.url, "Execute agent")
        expect(page.get_by_text("<b>bold</b>", exact=False).first).to_be_visible()  # the description, as text
        question = page.locator("textarea[aria-label*='leak']").first
        question.fill("please")
        question.press("Tab")
        page.get_by_role("button", name="Run", exact=True).click()  # the server's 500 problem body
        expect(page.get_by_text("The server failed", exact=False).first).to_be_visible(timeout=RUN_TIMEOUT)
        assert_inert(page, server)
        page.get_by_role("button", name=re.compile("^Stream")).click()  # answer, tool, step and error event
        expect(page.get_by_text("The run failed", exact=False).first).to_be_visible(timeout=RUN_TIMEOUT)
        for tab in ("Trace", "Tool calls", "Events"):  # the streamed steps are in the trace viewer
            page.get_by_role("tab", name=re.compile(f"^{tab}")).click()
            assert_inert(page, server)
        screenshot(page, "untrusted-run")
        page.goto(f"{app.url}/history")
        expect(page.get_by_role("heading", name="History")).to_be_visible()
        assert_inert(page, server)
        page.goto(f"{app.url}/history?run=" + "[x](http://" + server.host + "/leak-link)![i](http://"
                  + server.host + "/leak.png)")
        expect(page.get_by_text("is not a run id", exact=False).first).to_be_visible()
        assert_inert(page, server)
        screenshot(page, "untrusted-history-param")
        assert dialogs == []
    finally:
        context.close()
