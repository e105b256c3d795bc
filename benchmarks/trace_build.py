"""Trace core speed: build, search and diff for 1k/10k/100k-step traces (target: 100k built in well under 2 s).

Each trace comes from `random_trace` (a FLOW root, nested agents, LLM and tool steps, errors, approvals,
unknown kinds). Times are the best of N runs. `json.loads` of the same trace's text is printed beside
them as a yardstick for how fast this machine is right now (shared VMs vary by 2× within a minute).

    .venv/bin/python benchmarks/trace_build.py [--sizes 1000,10000,100000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fruxon_playground.trace import build_trace, build_trace_from_step_events, diff_traces, filter_spans  # noqa: E402
from fruxon_playground.trace.synthetic import random_trace  # noqa: E402


def best_of(repeat: int, action: Callable[[], Any]) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        result = action()
        times.append(time.perf_counter() - started)
        del result
    return min(times)


def as_step_events(source: dict) -> list[dict]:
    """The same run as a stream's flat `step_trace` payloads, each naming its parent."""
    frames, stack = [], [(node, None) for node in source["traces"]]
    while stack:
        node, parent = stack.pop()
        frames.append({key: value for key, value in node.items() if key != "steps"} | {"parentId": parent})
        stack.extend((child, node["id"]) for child in node["steps"])
    return frames


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    print(f"{'steps':>8} {'generate s':>11} {'json.loads s':>13} {'build s':>8} {'µs/step':>8} {'events s':>9} "
          f"{'search s':>9} {'diff s':>7}")  # fmt: skip
    for size in sizes:
        started = time.perf_counter()
        source = random_trace(size, seed=1)
        generated = time.perf_counter() - started
        text = json.dumps(source)
        parse = best_of(args.repeat, lambda text=text: json.loads(text))
        build = best_of(args.repeat, lambda source=source: build_trace(source))
        frames = as_step_events(source)
        events = best_of(args.repeat, lambda frames=frames: build_trace_from_step_events(frames))
        trace, other = build_trace(source), build_trace(random_trace(size, seed=2))
        search = best_of(args.repeat, lambda trace=trace: filter_spans(trace, "no such text anywhere"))
        diff = best_of(args.repeat, lambda trace=trace, other=other: diff_traces(trace, other))
        print(f"{size:>8,} {generated:>11.3f} {parse:>13.3f} {build:>8.3f} {build / size * 1e6:>8.1f} {events:>9.3f} "
              f"{search:>9.3f} {diff:>7.3f}")  # fmt: skip


if __name__ == "__main__":
    main()
