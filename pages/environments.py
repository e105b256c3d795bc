"""Environments: where runs and money go, per end-customer environment, for the selected agent."""

import pandas as pd
import streamlit as st

from components import state
from components.connection import require_agent
from components.environment_charts import (
    csv_export,
    drill_through,
    environment_colors,
    environments_table,
    kpi_row,
    over_time,
    ranked_bars,
    read_dashboard,
)
from components.remote_runs import CACHE_TTL_S, ORIGIN_LABELS, refresh_control, show_error
from components.safe import md, plotly_text
from fruxon_playground.analytics import (
    days_ago,
    kpis,
    percent,
    series_frame,
    summaries_frame,
    usd,
    usd_axis_format,
)
from fruxon_playground.api import FruxonError
from fruxon_playground.contract.enums import ORIGINS

RANGES = {7: "7 days", 30: "30 days", 90: "90 days"}
REFRESH_HELP = f"Read again from the server. Otherwise the figures are reused for up to {CACHE_TTL_S} s."

state.require_app("pages/environments.py")
st.title("Environments")
conn = require_agent("its runs are charted per environment.")

origin_col, range_col, stale_col, refresh_col = st.columns([1.3, 1.6, 1.1, 2.2], vertical_alignment="bottom")
origin = origin_col.segmented_control("Runs", list(ORIGINS), format_func=ORIGIN_LABELS.__getitem__, key=state.ENV_ORIGIN,
                                      default="PRODUCTION", required=True) or "PRODUCTION"
days = int(range_col.segmented_control("Time range", list(RANGES), format_func=RANGES.__getitem__, key=state.ENV_DAYS,
                                       default=30, required=True) or 30)
stale_days = stale_col.number_input("Stale after (days idle)", min_value=1, max_value=365, value=7, key=state.ENV_STALE_DAYS)
try:
    data = read_dashboard(conn, origin, days)
except FruxonError as exc:
    with refresh_col:
        refresh_control(None, key="env.refresh", help=REFRESH_HELP)
    show_error("The environment figures could not be loaded", exc, conn)
    st.stop()
with refresh_col:
    refresh_control(data.read_at_ms, key="env.refresh", help=REFRESH_HELP)

now = pd.Timestamp(st.session_state[state.READ_STAMP], unit="ms", tz="UTC")
table = summaries_frame(data.all_time, data.in_range, now=now, stale_days=float(stale_days))
st.caption(md(f"Agent {conn.agent} · {ORIGIN_LABELS[origin].lower()} runs · last {days} days")
           + (" · approximate: this server has no summaries endpoint, so the figures come from its latest 2,000 runs"
              if data.approximate else ""))
if table.empty:
    st.info("No runs with an environment yet for this agent"
            + (" among test runs: test runs rarely name one." if origin == "TEST" else ".")
            + " A run that names an environment slug (Execute agent → “Session, environment, mode and chat user”) shows up here.",
            icon=":material/bar_chart:")
    st.stop()

colors = environment_colors(table["environment_slug"].tolist())
series = series_frame(data.series or {})
kpi_row(kpis(table), series, days)
stale = table[table["stale"]]
if not stale.empty:
    st.warning(f"**Stale** — no run for more than {stale_days} days: "
               + ", ".join(f"{md(row.label)} ({days_ago(row.days_idle)})" for row in stale.itertuples()),
               icon=":material/schedule:")

# Same order on every ranked chart: busiest first, so a row reads across the three.
table = table.sort_values(["runs", "runs_all_time"], ascending=False, ignore_index=True)
generation = st.session_state.get(state.ENV_GENERATION, 0)
picked = []
runs_col, cost_col, idle_col = st.columns(3)
with runs_col:
    picked.append(ranked_bars(
        table, "runs", title="Runs per environment", axis_title=f"Runs, last {days} days", colors=colors,
        key=f"env.runs.{generation}", text=lambda v: f"{int(v):,}",
        hover=lambda r: f"{plotly_text(r['label'])}<br>{int(r['runs']):,} runs in {days} days<br>{int(r['runs_all_time']):,} all time"))
with cost_col:
    picked.append(ranked_bars(
        table, "cost", title="Cost per environment", axis_title="Cost (USD)", colors=colors, key=f"env.cost.{generation}",
        text=usd, tickformat=usd_axis_format(float(table["cost"].max())),
        hover=lambda r: f"{plotly_text(r['label'])}<br>{usd(r['cost'])} in {days} days<br>{usd(r['avg_cost'])} per run"))
with idle_col:
    picked.append(ranked_bars(
        table, "days_idle", title="Days since the last run", axis_title="Days idle", colors=colors,
        key=f"env.idle.{generation}", text=lambda v: "never" if pd.isna(v) else f"{v:.1f}", stale_days=float(stale_days),
        hover=lambda r: f"{plotly_text(r['label'])}<br>Last run {days_ago(r['days_idle'])}" + ("<br>Stale" if r['stale'] else "")))

if not series.empty:
    daily_runs_col, daily_cost_col = st.columns(2)
    with daily_runs_col:
        over_time(series, table, "runs", title=f"Runs per day, last {days} days", axis_title="Runs", colors=colors,
                  key="env.daily_runs")
    with daily_cost_col:
        over_time(series, table, "cost", title=f"Cost per day, last {days} days", axis_title="Cost (USD)", colors=colors,
                  key="env.daily_cost", money=True)

failure_col, average_col = st.columns(2)
with failure_col:
    picked.append(ranked_bars(
        table, "failure_rate", title="Failure rate", axis_title="Failed runs (%)", colors=colors,
        key=f"env.failures.{generation}", text=percent, tickformat=".0%",
        hover=lambda r: f"{plotly_text(r['label'])}<br>{int(r['failed']):,} of {int(r['runs']):,} runs failed"))
with average_col:
    picked.append(ranked_bars(
        table, "avg_cost", title="Average cost per run", axis_title="Cost per run (USD)", colors=colors,
        key=f"env.average.{generation}", text=usd, tickformat=usd_axis_format(float(table["avg_cost"].max(skipna=True) or 0)),
        hover=lambda r: f"{plotly_text(r['label'])}<br>{usd(r['avg_cost'])} per run over {int(r['runs']):,} runs"))

st.subheader("Every environment", anchor=False)
st.caption("Click a bar or select a row to open that environment's runs and its most expensive trace.")
picked.append(environments_table(table, colors, key=f"env.table.{generation}"))
st.download_button("Download CSV", csv_export(table), file_name=f"{conn.agent}-environments.csv", mime="text/csv",
                   icon=":material/download:")

focus = next((slug for slug in picked if slug), None)
if focus:
    drill_through(conn, table[table["environment_slug"] == focus].iloc[0], origin=origin, days=days)
