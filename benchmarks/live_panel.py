"""The live panel in chromium: emit→DOM latency, chunks lost, flicker, a click's and Stop's response.

Runs the app as the README starts it (`streamlit run app.py`, no key: the embedded sandbox in the
app's own process; data files in a temporary folder). The sandbox's `stream_bench` agent streams
`count` text chunks `⟦<seq>:<epoch ms when the frame was written>⟧ ` at `rate` per second.

- latency: a MutationObserver scans every answer block (`stText`) that a DOM mutation touched and
  keeps the first time each chunk is seen (same machine, same clock as the sandbox's stamp).
- lost: read from the finished page. The answer's text must hold every sent chunk exactly once, in
  order: lost = sent − present, dup = extra copies, order = whether the sequence is out of order.
  (The previous version scanned only the last 3 answer blocks at each mutation; at 2,000 ev/s one
  redraw adds up to ~14 blocks, so it missed chunks that were drawn and counted them as lost.)
- flicker, sampled every animation frame while the stream runs: "Waiting for the first words…"
  shown after a chunk was drawn, the status going back to an earlier phase, the answer getting shorter.
- click: "Edit as JSON" toggled during a 2,000 ev/s stream until the JSON field shows, against the
  same click on an idle page (interleaved).
- Stop: click → the panel shows "Stopped", and click → the sandbox recorded the disconnect.
  Clicks are timed from the moment the page got them (a capturing listener), not from when
  Playwright was asked to click.

First, without a browser: folding N stamped text events the way the run handle does (one
`fold_all` per ~60 ms batch) against folding them one by one (what it did before; every chunk
copied the whole answer).

`--against DIR` runs a second copy of the app from another checkout (e.g. `git archive <commit>`
unpacked) in the same run, interleaved with this one, and prints this/that ratios.

    .venv/bin/python benchmarks/live_panel.py [--rates 20,100,500,2000] [--seconds 3] [--repeats 5]
                                              [--clicks 5] [--stops 5] [--fold 6000,20000] [--against DIR]
"""

from __future__ import annotations

import argparse
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, app_env, free_port  # noqa: E402

MARKER = re.compile(r"⟦(\d+):(\d+)⟧")
ANSWER = '[data-testid="stText"]'
PHASES = ["Connecting", "Running", "Completed", "Stopped", "Failed", "Interrupted"]

# Installed right before Stream is clicked. Every mutated answer block is scanned whole, so a chunk
# counts as drawn wherever it lands, however many blocks one redraw adds.
OBSERVER = r"""
() => {
  const SEL = '[data-testid="stText"]';
  const marker = /⟦(\d+):(\d+)⟧/g;
  const status = /(Connecting|Running|Completed|Stopped|Failed|Interrupted)\s*·\s*[\d.]+ m?s/;
  const order = {Connecting: 0, Running: 1, Completed: 2, Stopped: 2, Failed: 2, Interrupted: 2};
  const bench = window.__bench = {seen: new Map(), waitingAfterText: 0, statusBack: 0, shrinks: 0,
                                  phases: [], phaseAt: {}, longest: 0, stop: false};
  new MutationObserver(records => {
    const now = Date.now();
    const touched = new Set();
    for (const r of records) {
      const el = r.target.nodeType === 1 ? r.target : r.target.parentElement;
      const block = el && el.closest(SEL);
      if (block) touched.add(block);
      for (const added of r.addedNodes) {
        if (added.nodeType !== 1) continue;
        if (added.matches(SEL)) touched.add(added);
        for (const inner of added.querySelectorAll(SEL)) touched.add(inner);
      }
    }
    for (const block of touched)
      for (const m of block.textContent.matchAll(marker))
        if (!bench.seen.has(m[1])) bench.seen.set(m[1], [Number(m[2]), now]);
  }).observe(document.body, {subtree: true, childList: true, characterData: true});
  const frame = () => {
    if (bench.stop) return;
    let length = 0;
    for (const block of document.querySelectorAll(SEL)) length += block.textContent.length;
    if (length < bench.longest) bench.shrinks++;
    bench.longest = Math.max(bench.longest, length);
    const main = document.querySelector('[data-testid="stMain"]');
    for (const caption of main.querySelectorAll('[data-testid="stCaptionContainer"]'))
      if (bench.seen.size && caption.textContent.includes('Waiting for the first words')) bench.waitingAfterText++;
    for (const md of main.querySelectorAll('[data-testid="stMarkdownContainer"]')) {
      const m = md.textContent.match(status);
      if (!m) continue;
      const last = bench.phases[bench.phases.length - 1];
      if (m[1] !== last) {
        if (last !== undefined && order[m[1]] < order[last]) bench.statusBack++;
        bench.phases.push(m[1]);
        bench.phaseAt[m[1]] = bench.phaseAt[m[1]] || Date.now();
      }
      break;
    }
    requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
}
"""
RESULT = """() => { const b = window.__bench; b.stop = true;
  return {seen: Array.from(b.seen.values()), waitingAfterText: b.waitingAfterText, statusBack: b.statusBack,
          shrinks: b.shrinks, phases: b.phases, phaseAt: b.phaseAt}; }"""
# When the button really got the click (Playwright first waits until the target is visible and stable).
CLICK_CLOCK = """() => { window.__clickedAt = null;
  document.addEventListener('click', () => { window.__clickedAt = window.__clickedAt || Date.now(); }, true); }"""


class App:
    """`streamlit run <root>/app.py` with no key configured: the app starts its embedded sandbox."""

    def __init__(self, root: Path, name: str) -> None:
        self.root, self.name = root, name
        self.data = Path(tempfile.mkdtemp(prefix=f"live-panel-{name}-"))
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._log = (self.data / "streamlit.log").open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(root / "app.py"), "--server.headless", "true",
             "--server.port", str(self.port), "--server.address", "127.0.0.1",
             "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
            cwd=root, stdout=self._log, stderr=subprocess.STDOUT,
            env=app_env(PLAYGROUND_SANDBOX_DB=str(self.data / "sandbox.sqlite3"),
                        PLAYGROUND_HISTORY_PATH=str(self.data / "history.sqlite3")),
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{self.url}/_stcore/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"streamlit did not start; see {self.data / 'streamlit.log'}")
            time.sleep(0.2)

    def last_bench_record(self) -> tuple[str, int | None]:
        """The sandbox's newest stream_bench record: (status, end time in epoch ms)."""
        with sqlite3.connect(f"file:{self.data / 'sandbox.sqlite3'}?mode=ro", uri=True) as db:
            row = db.execute("SELECT status, end_time FROM records WHERE agent_id = 'stream_bench' "
                             "ORDER BY seq DESC LIMIT 1").fetchone()
        return (row[0], row[1]) if row else ("", None)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self._log.close()
        shutil.rmtree(self.data, ignore_errors=True)


@dataclass
class StreamResult:
    p50: float
    p95: float
    lost: int
    dup: int
    out_of_order: bool
    waiting_after_text: int
    status_back: int
    shrinks: int


@dataclass
class Figures:
    streams: dict[int, list[StreamResult]] = field(default_factory=dict)
    click_busy: list[float] = field(default_factory=list)
    click_idle: list[float] = field(default_factory=list)
    stop_shown: dict[int, list[float]] = field(default_factory=dict)
    stop_server: dict[int, list[float]] = field(default_factory=dict)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def status(page: Any, label: str) -> Any:
    return page.get_by_text(re.compile(re.escape(label) + r"\s*·\s*[\d.]+ m?s")).first


def open_bench(page: Any, app: App, rate: int, count: int) -> None:
    page.goto(f"{app.url}/?agent=stream_bench")
    page.get_by_role("heading", name="Execute agent").wait_for(timeout=60_000)
    for label, value in (("Rate", rate), ("Count", count)):
        box = page.get_by_role("textbox", name=label, exact=True)
        box.fill(str(value))
        box.press("Tab")
    page.wait_for_timeout(300)  # the rerun the last field started (the Stream click would carry its value anyway)


def answer_sequence(page: Any) -> list[int]:
    """The finished answer's chunk numbers, in the order the page shows them."""
    previous = None
    for _ in range(50):  # the final rerun may still be replacing blocks: read until it is stable
        text = "".join(page.eval_on_selector_all(ANSWER, "els => els.map(e => e.textContent)"))
        if text == previous:
            break
        previous = text
        page.wait_for_timeout(200)
    return [int(seq) for seq, _ in MARKER.findall(previous or "")]


def run_stream(page: Any, app: App, rate: int, seconds: float) -> StreamResult:
    count = max(20, int(rate * seconds))
    open_bench(page, app, rate, count)
    page.evaluate(OBSERVER)
    page.get_by_role("button", name="Stream").click()
    page.get_by_role("tab", name=re.compile(r"Events \(\d+\)")).wait_for(timeout=180_000)  # the finished view
    found = page.evaluate(RESULT)
    sequence = answer_sequence(page)
    latencies = [shown - sent for sent, shown in found["seen"]]
    present = set(sequence) & set(range(count))
    return StreamResult(
        p50=statistics.median(latencies) if latencies else float("nan"),
        p95=percentile(latencies, 0.95) if latencies else float("nan"),
        lost=count - len(present), dup=len(sequence) - len(set(sequence)),
        out_of_order=sequence != sorted(sequence), waiting_after_text=found["waitingAfterText"],
        status_back=found["statusBack"], shrinks=found["shrinks"],
    )


def toggle_json(page: Any) -> float:
    """Clicks "Edit as JSON" (a rerun on the server) and back; the slower of the two responses."""
    toggle = page.get_by_text("Edit as JSON", exact=True)
    times = []
    for shows in (page.get_by_role("textbox", name="Parameters (JSON object)"),
                  page.get_by_role("textbox", name="Rate", exact=True)):
        page.evaluate(CLICK_CLOCK)
        toggle.click()
        shows.wait_for(timeout=30_000)
        times.append(page.evaluate("() => Date.now() - window.__clickedAt") / 1000)
    return max(times)


def measure_click(page: Any, app: App, *, streaming: bool) -> float:
    open_bench(page, app, 2000, 2000 * 30)
    if not streaming:
        return toggle_json(page)
    page.evaluate(OBSERVER)
    page.get_by_role("button", name="Stream").click()
    status(page, "Running").wait_for(timeout=30_000)
    page.wait_for_timeout(1500)
    took = toggle_json(page)
    found = page.evaluate(RESULT)
    if found["waitingAfterText"] or found["statusBack"]:
        print(f"  flicker during the click: {found}")
    page.get_by_role("button", name="Stop run").click()
    status(page, "Stopped").wait_for(timeout=30_000)
    return took


def measure_stop(page: Any, app: App, rate: int) -> tuple[float, float | None]:
    open_bench(page, app, rate, rate * 30)
    page.evaluate(OBSERVER)
    page.get_by_role("button", name="Stream").click()
    status(page, "Running").wait_for(timeout=30_000)
    page.wait_for_timeout(1500)
    page.evaluate(CLICK_CLOCK)
    page.get_by_test_id("stMainBlockContainer").get_by_role("button", name="Stop run").click()
    status(page, "Stopped").wait_for(timeout=30_000)
    found = page.evaluate(RESULT)
    clicked = page.evaluate("() => window.__clickedAt") / 1000
    shown = found["phaseAt"]["Stopped"] / 1000 - clicked
    record_status, end_ms = "", None
    for _ in range(20):
        record_status, end_ms = app.last_bench_record()
        if record_status == "CANCELLED":
            break
        time.sleep(0.1)
    return shown, (end_ms / 1000 - clicked if record_status == "CANCELLED" and end_ms else None)


def fold_figures(sizes: list[int], repeats: int) -> None:
    from fruxon_playground.api.events import parse_event
    from fruxon_playground.api.sse import ServerSentEvent
    from fruxon_playground.runs.fold import Received, RunState, fold, fold_all

    print("fold of N text events (2,000/s, handle batches of 120): ms, median of "
          f"{repeats} (min–max)")
    for size in sizes:
        items = [Received(parse_event(ServerSentEvent("text", f'{{"chunk":"⟦{i}:1796094925141⟧ "}}')), i * 0.5)
                 for i in range(size)]
        batched: list[float] = []
        one_by_one: list[float] = []
        for _ in range(repeats + 1):  # the first round warms up
            start = time.perf_counter()
            state = RunState()
            for at in range(0, size, 120):
                state = fold_all(items[at:at + 120], state)
            batched.append(time.perf_counter() - start)
            start = time.perf_counter()
            single = RunState()
            for item in items:
                single = fold(single, item)
            one_by_one.append(time.perf_counter() - start)
            assert single == state
        batched, one_by_one = batched[1:], one_by_one[1:]
        print(f"  {size:>7} events: batched {spread(batched, 1000)}, one by one {spread(one_by_one, 1000)}, "
              f"ratio {statistics.median(one_by_one) / statistics.median(batched):.1f}×")


def spread(values: list[float], scale: float = 1.0) -> str:
    if not values:
        return "—"
    return f"{statistics.median(values) * scale:.0f} ({min(values) * scale:.0f}–{max(values) * scale:.0f})"


def report(apps: list[App], figures: dict[str, Figures], rates: list[int]) -> None:
    print("\nemit→DOM latency, ms: median over repeats (min–max); lost/dup/out-of-order summed over repeats")
    print(f"{'app':<8} {'ev/s':>6} {'p50':>16} {'p95':>16} {'lost':>5} {'dup':>4} {'order':>6} "
          f"{'waiting':>8} {'back':>5} {'shrink':>7}")
    for rate in rates:
        for app in apps:
            runs = figures[app.name].streams[rate]
            print(f"{app.name:<8} {rate:>6} {spread([r.p50 for r in runs]):>16} {spread([r.p95 for r in runs]):>16} "
                  f"{sum(r.lost for r in runs):>5} {sum(r.dup for r in runs):>4} "
                  f"{sum(r.out_of_order for r in runs):>6} {sum(r.waiting_after_text for r in runs):>8} "
                  f"{sum(r.status_back for r in runs):>5} {sum(r.shrinks for r in runs):>7}")
        if len(apps) == 2:
            this, that = (figures[a.name].streams[rate] for a in apps)
            for name, pick in (("p50", lambda r: r.p50), ("p95", lambda r: r.p95)):
                ratio = statistics.median(map(pick, this)) / statistics.median(map(pick, that))
                print(f"{'':<8} {rate:>6} {name} {apps[0].name}/{apps[1].name} = {ratio:.2f}")
    print("(waiting: frames showing 'Waiting for the first words…' after a chunk was drawn; back: status went "
          "to an earlier phase; shrink: frames where the answer got shorter — the finished view included)")
    for app in apps:
        f = figures[app.name]
        if f.click_busy:
            print(f"{app.name}: click → page answered, ms: during a 2,000 ev/s stream {spread(f.click_busy, 1000)}, "
                  f"idle {spread(f.click_idle, 1000)}, ratio "
                  f"{statistics.median(f.click_busy) / statistics.median(f.click_idle):.2f}")
        for rate, shown in f.stop_shown.items():
            server = f.stop_server[rate]
            print(f"{app.name}: Stop at {rate} ev/s, ms: click → 'Stopped' {spread(shown, 1000)}; "
                  f"click → sandbox saw the disconnect {spread(server, 1000)}")
    print("targets: p50 ≤ 100 ms at 20 ev/s, p95 ≤ 250 ms at 500 ev/s, 0 lost/dup/out of order, "
          "no flicker, Stop ≤ 1 s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rates", default="20,100,500,2000")
    parser.add_argument("--seconds", type=float, default=3.0, help="stream length at each rate")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--clicks", type=int, default=5, help="click timings during a stream (and idle)")
    parser.add_argument("--stops", type=int, default=5, help="Stop timings at 50 and at 2,000 ev/s")
    parser.add_argument("--fold", default="6000,20000", help="event counts for the fold figures ('' to skip)")
    parser.add_argument("--against", type=Path, help="another checkout of the app, measured interleaved")
    args = parser.parse_args()
    rates = [int(r) for r in args.rates.split(",") if r]
    if args.fold:
        fold_figures([int(n) for n in args.fold.split(",")], args.repeats)
    if not (rates or args.clicks or args.stops):
        return

    from playwright.sync_api import sync_playwright

    apps = [App(ROOT, "this")]
    if args.against:
        apps.append(App(args.against.resolve(), "that"))
    figures = {app.name: Figures() for app in apps}
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            pages = {app.name: browser.new_page(viewport={"width": 1400, "height": 1000}) for app in apps}
            for app in apps:  # warm-up: imports, caches, the sandbox's first run
                run_stream(pages[app.name], app, 100, 1.0)
            for repeat in range(args.repeats):
                for rate in rates:
                    for app in apps if repeat % 2 == 0 else apps[::-1]:
                        result = run_stream(pages[app.name], app, rate, args.seconds)
                        figures[app.name].streams.setdefault(rate, []).append(result)
                        print(f"repeat {repeat + 1} {app.name} {rate} ev/s: {result}", flush=True)
            for repeat in range(args.clicks):
                for app in apps:
                    for streaming in (repeat % 2 == 0, repeat % 2 == 1):
                        took = measure_click(pages[app.name], app, streaming=streaming)
                        (figures[app.name].click_busy if streaming else figures[app.name].click_idle).append(took)
            for _ in range(args.stops):
                for rate in (50, 2000):
                    for app in apps:
                        shown, server = measure_stop(pages[app.name], app, rate)
                        figures[app.name].stop_shown.setdefault(rate, []).append(shown)
                        figures[app.name].stop_server.setdefault(rate, [])
                        if server is not None:
                            figures[app.name].stop_server[rate].append(server)
            browser.close()
    finally:
        for app in apps:
            app.stop()
    report(apps, figures, rates)


if __name__ == "__main__":
    main()
