"""Environments: where runs and money go, per end-customer environment, for the selected agent."""

import time

import streamlit as st

from components import state
from components.connection import require_agent
from components.environment_charts import bar, over_time, statuses
from components.run_result import trace_section
from fruxon_playground.analytics import records_frame, series_frame, status_breakdown, summaries_frame
from fruxon_playground.api import FruxonError

DAY_MS = 86_400_000

state.require_app("pages/environments.py")
st.title("Environments")
conn = require_agent("its runs are charted per environment.")

origin_col, range_col, stale_col = st.columns(3)
origin = origin_col.radio("Runs", ["PRODUCTION", "TEST"], horizontal=True, key="env.origin")
days = range_col.selectbox("Time range", [7, 30, 90], index=1, format_func=lambda d: f"last {d} days", key="env.days")
stale_days = stale_col.number_input("Stale after (days without runs)", min_value=1, value=7, key="env.stale")
now_ms = int(time.time() * 1000)
try:
    with conn.client() as client:
        summaries = client.environment_summaries(conn.agent, origin=origin)
        table = summaries_frame([s.dump() for s in summaries.items], stale_days=int(stale_days))
        slugs = list(table["environment_slug"])
        series = series_frame(client.environment_cost_timeseries(
            conn.agent, slugs, from_ms=now_ms - days * DAY_MS, to_ms=now_ms, origin=origin).dump()) if slugs else None
        records = records_frame([r.dump() for r in client.list_execution_records(
            conn.agent, origin=origin, start_time=now_ms - days * DAY_MS, page_size=100, limit=2000)])
except FruxonError as exc:
    st.error(f"The environment figures could not be loaded: {exc}")
    st.stop()

st.caption(f"`{conn.agent}` · {origin.lower()} runs"
           + (" · approximate: this server has no summaries endpoint, so these come from up to 2,000 execution records"
              if summaries.approximate else ""))
if table.empty:
    st.info("No runs with an environment yet for this agent. Runs that name an environmentSlug show up here.")
    st.stop()

left, middle, right = st.columns(3)
with left:
    clicked = bar(table, "execution_count", "Executions (all time)", key="env.executions")
with middle:
    clicked = bar(table, "total_cost", "Total cost (USD, all time)", key="env.cost") or clicked
with right:
    clicked = bar(table, "days_idle", "Days since the last run", key="env.idle", color="is_stale") or clicked
stale = table[table["is_stale"]]["environment_slug"].tolist()
if stale:
    st.warning(f"Stale (no runs for more than {stale_days} days): " + ", ".join(stale))

if series is not None and not series.empty:
    a, b = st.columns(2)
    with a:
        over_time(series, "executions", f"Daily executions, last {days} days", key="env.daily_runs")
    with b:
        over_time(series, "cost", f"Daily cost (USD), last {days} days", key="env.daily_cost")
c, d = st.columns(2)
with c:
    if not records.empty:
        statuses(status_breakdown(records), key="env.status")
with d:
    bar(table, "avg_cost_per_run", "Average cost per run (USD)", key="env.avg")

st.dataframe(table, hide_index=True, width="stretch",
             column_config={"total_cost": st.column_config.NumberColumn(format="%.6f"),
                            "avg_cost_per_run": st.column_config.NumberColumn(format="%.7f")})
st.download_button("Download CSV", table.to_csv(index=False), file_name=f"{conn.agent}-environments.csv", mime="text/csv",
                   icon=":material/download:")

focus = clicked or st.session_state.get("env.focus")
if clicked:
    st.session_state["env.focus"] = clicked
if focus:
    st.divider()
    st.subheader(f"Runs in {focus}")
    runs = records[records["environment_slug"] == focus].sort_values("start", ascending=False)
    st.dataframe(runs, hide_index=True, width="stretch")
    if not runs.empty:
        priciest = runs.sort_values("total_cost", ascending=False).iloc[0]
        st.caption(f"The most expensive run in the range: {priciest['id']} (${priciest['total_cost']:.6f})")
        try:
            with conn.client() as client:
                envelope = client.get_execution_trace(conn.agent, priciest["id"])
            trace_section(envelope.trace.dump() if envelope.trace else None, key=f"env.trace.{priciest['id']}")
        except FruxonError as exc:
            st.caption(f"Its trace could not be loaded: {exc}")
