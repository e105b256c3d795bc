"""The live panel under a fast stream, in chromium: every chunk shown once, in order, without flicker."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.conftest import screenshot

CHUNK = re.compile(r"⟦(\d+):\d+⟧")

# Watches the page from the click on Stream until the finished view: frames where the answer got
# shorter, and frames showing the "waiting" caption after some text had been drawn.
WATCH = r"""
() => {
  const w = window.__watch = {longest: 0, shrinks: 0, waitingAfterText: 0, stop: false};
  const frame = () => {
    if (w.stop) return;
    let length = 0;
    for (const block of document.querySelectorAll('[data-testid="stText"]')) length += block.textContent.length;
    if (length < w.longest) w.shrinks++;
    w.longest = Math.max(w.longest, length);
    const text = document.querySelector('[data-testid="stMain"]').textContent;
    if (/⟦\d+:/.test(text) && text.includes('Waiting for the first words')) w.waitingAfterText++;
    requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
}
"""


def test_a_fast_stream_ends_with_every_chunk_once_in_order_without_flicker(page: Page, app_server) -> None:
    # 6,000 chunks at "2,000/s" (the test sandbox runs at 0.2× delays: ~10,000/s): ~85 answer blocks,
    # enough that the finished view dropping and redrawing them shows as a shorter answer for a frame.
    count = 6000
    page.goto(f"{app_server.url}/?agent=stream_bench")
    expect(page.get_by_role("heading", name="Execute agent")).to_be_visible(timeout=30_000)
    for label, value in (("Rate", "2000"), ("Count", str(count))):
        field = page.get_by_role("textbox", name=label, exact=True)
        field.fill(value)
        field.press("Tab")
    page.wait_for_timeout(300)
    page.evaluate(WATCH)
    page.get_by_role("button", name="Stream").click()

    # Drawn last, in the Events tab of the finished run: the answer above is there by then.
    expect(page.get_by_text(re.compile(r"^[\d,]+ events received$"))).to_be_attached(timeout=60_000)
    watched = page.evaluate("() => { window.__watch.stop = true; return window.__watch; }")
    answer = "".join(page.locator('[data-testid="stText"]').all_text_contents())
    assert [int(n) for n in CHUNK.findall(answer)] == list(range(count))
    expect(page.get_by_text(re.compile(r"Completed\s*·\s*[\d.]+ m?s")).first).to_be_visible()
    assert watched["waitingAfterText"] == 0, "the panel went back to 'Waiting for the first words…'"
    assert watched["shrinks"] == 0, "the answer got shorter on screen (blocks dropped and drawn again)"
    screenshot(page, "live-panel-fast-stream")
