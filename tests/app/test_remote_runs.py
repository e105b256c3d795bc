"""The Remote runs page under AppTest, against the sandbox on loopback with every request counted."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
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
from tests.app.test_environments import ENTRY, ROOT, isolated  # noqa: F401 (autouse fixture)

ARROW_FALLBACK = "Serialization of dataframe to Arrow table was unsuccessful"


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with counted_sandbox(tmp_path_factory.mktemp("remote-sandbox")) as server:
        yield server


@pytest.fixture(scope="module")
def hostile() -> Iterator[Server]:
    with untrusted_server() as server:
        yield server


@pytest.fixture
def streamlit_log() -> Iterator[list[logging.LogRecord]]:
    """What Streamlit logs while the test runs (the Arrow fallback is logged with a traceback)."""
    records: list[logging.LogRecord] = []
    handler = logging.Handler(logging.INFO)
    handler.emit = records.append  # type: ignore[method-assign]
    # Streamlit's loggers do not propagate: listen on each (streamlit.dataframe_util logs the fallback).
    loggers = [logging.getLogger(name) for name in ("streamlit", "streamlit.dataframe_util", *logging.root.manager.loggerDict)
               if name.startswith("streamlit")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.INFO)
        logger.addHandler(handler)
    yield records
    for logger, level in zip(loggers, levels, strict=True):
        logger.removeHandler(handler)
        logger.setLevel(level)


def open_remote_runs(server: Server, monkeypatch: pytest.MonkeyPatch) -> tuple[AppTest, int]:
    monkeypatch.setenv("FRUXON_BASE_URL", server.url)
    monkeypatch.setenv("FRUXON_TENANT", server.tenant)
    monkeypatch.setenv("FRUXON_API_KEY", server.key)
    at = AppTest.from_string(ENTRY, default_timeout=60)
    at.run()
    before = len(server.paths)
    at.switch_page(str(ROOT / "pages/remote_runs.py")).run()
    assert not at.exception, [e.message for e in at.exception]
    return at, before


def table(at: AppTest):
    return next(f for f in at.main.dataframe if "Record id" in f.value.columns)


def select_row(at: AppTest, row: int) -> AppTest:
    """What the browser sends when a row's checkbox is clicked."""
    at.session_state[table(at).key] = {"selection": {"rows": [row], "columns": [], "cells": []}}
    return at.run()


def test_draft_revisions_are_text_and_need_no_arrow_fallback(hostile: Server, monkeypatch, streamlit_log) -> None:
    at, _ = open_remote_runs(hostile, monkeypatch)  # its records alternate between revision 3 and drafts (−1)
    assert not at.exception, [e.message for e in at.exception]
    revisions = table(at).value["Revision"]
    assert list(revisions) == ["3", "draft", "3", "draft"]
    assert not [r for r in streamlit_log if ARROW_FALLBACK in r.getMessage() or r.exc_info]


def test_human_columns_and_coloured_statuses(sandbox: Server, monkeypatch) -> None:
    at, _ = open_remote_runs(sandbox, monkeypatch)
    frame = table(at).value
    assert list(frame.columns) == ["Started", "Status", "Environment", "Revision", "Duration", "Cost (USD)", "Tokens",
                                   "Subject", "Record id"]
    assert {s[0] for s in frame["Status"]} <= {"Completed", "Failed", "Waiting for approval", "Rejected", "In progress"}
    assert {"Acme Corp", "—"} <= set(frame["Environment"])  # display names; "—" for runs without one
    assert str(frame["Started"].dtype).startswith("datetime64") and (frame["Duration"] > 0).all()
    labels = [w.label for w in (*at.selectbox, *at.multiselect, *at.text_input, *at.segmented_control)
              if w.key and w.key.startswith("remote.")]
    assert labels == ["Time range", "Environment", "Rows", "Status", "Revision", "Origin"]


def test_filters_and_paging_read_once_per_new_page(sandbox: Server, monkeypatch) -> None:
    at, before = open_remote_runs(sandbox, monkeypatch)
    assert sandbox.reads(before) == ["environmentSummaries", "executionRecords"]  # the environment picker's options
    first = table(at).value
    assert len(first) == 25 and any(c.value == "Page 1 · records 1–25" for c in at.caption)

    mark = len(sandbox.paths)
    next(b for b in at.button if b.label == "Next").click().run()
    second = table(at).value
    assert not set(second["Record id"]) & set(first["Record id"])
    next(b for b in at.button if b.label == "Previous").click().run()
    assert list(table(at).value["Record id"]) == list(first["Record id"])
    assert sandbox.reads(mark) == ["executionRecords"]  # page 1 came from the cache

    at.multiselect(key=state.REMOTE_STATUS).set_value(["FAILED"]).run()
    assert {s[0] for s in table(at).value["Status"]} == {"Failed"}
    assert any(c.value.startswith("Page 1") for c in at.caption)  # new filters start from the first page
    at.multiselect(key=state.REMOTE_STATUS).set_value([]).run()
    at.selectbox(key=state.REMOTE_ENVIRONMENT).set_value("globex").run()
    assert set(table(at).value["Environment"]) == {"Globex"}
    at.text_input(key=state.REMOTE_REVISION).input("2").run()
    assert set(table(at).value["Revision"]) == {"2"}
    at.text_input(key=state.REMOTE_REVISION).input("two").run()
    assert any("Revision must be a number" in w.value for w in at.warning)


def test_selecting_a_record_opens_its_trace_under_the_table_with_one_read(sandbox: Server, monkeypatch) -> None:
    at, _ = open_remote_runs(sandbox, monkeypatch)
    assert any(c.value == "Select a row to open its trace here." for c in at.caption)
    record = table(at).value.iloc[1]
    mark = len(sandbox.paths)
    select_row(at, 1)
    assert not at.exception, [e.message for e in at.exception]
    assert sandbox.reads(mark) == ["trace"]
    assert [s.value for s in at.main.subheader] == ["Trace"]
    assert any(md(record["Record id"]) in c.value and c.value.startswith(record["Status"][0]) for c in at.caption)
    elements = list(at.main)  # the trace follows the table on the page, nothing in between but its heading
    assert elements.index(next(e for e in elements if getattr(e, "type", "") == "subheader")) > elements.index(table(at))
    mark = len(sandbox.paths)
    at.run()
    assert sandbox.reads(mark) == []  # a click inside the trace rereads nothing

    next(b for b in at.button if b.label == "Refresh").click().run()
    assert sandbox.reads(mark) == ["executionRecords"]  # the list again; new rows may come first, so…
    assert any(c.value == "Select a row to open its trace here." for c in at.caption)  # …the selection starts over


def test_hostile_texts_stay_text(hostile: Server, monkeypatch) -> None:
    at, _ = open_remote_runs(hostile, monkeypatch)
    environment = at.selectbox(key=state.REMOTE_ENVIRONMENT)
    assert environment.options == ["Any environment", PAYLOAD, IDLE_NAME]  # option text is never Markdown
    select_row(at, 0)
    shown = [*(c.value for c in at.caption), *(e.value for e in at.error), *(s.value for s in at.subheader)]
    assert not [s for s in shown if PAYLOAD in s or ERROR_PAYLOAD in s]
    assert any(md(PAYLOAD) in c.value for c in at.caption)  # the record's environment, literally
    assert any(md(ERROR_PAYLOAD) in e.value for e in at.error)  # its trace could not be read
    at.segmented_control(key=state.REMOTE_ORIGIN).set_value("TEST").run()
    (error,) = [e.value for e in at.error]
    assert error.endswith(md(ERROR_PAYLOAD)) and "](http" not in error
