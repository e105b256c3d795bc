"""The Environments dashboard: cached reads, the KPI row, per-environment charts and the drill-through.

Every environment keeps one colour on every chart and in the tables. Environment names come from
the server and are untrusted: they reach Plotly only through `plotly_text()` and Markdown only
through `md()`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from components import state
from components.connection import Connection, connection_fingerprint
from components.remote_runs import (
    CACHE_TTL_S,
    DAY_MS,
    ORIGIN_LABELS,
    Read,
    browser_zone,
    now_ms,
    read_stamp,
    record_caption,
    record_trace,
    records_page,
    records_table,
    show_error,
)
from components.run_result import trace_section
from components.safe import md, plotly_text
from fruxon_playground.analytics import (
    Kpis,
    costliest,
    days_ago,
    percent,
    records_frame,
    summaries_frame,
    usd,
    usd_axis_format,
)
from fruxon_playground.api import FruxonError

# Tableau 10 without its red (red means "failed" on this page): distinct on light and dark themes.
PALETTE = ("#4E79A7", "#F28E2B", "#76B7B2", "#B07AA1", "#59A14F", "#EDC948", "#FF9DA7", "#9C755F", "#BAB0AC", "#86BCB6")
STALE_COLOR, ACTIVE_COLOR = "#E8710A", "#1E9E5A"
DRILL_RECORDS = 100  # one page: the drill-through shows an environment's latest runs
TICK_CHARS = 26
PLOTLY_CONFIG = {"displayModeBar": False}


@dataclass(frozen=True)
class DashboardData:
    all_time: list[dict[str, Any]]  # EnvironmentSummary dumps, no window
    in_range: list[dict[str, Any]]  # the same for the chosen range
    series: dict[str, Any] | None  # EnvironmentCostTimeseries dump for the range
    approximate: bool  # the server has no summaries endpoint: computed from up to 2,000 records
    read_at_ms: int  # the oldest of the reads shown


# -- cached reads -----------------------------------------------------------------------------------
@st.cache_data(ttl=CACHE_TTL_S, max_entries=128, show_spinner=False)
def _summaries(fingerprint: str, agent: str, origin: str, from_ms: int | None, to_ms: int | None, stamp: int,
               _conn: Connection) -> Read:
    with _conn.client() as client:
        summaries = client.environment_summaries(agent, origin=origin, from_ms=from_ms, to_ms=to_ms)
    return Read(([s.dump() for s in summaries.items], summaries.approximate), now_ms())


@st.cache_data(ttl=CACHE_TTL_S, max_entries=128, show_spinner=False)
def _series(fingerprint: str, agent: str, slugs: tuple[str, ...], origin: str, from_ms: int, to_ms: int, stamp: int,
            _conn: Connection) -> Read:
    with _conn.client() as client:
        series = client.environment_cost_timeseries(agent, slugs, from_ms=from_ms, to_ms=to_ms, origin=origin)
    return Read(series.dump(), now_ms())


def read_dashboard(conn: Connection, origin: str, days: int) -> DashboardData:
    """Three reads at most: all-time summaries (every environment and its last run), the range's
    summaries, and the range's daily series for those environments."""
    stamp, fingerprint, agent = read_stamp(), connection_fingerprint(conn.settings), str(conn.agent)
    everything = _summaries(fingerprint, agent, origin, None, None, stamp, conn)
    items, approximate = everything.value
    if not items:
        return DashboardData([], [], None, approximate, everything.read_at_ms)
    start = stamp - days * DAY_MS
    window = _summaries(fingerprint, agent, origin, start, stamp, stamp, conn)
    slugs = tuple(sorted({str(i["environmentSlug"]) for i in items}))
    series = _series(fingerprint, agent, slugs, origin, start, stamp, stamp, conn)
    return DashboardData(items, window.value[0], series.value, approximate or window.value[1],
                         min(everything.read_at_ms, window.read_at_ms, series.read_at_ms))


def environment_choices(conn: Connection, origin: str) -> dict[str, str]:
    """slug → label of the agent's environments (from the cached all-time summaries); {} if unreadable."""
    try:
        read = _summaries(connection_fingerprint(conn.settings), str(conn.agent), origin, None, None, read_stamp(), conn)
    except FruxonError:
        return {}
    frame = summaries_frame(read.value[0])
    return dict(zip(frame["environment_slug"], frame["label"], strict=True))


# -- colours and labels -------------------------------------------------------------------------------
def environment_colors(slugs: Sequence[str]) -> dict[str, str]:
    """One colour per environment, assigned in slug order so it is the same on every chart and rerun."""
    return {slug: PALETTE[index % len(PALETTE)] for index, slug in enumerate(sorted(set(slugs)))}


def _ticks(labels: Sequence[str]) -> list[str]:
    """Escaped, shortened category labels that stay unique (a category must name one environment)."""
    seen: dict[str, int] = {}
    ticks = []
    for label in labels:
        tick = plotly_text(label, limit=TICK_CHARS)
        seen[tick] = seen.get(tick, 0) + 1
        ticks.append(tick if seen[tick] == 1 else f"{tick} ({seen[tick]})")
    return ticks


def _style(figure: go.Figure, title: str, height: int) -> go.Figure:
    figure.update_layout(title={"text": title, "x": 0, "xanchor": "left", "font": {"size": 15}}, height=height,
                         margin={"l": 8, "r": 16, "t": 48, "b": 8}, clickmode="event+select", bargap=0.3,
                         hoverlabel={"align": "left"})
    return figure


def _clicked_row(event: Any) -> int | None:
    points = event["selection"]["points"] if event is not None and "selection" in event else []
    index = points[0].get("point_index") if points else None
    return int(index) if index is not None else None


# -- KPI row ----------------------------------------------------------------------------------------
def kpi_row(figures: Kpis, series: pd.DataFrame, days: int) -> None:
    daily = series.groupby("bucket")[["runs", "cost"]].sum() if not series.empty else None
    runs_col, cost_col, failure_col, active_col = st.columns(4)
    runs_col.metric("Runs", f"{figures.runs:,}", border=True, height="stretch", help=f"Runs in the last {days} days, every environment.",
                    chart_data=daily["runs"].tolist() if daily is not None else None, chart_type="bar")
    cost_col.metric("Cost", usd(figures.cost), border=True, height="stretch", help="What those runs cost, in US dollars.",
                    chart_data=daily["cost"].round(8).tolist() if daily is not None else None, chart_type="area")
    failure_col.metric("Failure rate", percent(figures.failure_rate), border=True, height="stretch",
                       delta=f"{figures.failed:,} of {figures.runs:,} runs failed" if figures.runs else None,
                       delta_color="red" if figures.failed else "green", delta_arrow="off",
                       help="Failed runs divided by all runs in the range.")
    active_col.metric("Active environments", f"{figures.active} of {figures.environments}", border=True, height="stretch",
                      delta=f"{figures.stale} stale" if figures.stale else "none stale",
                      delta_color="orange" if figures.stale else "green", delta_arrow="off",
                      help="Environments with at least one run in the range, and how many have been idle too long.")


# -- charts -----------------------------------------------------------------------------------------
def ranked_bars(frame: pd.DataFrame, column: str, *, title: str, axis_title: str, colors: dict[str, str], key: str,
                hover: Callable[[pd.Series], str], text: Callable[[float], str], tickformat: str | None = None,
                stale_days: float | None = None) -> str | None:
    """One horizontal bar per environment (in the frame's order, top to bottom); returns the
    environment of a clicked bar. With `stale_days`, stale environments are hatched and the
    threshold is drawn."""
    raw = frame[column]
    values = raw.fillna(0.0)
    slugs = frame["environment_slug"].tolist()
    bar = go.Bar(
        x=values, y=_ticks(frame["label"].tolist()), orientation="h",
        marker={"color": [colors[s] for s in slugs],
                "pattern": {"shape": ["/" if stale else "" for stale in frame["stale"]] if stale_days is not None else ""}},
        text=[text(v) for v in raw], textposition="outside", cliponaxis=False,
        hovertext=[hover(row) for _, row in frame.iterrows()], hovertemplate="%{hovertext}<extra></extra>",
    )
    figure = _style(go.Figure(bar), title, height=max(240, 96 + 34 * len(frame)))
    figure.update_yaxes(autorange="reversed", type="category")
    largest = max(float(values.max()) if len(values) else 0.0, stale_days or 0.0) or 1.0
    # Room on the right for the figure printed after each bar.
    figure.update_xaxes(title={"text": axis_title, "font": {"size": 12}}, tickformat=tickformat, range=[0, largest * 1.3])
    if stale_days is not None:
        figure.add_vline(x=stale_days, line_dash="dash", line_color="#9AA0A6",
                         annotation_text=f"stale after {stale_days:g} days", annotation_position="top left",
                         annotation_font_size=11)
    event = st.plotly_chart(figure, key=key, on_select="rerun", selection_mode="points", width="stretch",
                            config=PLOTLY_CONFIG)
    row = _clicked_row(event)
    return slugs[row] if row is not None and row < len(slugs) else None


def over_time(series: pd.DataFrame, frame: pd.DataFrame, column: str, *, title: str, axis_title: str,
              colors: dict[str, str], key: str, money: bool = False) -> None:
    """Stacked bars per bucket, one colour per environment (legend in the same order as the ranked charts)."""
    figure = go.Figure()
    for slug, label in zip(frame["environment_slug"], frame["label"], strict=True):
        part = series[series["environment_slug"] == slug]
        if part.empty:
            continue
        name = plotly_text(label, limit=TICK_CHARS)
        figure.add_bar(x=part["bucket"], y=part[column], name=name, marker_color=colors[slug],
                       hovertext=[f"{plotly_text(label)}<br>{bucket:%a %d %b}: {usd(v) if money else f'{int(v):,} runs'}"
                                  for bucket, v in zip(part["bucket"], part[column], strict=True)],
                       hovertemplate="%{hovertext}<extra></extra>")
    _style(figure, title, height=330)
    figure.update_layout(barmode="stack", showlegend=True, clickmode="none",
                         legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "xanchor": "right", "x": 1,
                                 "title": {"text": ""}, "traceorder": "normal"})
    figure.update_xaxes(tickformat="%d %b", title=None)
    largest = series.groupby("bucket")[column].sum().max() if not series.empty else 0
    figure.update_yaxes(title={"text": axis_title, "font": {"size": 12}},
                        tickformat=usd_axis_format(float(largest)) if money else ",d", rangemode="tozero")
    st.plotly_chart(figure, key=key, width="stretch", config=PLOTLY_CONFIG)


def dashboard_charts(table: pd.DataFrame, series: pd.DataFrame, *, days: int, stale_days: float, colors: dict[str, str],
                     generation: int) -> str | None:
    """Runs, cost and idle time per environment; runs and cost per day; failure rate and average cost
    per run. Returns the environment of a clicked bar. `generation` is part of every clickable
    chart's key, so a new generation forgets earlier clicks."""
    def name(row: pd.Series) -> str:
        return plotly_text(row["label"])

    picked = []
    runs_col, cost_col, idle_col = st.columns(3)
    with runs_col:
        picked.append(ranked_bars(
            table, "runs", title="Runs per environment", axis_title=f"Runs, last {days} days", colors=colors,
            key=f"env.runs.{generation}", text=lambda v: f"{int(v):,}",
            hover=lambda r: f"{name(r)}<br>{int(r['runs']):,} runs in {days} days<br>{int(r['runs_all_time']):,} all time"))
    with cost_col:
        picked.append(ranked_bars(
            table, "cost", title="Cost per environment", axis_title="Cost (USD)", colors=colors,
            key=f"env.cost.{generation}", text=usd, tickformat=usd_axis_format(float(table["cost"].max())),
            hover=lambda r: f"{name(r)}<br>{usd(r['cost'])} in {days} days<br>{usd(r['avg_cost'])} per run"))
    with idle_col:
        picked.append(ranked_bars(
            table, "days_idle", title="Days since the last run", axis_title="Days idle", colors=colors,
            key=f"env.idle.{generation}", text=lambda v: "never" if pd.isna(v) else f"{v:.1f}", stale_days=stale_days,
            hover=lambda r: f"{name(r)}<br>Last run {days_ago(r['days_idle'])}" + ("<br>Stale" if r["stale"] else "")))
    if not series.empty:
        daily_runs_col, daily_cost_col = st.columns(2)
        with daily_runs_col:
            over_time(series, table, "runs", title=f"Runs per day, last {days} days", axis_title="Runs", colors=colors,
                      key="env.daily_runs")
        with daily_cost_col:
            over_time(series, table, "cost", title=f"Cost per day, last {days} days", axis_title="Cost (USD)",
                      colors=colors, key="env.daily_cost", money=True)
    failure_col, average_col = st.columns(2)
    with failure_col:
        picked.append(ranked_bars(
            table, "failure_rate", title="Failure rate", axis_title="Failed runs (%)", colors=colors,
            key=f"env.failures.{generation}", text=percent, tickformat=".0%",
            hover=lambda r: f"{name(r)}<br>{int(r['failed']):,} of {int(r['runs']):,} runs failed"))
    with average_col:
        picked.append(ranked_bars(
            table, "avg_cost", title="Average cost per run", axis_title="Cost per run (USD)", colors=colors,
            key=f"env.average.{generation}", text=usd, tickformat=usd_axis_format(float(table["avg_cost"].max())),
            hover=lambda r: f"{name(r)}<br>{usd(r['avg_cost'])} per run over {int(r['runs']):,} runs"))
    return next((slug for slug in picked if slug), None)


def environments_table(frame: pd.DataFrame, colors: dict[str, str], *, key: str) -> str | None:
    """Every environment with human columns; returns the environment of a selected row."""
    zone = browser_zone()
    labels = frame["label"].tolist()
    shown = pd.DataFrame({
        "Environment": [[label] for label in labels],
        "State": [["Stale" if stale else "Active"] for stale in frame["stale"]],
        "Runs": frame["runs"],
        "Cost (USD)": frame["cost"],
        "Failure rate": frame["failure_rate"] * 100,
        "Avg cost per run (USD)": frame["avg_cost"],
        "Last run": frame["last_run"].dt.tz_convert(zone),
        "Idle": frame["days_idle"],
        "Runs, all time": frame["runs_all_time"],
        "Cost, all time (USD)": frame["cost_all_time"],
        "Slug": frame["environment_slug"],
    })
    event = st.dataframe(
        shown, hide_index=True, width="stretch", key=key, on_select="rerun", selection_mode="single-row",
        column_config={
            "Environment": st.column_config.MultiselectColumn(options=labels, color=[colors[s] for s in frame["environment_slug"]]),
            "State": st.column_config.MultiselectColumn(options=["Active", "Stale"], color=[ACTIVE_COLOR, STALE_COLOR],
                                                         help="Stale: no run for longer than the threshold above."),
            "Runs": st.column_config.NumberColumn(format="%,d", help="Runs in the chosen range."),
            "Cost (USD)": st.column_config.NumberColumn(format="$%.4f", help="Cost of the runs in the chosen range."),
            "Failure rate": st.column_config.NumberColumn(format="%.1f %%"),
            "Avg cost per run (USD)": st.column_config.NumberColumn(format="$%.5f"),
            "Last run": st.column_config.DatetimeColumn(format="D MMM YYYY, HH:mm"),
            "Idle": st.column_config.NumberColumn(format="%.1f days", help="Days since the last run."),
            "Runs, all time": st.column_config.NumberColumn(format="%,d"),
            "Cost, all time (USD)": st.column_config.NumberColumn(format="$%.4f"),
        },
    )
    rows = list(event.selection.rows) if event is not None else []
    return str(frame.iloc[rows[0]]["environment_slug"]) if rows else None


def csv_export(frame: pd.DataFrame) -> str:
    """The environments table as CSV with the same column names people read on screen."""
    return pd.DataFrame({
        "Environment": frame["label"], "Slug": frame["environment_slug"], "State": frame["stale"].map({True: "Stale", False: "Active"}),
        "Runs": frame["runs"], "Cost (USD)": frame["cost"].round(8), "Failed runs": frame["failed"],
        "Failure rate (%)": (frame["failure_rate"] * 100).round(2), "Average cost per run (USD)": frame["avg_cost"].round(8),
        "Last run (UTC)": frame["last_run"].dt.strftime("%Y-%m-%d %H:%M"), "Idle (days)": frame["days_idle"].round(1),
        "Runs, all time": frame["runs_all_time"], "Cost, all time (USD)": frame["cost_all_time"].round(8),
    }).to_csv(index=False)


# -- drill-through ----------------------------------------------------------------------------------
def _close_drill_through() -> None:
    """The dialog was dismissed: give the charts and the table new keys, so their selection is gone."""
    st.session_state[state.ENV_GENERATION] = st.session_state.get(state.ENV_GENERATION, 0) + 1


def drill_through(conn: Connection, environment: pd.Series, *, origin: str, days: int) -> None:
    """A side panel with the environment's figures, its latest runs and the trace of its most
    expensive run (or of the run picked in its table)."""
    title = md(environment["label"])
    st.dialog(title, width=980, position="right", on_dismiss=_close_drill_through,
              icon=":material/query_stats:")(_drill_body)(conn, environment, origin, days)


def _drill_body(conn: Connection, environment: pd.Series, origin: str, days: int) -> None:
    slug = str(environment["environment_slug"])
    st.caption(md(f"Slug {slug} · {ORIGIN_LABELS.get(origin, origin).lower()} runs · last {days} days"))
    runs_col, cost_col, failure_col, last_col = st.columns(4)
    runs_col.metric("Runs", f"{int(environment['runs']):,}")
    cost_col.metric("Cost", usd(float(environment["cost"])))
    failure_col.metric("Failure rate", percent(environment["failure_rate"]))
    last_col.metric("Last run", days_ago(environment["days_idle"]))
    stamp = read_stamp()
    try:
        read = records_page(conn, {"environment": slug, "origin": origin, "start_time": stamp - days * DAY_MS,
                                   "end_time": stamp}, stamp=stamp, page_size=DRILL_RECORDS)
    except FruxonError as exc:
        show_error("Its runs could not be listed", exc, conn)
        return
    frame = records_frame(read.value.get("items") or [])
    if frame.empty:
        st.info(f"No runs in this environment in the last {days} days.", icon=":material/info:")
        return
    more = bool(read.value.get("nextPageToken"))
    st.markdown(f"**{'Latest ' + str(DRILL_RECORDS) + ' runs' if more else 'Runs'}** · select one to see its trace")
    labels = {slug: str(environment["label"])}
    rows = records_table(frame, labels, key=f"env.drill.{slug}.{stamp}",  # new reads, new rows: selection starts over height=min(36 + 35 * len(frame), 316),
                         show_environment=False)
    target = frame.iloc[rows[0]] if rows else costliest(frame)
    if target is None:
        st.caption("None of these runs cost anything, so there is no most expensive trace to show.")
        return
    st.markdown("**Selected run**" if rows else "**Most expensive run**")
    st.caption(record_caption(target, labels))
    try:
        trace = record_trace(conn, str(target["id"]), stamp=stamp)
    except FruxonError as exc:
        show_error("Its trace could not be loaded", exc, conn)
        return
    trace_section(trace.value, key=f"env.trace.{target['id']}")
