"""History: every run of this owner — search, filter, page; open, share, replay, re-run, compare, export, delete."""

import json

import streamlit as st

from components import state
from components.history import (
    TABLE,
    export_bundle_text,
    history_filters,
    page_controls,
    prepare_rerun,
    run_store,
    runs_frame,
    saved_run_caption,
)
from components.run_view import RunView
from components.safe import md
from components.trace_compare import compare_runs
from components.url_state import RUN_PARAM, find_run
from fruxon_playground.runs import ReplayHandle, RunHandle
from fruxon_playground.runs.record import FrozenRun, received_of_saved

state.require_app("pages/history.py")
st.title("History")
store = run_store()
if store is None:
    st.stop()
identity = st.session_state[state.IDENTITY]
owner = identity.owner
scope = None if identity.sees_all else owner  # the local user of a loopback server owns the whole file

# A run named in the URL: this owner's opens below the table; anyone else's opens read-only, alone.
open_id = st.query_params.get(RUN_PARAM)
opened = find_run(open_id) if open_id else None
if isinstance(opened, str):
    st.warning("The run in the link cannot be shown: " + opened)
    del st.query_params[RUN_PARAM]
    opened = None
saved_owner = opened.recorder.context.owner if isinstance(opened, RunHandle) and opened.recorder else (
    opened.owner if isinstance(opened, FrozenRun) else None)
if opened is not None and scope is not None and saved_owner != owner:
    st.info("A shared run, read-only. Its request has no secrets; no key is needed to view it.")
    if isinstance(opened, FrozenRun):
        st.caption(saved_run_caption(opened.head))
    shared_view = RunView(opened, None, key=f"shared.{opened.id}")
    shared_view.draw()
    if st.button("Go to my runs", icon=":material/arrow_back:"):
        del st.query_params[RUN_PARAM]
        st.rerun()
    shared_view.follow()
    st.stop()

with st.expander("Import a run bundle"):
    bundle = st.file_uploader("Run bundle (.json)", type=["json"], key="history.import")
    if bundle is not None and st.button("Import", key="history.import.go"):
        try:
            imported = store.import_bundle(json.loads(bundle.getvalue()), owner)
            st.success(f"Imported run {imported.id[:8]} ({md(imported.agent_id, limit=80)}).")
        except (ValueError, json.JSONDecodeError) as exc:
            st.error(f"“{md(bundle.name, limit=120)}” was not imported: {md(exc)}")

query = history_filters(store, scope)
page = page_controls(store.list(query), query)
if not page.items:
    filtered = bool(query.text or query.agent_id or query.status or query.kind)
    st.caption("No runs match these filters." if filtered else
               "No runs yet: every run from the Execute and Draft pages lands here, even when you leave the page.")
    st.stop()

picked = st.dataframe(runs_frame(page.items), hide_index=True, width="stretch", on_select="rerun",
                      selection_mode="multi-row", key=TABLE,
                      column_config={"Cost ($)": st.column_config.NumberColumn(format="%.7f")})
rows = picked.selection.rows if picked is not None else []
if len(rows) == 2:
    first, second = (store.get(page.items[i].id) for i in sorted(rows, reverse=True))  # older one is A
    if first is not None and second is not None:
        compare_runs(first, second)
    st.stop()
if len(rows) == 1 and page.items[rows[0]].id != open_id:
    st.query_params[RUN_PARAM] = page.items[rows[0]].id
    st.rerun()
if opened is None:
    st.caption("Select a run to open it, or two runs to compare them.")
    st.stop()

# Its light columns only: a big run's bodies are read when a button needs them, after the page drew.
head = opened.head if isinstance(opened, FrozenRun) else store.summary(opened.id)  # a live run: as saved so far
actions = st.columns([1, 1, 1, 1, 1, 1])
if head is not None and actions[0].button("Re-run", icon=":material/replay:", on_click=prepare_rerun,
                                          args=(store, head.id), help="Fill the form of its page with this request"):
    st.switch_page("pages/draft_test.py" if head.kind in ("test", "stream_test") else "pages/execute.py")
streamed = opened.kind.streamed and opened.finished
speed = actions[1].selectbox("Replay speed", [1.0, 2.0, 5.0, 20.0], format_func=lambda s: f"{s:g}×",
                             label_visibility="collapsed", disabled=not streamed, key="history.replay_speed")
if head is not None and actions[2].button("Replay", icon=":material/play_circle:", disabled=not streamed,
                                          help="Play the recorded stream in the panel below, with no API call"):
    saved = opened.saved if isinstance(opened, FrozenRun) else store.get(opened.id)
    if saved is not None:
        replay = ReplayHandle(opened.kind, saved.agent_id, saved.request, received_of_saved(saved), speed).start()
        st.session_state["history.replay"] = (saved.id, replay)
if head is not None:
    actions[3].download_button("Export", export_bundle_text(store, head.id),  # made on click, not on every rerun
                               file_name=f"run-{head.id[:8]}.json", mime="application/json",
                               icon=":material/download:")
if actions[4].button("Delete", icon=":material/delete:", help="Deletes the run; its share link stops working"):
    store.delete(opened.id, scope)
    del st.query_params[RUN_PARAM]
    st.rerun()
if actions[5].button("Close", icon=":material/close:"):
    del st.query_params[RUN_PARAM]
    st.rerun()
st.caption("Share (read-only, secrets removed; who can open it depends on this deployment's sign-in):")
st.code(f"{(st.context.url or '').split('?')[0].rstrip('/')}?{RUN_PARAM}={opened.id}", language=None)

replay_of, replay = st.session_state.get("history.replay") or (None, None)
if replay is not None and replay_of == opened.id:
    st.subheader(f"Replay at {speed:g}×")
    view = RunView(replay, None, key=f"history.replay.{replay.id}")
else:
    if head is not None:
        st.caption(saved_run_caption(head))
    view = RunView(opened, None, key=f"history.{opened.id}")
view.draw()
view.follow()
