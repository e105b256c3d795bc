"""History: this browser session's runs — open, share, export/import, replay, re-run, compare, delete."""

import json

import streamlit as st

from components import state
from components.history import prepare_rerun, run_store, runs_frame, saved_run_caption
from components.run_view import RunView
from components.safe import md
from components.trace_compare import compare_runs
from fruxon_playground.history import RunQuery
from fruxon_playground.runs import ReplayHandle, RunKind
from fruxon_playground.runs.record import FrozenRun, received_of_saved

state.require_app("pages/history.py")
st.title("History")
store = run_store()
if store is None:
    st.stop()
owner = st.session_state[state.OWNER]

shared_id = st.query_params.get("run")
if shared_id:
    shared = store.get(shared_id)
    if shared is None:
        st.error(f"No saved run has the id “{md(shared_id, limit=80)}” on this deployment.")
    else:
        st.info("A shared run, read-only. Its request has no secrets; no key is needed to view it.")
        st.caption(saved_run_caption(shared))
        RunView(FrozenRun.of(shared), None, key=f"shared.{shared.id}").draw()
    if st.button("Back to my runs", icon=":material/arrow_back:"):
        st.query_params.clear()
        st.rerun()
    st.stop()

with st.expander("Import a run bundle"):
    bundle = st.file_uploader("Run bundle (.json)", type=["json"], key="history.import")
    if bundle is not None and st.button("Import", key="history.import.go"):
        try:
            imported = store.import_bundle(json.loads(bundle.getvalue()), owner)
            st.success(f"Imported run {imported.id[:8]} ({imported.agent_id}).")
        except (ValueError, json.JSONDecodeError) as exc:
            st.error(f"“{bundle.name}” was not imported: {exc}")

agent_col, status_col, kind_col, text_col = st.columns(4)
agent = agent_col.selectbox("Agent", ["all", *store.distinct_agents(owner)], key="history.agent")
status = status_col.selectbox("Status", ["all", *store.distinct_statuses(owner)], key="history.status")
kind = kind_col.selectbox("Kind", ["all", "execute", "stream", "test", "stream_test"], key="history.kind")
text = text_col.text_input("Text in request or answer", key="history.text")
runs = store.list(RunQuery(owner, agent_id=None if agent == "all" else agent, status=None if status == "all" else status,
                           kind=None if kind == "all" else kind, text=text or None, limit=500)).items
if not runs:
    st.caption("No runs yet in this browser session: every run from the Execute and Draft pages lands here.")
    st.stop()

picked = st.dataframe(runs_frame(runs), hide_index=True, width="stretch", on_select="rerun",
                      selection_mode="multi-row", key="history.table",
                      column_config={"Cost ($)": st.column_config.NumberColumn(format="%.7f")})
rows = picked.selection.rows if picked is not None else []
if len(rows) == 2:
    compare_runs(store.get(runs[rows[0]].id), store.get(runs[rows[1]].id))
    st.stop()
if not rows:
    st.caption("Select a run to open it, or two runs to compare them.")
    st.stop()

run = store.get(runs[rows[0]].id)
if run is None:  # deleted in another tab or by its owner meanwhile
    st.rerun()
actions = st.columns(5)
if actions[0].button("Re-run", icon=":material/replay:", help="Fill the form of its page with this request",
                     on_click=prepare_rerun, args=(run,)):
    st.switch_page("pages/draft_test.py" if run.kind in ("test", "stream_test") else "pages/execute.py")
speed = actions[1].selectbox("Replay speed", [1.0, 2.0, 5.0, 20.0], format_func=lambda s: f"{s:g}×",
                             label_visibility="collapsed", disabled=not run.streamed)
if actions[2].button("Replay", icon=":material/play_circle:", disabled=not run.streamed,
                     help="Play the recorded stream in the live panel, with no API call"):
    handle = ReplayHandle(RunKind(run.kind), run.agent_id, run.request, received_of_saved(run), speed).start()
    st.session_state["history.replay"] = (run.id, handle)
actions[3].download_button("Export", json.dumps(store.export_bundle(run.id), indent=2, ensure_ascii=False),
                           file_name=f"run-{run.id[:8]}.json", mime="application/json", icon=":material/download:")
if actions[4].button("Delete", icon=":material/delete:"):
    store.delete(run.id, owner)
    st.rerun()
st.caption("Share (read-only, no key needed, secrets removed):")
st.code(f"{st.context.url.split('?')[0].rstrip('/')}?run={run.id}", language=None)

replay_of, replay = st.session_state.get("history.replay") or (None, None)
if replay is not None and replay_of == run.id:
    st.subheader(f"Replay at {speed:g}×")
    view = RunView(replay, None, key=f"history.replay.{replay.id}")
    view.draw()
    view.follow()
else:
    st.caption(saved_run_caption(run))
    RunView(FrozenRun.of(run), None, key=f"history.{run.id}").draw()
