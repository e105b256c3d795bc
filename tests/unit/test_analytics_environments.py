"""The Environments and Remote runs frames, from what the client's pydantic models dump."""

from __future__ import annotations

import math
from decimal import Decimal

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fruxon_playground.analytics import (
    cost_decimals,
    costliest,
    days_ago,
    environment_labels,
    kpis,
    percent,
    records_frame,
    revision_label,
    series_frame,
    status_counts,
    status_label,
    summaries_frame,
    usd,
    usd_axis_format,
)
from fruxon_playground.api.models import EnvironmentCostTimeseries, EnvironmentSummary, ExecutionRecord

DAY = 86_400_000
NOW = pd.Timestamp("2026-01-31", tz="UTC")
NOW_MS = int(NOW.timestamp() * 1000)


def summaries(*items: dict) -> list[dict]:
    """What the page hands to `summaries_frame`: the client's models, dumped."""
    return [EnvironmentSummary.model_validate(item).dump() for item in items]


def records(*items: dict) -> list[dict]:
    return [ExecutionRecord.model_validate(item).dump() for item in items]


# -- summaries ----------------------------------------------------------------------------------------
def test_an_environment_idle_for_longer_than_the_range_is_still_listed_and_stale() -> None:
    all_time = summaries(
        {"environmentSlug": "acme", "displayName": "Acme Corp", "executionCount": 10, "totalCost": "1.50",
         "lastActivityAt": NOW_MS - DAY, "failedCount": 2},
        {"slug": "old", "executionCount": 3, "totalCost": 0.3, "lastExecutionAt": NOW_MS - 40 * DAY},
    )
    in_range = summaries({"environmentSlug": "acme", "displayName": "Acme Corp", "executionCount": 4, "totalCost": 0.5,
                          "lastActivityAt": NOW_MS - DAY, "failedCount": 1})
    frame = summaries_frame(all_time, in_range, now=NOW, stale_days=7)
    assert frame["environment_slug"].tolist() == ["acme", "old"]  # most recently active first
    acme, old = frame.iloc[0], frame.iloc[1]
    assert (acme["label"], acme["runs"], acme["cost"], acme["failed"]) == ("Acme Corp", 4, 0.5, 1)
    assert acme["failure_rate"] == 0.25 and acme["avg_cost"] == 0.125
    assert (acme["runs_all_time"], acme["cost_all_time"]) == (10, 1.5)
    assert acme["days_idle"] == 1.0 and not acme["stale"]
    assert old["label"] == "old" and old["runs"] == 0 and old["cost"] == 0.0  # no run in the range
    assert math.isnan(old["failure_rate"]) and math.isnan(old["avg_cost"])  # nothing to divide, not 0 %
    assert old["days_idle"] == 40.0 and old["stale"] and old["runs_all_time"] == 3


def test_without_a_range_the_all_time_figures_are_shown_and_never_run_is_stale() -> None:
    frame = summaries_frame(summaries({"environmentSlug": "a", "executionCount": 2, "totalCost": 0.2,
                                       "lastActivityAt": NOW_MS - 2 * DAY},
                                      {"environmentSlug": "b", "executionCount": 0}), now=NOW, stale_days=7)
    assert frame["runs"].tolist() == [2, 0] and frame["stale"].tolist() == [False, True]
    assert frame["last_run"].isna().tolist() == [False, True]


def test_an_environment_only_in_the_range_answer_is_kept() -> None:
    frame = summaries_frame([], summaries({"environmentSlug": "new", "executionCount": 1, "totalCost": 0.1,
                                           "lastActivityAt": NOW_MS}), now=NOW)
    assert frame[["environment_slug", "runs", "runs_all_time"]].values.tolist() == [["new", 1, 1]]


def test_empty_summaries_give_an_empty_frame_with_every_column() -> None:
    frame = summaries_frame([], [], now=NOW)
    assert frame.empty and "stale" in frame.columns and "label" in frame.columns
    figures = kpis(frame)
    assert (figures.runs, figures.cost, figures.failure_rate, figures.environments) == (0, 0.0, None, 0)


def test_labels_are_display_names_made_unique_with_the_slug() -> None:
    assert environment_labels(["a", "b", "c", "d"], ["Acme", "Acme", None, "  "]) == ["Acme (a)", "Acme (b)", "c", "d"]
    assert environment_labels(["x", "y"], ["y", None]) == ["y (x)", "y"]  # another's slug as a name


def test_kpis_add_up_the_range() -> None:
    frame = summaries_frame(summaries(
        {"environmentSlug": "a", "executionCount": 3, "totalCost": 0.3, "lastActivityAt": NOW_MS, "failedCount": 1},
        {"environmentSlug": "b", "executionCount": 1, "totalCost": 0.1, "lastActivityAt": NOW_MS - 30 * DAY},
    ), now=NOW, stale_days=7)
    figures = kpis(frame)
    assert (figures.runs, figures.failed, figures.active, figures.environments, figures.stale) == (4, 1, 2, 2, 1)
    assert figures.cost == pytest.approx(0.4) and figures.failure_rate == 0.25


# -- series -------------------------------------------------------------------------------------------
def series(**body) -> dict:
    return EnvironmentCostTimeseries.model_validate(body).dump()


def test_series_fill_every_bucket_of_the_window_and_merge_runs_with_costs() -> None:
    frame = series_frame(series(interval="DAY", window={"fromMs": 10, "toMs": 3 * DAY}, environments=[
        {"slug": "acme", "cost": [{"bucketStartMs": 0, "cost": {"total": "0.5"}}],
         "executions": [{"bucketStartMs": 0, "count": 2}, {"bucketStartMs": 2 * DAY, "count": 1}]},
        {"slug": "idle"},
    ]))
    # Buckets start at multiples of a day since the epoch; `toMs` is exclusive.
    assert frame["bucket"].tolist() == [pd.Timestamp(d * DAY, unit="ms", tz="UTC") for d in (0, 1, 2)] * 2
    assert frame["environment_slug"].tolist() == ["acme"] * 3 + ["idle"] * 3
    assert frame["runs"].tolist() == [2, 0, 1, 0, 0, 0] and frame["cost"].tolist() == [0.5, 0, 0, 0, 0, 0]


def test_cost_buckets_without_runs_and_buckets_outside_the_window_are_kept() -> None:
    frame = series_frame(series(interval="WEEK", window={"fromMs": 7 * DAY, "toMs": 14 * DAY}, environments=[
        {"slug": "a", "cost": [{"bucketStartMs": 21 * DAY, "cost": {"total": 0.25}}]}]))
    assert frame["bucket"].dt.day_name().tolist() == ["Thursday", "Thursday"]  # epoch weeks start on Thursday
    assert frame["cost"].tolist() == [0.0, 0.25] and frame["runs"].tolist() == [0, 0]


def test_an_empty_series_has_typed_columns() -> None:
    frame = series_frame({})
    assert frame.empty and list(frame.columns) == ["environment_slug", "bucket", "runs", "cost"]


# -- records ------------------------------------------------------------------------------------------
RECORDS = records(
    {"id": "r1", "environmentSlug": "acme", "status": "COMPLETED", "totalCost": "0.5", "startTime": NOW_MS - DAY,
     "endTime": NOW_MS - DAY + 1500, "agentRevision": 3, "inputTokens": 10, "outputTokens": 5, "subject": "hi"},
    {"id": "r2", "environmentSlug": "acme", "status": "Failed", "totalCost": 0.25, "startTime": NOW_MS, "agentRevision": -1},
    {"id": "r3", "environmentSlug": "globex", "status": "WAITING_FOR_ASYNC", "totalCost": 1, "startTime": NOW_MS - 2 * DAY,
     "endTime": NOW_MS - 3 * DAY, "agentRevision": 0},
    {"id": "r4", "status": "SOMETHING_NEW"},
)


def test_records_become_one_readable_row_each_in_order() -> None:
    frame = records_frame(RECORDS)
    assert frame["id"].tolist() == ["r1", "r2", "r3", "r4"]
    assert frame["status"].astype(str).tolist() == ["Completed", "Failed", "Waiting for approval", "SOMETHING_NEW"]
    assert frame["revision"].astype(str).tolist() == ["3", "draft", "draft", "—"]  # text: no number/"draft" mix
    assert frame["environment_slug"].tolist()[:3] == ["acme", "acme", "globex"] and pd.isna(frame["environment_slug"][3])
    assert frame["cost"].tolist() == [0.5, 0.25, 1.0, 0.0]  # decimal strings read, missing is 0
    assert frame["duration_ms"].tolist()[0] == 1500 and frame["duration_ms"][1:].isna().all()  # unfinished, reversed
    assert frame["tokens"].tolist() == [15, 0, 0, 0]
    assert frame["subject"].tolist() == ["hi", "", "", ""]
    assert frame["failed"].tolist() == [False, True, False, False]
    assert frame["started"][1] == NOW and pd.isna(frame["started"][3])


def test_two_spellings_of_a_status_share_one_label() -> None:
    frame = records_frame(records({"id": "a", "status": "FAILED"}, {"id": "b", "status": "failed"}))
    assert status_counts(frame) == {"Failed": 2} and frame["failed"].all()


def test_the_costliest_record_and_the_status_counts() -> None:
    frame = records_frame(RECORDS)
    assert costliest(frame)["id"] == "r3"
    assert status_counts(frame) == {"Completed": 1, "Failed": 1, "Waiting for approval": 1, "SOMETHING_NEW": 1}
    assert costliest(records_frame(records({"id": "free", "totalCost": 0}))) is None
    assert costliest(records_frame([])) is None
    tie = records_frame(records({"id": "first", "totalCost": 1}, {"id": "second", "totalCost": 1}))
    assert costliest(tie)["id"] == "first"


def test_no_records_give_every_column() -> None:
    frame = records_frame([])
    assert frame.empty and list(frame.columns) == ["id", "started", "status", "revision", "environment_slug",
                                                   "duration_ms", "cost", "tokens", "subject", "failed"]


record = st.fixed_dictionaries({
    "id": st.uuids().map(str),
    "environmentSlug": st.sampled_from(["acme", "globex", None]),
    "status": st.sampled_from(["COMPLETED", "Failed", "WAITING_FOR_ASYNC", "CANCELLED", "weird", None]),
    "totalCost": st.one_of(st.none(), st.floats(0, 5), st.decimals(0, 5, places=6).map(str)),
    "startTime": st.one_of(st.none(), st.integers(1_700_000_000_000, 1_800_000_000_000)),
    "agentRevision": st.one_of(st.none(), st.integers(-1, 9)),
})


@settings(max_examples=60, deadline=None)
@given(st.lists(record, max_size=40))
def test_records_frame_agrees_with_a_plain_loop(items: list[dict]) -> None:
    frame = records_frame(records(*items))
    assert len(frame) == len(items)
    assert frame["cost"].sum() == pytest.approx(float(sum(Decimal(str(i["totalCost"] or 0)) for i in items)))
    assert frame["failed"].sum() == sum(i["status"] in ("Failed", "CANCELLED") for i in items)
    assert frame["revision"].astype(str).tolist() == [revision_label(i["agentRevision"]) for i in items]
    per_environment = frame.groupby("environment_slug", observed=True).size().to_dict()
    expected: dict[str, int] = {}
    for item in items:
        if item["environmentSlug"]:
            expected[item["environmentSlug"]] = expected.get(item["environmentSlug"], 0) + 1
    assert per_environment == expected


# -- how figures read ---------------------------------------------------------------------------------
@pytest.mark.parametrize(("value", "text"), [
    (0, "$0.00"), (0.5, "$0.50"), (0.0042, "$0.0042"), (0.004172, "$0.004172"), (0.41723, "$0.4172"),
    (12.3456, "$12.35"), (1234.567, "$1,234.57"), (-0.3, "-$0.30"), (None, "—"), (float("nan"), "—"),
])
def test_usd(value, text) -> None:
    assert usd(value) == text


def test_axis_formats_and_decimals_follow_the_size_of_the_money() -> None:
    assert [usd_axis_format(v) for v in (40, 4, 0.4, 0.004, 0, math.nan)] == [
        "$,.0f", "$,.2f", "$,.3~f", "$,.5~f", "$,.2f", "$,.2f"]
    assert [cost_decimals(v) for v in (3, 0.5, 0.0042, 0.0000001, 0)] == [2, 3, 5, 8, 2]


def test_statuses_revisions_rates_and_idle_time_in_words() -> None:
    assert [status_label(s) for s in ("WAITING_FOR_ASYNC", "InProgress", "rejected", "NEW_ONE", None)] == [
        "Waiting for approval", "In progress", "Rejected", "NEW_ONE", "—"]
    assert [revision_label(r) for r in (3, "4", 0, -1, None, True, "x")] == ["3", "4", "draft", "draft", "—", "—", "x"]
    assert [percent(r) for r in (0.025, 0.25, None, float("nan"))] == ["2.5 %", "25 %", "—", "—"]
    assert [days_ago(d) for d in (0.01, 0.5, 1, 1.9, 40.2, float("nan"))] == [
        "just now", "12 hours ago", "1 day ago", "1 day ago", "40 days ago", "never"]
