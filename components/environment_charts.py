"""Per-environment charts (plotly). Each takes a frame and returns the environment a user clicked."""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import streamlit as st

STALE_COLOR, ACTIVE_COLOR = "#D93025", "#5B4BDB"


def _clicked(event) -> str | None:
    points = event["selection"]["points"] if event and "selection" in event else []
    return points[0].get("x") if points else None


def bar(frame: pd.DataFrame, column: str, title: str, *, key: str, color: str | None = None) -> str | None:
    figure = px.bar(frame, x="environment_slug", y=column, title=title, color=color,
                    color_discrete_map={True: STALE_COLOR, False: ACTIVE_COLOR} if color == "is_stale" else None,
                    labels={"environment_slug": "environment", "is_stale": "stale"})
    if color is None:
        figure.update_traces(marker_color=ACTIVE_COLOR)
    if "cost" in column:
        figure.update_yaxes(tickformat="$.5f")
    figure.update_layout(height=300, margin={"l": 10, "r": 10, "t": 40, "b": 10}, clickmode="event+select")
    return _clicked(st.plotly_chart(figure, key=key, on_select="rerun", selection_mode="points", width="stretch"))


def over_time(series: pd.DataFrame, column: str, title: str, *, key: str) -> None:
    figure = px.bar(series, x="bucket", y=column, color="environment_slug", title=title,
                    labels={"bucket": "", "environment_slug": "environment"})
    figure.update_layout(height=300, margin={"l": 10, "r": 10, "t": 40, "b": 10}, barmode="stack")
    if column == "cost":
        figure.update_yaxes(tickformat="$.5f")
    st.plotly_chart(figure, key=key, width="stretch")


def statuses(breakdown: pd.DataFrame, *, key: str) -> None:
    figure = px.bar(breakdown, x="environment_slug", y="runs", color="status", title="Runs by status",
                    labels={"environment_slug": "environment"},
                    color_discrete_map={"COMPLETED": "#0F9D58", "FAILED": "#D93025", "WAITING_FOR_ASYNC": "#F4B400",
                                        "CANCELLED": "#9E9E9E", "REJECTED": "#8D6E63"})
    figure.update_layout(height=300, margin={"l": 10, "r": 10, "t": 40, "b": 10}, barmode="stack")
    st.plotly_chart(figure, key=key, width="stretch")
