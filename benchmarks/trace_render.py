"""Trace size vs speed: build time for 1k/10k/100k-step traces, and browser time to a usable tree.

The browser part opens the History page's shared-run view of a saved run holding the trace and
times from navigation to the tree table being on screen.

    .venv/bin/python benchmarks/trace_render.py [--sizes 1000,10000,100000] [--no-browser]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fruxon_playground.history import SavedRun, open_store  # noqa: E402
from fruxon_playground.trace import build_trace  # noqa: E402


def synthetic_trace(steps: int, seed: int = 1) -> dict:
    """A realistic ExecutionTrace: a FLOW root, nested agents, LLM and tool steps, some errors."""
    rng = random.Random(seed)
    start = 1_767_225_600_000
    root = {"id": "s0", "displayName": "Agent", "type": "FLOW_STEP", "status": "SUCCESS", "startTime": start,
            "endTime": start + steps * 10, "duration": steps * 10, "steps": []}
    parents = [root]
    for i in range(1, steps):
        kind = rng.choice(["LLM_STEP", "TOOL", "TOOL", "AGENT_STEP", "JUDGE"])
        begin = start + i * 5
        node = {"id": f"s{i}", "displayName": f"{kind.lower()} {i}", "type": kind,
                "status": "ERROR" if rng.random() < 0.01 else "SUCCESS", "startTime": begin,
                "endTime": begin + rng.randint(1, 400), "steps": []}
        node["duration"] = node["endTime"] - begin
        if kind == "LLM_STEP":
            node["llmStepTrace"] = {"model": "gpt-4o-mini", "inputTokens": rng.randint(10, 900), "outputTokens": rng.randint(5, 300),
                                    "inputCost": rng.random() / 1e4, "outputCost": rng.random() / 1e4}
        parent = rng.choice(parents[-20:])
        parent["steps"].append(node)
        node["_depth"] = parent.get("_depth", 0) + 1
        if kind == "AGENT_STEP" and node["_depth"] < 8:  # realistic nesting
            parents.append(node)
    for node in parents:
        node.pop("_depth", None)
    return {"agentId": "bench", "agentRevision": 1, "startTime": start, "endTime": start + steps * 10, "traces": [root]}


def browser_time_to_tree(trace: dict, app_url: str, history_path: str, page) -> float:
    store = open_store(history_path)
    run = store.save(SavedRun(kind="execute", agent_id="bench", request={}, status="completed", owner="bench", trace=trace))
    started = time.perf_counter()
    page.goto(f"{app_url}/history?run={run.id}")
    page.get_by_text("Expand all").wait_for(timeout=120_000)
    page.locator("td", has_text="Agent").first.wait_for(state="attached", timeout=120_000)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--no-browser", action="store_true")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    traces = {n: synthetic_trace(n) for n in sizes}
    print(f"{'steps':>8} {'build s':>9}")
    for n in sizes:
        started = time.perf_counter()
        built = build_trace(traces[n])
        print(f"{n:>8} {time.perf_counter() - started:>9.3f}   ({len(built.spans):,} spans)")
    if args.no_browser:
        return
    from playwright.sync_api import sync_playwright

    from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, StreamlitServer, app_env

    with tempfile.TemporaryDirectory() as tmp:
        history = str(Path(tmp) / "history.sqlite3")
        app = StreamlitServer(app_env(PLAYGROUND_HISTORY_PATH=history, PLAYGROUND_SANDBOX_DB=str(Path(tmp) / "sb.sqlite3")))
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                page.goto(app.url)
                page.get_by_role("heading", name="Execute agent").wait_for(timeout=60_000)
                browser_time_to_tree(synthetic_trace(10), app.url, history, page)  # warm-up: first compile of the page
                baseline = browser_time_to_tree(synthetic_trace(10), app.url, history, page)
                print(f"{'steps':>8} {'open→tree s':>12}   (target ≤ 2 s at 10k; a 10-step trace takes {baseline:.2f} s: "
                      "the page load itself)")
                for n in sizes:
                    print(f"{n:>8} {browser_time_to_tree(traces[n], app.url, history, page):>12.2f}")
                browser.close()
        finally:
            app.stop()


if __name__ == "__main__":
    main()
