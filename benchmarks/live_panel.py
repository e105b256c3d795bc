"""Emit→DOM latency of the live panel, events lost, and how long Stop takes.

The sandbox's `stream_bench` agent streams `text` events whose chunk is `⟦<seq>:<epoch ms at send>⟧`.
A MutationObserver in the page records when each marker first appears in the DOM (same machine,
same clock). Prints p50/p95 latency and events lost per rate, then the Stop click → "Stopped" time
and the click → server-saw-the-disconnect time.

    .venv/bin/python benchmarks/live_panel.py [--rates 20,100,500,2000] [--seconds 4]
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fruxon_playground.api import FruxonClient  # noqa: E402
from fruxon_playground.sandbox.config import SandboxConfig  # noqa: E402
from fruxon_playground.sandbox.embedded import start_sandbox  # noqa: E402
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, StreamlitServer, app_env  # noqa: E402

OBSERVER = r"""
() => {
  window.__seen = new Map();
  const pattern = /⟦(\d+):(\d+)⟧/g;
  const scan = () => {
    const now = Date.now();
    const blocks = document.querySelectorAll('[data-testid="stText"]');
    for (let i = Math.max(0, blocks.length - 3); i < blocks.length; i++) {
      const text = blocks[i].textContent;
      for (const m of text.matchAll(pattern)) {
        if (!window.__seen.has(m[1])) window.__seen.set(m[1], [Number(m[2]), now]);
      }
    }
  };
  new MutationObserver(scan).observe(document.body, {subtree: true, childList: true, characterData: true});
}
"""


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def status(page, label: str):
    return page.get_by_text(re.compile(re.escape(label) + r"\s*·\s*elapsed")).first


def choose_bench_agent(page) -> None:
    sidebar = page.get_by_test_id("stSidebar")
    box = sidebar.get_by_test_id("stSelectbox").filter(has_text="Agent")
    box.click()
    page.get_by_role("option", name=re.compile(r"\(stream_bench\)")).click()


def fill(page, label: str, value: str) -> None:
    field = page.get_by_role("textbox", name=label, exact=True).first
    field.fill(value)
    field.press("Tab")


def run_rate(page, url: str, rate: int, seconds: float) -> tuple[list[float], int, int]:
    count = max(20, int(rate * seconds))
    page.goto(url)
    page.get_by_role("heading", name="Execute agent").wait_for(timeout=30_000)
    choose_bench_agent(page)
    fill(page, "Rate", str(rate))
    fill(page, "Count", str(count))
    page.evaluate(OBSERVER)
    page.get_by_role("button", name="Stream").click()
    status(page, "Completed").wait_for(timeout=120_000)
    seen = page.evaluate("() => Array.from(window.__seen.values())")
    latencies = [dom - sent for sent, dom in seen]
    return latencies, count, count - len(seen)


def measure_stop(page, url: str, sandbox) -> tuple[float, float | None]:
    page.goto(url)
    page.get_by_role("heading", name="Execute agent").wait_for(timeout=30_000)
    choose_bench_agent(page)
    fill(page, "Rate", "50")
    fill(page, "Count", "100000")
    page.get_by_role("button", name="Stream").click()
    status(page, "Streaming").wait_for(timeout=30_000)
    time.sleep(1.0)
    clicked = time.time()
    page.get_by_test_id("stMainBlockContainer").get_by_role("button", name="Stop").click()
    status(page, "Stopped").wait_for(timeout=10_000)
    shown = time.time() - clicked
    time.sleep(0.5)
    with FruxonClient(sandbox.base_url, sandbox.api_key, sandbox.tenant) as client:
        latest = next(client.list_execution_records("stream_bench", limit=1))
    server_seen = (latest.end_time / 1000 - clicked) if latest.status == "CANCELLED" and latest.end_time else None
    return shown, server_seen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rates", default="20,100,500,2000")
    parser.add_argument("--seconds", type=float, default=4.0)
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    sandbox = start_sandbox(SandboxConfig(api_key="fx_pat_bench_key_0000", db_path=":memory:", speed=1.0))
    app = StreamlitServer(app_env(FRUXON_BASE_URL=sandbox.base_url, FRUXON_API_KEY=sandbox.api_key,
                                  FRUXON_TENANT=sandbox.tenant))
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            print(f"{'rate ev/s':>10} {'events':>8} {'p50 ms':>8} {'p95 ms':>8} {'lost':>6}")
            for rate in [int(r) for r in args.rates.split(",")]:
                latencies, count, lost = run_rate(page, app.url, rate, args.seconds)
                p50 = statistics.median(latencies) if latencies else float("nan")
                p95 = percentile(latencies, 0.95) if latencies else float("nan")
                print(f"{rate:>10} {count:>8} {p50:>8.0f} {p95:>8.0f} {lost:>6}")
            shown, server = measure_stop(page, app.url, sandbox)
            print(f"Stop: click → panel shows Stopped {shown * 1000:.0f} ms; "
                  f"click → server saw the disconnect {server * 1000:.0f} ms" if server is not None
                  else f"Stop: click → panel shows Stopped {shown * 1000:.0f} ms")
            print("targets: p50 ≤ 100 ms at 20 ev/s, p95 ≤ 250 ms at 500 ev/s, 0 lost, stop ≤ 1 s")
            browser.close()
    finally:
        app.stop()
        sandbox.stop()


if __name__ == "__main__":
    main()
