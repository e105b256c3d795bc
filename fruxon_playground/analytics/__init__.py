"""Per-environment analytics over summaries, records and cost series (pandas, no UI)."""

from fruxon_playground.analytics.environments import (
    aggregate_records,
    records_frame,
    series_frame,
    status_breakdown,
    summaries_frame,
)

__all__ = ["aggregate_records", "records_frame", "series_frame", "status_breakdown", "summaries_frame"]
