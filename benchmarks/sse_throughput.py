"""SSE throughput: our typed client vs the official SDK vs raw httpx lines, same server, same run.

One loopback server streams the same transcript (a realistic mix of text, tool_call, tool_result,
step_trace and usage events, ending with done) to:
  (a) our client — bytes → frames → typed pydantic events,
  (b) the official `fruxon` SDK's `stream()` (urllib + its own parser),
  (c) httpx `iter_lines()` with no parsing at all: the floor for any httpx-based reader.
Best of N runs each. Targets: ours ≥ 1.0× the SDK and ≥ 50 % of the floor.

    .venv/bin/python benchmarks/sse_throughput.py [--events 50000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import httpx
from starlette.applications import Starlette
from starlette.responses import StreamingResponse
from starlette.routing import Route

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fruxon_playground.api import FruxonClient  # noqa: E402
from tests.api._loopback import serve  # noqa: E402

CHUNK = 64 * 1024


def transcript(count: int) -> bytes:
    frames = []
    for i in range(count - 1):
        kind = i % 10
        if kind < 6:
            frames.append(("text", {"chunk": f"word{i} and some more text "}))
        elif kind == 6:
            frames.append(("tool_call", {"id": f"call_{i}", "toolTrace": {"tool": {"integrationId": "kb", "id": "search", "name": "search"},
                                                                          "displayName": "Search", "toolType": "API_TOOL", "parameters": {"query": f"q{i}"}},
                                         "arguments": {"query": f"q{i}"}, "startTime": 1767225600000 + i}))
        elif kind == 7:
            frames.append(("tool_result", {"id": f"call_{i - 1}", "status": "succeeded", "result": {"hits": [{"title": "A", "score": 2}]},
                                           "endTime": 1767225600100 + i}))
        elif kind == 8:
            frames.append(("step_trace", {"id": f"st_{i}", "parentId": "st_flow", "displayName": "LLM Query", "type": "LLM_STEP",
                                          "status": "UNSPECIFIED", "startTime": 1767225600000 + i, "endTime": 0, "duration": -(1767225600000 + i)}))
        else:
            frames.append(("usage", {"inputTokens": i, "outputTokens": i // 2, "cachedTokens": 0}))
    frames.append(("done", {"executionRecordId": "r1", "sessionId": "s1", "trace": {"agentId": "bench", "agentRevision": -1, "duration": 1}}))
    body = "".join(f"event: {name}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n" for name, data in frames)
    return body.encode()


def make_app(payload: bytes) -> Starlette:
    async def stream(request):
        async def body():
            for i in range(0, len(payload), CHUNK):
                yield payload[i:i + CHUNK]

        return StreamingResponse(body(), media_type="text/event-stream")

    return Starlette(routes=[Route("/v1/tenants/t/agents/bench:stream", stream, methods=["POST"])])


def ours(url: str) -> int:
    with FruxonClient(url, "fx_pat_bench", "t") as client, client.stream("bench", {}) as stream:
        return sum(1 for _ in stream)


def sdk(url: str) -> int:
    from fruxon import FruxonClient as SdkClient

    return sum(1 for _ in SdkClient(token="fx_pat_bench", workspace="t", base_url=url).stream("bench", parameters={}))


def floor(url: str) -> int:
    lines = 0
    with httpx.stream("POST", f"{url}/v1/tenants/t/agents/bench:stream", json={}, timeout=60) as response:
        for line in response.iter_lines():
            if line.startswith("event:"):
                lines += 1
    return lines


def best_rate(reader, url: str, expected: int, repeat: int) -> float:
    best = 0.0
    for _ in range(repeat):
        started = time.perf_counter()
        seen = reader(url)
        elapsed = time.perf_counter() - started
        if seen != expected:
            raise SystemExit(f"{reader.__name__} saw {seen} events, expected {expected}")
        best = max(best, seen / elapsed)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    payload = transcript(args.events)
    with serve(make_app(payload)) as url:
        rates = {name: best_rate(reader, url, args.events, args.repeat)
                 for name, reader in (("floor (httpx iter_lines)", floor), ("official SDK", sdk), ("ours (typed)", ours))}
    print(f"{args.events} events, {len(payload) / 1e6:.1f} MB, best of {args.repeat}")
    for name, rate in rates.items():
        print(f"  {name:<26} {rate:>10,.0f} events/s")
    ours_rate, sdk_rate, floor_rate = rates["ours (typed)"], rates["official SDK"], rates["floor (httpx iter_lines)"]
    print(f"  ours / SDK   = {ours_rate / sdk_rate:.2f}x   (target ≥ 1.00x)")
    print(f"  ours / floor = {ours_rate / floor_rate:.0%}    (target ≥ 50%)")


if __name__ == "__main__":
    main()
