""""Copy as" for run requests (curl, httpx, the official SDK) and "paste a curl command".

The key is never part of a snippet: it is always `$FRUXON_API_KEY`. A key found in a pasted
command is returned separately so the UI can say it was ignored; it is never used or stored.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

ACTIONS = ("execute", "stream", "test", "streamTest")
_RUN_PATH = re.compile(r"^(?P<prefix>.*?)/v1/tenants/(?P<tenant>[^/]+)/agents/(?P<agent>[^/:]+):(?P<action>[A-Za-z]+)$")


@dataclass(frozen=True)
class RequestSpec:
    method: str
    base_url: str
    tenant: str
    agent: str
    action: str  # execute | stream | test | streamTest
    body: dict[str, Any] = field(default_factory=dict)
    auth_header: str = "both"

    @property
    def url(self) -> str:
        return f"{self.base_url.rstrip('/')}/v1/tenants/{self.tenant}/agents/{self.agent}:{self.action}"

    @property
    def streamed(self) -> bool:
        return self.action in ("stream", "streamTest")


def _auth_lines(auth_header: str) -> list[str]:
    lines = []
    if auth_header in ("both", "x-api-key"):
        lines.append('X-API-KEY: $FRUXON_API_KEY')
    if auth_header in ("both", "bearer"):
        lines.append('Authorization: Bearer $FRUXON_API_KEY')
    return lines


def to_curl(spec: RequestSpec) -> str:
    body = json.dumps(spec.body, indent=2, ensure_ascii=False)
    parts = [f"curl {'-N ' if spec.streamed else ''}-X POST {shlex.quote(spec.url)}"]
    for line in _auth_lines(spec.auth_header):
        parts.append(f'-H "{line}"')  # double quotes: the shell expands $FRUXON_API_KEY
    parts.append("-H 'Content-Type: application/json'")
    parts.append(f"-H 'Accept: {'text/event-stream' if spec.streamed else 'application/json'}'")
    parts.append(f"--data-raw {shlex.quote(body)}")
    return " \\\n  ".join(parts)


def _headers_code(auth_header: str) -> str:
    entries = []
    if auth_header in ("both", "x-api-key"):
        entries.append('"X-API-KEY": key')
    if auth_header in ("both", "bearer"):
        entries.append('"Authorization": f"Bearer {key}"')
    return "{" + ", ".join(entries) + "}"


def to_python_httpx(spec: RequestSpec) -> str:
    body = json.dumps(spec.body, indent=4, ensure_ascii=False)
    head = (
        "import json\nimport os\n\nimport httpx\n\n"
        'key = os.environ["FRUXON_API_KEY"]\n'
        f"url = {spec.url!r}\n"
        f"body = json.loads({body!r})\n"
        f"headers = {_headers_code(spec.auth_header)}\n\n"
    )
    if spec.streamed:
        return head + (
            "# Server-Sent Events: print each event name and its data as it arrives.\n"
            "with httpx.stream(\"POST\", url, json=body, headers={**headers, \"Accept\": \"text/event-stream\"}, timeout=300) as response:\n"
            "    response.raise_for_status()\n"
            "    for line in response.iter_lines():\n"
            "        if line.startswith((\"event:\", \"data:\")):\n"
            "            print(line)\n"
        )
    return head + (
        "response = httpx.post(url, json=body, headers=headers, timeout=300)\n"
        "response.raise_for_status()\n"
        "print(json.dumps(response.json(), indent=2))\n"
    )


def to_python_sdk(spec: RequestSpec) -> str:
    """The official `fruxon` SDK 2.x. It runs deployed agents directly; drafts only once stored."""
    base = spec.base_url.rstrip("/")
    head = (
        "import os\n\nfrom fruxon import FruxonClient\n\n"
        f'client = FruxonClient(token=os.environ["FRUXON_API_KEY"], workspace={spec.tenant!r}, base_url={base!r})\n'
    )
    if spec.action in ("execute", "stream"):
        args = [repr(spec.agent)]
        mapping = (("parameters", "parameters"), ("attachments", "attachments"), ("chatUser", "chat_user"),
                   ("sessionId", "session_id"), ("environmentSlug", "environment_slug"))
        for wire, name in mapping:
            if spec.body.get(wire) is not None:
                args.append(f"{name}={spec.body[wire]!r}")
        call = ", ".join(args)
        if spec.action == "execute":
            extra = "# `mode` has no SDK argument; the server default applies.\n" if spec.body.get("mode") else ""
            return head + extra + f"result = client.execute({call})\nprint(result.response)\n"
        return head + f"for event in client.stream({call}):\n    print(event.event, event.data)\n"
    if spec.body.get("flow") is None and int(spec.body.get("baseRevision") or 0) > 0:
        return head + (f"# fruxon SDK 2.x has no call that runs a chosen published revision (execute_revision was\n"
                       f"# removed in 2.0). The curl and httpx tabs send what the playground sends: :{spec.action}\n"
                       f"# with baseRevision {int(spec.body['baseRevision'])} and no flow.\n")
    # SDK 2.x no longer takes an inline flow: it runs the draft stored on the server.
    run_body = {k: spec.body[k] for k in ("parameters", "attachments", "sessionId", "mode") if spec.body.get(k) is not None}
    method = "stream_test" if spec.action == "streamTest" else "test"
    loop = ("for event in client.stream_test({agent!r}, {rev}, {body!r}):\n    print(event.event, event.data)\n"
            if method == "stream_test" else "result = client.test({agent!r}, {rev}, {body!r})\nprint(result.response)\n")
    return head + (
        "# The SDK runs the draft stored on the server (save it first with client.put_draft);\n"
        "# an inline flow like the playground's can only be sent with the httpx snippet.\n"
        + loop.format(agent=spec.agent, rev=int(spec.body.get("baseRevision") or 0), body=run_body)
    )


def to_python_sdk_stored_draft(base_url: str, tenant: str, agent: str, base_revision: int, head: dict[str, Any],
                               body: dict[str, Any], *, if_match: int | None, streamed: bool) -> str:
    """The official SDK doing what the draft page's stored-draft buttons do: save the head with
    If-Match, then run the stored draft (`draft:streamTest` / `draft:test`) of that exact version."""
    call = "stream_test" if streamed else "test"
    show = ("for event in run:\n    print(event.event, event.data)\n" if streamed else "print(run.response)\n")
    return (
        "import json\nimport os\n\nfrom fruxon import FruxonClient\n\n"
        f'client = FruxonClient(token=os.environ["FRUXON_API_KEY"], workspace={tenant!r}, base_url={base_url.rstrip("/")!r})\n'
        f"head = json.loads({json.dumps(head, indent=2, ensure_ascii=False)!r})\n"
        "# A stale version raises StaleDraftError (409): someone saved in between; reload and decide.\n"
        f"saved = client.put_draft({agent!r}, {base_revision}, head, if_match={if_match!r})\n"
        f"run = client.{call}({agent!r}, {base_revision}, {body!r}, if_match=saved[\"version\"])\n" + show
    )


class CurlParseError(ValueError):
    """The pasted text could not be read as a Fruxon run request; the message says what to fix."""


@dataclass(frozen=True)
class ParsedCurl:
    base_url: str
    tenant: str
    agent: str
    action: str
    body: dict[str, Any]
    api_key: str | None = field(default=None, repr=False)  # a literal key found in the command (ignored)
    auth_header: str = "both"


def parse_curl(command: str) -> ParsedCurl:
    text = command.strip()
    if not text:
        raise CurlParseError("Paste a curl command first.")
    text = re.sub(r"\\\r?\n", " ", text)  # line continuations
    try:
        tokens = shlex.split(text)
    except ValueError as exc:
        raise CurlParseError(f"The command has unbalanced quotes ({exc}).") from exc
    if not tokens or tokens[0] != "curl":
        raise CurlParseError("That is not a curl command: it should start with `curl`.")
    url = None
    data = None
    headers: list[str] = []
    i = 1
    while i < len(tokens):
        token = tokens[i]
        value = tokens[i + 1] if i + 1 < len(tokens) else None
        if token in ("-d", "--data", "--data-raw", "--data-binary", "--data-ascii", "--json"):
            data = value
            i += 2
            continue
        if token in ("-H", "--header"):
            if value is not None:
                headers.append(value)
            i += 2
            continue
        if token in ("-X", "--request", "-o", "--output", "-m", "--max-time", "-u", "--user"):
            i += 2
            continue
        if token == "--url":
            url = value
            i += 2
            continue
        if token.startswith("-"):
            i += 1
            continue
        url = url or token
        i += 1
    if not url:
        raise CurlParseError("No URL found in the command.")
    parts = urlsplit(url)
    match = _RUN_PATH.match(parts.path)
    if not parts.scheme or not match:
        raise CurlParseError("The URL is not a Fruxon agent run URL (…/v1/tenants/<tenant>/agents/<agent>:execute).")
    if match.group("action") not in ACTIONS:
        raise CurlParseError(f"Unknown action :{match.group('action')}; use :execute, :stream, :test or :streamTest.")
    body: dict[str, Any] = {}
    if data:
        try:
            body = json.loads(data)
        except json.JSONDecodeError as exc:
            raise CurlParseError(f"The request body is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno}).") from exc
        if not isinstance(body, dict):
            raise CurlParseError("The request body must be a JSON object.")
    api_key = None
    has_x_api_key = has_bearer = False
    for header in headers:
        name, _, value = header.partition(":")
        name, value = name.strip().lower(), value.strip()
        candidate = None
        if name == "x-api-key":
            has_x_api_key, candidate = True, value
        elif name == "authorization" and value.lower().startswith("bearer "):
            has_bearer, candidate = True, value[7:].strip()
        if candidate and not candidate.startswith("$"):
            api_key = candidate
    auth = "both" if has_x_api_key == has_bearer else ("x-api-key" if has_x_api_key else "bearer")
    base = f"{parts.scheme}://{parts.netloc}{match.group('prefix')}"
    return ParsedCurl(base_url=base, tenant=match.group("tenant"), agent=match.group("agent"),
                      action=match.group("action"), body=body, api_key=api_key, auth_header=auth)
