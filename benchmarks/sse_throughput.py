"""SSE throughput: five readers (and a diagnostic) of one stream from one server, interleaved in one run.

The server runs in its own process on loopback (uvicorn) and serves one generated transcript — a
realistic mix of text, tool_call, tool_result, step_trace and usage events ending with `done` —
byte for byte, in 64 KiB writes, to every reader:

  floor: lines  httpx `iter_lines()`, no parsing: the least any httpx-based reader can do;
  floor: json   `iter_lines()` + `json.loads` of each data line: the least any reader that shows
                text must do;
  official SDK  the `fruxon` SDK's `stream()` (urllib, its own parser, a dict per event);
  httpx-sse     httpx-sse 0.4.3's `iter_sse()` + `json.loads` of each event's data;
  ours          `FruxonClient.stream(...)` iterated for typed events: the code path the app runs;
  diagnostic    the same decoder and typed events without `EventStream`, to show where time goes.

Every reader opens its own client and connection per run, as the app does per run.
One warm-up pass of every reader, then `--repeat` rounds; each round runs every reader once, in a
rotated order. Rates are medians. Targets: ours ≥ 1.2× the SDK and ≥ 60 % of the json floor.

Servers (`--server`):
  own      (default) a tiny uvicorn app that reads the request body, then streams the transcript;
  sandbox  the sandbox's replay agent (`python -m fruxon_playground.sandbox --replay-dir`). Its
           replay answers before reading the request body, and the SDK, which sends the body
           separately, then gets a connection reset on big streams; use it once the sandbox reads
           the body first.

    .venv/bin/python benchmarks/sse_throughput.py [--events 10000,50000] [--repeat 7] [--server own]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fruxon_playground.api import FruxonClient  # noqa: E402
from fruxon_playground.api.events import parse_event  # noqa: E402
from fruxon_playground.api.sse import SSEDecoder  # noqa: E402

AGENT = "bench_replay"
TENANT = "demo"
API_KEY = "fx_pat_sse_throughput_bench"
CHUNK = 64 * 1024  # bytes per server write


def transcript(count: int) -> bytes:
    """`count` events, one `event:` and one `data:` line each, the last one `done`."""
    frames: list[tuple[str, dict[str, object]]] = []
    for i in range(count - 1):
        kind = i % 10
        if kind < 6:
            frames.append(("text", {"chunk": f"word{i} and some more text "}))
        elif kind == 6:
            frames.append(("tool_call", {
                "id": f"call_{i}",
                "toolTrace": {"tool": {"integrationId": "kb", "id": "search", "name": "search"}, "displayName": "Search",
                              "toolType": "API_TOOL", "parameters": {"query": f"q{i}"}},
                "arguments": {"query": f"q{i}"}, "startTime": 1767225600000 + i}))
        elif kind == 7:
            frames.append(("tool_result", {"id": f"call_{i - 1}", "status": "succeeded",
                                           "result": {"hits": [{"title": "A", "score": 2}]}, "endTime": 1767225600100 + i}))
        elif kind == 8:
            frames.append(("step_trace", {"id": f"st_{i}", "parentId": "st_flow", "displayName": "LLM Query", "type": "LLM_STEP",
                                          "status": "UNSPECIFIED", "startTime": 1767225600000 + i, "endTime": 0,
                                          "duration": -(1767225600000 + i)}))
        else:
            frames.append(("usage", {"inputTokens": i, "outputTokens": i // 2, "cachedTokens": 0}))
    frames.append(("done", {"executionRecordId": "r1", "sessionId": "s1",
                            "trace": {"agentId": "bench", "agentRevision": -1, "duration": 1}}))
    return "".join(f"event: {name}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n" for name, data in frames).encode()


# -- the server: a child process, so its work never competes with the readers for the GIL ------------
OWN_SERVER = """
import socket
import sys

import uvicorn
from starlette.applications import Starlette
from starlette.responses import StreamingResponse
from starlette.routing import Route

payload, chunk = open(sys.argv[1], "rb").read(), int(sys.argv[2])


async def stream(request):
    await request.body()  # read the body first: answering before it resets clients that send it late

    async def body():
        for i in range(0, len(payload), chunk):
            yield payload[i:i + chunk]

    return StreamingResponse(body(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})


app = Starlette(routes=[Route("/v1/tenants/{tenant}/agents/{agent}:stream", stream, methods=["POST"])])
sock = socket.socket()
sock.bind(("127.0.0.1", 0))
sock.listen(64)
print(f"serving on http://127.0.0.1:{sock.getsockname()[1]}", flush=True)
uvicorn.Server(uvicorn.Config(app, log_level="error", access_log=False, lifespan="off")).run(sockets=[sock])
"""


@contextmanager
def server(kind: str, payload: bytes) -> Iterator[str]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"{AGENT}.sse"
        path.write_bytes(payload)
        if kind == "sandbox":
            command = [sys.executable, "-m", "fruxon_playground.sandbox", "--port", "0", "--replay-dir", folder,
                       "--replay-chunk-size", str(CHUNK), "--speed", "0", "--api-key", API_KEY, "--tenant", TENANT]
        else:
            command = [sys.executable, "-c", OWN_SERVER, str(path), str(CHUNK)]
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        child = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
        try:
            assert child.stdout is not None
            url = ""
            for line in child.stdout:
                if "http://" in line:
                    url = line[line.index("http://"):].split()[0]
                    break
            if not url:
                raise SystemExit(f"the {kind} server did not start (exit code {child.wait()})")
            yield url
        finally:
            child.terminate()
            child.wait(10)


# -- the readers: each opens its own connection and returns the number of events it saw -------------
HEADERS = {"Authorization": f"Bearer {API_KEY}", "Accept": "text/event-stream"}


def _path(url: str) -> str:
    return f"{url}/v1/tenants/{TENANT}/agents/{AGENT}:stream"


def floor_lines(url: str) -> int:
    events = 0
    with httpx.stream("POST", _path(url), json={}, headers=HEADERS, timeout=60) as response:
        for line in response.iter_lines():
            if line.startswith("event:"):
                events += 1
    return events


def floor_json(url: str) -> int:
    events = 0
    loads = json.loads
    with httpx.stream("POST", _path(url), json={}, headers=HEADERS, timeout=60) as response:
        for line in response.iter_lines():
            if line.startswith("data:"):
                loads(line[5:])
                events += 1
    return events


def official_sdk(url: str) -> int:
    from fruxon import FruxonClient as SdkClient

    client = SdkClient(token=API_KEY, workspace=TENANT, base_url=url)
    return sum(1 for _ in client.stream(AGENT, parameters={}))


def httpx_sse_reader(url: str) -> int:
    from httpx_sse import connect_sse

    events = 0
    loads = json.loads
    with httpx.Client(timeout=60) as client, connect_sse(client, "POST", _path(url), json={}, headers=HEADERS) as source:
        for sse in source.iter_sse():
            loads(sse.data)
            events += 1
    return events


def ours(url: str) -> int:
    events = 0
    last = None
    with FruxonClient(url, API_KEY, TENANT) as client, client.stream(AGENT, {}) as stream:
        for event in stream:
            last = event
            events += 1
    if last is None or last.event != "done" or last.execution_record_id != "r1":  # typed, fields readable
        raise SystemExit(f"ours: the stream did not end with the typed done event (got {last!r})")
    return events


def ours_parts(url: str) -> int:
    """Diagnostic, not the app path: the same decoder and typed events without `EventStream` around them."""
    events = 0
    with httpx.stream("POST", _path(url), json={}, headers=HEADERS, timeout=60) as response:
        decoder = SSEDecoder()
        for chunk in response.iter_bytes():
            for sse in decoder.feed(chunk):
                parse_event(sse)
                events += 1
        for sse in decoder.flush():
            parse_event(sse)
            events += 1
    return events


READERS: dict[str, Callable[[str], int]] = {
    "floor: lines (httpx iter_lines)": floor_lines,
    "floor: json (iter_lines + json.loads)": floor_json,
    "official SDK (fruxon 2.0.2)": official_sdk,
    "httpx-sse 0.4.3 + json.loads": httpx_sse_reader,
    "ours (FruxonClient.stream, typed)": ours,
    "diagnostic: ours without EventStream": ours_parts,
}


def timed(reader: Callable[[str], int], url: str, expected: int) -> float:
    started = time.perf_counter()
    try:
        seen = reader(url)
    except (OSError, httpx.TransportError) as exc:  # ConnectionResetError is an OSError
        raise SystemExit(f"{reader.__name__}: the connection failed ({exc!r}). A server that answers before reading "
                         "the request body resets clients that send it late; try --server own.") from exc
    elapsed = time.perf_counter() - started
    if seen != expected:
        raise SystemExit(f"{reader.__name__} saw {seen} events, expected {expected}")
    return seen / elapsed


def measure(url: str, events: int, repeat: int) -> dict[str, float]:
    names = list(READERS)
    for name in names:  # warm-up: imports, connection set-up, caches
        timed(READERS[name], url, events)
    rates: dict[str, list[float]] = {name: [] for name in names}
    for round_ in range(repeat):
        order = names[round_ % len(names):] + names[:round_ % len(names)]  # rotate: no reader always goes first
        for name in order:
            rates[name].append(timed(READERS[name], url, events))
    return {name: statistics.median(values) for name, values in rates.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", default="10000,50000", help="comma-separated stream sizes (default 10000,50000)")
    parser.add_argument("--repeat", type=int, default=7, help="measured rounds per size (≥ 5; default 7)")
    parser.add_argument("--server", choices=("own", "sandbox"), default="own",
                        help="the benchmark's own body-reading app (default) or the sandbox's replay agent")
    args = parser.parse_args()
    if args.repeat < 5:
        parser.error("--repeat must be at least 5 (the figure is a median)")
    for events in (int(n) for n in args.events.split(",")):
        payload = transcript(events)
        with server(args.server, payload) as url:
            rates = measure(url, events, args.repeat)
        server_name = "sandbox replay" if args.server == "sandbox" else "benchmark's own server"
        print(f"{events:,} events, {len(payload) / 1e6:.1f} MB from the {server_name} on loopback; "
              f"median of {args.repeat} interleaved rounds after a warm-up")
        for name, rate in rates.items():
            print(f"  {name:<40} {rate:>10,.0f} events/s")
        mine = rates["ours (FruxonClient.stream, typed)"]
        sdk = rates["official SDK (fruxon 2.0.2)"]
        json_floor = rates["floor: json (iter_lines + json.loads)"]
        print(f"  ours / official SDK  = {mine / sdk:5.2f}x  (target ≥ 1.20x)")
        print(f"  ours / httpx-sse     = {mine / rates['httpx-sse 0.4.3 + json.loads']:5.2f}x")
        print(f"  ours / json floor    = {mine / json_floor:5.0%}   (target ≥ 60%)")
        print(f"  ours / lines floor   = {mine / rates['floor: lines (httpx iter_lines)']:5.0%}")
        parts = rates["diagnostic: ours without EventStream"]
        print(f"  diagnostic / json floor = {parts / json_floor:5.0%}  (decoder + typed events alone, fed the same bytes)")


if __name__ == "__main__":
    main()
