"""The Environments and Remote runs pages in chromium: where the drill-through opens, the trace that
opens under a record, the dark theme, and hostile names shown as text with nothing fetched."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.app.loopback_apis import ERROR_PAYLOAD, IDLE_NAME, PAYLOAD, untrusted_server
from tests.browser.conftest import StreamlitServer, app_env, screenshot
from tests.browser.test_playground import open_page

IMAGE_HOST = re.compile(r"^https?://127\.0\.0\.1:9/")


def literal(text: str) -> re.Pattern[str]:
    """`text` as Markdown surfaces show it after `md()`: the same, give or take invisible word joiners."""
    return re.compile("\u2060?".join(re.escape(character) for character in text))


@pytest.fixture(scope="module")
def hostile_app() -> Iterator[StreamlitServer]:
    """The app configured (environment variables) for a loopback API with hostile names and errors."""
    with untrusted_server() as api, tempfile.TemporaryDirectory() as data:
        server = StreamlitServer(app_env(FRUXON_BASE_URL=api.url, FRUXON_TENANT=api.tenant, FRUXON_API_KEY=api.key,
                                         PLAYGROUND_HISTORY_PATH=f"{data}/history.sqlite3"))
        yield server
        server.stop()


@pytest.fixture(scope="module")
def dark_app() -> Iterator[StreamlitServer]:
    """The app in Streamlit's dark theme, whatever the project's config says."""
    with tempfile.TemporaryDirectory() as data:
        server = StreamlitServer(app_env(STREAMLIT_THEME_BASE="dark", PLAYGROUND_SANDBOX_DB=f"{data}/sandbox.sqlite3",
                                         PLAYGROUND_SANDBOX_SPEED="0", PLAYGROUND_HISTORY_PATH=f"{data}/history.sqlite3"))
        yield server
        server.stop()


def chart(page: Page, title: str):
    return page.locator("[data-testid=stPlotlyChart]").filter(has_text=title)


def settle(page: Page) -> None:
    """Waits for the script run in progress (Streamlit shows its status widget meanwhile) to finish."""
    page.wait_for_timeout(300)
    expect(page.get_by_test_id("stStatusWidget")).to_have_count(0, timeout=30_000)


def click_bar(page: Page, title: str, index: int) -> dict:
    """Clicks the middle of a bar (Plotly's drag layer takes the click and finds the bar)."""
    settle(page)
    bar = chart(page, title).locator("g.point path").nth(index)
    expect(bar).to_be_visible(timeout=30_000)
    box = bar.bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    return box


def scroll_top(page: Page) -> float:
    return page.evaluate("() => document.querySelector('[data-testid=stMain]').scrollTop")


def assert_inert(page: Page) -> None:
    """No link or image to the image host anywhere on the page, and nothing made bold."""
    for surface in (page.locator("a[href*='127.0.0.1:9']"), page.locator("img[src*='127.0.0.1:9']"),
                    page.locator("[data-testid=stMain] strong", has_text=re.compile("^(x|no)$")),
                    page.locator("[data-testid=stMain] em", has_text=re.compile("^Co$"))):
        assert surface.count() == 0, surface


def settled_box(locator) -> dict[str, float]:
    """The element's box once its opening animation is over (two frames apart, the same box)."""
    box = locator.bounding_box()
    for _ in range(40):
        locator.page.wait_for_timeout(50)
        if (again := locator.bounding_box()) == box:
            break
        box = again
    return box


def test_a_clicked_bar_opens_its_environment_beside_the_charts_without_scrolling(page: Page, app_server) -> None:
    open_page(page, f"{app_server.url}/environments", "Environments")
    expect(chart(page, "Runs per environment").locator("g.point")).to_have_count(3, timeout=30_000)  # the seeded environments
    before = scroll_top(page)
    bar = click_bar(page, "Cost per environment", 1)
    panel = page.get_by_role("dialog")
    expect(panel.get_by_text("Most expensive run")).to_be_visible(timeout=20_000)
    expect(panel.get_by_role("heading").first).to_contain_text("Globex")
    viewport = page.viewport_size
    box = settled_box(panel)
    # A side panel on the viewport's right edge, from its top: the page behind did not move.
    assert abs(box["x"] + box["width"] - viewport["width"]) < 2 and box["y"] < 5 and box["x"] > viewport["width"] / 4
    assert box["y"] <= bar["y"] <= box["y"] + box["height"] and scroll_top(page) == before
    for text in ("Runs", "Cost", "Failure rate", "Last run"):
        expect(panel.get_by_test_id("stMetricLabel").filter(has_text=re.compile(f"^{text}$"))).to_be_visible()
    screenshot(page, "environments-drill-through")

    page.keyboard.press("Escape")
    expect(panel).to_have_count(0)
    click_bar(page, "Cost per environment", 1)  # the same bar again opens it again at once
    expect(page.get_by_role("dialog").get_by_text("Most expensive run")).to_be_visible(timeout=20_000)


def test_the_dashboard_reads_in_light_and_dark(page: Page, app_server, dark_app, playwright_browser) -> None:
    page.set_viewport_size({"width": 1400, "height": 2400})
    open_page(page, f"{app_server.url}/environments", "Environments")
    expect(chart(page, "Average cost per run").locator("g.point")).to_have_count(3, timeout=30_000)
    expect(page.get_by_test_id("stMetric")).to_have_count(4)
    screenshot(page, "environments-light")
    context = playwright_browser.new_context(viewport={"width": 1400, "height": 2400}, color_scheme="dark")
    try:
        dark = context.new_page()
        open_page(dark, f"{dark_app.url}/environments", "Environments")
        expect(chart(dark, "Average cost per run").locator("g.point")).to_have_count(3, timeout=30_000)
        background = dark.evaluate("() => getComputedStyle(document.querySelector('.stApp')).backgroundColor")
        title = chart(dark, "Runs per environment").locator(".gtitle")
        fill = title.evaluate("node => getComputedStyle(node).fill")
        assert _luminance(background) < 0.2 and _luminance(fill) > 0.6  # light chart text on a dark page
        screenshot(dark, "environments-dark")
    finally:
        context.close()


def _luminance(css: str) -> float:
    red, green, blue = (int(v) for v in re.findall(r"\d+", css)[:3])
    return (0.2126 * red + 0.7152 * green + 0.0722 * blue) / 255


def test_a_selected_record_opens_its_trace_under_the_table(page: Page, app_server) -> None:
    open_page(page, f"{app_server.url}/remote_runs", "Remote runs")
    table = page.get_by_test_id("stDataFrame").first
    expect(page.get_by_text("Select a row to open its trace here.")).to_be_visible(timeout=30_000)
    before = table.bounding_box()
    table.locator(".stDataFrameGlideDataEditor").first.click(position={"x": 15, "y": 90})  # the second record
    heading = page.get_by_role("heading", name="Trace")
    expect(heading).to_be_visible(timeout=20_000)
    expect(page.get_by_test_id("stMain").locator("p", has_text=re.compile(r"^Completed · \$"))).to_be_visible()
    after = table.bounding_box()
    assert after["y"] == before["y"]  # the table stayed where it was…
    assert after["y"] + after["height"] <= heading.bounding_box()["y"] < after["y"] + after["height"] + 120  # …trace below
    screenshot(page, "remote-runs-trace")


def test_hostile_names_and_errors_show_literally_and_fetch_nothing(page: Page, hostile_app) -> None:
    leaks: list[str] = []
    page.on("request", lambda request: leaks.append(request.url) if IMAGE_HOST.match(request.url) else None)
    open_page(page, f"{hostile_app.url}/environments", "Environments")
    runs = chart(page, "Runs per environment")
    expect(runs.locator("g.point")).to_have_count(2, timeout=30_000)
    expect(runs.locator("text", has_text="<b>x</b><a href=")).to_have_count(1)  # the tick, literally
    stale = page.get_by_test_id("stAlert").filter(has_text=literal(IDLE_NAME + " (40 days ago)"))
    expect(stale).to_be_visible()  # the stale environment, named literally
    assert page.locator(".js-plotly-plot tspan[style*='bold']", has_text=re.compile(r"^x$")).count() == 0  # <b>x</b>

    box = runs.locator("g.point path").first.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    expect(runs.locator(".hoverlayer")).to_contain_text(PAYLOAD)

    click_bar(page, "Runs per environment", 0)
    panel = page.get_by_role("dialog")
    expect(panel.get_by_role("heading").first).to_contain_text(literal(PAYLOAD))
    expect(panel.get_by_text(literal(ERROR_PAYLOAD))).to_be_visible(timeout=20_000)  # its trace could not be read
    screenshot(page, "environments-hostile-names")
    assert_inert(page)  # the charts, the stale warning and the open panel
    page.keyboard.press("Escape")

    settle(page)
    page.get_by_test_id("stMain").get_by_test_id("stButtonGroup").first.get_by_text("Test", exact=True).click()
    expect(page.get_by_test_id("stAlert").filter(has_text=literal(ERROR_PAYLOAD))).to_be_visible()
    assert_inert(page)

    open_page(page, f"{hostile_app.url}/remote_runs", "Remote runs")
    expect(page.get_by_test_id("stDataFrame")).to_be_visible(timeout=30_000)
    settle(page)
    page.locator("[data-testid=stDataFrame] .stDataFrameGlideDataEditor").first.click(position={"x": 15, "y": 55})
    expect(page.get_by_role("heading", name="Trace")).to_be_visible(timeout=20_000)
    expect(page.get_by_test_id("stMain").locator("p", has_text=literal(PAYLOAD))).to_be_visible()  # the record caption
    page.get_by_test_id("stSelectbox").filter(has_text="Environment").click()
    expect(page.get_by_role("option", name=PAYLOAD)).to_be_visible()
    page.keyboard.press("Escape")

    assert_inert(page)
    assert leaks == []
    log = hostile_app.log_path.read_text()
    assert "Traceback" not in log and "ArrowInvalid" not in log  # records mix revision 3 and drafts
