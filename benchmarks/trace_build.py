"""Trace core speed: build, search and diff for 1k/10k/100k-step traces, and the build against wave 1's.

Each trace comes from `random_trace` (a FLOW root, nested agents, LLM and tool steps, errors, approvals,
unknown kinds). Times are the best of N runs. `json.loads` of the same trace's text is printed beside
them as a yardstick for how fast this machine is right now (shared VMs vary by 2× within a minute).

The peer is wave 1's builder (issue 12: "build 10k ≤ 150 ms, today 0.63 s", a 4.2× cut), taken from
git (`--wave1`, the last commit of wave 1) and timed on the same traces, interleaved with ours.

    .venv/bin/python benchmarks/trace_build.py [--sizes 1000,10000,100000] [--repeat 3] [--wave1 bee639e]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
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


def wave1_builder(commit: str) -> Callable[[Any], Any] | None:
    """`build_trace` as it was at `commit`, imported from a copy of its package (None without git)."""
    root = Path(__file__).resolve().parents[1]
    copy = Path(tempfile.mkdtemp(prefix="wave1-"))
    try:
        archive = subprocess.run(["git", "-C", str(root), "archive", commit, "fruxon_playground"],
                                 check=True, capture_output=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    subprocess.run(["tar", "-x", "-C", str(copy)], input=archive, check=True)
    ours = {name: module for name, module in sys.modules.items() if name.startswith("fruxon_playground")}
    for name in ours:
        del sys.modules[name]
    sys.path.insert(0, str(copy))
    try:
        from fruxon_playground.trace import build_trace as theirs
    finally:
        sys.path.remove(str(copy))
        for name in [name for name in sys.modules if name.startswith("fruxon_playground")]:
            del sys.modules[name]
        sys.modules.update(ours)
    return theirs  # type: ignore[no-any-return]


def interleaved_median(repeat: int, first: Callable[[], Any], second: Callable[[], Any]) -> tuple[float, float]:
    """Median times of two actions run turn about, after one warm-up each."""
    times: tuple[list[float], list[float]] = ([], [])
    for round_ in range(repeat + 1):
        for action, kept in ((first, times[0]), (second, times[1])):
            started = time.perf_counter()
            action()
            if round_:
                kept.append(time.perf_counter() - started)
    return statistics.median(times[0]), statistics.median(times[1])


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
    parser.add_argument("--wave1", default="bee639e", help="the commit whose builder is the peer")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    theirs = wave1_builder(args.wave1)
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
    if theirs is None:
        print("\nwave 1's builder: no git history here, not compared")
        return
    print(f"\nbuild, ours against wave 1's ({args.wave1}), interleaved, median of {max(args.repeat, 5)}")
    print(f"{'steps':>8} {'wave 1 s':>9} {'ours s':>8} {'faster':>7}  (issue 12: 10k 0.63 s → 0.15 s, 4.2×)")
    for size in sizes:
        source = random_trace(size, seed=1)
        old, new = interleaved_median(max(args.repeat, 5), lambda source=source: theirs(source),
                                      lambda source=source: build_trace(source))
        print(f"{size:>8,} {old:>9.3f} {new:>8.3f} {old / new:>6.2f}×")


if __name__ == "__main__":
    main()
