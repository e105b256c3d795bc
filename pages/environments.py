"""Environments: where runs and money go, per end-customer environment, for the selected agent."""

import pandas as pd
import streamlit as st

from components import state
from components.connection import require_agent
from components.environment_charts import (
    csv_export,
    dashboard_charts,
    drill_through,
    environment_colors,
    environments_table,
    kpi_row,
    read_dashboard,
)
from components.remote_runs import CACHE_TTL_S, ORIGIN_LABELS, refresh_control, show_error
from components.safe import md
from fruxon_playground.analytics import (
    days_ago,
    kpis,
    series_frame,
    summaries_frame,
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

# Same order on every ranked chart: busiest first, so a row reads across them.
table = table.sort_values(["runs", "runs_all_time"], ascending=False, ignore_index=True)
generation = st.session_state.get(state.ENV_GENERATION, 0)
picked = [dashboard_charts(table, series, days=days, stale_days=float(stale_days), colors=colors, generation=generation)]

st.subheader("Every environment", anchor=False)
st.caption("Click a bar or select a row to open that environment's runs and its most expensive trace.")
picked.append(environments_table(table, colors, key=f"env.table.{generation}"))
st.download_button("Download CSV", csv_export(table), file_name=f"{conn.agent}-environments.csv", mime="text/csv",
                   icon=":material/download:")

focus = next((slug for slug in picked if slug), None)
if focus:
    drill_through(conn, table[table["environment_slug"] == focus].iloc[0], origin=origin, days=days)
