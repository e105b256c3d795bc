"""N concurrent streams against one sandbox on loopback: completion time and events lost.

Each stream is a real `:streamTest` (or `:stream`) run with the sandbox's realistic timing (× speed).
A stream counts as complete when it ends with `done`; events lost = events the sandbox planned for
that run (known from a run of the same request, which is deterministic) minus events received.

    .venv/bin/python benchmarks/sandbox_load.py [--streams 50] [--speed 0.2]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fruxon_playground.api import FruxonClient  # noqa: E402
from fruxon_playground.drafts import TEMPLATES  # noqa: E402
from fruxon_playground.sandbox.config import SandboxConfig  # noqa: E402
from fruxon_playground.sandbox.embedded import start_sandbox  # noqa: E402


def run_stream(base_url: str, key: str, tenant: str, index: int, results: list) -> None:
    request = {**TEMPLATES["llm_tool"].request, "parameters": {"question": f"How do refunds work? (stream {index % 5})"}}
    started = time.perf_counter()
    try:
        with FruxonClient(base_url, key, tenant) as client, client.stream_test("draft_only", request) as stream:
            names = [event.event for event in stream]
        results[index] = (names, time.perf_counter() - started, None)
    except Exception as exc:  # noqa: BLE001 — a failed stream is a result to report, not a crash
        results[index] = ([], time.perf_counter() - started, repr(exc))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, default=50)
    parser.add_argument("--speed", type=float, default=0.2, help="sandbox delay multiplier (1 = realistic)")
    args = parser.parse_args()
    sandbox = start_sandbox(SandboxConfig(db_path=":memory:", speed=args.speed, seed_history=False, rate_limit=100_000))
    try:
        expected: dict[int, int] = {}
        with FruxonClient(sandbox.base_url, sandbox.api_key, sandbox.tenant) as client:
            for variant in range(5):
                request = {**TEMPLATES["llm_tool"].request,
                           "parameters": {"question": f"How do refunds work? (stream {variant})"}}
                with client.stream_test("draft_only", request) as stream:
                    expected[variant] = sum(1 for _ in stream)
        results: list = [None] * args.streams
        threads = [threading.Thread(target=run_stream, args=(sandbox.base_url, sandbox.api_key, sandbox.tenant, i, results))
                   for i in range(args.streams)]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - started
    finally:
        sandbox.stop()
    received = sum(len(names) for names, _, _ in results)
    lost = sum(max(0, expected[i % 5] - len(names)) for i, (names, _, _) in enumerate(results))
    complete = sum(1 for names, _, error in results if names and names[-1] == "done" and error is None)
    durations = [d for _, d, _ in results]
    print(f"{args.streams} concurrent :streamTest streams at speed {args.speed}")
    print(f"  completed with done: {complete}/{args.streams}")
    print(f"  wall time:           {wall:.2f} s (per stream: median {statistics.median(durations):.2f} s, max {max(durations):.2f} s)")
    print(f"  events received:     {received} ({received / wall:,.0f} events/s overall)")
    print(f"  events lost:         {lost}   (target 0)")
    errors = [e for _, _, e in results if e]
    if errors:
        print(f"  errors: {errors[:3]}")


if __name__ == "__main__":
    main()
