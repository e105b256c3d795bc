"""Per-environment summaries, time series and execution-record tables (pandas, no UI)."""

from fruxon_playground.analytics.environments import (
    Kpis,
    environment_labels,
    kpis,
    series_frame,
    summaries_frame,
)
from fruxon_playground.analytics.format import (
    STATUS_ORDER,
    cost_decimals,
    days_ago,
    percent,
    revision_label,
    status_label,
    usd,
    usd_axis_format,
)
from fruxon_playground.analytics.records import costliest, records_frame, status_counts

__all__ = [
    "STATUS_ORDER", "Kpis", "cost_decimals", "costliest", "days_ago", "environment_labels", "kpis", "percent", "records_frame",
    "revision_label", "series_frame", "status_counts", "status_label", "summaries_frame", "usd", "usd_axis_format",
]
