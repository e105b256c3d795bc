"""Trace viewer speed in chromium, through the page the app really runs.

Each trace (`random_trace(n, seed=1)`) is saved in a fresh run history, as a run that ended (which
stores its packed view with it, as every run the app saves); the History page (`/history?run=<id>`,
`RunView` → `stored_trace_viewer`) opens it in a new browser session. Measured, all in the same run with the sizes interleaved, after one warm-up pass:

- open: from navigation to the first tree row on screen, for 10 steps (the baseline: what the page
  itself costs), 10k and 100k steps; reported as medians and as differences to the baseline.
- click → detail: a real mouse click on a row until the detail pane shows that step, painted (timed
  in the page: pointerdown → the pane's step id changed → next animation frame).
- messages to the server while clicking: every click that reran a script would send one.

Targets (issue 12): 10k open ≤ baseline + 0.5 s; click → detail ≤ 200 ms p50 at 10k; 100k first
view ≤ baseline + 2.5 s.

    .venv/bin/python benchmarks/trace_render.py [--repeat 5] [--clicks 15] [--sizes 10000,100000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fruxon_playground.history import SavedRun, open_store  # noqa: E402
from fruxon_playground.trace import build_trace, random_trace  # noqa: E402
from fruxon_playground.trace.rows import INLINE_DETAILS_BYTES, TraceView  # noqa: E402

BASELINE = 10

# Before a click: the row under (x, y), and a promise (window.__fxProbe) of the ms from pointerdown
# to the frame after the detail pane shows that row's step.
CLICK_PROBE = """
([x, y]) => {
  const host = [...document.querySelectorAll('[data-testid=stBidiComponentIsolated]')]
    .find((h) => h.shadowRoot && h.shadowRoot.querySelector('.fx-tree'));
  const root = host.shadowRoot;
  const row = root.elementFromPoint(x, y).closest('.fx-row');
  const expected = row.getAttribute('data-step');
  let started = null;
  root.addEventListener('pointerdown', () => { started = performance.now(); }, { capture: true, once: true });
  window.__fxProbe = new Promise((resolve, reject) => {
    const observer = new MutationObserver(() => {
      const id = root.querySelector('.fx-d-id');
      const loading = root.querySelector('.fx-detail .fx-note.loading');
      if (started !== null && id && id.textContent === expected && !loading) {
        observer.disconnect();
        requestAnimationFrame(() => resolve(performance.now() - started));
      }
    });
    observer.observe(root.querySelector('.fx-detail'), { childList: true, subtree: true });
    setTimeout(() => { observer.disconnect(); reject(new Error('no detail for ' + expected)); }, 30000);
  });
  return expected;
}
"""


def open_trace(page, url: str, run_id: str) -> float:
    started = time.perf_counter()
    page.goto(f"{url}/history?run={run_id}")
    page.locator(".fx-row").first.wait_for(timeout=180_000)
    return time.perf_counter() - started


def settle(page) -> None:
    """Wait until the page's script has finished (Streamlit's "running" indicator is gone)."""
    page.wait_for_timeout(300)
    page.locator("[data-testid=stStatusWidget]").wait_for(state="hidden", timeout=180_000)
    page.wait_for_timeout(300)


def leave(page) -> None:
    """Close the page's session and let the server and the browser free it (a 100k-step trace is a
    few hundred MB of objects), so that the next open does not pay for the previous one."""
    page.goto("about:blank")
    page.wait_for_timeout(1500)


def click_rows(page, clicks: int) -> list[float]:
    """Click `clicks` rows in turn (different ones, all on screen); time each until its detail shows."""
    tree = page.locator(".fx-tree")
    tree.scroll_into_view_if_needed()
    box = tree.bounding_box()
    times = []
    for number in range(clicks):
        x, y = box["x"] + 120, box["y"] + 14 + 28 * (1 + number % 12)
        page.evaluate(CLICK_PROBE, [x, y])
        page.mouse.click(x, y)
        times.append(page.evaluate("() => window.__fxProbe") / 1000)
    return times


def median_ms(values: list[float]) -> str:
    return f"{statistics.median(values) * 1000:7.0f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--clicks", type=int, default=15)
    args = parser.parse_args()
    sizes = [BASELINE, *(int(s) for s in args.sizes.split(","))]
    sources = {n: random_trace(n, seed=1) for n in sizes}

    print("Python side, once per trace. When a run that ended is saved: build the trace, pack its rows and details, "
          "compress (`stored`).\nWhen a saved run is opened: read the stored view back (`read`; the details are "
          "decompressed after the rows are sent).")
    print(f"{'steps':>8} {'build':>8} {'rows':>8} {'rows MB':>8} {'details':>8} {'det. MB':>8} {'stored':>8} "
          f"{'st. MB':>7} {'read':>7}  details are")
    for n in sizes:
        started = time.perf_counter()
        trace = build_trace(sources[n])
        built = time.perf_counter() - started
        started = time.perf_counter()
        view = TraceView.of(trace)
        packing = time.perf_counter() - started
        started = time.perf_counter()
        details = view.details
        encoding = time.perf_counter() - started
        started = time.perf_counter()
        stored = view.to_bytes()
        storing = time.perf_counter() - started
        started = time.perf_counter()
        TraceView.from_bytes(stored).rows_payload("bench")
        reading = time.perf_counter() - started
        where = "sent after the rows" if details.size <= INLINE_DETAILS_BYTES else "asked for per click"
        print(f"{n:>8,} {built * 1000:6.0f}ms {packing * 1000:6.0f}ms {len(view.rows_json) / 1e6:8.1f} "
              f"{encoding * 1000:6.0f}ms {details.size / 1e6:8.1f} {storing * 1000:6.0f}ms {len(stored) / 1e6:7.1f} "
              f"{reading * 1000:5.0f}ms  {where}")

    from playwright.sync_api import sync_playwright

    from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, StreamlitServer, app_env

    with tempfile.TemporaryDirectory() as tmp:
        history = str(Path(tmp) / "history.sqlite3")
        store = open_store(history)
        ids = {n: store.save(SavedRun(kind="execute", agent_id="bench", request={}, status="completed",
                                      owner="bench", trace=sources[n])).id for n in sizes}
        app = StreamlitServer(app_env(PLAYGROUND_HISTORY_PATH=history,
                                      PLAYGROUND_SANDBOX_DB=str(Path(tmp) / "sandbox.sqlite3")))
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                sent: list[int] = [0]
                page.on("websocket", lambda ws: ws.on("framesent", lambda _: sent.__setitem__(0, sent[0] + 1)))
                page.goto(app.url)
                page.get_by_role("heading", name="Execute agent").wait_for(timeout=60_000)
                for n in sizes:  # warm-up: first compile of the page, first load of the component
                    open_trace(page, app.url, ids[n])
                    settle(page)
                    leave(page)
                opens: dict[int, list[float]] = {n: [] for n in sizes}
                for repeat in range(args.repeat):
                    order = sizes[repeat % len(sizes):] + sizes[: repeat % len(sizes)]
                    for n in order:
                        opens[n].append(open_trace(page, app.url, ids[n]))
                        settle(page)  # each open starts from an idle server
                        leave(page)
                clicks: dict[int, list[float]] = {}
                messages: dict[int, int] = {}
                for n in sizes[1:]:
                    open_trace(page, app.url, ids[n])
                    settle(page)
                    before = sent[0]
                    clicks[n] = click_rows(page, args.clicks)
                    messages[n] = sent[0] - before
                browser.close()
        finally:
            app.stop()

    print(f"\nopen (navigation → first tree row), {args.repeat} rounds, sizes interleaved; "
          f"load average {os.getloadavg()[0]:.1f} at the end")
    print(f"{'steps':>8} {'median':>10} {'vs 10 steps':>12} {'paired':>8}  target")
    base = statistics.median(opens[BASELINE])
    for n in sizes:
        target = {10_000: "≤ +0.50 s", 100_000: "≤ +2.50 s"}.get(n, "")
        # `paired`: the median of each round's difference to the baseline opened in the same round,
        # which a load that drifts during the run shifts less than the difference of the medians.
        paired = statistics.median(a - b for a, b in zip(opens[n], opens[BASELINE], strict=True))
        print(f"{n:>8,} {median_ms(opens[n])} {statistics.median(opens[n]) - base:+11.2f}s {paired:+7.2f}s  {target}")
    print("each round, s: " + " | ".join(
        " ".join(f"{opens[n][r]:.2f}" for n in sizes) for r in range(args.repeat)) + f"  ({', '.join(map(str, sizes))})")
    print(f"\nclick → detail pane painted, {args.clicks} clicks on different rows")
    print(f"{'steps':>8} {'p50':>10} {'max':>10}  messages to the server  target")
    for n, times in clicks.items():
        target = "p50 ≤ 200 ms, no rerun" if n == 10_000 else ""
        print(f"{n:>8,} {median_ms(times)} {max(times) * 1000:7.0f} ms  {messages[n]:>22}  {target}")


if __name__ == "__main__":
    main()
