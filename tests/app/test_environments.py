"""The Environments page under AppTest, against the sandbox served on loopback with every request
counted (and a purpose-built API for hostile names): what each click reads, what people read."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import streamlit as st
from streamlit.proto.Block_pb2 import Block
from streamlit.testing.v1 import AppTest

from components import state
from components.safe import md
from tests.app.loopback_apis import (
    ERROR_PAYLOAD,
    IDLE_NAME,
    PAYLOAD,
    Server,
    counted_sandbox,
    untrusted_server,
)

ROOT = Path(__file__).resolve().parents[2]
# Run app.py from a folder without pages/ so st.navigation stays in charge (see test_pages.py).
ENTRY = f"import runpy\nrunpy.run_path({str(ROOT / 'app.py')!r}, run_name='__main__')\n"
# What no label a person reads may contain: raw column names and booleans.
RAW_NAMES = re.compile(r"execution_count|days_idle|is_stale|environment_slug|total_cost|avg_cost|failure_rate|"
                       r"runs_all_time|\bTrue\b|\bFalse\b|\bnan\b")


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with counted_sandbox(tmp_path_factory.mktemp("env-sandbox")) as server:
        yield server


@pytest.fixture(scope="module")
def hostile() -> Iterator[Server]:
    with untrusted_server() as server:
        yield server


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    monkeypatch.setenv("PLAYGROUND_HISTORY_PATH", str(tmp_path / "history.sqlite3"))
    monkeypatch.setenv("PLAYGROUND_SANDBOX_DB", ":memory:")
    monkeypatch.setenv("PLAYGROUND_OWNER", "browser")  # each AppTest is its own browser (as test_pages.py does)
    # Caches are per process: every test starts cold, and st.connection forgets the last test's server.
    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


def open_environments(server: Server, monkeypatch: pytest.MonkeyPatch) -> tuple[AppTest, int]:
    """The page through the "From secrets" profile (environment variables); returns the app and
    the request count before the page was opened."""
    monkeypatch.setenv("FRUXON_BASE_URL", server.url)
    monkeypatch.setenv("FRUXON_TENANT", server.tenant)
    monkeypatch.setenv("FRUXON_API_KEY", server.key)
    at = AppTest.from_string(ENTRY, default_timeout=60)
    at.run()
    before = len(server.paths)
    at.switch_page(str(ROOT / "pages/environments.py")).run()
    assert not at.exception, [e.message for e in at.exception]
    return at, before


def charts(at: AppTest) -> dict[str, dict[str, Any]]:
    """The page's charts by title (the trace viewer's waterfall, untitled, is not one of them)."""
    specs = [json.loads(chart.proto.spec) for chart in at.main.get("plotly_chart")]
    return {spec["layout"]["title"]["text"]: spec for spec in specs if "title" in spec["layout"]}


def numbers(values: Any) -> list[float]:
    """A Plotly array: plotly 7 encodes numeric arrays as {"dtype", "bdata"}."""
    if isinstance(values, dict):
        return np.frombuffer(base64.b64decode(values["bdata"]), dtype=values["dtype"]).tolist()
    return list(values)


def chart_texts(spec: dict[str, Any]) -> list[str]:
    """Every string a chart shows: titles, axis titles, legend names, categories, bar texts, hover."""
    layout = spec["layout"]
    texts = [layout["title"]["text"]]
    for axis in ("xaxis", "yaxis"):
        texts.append(str(layout.get(axis, {}).get("title", {}).get("text", "")))
    texts += [a.get("text", "") for a in layout.get("annotations", [])]
    for trace in spec["data"]:
        texts.append(str(trace.get("name", "")))
        for field in ("x", "y", "text", "hovertext"):
            values = trace.get(field)
            if isinstance(values, list):
                texts += [str(v) for v in values]
    return texts


def click_bar(at: AppTest, chart_key: str, index: int) -> AppTest:
    """What the browser sends when a bar is clicked (AppTest has no Plotly click of its own)."""
    at.session_state[chart_key] = {"selection": {"points": [{"point_index": index, "curve_number": 0}],
                                                 "point_indices": [index], "box": [], "lasso": []}}
    return at.run()


def dialog(at: AppTest):
    blocks = [b for b in at._tree.children[2].children.values() if getattr(b, "type", None) == "dialog"]
    return blocks[0] if blocks else None


def test_a_view_reads_three_times_and_clicks_that_need_no_new_data_read_nothing(sandbox: Server, monkeypatch) -> None:
    # Before: every click re-read summaries, the series and up to 2,000 records in pages of 100 (22 requests).
    at, before = open_environments(sandbox, monkeypatch)
    assert sandbox.reads(before) == ["environmentCostTimeseries", "environmentSummaries", "environmentSummaries"]

    mark = len(sandbox.paths)
    at.run()
    at.number_input(key=state.ENV_STALE_DAYS).set_value(2).run()
    assert sandbox.reads(mark) == []  # a rerun and a new threshold reuse what was read
    idle = charts(at)["Days since the last run"]
    assert idle["layout"]["shapes"][0]["x0"] == 2 and "stale after 2 days" in chart_texts(idle)

    mark = len(sandbox.paths)
    at.segmented_control(key=state.ENV_DAYS).set_value(7).run()
    assert sandbox.reads(mark) == ["environmentCostTimeseries", "environmentSummaries"]  # all-time figures are kept

    mark = len(sandbox.paths)
    next(b for b in at.button if b.label == "Refresh").click().run()
    assert not at.exception
    assert sandbox.reads(mark) == ["environmentCostTimeseries", "environmentSummaries", "environmentSummaries"]
    assert any(c.value.startswith("Read at ") for c in at.caption)


def test_labels_money_and_dates_read_like_a_dashboard(sandbox: Server, monkeypatch) -> None:
    at, _ = open_environments(sandbox, monkeypatch)
    assert [m.label for m in at.metric] == ["Runs", "Cost", "Failure rate", "Active environments"]
    runs, cost, failure, active = (m.value for m in at.metric)
    assert int(runs.replace(",", "")) > 20 and re.fullmatch(r"\$\d[\d,]*\.\d+", cost)
    assert failure.endswith("%") and active == "3 of 3"

    specs = charts(at)
    assert set(specs) == {"Runs per environment", "Cost per environment", "Days since the last run",
                          "Runs per day, last 30 days", "Cost per day, last 30 days", "Failure rate",
                          "Average cost per run"}
    for title, spec in specs.items():
        leaked = [t for t in chart_texts(spec) if RAW_NAMES.search(t)]
        assert not leaked, (title, leaked)
    runs_chart = specs["Runs per environment"]
    assert runs_chart["data"][0]["y"] == ["Acme Corp", "Globex", "Initech"]  # display names, busiest first
    assert "runs in 30 days" in runs_chart["data"][0]["hovertext"][0]
    cost_chart = specs["Cost per environment"]
    assert cost_chart["layout"]["xaxis"]["tickformat"].startswith("$")
    assert all(text.startswith("$") for text in cost_chart["data"][0]["text"])
    daily = specs["Runs per day, last 30 days"]
    assert [trace["name"] for trace in daily["data"]] == ["Acme Corp", "Globex", "Initech"]
    assert daily["layout"]["xaxis"]["tickformat"] == "%d %b"
    # One colour per environment on every chart.
    colours = dict(zip(runs_chart["data"][0]["y"], runs_chart["data"][0]["marker"]["color"], strict=True))
    assert {trace["name"]: trace["marker"]["color"] for trace in daily["data"]} == colours
    assert dict(zip(cost_chart["data"][0]["y"], cost_chart["data"][0]["marker"]["color"], strict=True)) == colours

    table = next(f.value for f in at.dataframe if "Environment" in f.value.columns)
    assert not [c for c in table.columns if RAW_NAMES.search(c) or "_" in c]
    assert {row[0] for row in table["State"]} == {"Active"}
    assert str(table["Last run"].dtype).startswith("datetime64")
    csv = next(b for b in at.get("download_button") if b.label == "Download CSV")
    assert csv is not None


def test_clicking_a_bar_opens_that_environment_beside_the_charts_with_two_reads(sandbox: Server, monkeypatch) -> None:
    at, _ = open_environments(sandbox, monkeypatch)
    assert dialog(at) is None
    mark = len(sandbox.paths)
    click_bar(at, "env.cost.0", 1)  # the second bar: Globex
    assert not at.exception, [e.message for e in at.exception]
    assert sandbox.reads(mark) == ["executionRecords", "trace"]
    panel = dialog(at)
    assert panel is not None and panel.proto.dialog.title == "Globex"
    assert Block.Dialog.DialogPosition.Name(panel.proto.dialog.position) == "RIGHT"  # a side panel beside the charts
    runs = next(f.value for f in panel.dataframe if "Record id" in f.value.columns)
    assert set(runs["Environment"]) == {"Globex"} and len(runs) == numbers(charts(at)["Runs per environment"]["data"][0]["x"])[1]
    assert "**Most expensive run**" in [m.value for m in panel.markdown]
    costliest = runs.loc[runs["Cost (USD)"].idxmax()]
    assert any(str(costliest["Record id"]).replace("-", "\\-") in c.value for c in panel.caption)

    mark = len(sandbox.paths)
    at.run()
    assert sandbox.reads(mark) == [] and dialog(at) is not None  # still open, nothing re-read


def test_test_runs_without_environments_get_an_empty_state_after_one_read(sandbox: Server, monkeypatch) -> None:
    at, _ = open_environments(sandbox, monkeypatch)
    mark = len(sandbox.paths)
    at.segmented_control(key=state.ENV_ORIGIN).set_value("TEST").run()
    assert not at.exception
    assert sandbox.reads(mark) == ["environmentSummaries"]
    assert any("No runs with an environment yet" in i.value for i in at.info)
    assert not at.get("plotly_chart") and not at.metric


def test_hostile_names_and_error_texts_stay_text(hostile: Server, monkeypatch) -> None:
    at, _ = open_environments(hostile, monkeypatch)
    specs = charts(at)
    texts = [t for spec in specs.values() for t in chart_texts(spec)]
    assert not [t for t in texts if "<b>" in t or "<a " in t]  # Plotly would render those
    runs_chart = specs["Runs per environment"]["data"][0]
    assert runs_chart["y"][0] == '&lt;b&gt;x&lt;/b&gt;&lt;a href="http://1…'  # escaped, shortened tick
    assert runs_chart["hovertext"][0].startswith('&lt;b&gt;x&lt;/b&gt;&lt;a href="http://127.0.0.1:9/x"&gt;')
    assert specs["Runs per day, last 30 days"]["data"][0]["name"].startswith("&lt;b&gt;x")

    # The idle environment (no run for 40 days) is flagged: hatched bar, warning, KPI.
    idle = specs["Days since the last run"]["data"][0]
    assert idle["marker"]["pattern"]["shape"] == ["", "/"]
    warning = " ".join(w.value for w in at.warning)
    assert "**Stale**" in warning and md(IDLE_NAME) + " (40 days ago)" in warning
    assert "1 stale" in [m for m in at.metric if m.label == "Active environments"][0].proto.delta
    table = next(f.value for f in at.dataframe if "Environment" in f.value.columns)
    assert [row[0] for row in table["State"]] == ["Active", "Stale"]

    shown = [*(m.value for m in at.markdown), *(c.value for c in at.caption), *(w.value for w in at.warning),
             *(e.value for e in at.error), *(i.value for i in at.info)]
    assert not [s for s in shown if PAYLOAD in s]

    click_bar(at, "env.runs.0", 0)
    panel = dialog(at)
    assert panel.proto.dialog.title == md(PAYLOAD)
    assert any(md(ERROR_PAYLOAD) in e.value for e in panel.error)  # the trace read failed

    at.segmented_control(key=state.ENV_ORIGIN).set_value("TEST").run()
    (error,) = [e.value for e in at.error]  # the server's text, literally
    assert error.startswith("The environment figures could not be loaded: ")
    assert error.endswith(": " + md(ERROR_PAYLOAD)) and "](http" not in error
