"""Execution records as one table: what the Remote runs page lists and an environment's drill-through.

The input is what `ExecutionRecord.dump()` gives (camelCase keys, some possibly absent; money as
numbers or decimal strings; anything may be null). The dicts are read into object columns once by
pandas (no type guessing), each column is then converted whole, and the few distinct statuses,
revisions and environments are labelled once each: a million records take under a second.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from fruxon_playground.analytics.format import revision_label, status_label
from fruxon_playground.contract import is_failure

RECORD_COLUMNS = ["id", "started", "status", "revision", "environment_slug", "duration_ms", "cost", "tokens", "subject",
                  "failed"]
_WIRE_KEYS = ["id", "startTime", "endTime", "status", "agentRevision", "environmentSlug", "totalCost", "inputTokens",
              "outputTokens", "subject"]


def _number(column: pd.Series) -> np.ndarray:
    """Numbers, numeric strings → float; null, absent and unreadable → NaN."""
    try:  # numbers, numeric strings and nulls (the wire's usual mix), converted by numpy at C speed
        return np.array(column.tolist(), dtype="float64")
    except (TypeError, ValueError):  # anything else in there: pandas, value by value
        return np.asarray(pd.to_numeric(column, errors="coerce"), dtype="float64")


def _categories(column: pd.Series, label: Callable[[Any], Any]) -> tuple[pd.Categorical, np.ndarray, list[Any]]:
    """A column of a few distinct values as categories of their labels, each label computed once (two
    spellings of one status share a label; a None label is missing). Also returns the codes of the
    distinct raw values and those values (null and absent as None), for anything else computed per value."""
    codes, uniques = pd.factorize(column)
    raw = [*uniques, None]
    codes[codes < 0] = len(raw) - 1
    label_codes, labels = pd.factorize(np.array([label(value) for value in raw], dtype=object))
    return pd.Categorical.from_codes(label_codes[codes], categories=pd.Index(labels)), codes, raw


def _utc_times(ms: np.ndarray) -> pd.DatetimeIndex:
    """Epoch milliseconds (NaN for missing) → UTC times; integers convert ~10× faster than floats."""
    missing = np.isnan(ms)
    times = pd.to_datetime(np.where(missing, 0, ms).astype("int64"), unit="ms", utc=True)
    return pd.DatetimeIndex(times.where(~missing)) if missing.any() else times


def records_frame(records: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """One row per record, in the order given: id, start time (UTC), status and revision in words,
    environment, duration in ms, cost in USD (0 when missing), tokens, subject and a failed flag.
    Status, revision and environment are categorical (a handful of values, repeated)."""
    wire = pd.DataFrame(list(records), columns=_WIRE_KEYS, dtype=object)
    start = _number(wire["startTime"])
    duration = _number(wire["endTime"]) - start
    duration[~(duration >= 0)] = np.nan  # unfinished, or clocks that disagree
    status, status_codes, statuses = _categories(wire["status"], status_label)
    revision, _, _ = _categories(wire["agentRevision"], revision_label)
    environment, _, _ = _categories(wire["environmentSlug"], lambda slug: slug or None)
    tokens = np.nan_to_num(_number(wire["inputTokens"])) + np.nan_to_num(_number(wire["outputTokens"]))
    return pd.DataFrame({
        "id": wire["id"],
        "started": _utc_times(start),
        "status": status,
        "revision": revision,
        "environment_slug": environment,
        "duration_ms": duration,
        "cost": np.nan_to_num(_number(wire["totalCost"])),
        "tokens": tokens.astype("int64"),
        "subject": wire["subject"].fillna(""),
        "failed": np.array([is_failure(value) for value in statuses], dtype=bool)[status_codes],
    }, columns=RECORD_COLUMNS)


def costliest(frame: pd.DataFrame) -> pd.Series | None:
    """The most expensive record of a `records_frame` (the first one on a tie), or None when none cost anything."""
    if frame.empty or not (frame["cost"] > 0).any():
        return None
    return frame.iloc[int(np.argmax(frame["cost"].to_numpy()))]


def status_counts(frame: pd.DataFrame) -> dict[str, int]:
    """Records per status label, most frequent first."""
    return {str(k): int(v) for k, v in frame["status"].value_counts().items() if v}
