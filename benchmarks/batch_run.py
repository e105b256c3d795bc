"""200 test cases as one batch on the sandbox at speed 0: wall time, nothing lost, and the page stays clickable.

1. Headless, the runner the page uses (`BatchRunner`, pooled clients, every run saved to a SQLite history):
   concurrency 8 against its peer concurrency 1, same cases, interleaved, after a warm-up, median of
   `--repeats`. "Lost" = a case without a final verdict, or without its completed run in the history.
2. In chromium against `streamlit run app.py`: press Run on the Test cases page with the same 200 cases,
   and while the batch runs keep clicking "New case" / "Discard" (each a full rerun of the page); the
   time from a click to the page showing its answer, measured in the page (MutationObserver), against
   the same clicks with no batch running, over `--ui-batches` batches. Wall time is Run click → "200 of 200
   done". Then three more batches, each stopped after 0.3 s: Stop click → the page shows the batch stopped.

The sandbox runs in this process with no rate limit, as a remote server would (`--embedded` runs the
app's own embedded sandbox instead, with its 120 runs/minute limit: the batch then waits on 429s).

    .venv/bin/python benchmarks/batch_run.py [--cases 200] [--concurrency 8] [--repeats 5] [--ui-batches 3] [--skip-ui] [--embedded]
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fruxon_playground.cases.batch import BatchResult, BatchRunner, CaseStatus, pooled_clients  # noqa: E402
from fruxon_playground.cases.model import TestCase, check_from_json  # noqa: E402
from fruxon_playground.cases.sqlite_store import SqliteCaseStore  # noqa: E402
from fruxon_playground.cases.store import CaseScope  # noqa: E402
from fruxon_playground.cases.target import Target, TargetKind  # noqa: E402
from fruxon_playground.history import RunStore, open_store  # noqa: E402
from fruxon_playground.runs import RunContext  # noqa: E402
from fruxon_playground.sandbox.catalog import QUESTIONS  # noqa: E402
from fruxon_playground.sandbox.config import SandboxConfig  # noqa: E402
from fruxon_playground.sandbox.embedded import start_sandbox  # noqa: E402
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, StreamlitServer, app_env  # noqa: E402

AGENT = "support_agent"
OWNER = "local"  # the app's owner on a loopback-only server
CLICK_TARGET_MS = 500

# Clicks a button by its text in the page and resolves with the ms until `wait_text` shows (or goes).
CLICK_AND_WAIT = r"""
async ([label, waitText, appear]) => {
  const named = (b, text) => b.innerText.trim().split("\n").pop().trim() === text;  // after the icon's ligature
  const visible = (text) => [...document.querySelectorAll('button')]
      .some(b => named(b, text) && b.offsetParent !== null && !b.closest('[data-stale="true"]'));
  const button = [...document.querySelectorAll('button')].find(b => named(b, label) && !b.disabled);
  if (!button) return -1;
  const t0 = performance.now();
  button.click();
  return await new Promise(resolve => {
    const done = () => { if (visible(waitText) === appear) { observer.disconnect(); resolve(performance.now() - t0); } };
    const observer = new MutationObserver(done);
    observer.observe(document.body, {subtree: true, childList: true, attributes: true, characterData: true});
    setTimeout(() => { observer.disconnect(); resolve(-2); }, 15000);
    done();
  });
}
"""
# Presses the running batch's Stop and resolves with the ms until the page shows the batch stopped.
STOP_AND_WAIT = r"""
async () => {
  const main = document.querySelector('[data-testid=stMainBlockContainer]');
  const stop = [...main.querySelectorAll('button')].find(b => b.innerText.trim().endsWith('Stop') && !b.disabled);
  if (!stop) return -1;
  const stopped = () => [...main.querySelectorAll('[data-testid=stMarkdown]')]
      .some(e => !e.closest('[data-stale="true"]') && e.innerText.includes('· stopped'));
  const t0 = performance.now();
  stop.click();
  return await new Promise(resolve => {
    const done = () => { if (stopped()) { observer.disconnect(); resolve(performance.now() - t0); } };
    const observer = new MutationObserver(done);
    observer.observe(document.body, {subtree: true, childList: true, attributes: true, characterData: true});
    setTimeout(() => { observer.disconnect(); resolve(-2); }, 15000);
  });
}
"""
SHOWN_ALREADY_MS = 5  # an answer "faster" than this was on the page before the click: not a measurement


def make_cases(count: int) -> list[TestCase]:
    cases = []
    for i in range(count - 1):
        cases.append(TestCase(name=f"Question {i:03d}", agent=AGENT,
                              parameters={"question": f"{QUESTIONS[i % len(QUESTIONS)]} (case {i})"},
                              checks=[check_from_json({"kind": "contains", "text": "You asked"}),
                                      check_from_json({"kind": "calls_tool", "tool": "kb.search_articles"}),
                                      check_from_json({"kind": "no_failure"}),
                                      check_from_json({"kind": "max_cost", "usd": 0.01})]))
    cases.append(TestCase(name="Refund limit in euros (fails on purpose)", agent=AGENT,
                          parameters={"question": "Are refunds above 500 USD possible?"},
                          checks=[check_from_json({"kind": "contains", "text": "500 EUR"})]))
    return cases


def lost(result: BatchResult, history: RunStore) -> int:
    """Cases without a verdict, or whose run is not in the history as completed."""
    missing = 0
    for outcome in result.outcomes:
        saved = history.get(outcome.run_id) if outcome.run_id else None
        if outcome.status not in (CaseStatus.PASSED, CaseStatus.FAILED) or saved is None or saved.status != "completed":
            missing += 1
    return missing


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def headless(sandbox, cases: list[TestCase], concurrencies: list[int], repeats: int) -> dict[int, list[float]]:
    walls: dict[int, list[float]] = {c: [] for c in concurrencies}
    with tempfile.TemporaryDirectory() as folder:
        history = open_store(Path(folder) / "history.sqlite3")
        context = RunContext(OWNER, sandbox.base_url, sandbox.tenant, (sandbox.api_key,))

        def once(chosen: list[TestCase], concurrency: int) -> tuple[float, BatchResult]:
            clients = pooled_clients(sandbox.base_url, sandbox.api_key, sandbox.tenant)
            started = time.perf_counter()
            runner = BatchRunner(chosen, Target(TargetKind.DEPLOYED), clients, concurrency=concurrency,
                                 saver=history, context=context).start()
            assert runner.wait(600), "a batch did not finish in 10 minutes"
            return time.perf_counter() - started, runner.result()

        for concurrency in concurrencies:  # warm-up
            once(cases[:20], concurrency)
        for _ in range(repeats):
            for concurrency in concurrencies:  # interleaved
                wall, result = once(cases, concurrency)
                walls[concurrency].append(wall)
                print(f"  concurrency {concurrency:>2}: {wall:6.2f} s  {result.summary}  lost {lost(result, history)}",
                      flush=True)
    return walls


def ui(cases: list[TestCase], concurrency: int, *, embedded: bool, batches: int) -> None:
    from playwright.sync_api import sync_playwright

    folder = Path(tempfile.mkdtemp(prefix="batch-bench-"))
    history_path = folder / "history.sqlite3"
    SqliteCaseStore(history_path).import_cases(CaseScope(OWNER, "demo", AGENT), cases)
    sandbox = None
    if embedded:
        env = app_env(PLAYGROUND_SANDBOX_DB=":memory:", PLAYGROUND_SANDBOX_SPEED="0",
                      PLAYGROUND_HISTORY_PATH=str(history_path))
    else:
        sandbox = start_sandbox(SandboxConfig(api_key="fx_pat_batch_bench_0000000042", db_path=":memory:", speed=0.0,
                                              seed_history=False, rate_limit=1_000_000))
        env = app_env(FRUXON_BASE_URL=sandbox.base_url, FRUXON_API_KEY=sandbox.api_key, FRUXON_TENANT=sandbox.tenant,
                      PLAYGROUND_HISTORY_PATH=str(history_path))
    app = StreamlitServer(env)
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(f"{app.url}/test_cases")
            page.get_by_text(f"{len(cases)} case(s) of {AGENT}").wait_for(timeout=60_000)
            field = page.get_by_label("Concurrency")
            field.fill(str(concurrency))
            field.press("Enter")
            page.wait_for_timeout(1000)

            def click_pair() -> list[float]:
                opened = page.evaluate(CLICK_AND_WAIT, ["New case", "Save case", True])
                closed = page.evaluate(CLICK_AND_WAIT, ["Discard", "Save case", False])
                return [t for t in (opened, closed) if t >= SHOWN_ALREADY_MS]

            idle: list[float] = []
            for _ in range(3):
                click_pair()  # warm-up
            for _ in range(10):
                idle += click_pair()
            busy: list[float] = []
            walls: list[tuple[float, str]] = []  # (Run click → done shown, batch id)
            for _ in range(batches):  # one batch at speed 0 lasts seconds: several give enough clicks
                started = time.perf_counter()
                page.get_by_role("button", name=f"Run {len(cases)} case(s)").click()
                page.get_by_test_id("stMainBlockContainer").get_by_role("button", name="Stop").wait_for(timeout=30_000)
                done = page.get_by_text(f"{len(cases)} of {len(cases)} done · deployed")
                while not done.count() and time.perf_counter() - started < 900:
                    busy += click_pair()
                    page.wait_for_timeout(100)
                done.wait_for(timeout=120_000)
                wall = time.perf_counter() - started
                newest = SqliteCaseStore(history_path).list_batches(CaseScope(OWNER, "demo", AGENT), limit=1)[0]
                walls.append((wall, newest.id))
                page.wait_for_timeout(1000)
            stops: list[float] = []
            for _ in range(3):  # Stop, the click that matters most during a batch: each on a new batch
                page.get_by_role("button", name=f"Run {len(cases)} case(s)").click()
                page.get_by_test_id("stMainBlockContainer").get_by_role("button", name="Stop").wait_for(timeout=30_000)
                page.wait_for_timeout(300)
                took = page.evaluate(STOP_AND_WAIT)
                if took >= 0:
                    stops.append(took)
                page.wait_for_timeout(1000)
            browser.close()
        history = open_store(history_path)
        for wall, batch_id in walls:
            result = SqliteCaseStore(history_path).get_batch(CaseScope(OWNER, "demo", AGENT), batch_id)
            own = ((result.ended_at_ms or 0) - result.started_at_ms) / 1000
            print(f"  UI wall time (Run click → “{len(cases)} of {len(cases)} done” shown): {wall:.2f} s "
                  f"(the batch itself {own:.2f} s, {len(cases) / own:.0f} cases/s, while being clicked); "
                  f"{result.summary}; lost {lost(result, history)}; "
                  f"rate-limit waits: {sum(o.attempts - 1 for o in result.outcomes)}")
        for label, values in (("page click, idle", idle), ("page click, batch", busy), ("Stop → stopped", stops)):
            if values:
                print(f"  click → answer, {label:>18}: n={len(values):>3}  p50 {statistics.median(values):5.0f} ms  "
                      f"p95 {percentile(values, 0.95):5.0f} ms  max {max(values):5.0f} ms  "
                      f"≤ {CLICK_TARGET_MS} ms: {sum(v <= CLICK_TARGET_MS for v in values)}/{len(values)}")
        if idle and busy:
            print(f"  page click during/idle p50 ratio {statistics.median(busy) / statistics.median(idle):.2f}")
    finally:
        app.stop()
        if sandbox is not None:
            sandbox.stop()


def main() -> None:
    # Stop closes the cases' connections while the in-process sandbox still writes: asyncio logs each write.
    logging.getLogger("asyncio").setLevel(logging.ERROR)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--ui-batches", type=int, default=3, help="batches run from the page while clicking")
    parser.add_argument("--skip-ui", action="store_true")
    parser.add_argument("--skip-headless", action="store_true")
    parser.add_argument("--embedded", action="store_true", help="UI part on the app's embedded sandbox (rate limited)")
    args = parser.parse_args()
    cases = make_cases(args.cases)
    if not args.skip_headless:
        sandbox = start_sandbox(SandboxConfig(api_key="fx_pat_batch_bench_0000000042", db_path=":memory:", speed=0.0,
                                              seed_history=False, rate_limit=1_000_000))
        try:
            print(f"headless: {args.cases} cases, sandbox speed 0, runs saved to a SQLite history", flush=True)
            walls = headless(sandbox, cases, sorted({1, args.concurrency}), args.repeats)
        finally:
            sandbox.stop()
        fast, slow = statistics.median(walls[args.concurrency]), statistics.median(walls[1])
        print(f"  median wall: concurrency {args.concurrency} {fast:.2f} s ({args.cases / fast:.0f} cases/s), "
              f"concurrency 1 {slow:.2f} s; speed-up ×{slow / fast:.2f}")
    if not args.skip_ui:
        print(f"chromium: {args.cases} cases at concurrency {args.concurrency} from the Test cases page"
              + (" (embedded sandbox, 120 runs/min)" if args.embedded else ""), flush=True)
        ui(cases, args.concurrency, embedded=args.embedded, batches=args.ui_batches)


if __name__ == "__main__":
    main()
