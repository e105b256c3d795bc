"""The trace viewer on a page (Streamlit AppTest): what it mounts, what it sends, what it answers.

The browser side (drawing, keys, clicks) is in tests/browser/test_trace_viewer.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from fruxon_playground.trace.rows import ORPHAN, unpack_details, unpack_rows
from tests.app.test_pages import button, instant_sandbox, start, text_area  # noqa: F401 (autouse fixture)

ROOT = Path(__file__).resolve().parents[2]
COMPONENT = "fruxon_playground.trace_viewer"
T0 = 1_767_225_600_000

PAGE = f"""
import json, sys
sys.path.insert(0, {str(ROOT)!r})
import streamlit as st
from components.run_result import trace_section
from fruxon_playground.trace import random_trace

source = st.session_state.get("source")
trace_section(json.loads(source) if isinstance(source, str) else source, key="t")
"""


def page(source: object) -> AppTest:
    at = AppTest.from_string(PAGE, default_timeout=30)
    at.session_state["source"] = source
    return at.run()


def viewers(at: AppTest) -> list:
    return [e for e in at.get("bidi_component") if e.proto.component_name == COMPONENT]


def tree_payload(at: AppTest) -> tuple[dict, list | None]:
    """The rows of the viewer, and the details sent after them (None when they stay in Python)."""
    sent = [v.proto.bytes for v in viewers(at) if v.proto.WhichOneof("data") == "bytes"]
    (tree,) = [b for b in sent if b.startswith(b"FXTV1")]
    details = [b for b in sent if b.startswith(b"FXTD1")]
    rows = unpack_rows(tree)
    if not details:
        return rows, None
    digest, steps = unpack_details(details)
    assert digest == tree[6:38].decode()
    return rows, steps


def step(id_: str, start: int, end: int, **extra: object) -> dict:
    return {"id": id_, "displayName": id_, "type": "LLM_STEP", "status": "SUCCESS", "startTime": T0 + start,
            "endTime": T0 + end, "duration": end - start, "steps": [], **extra}


def test_a_small_trace_mounts_one_viewer_with_every_step_and_its_details() -> None:
    at = page({"agentId": "a", "traces": [step("root", 0, 100, type="FLOW_STEP",
                                               steps=[step("one", 5, 40), step("two", 50, 90)])]})
    assert not at.exception
    rows, details = tree_payload(at)
    assert rows["id"] == ["root", "one", "two"] and rows["label"] == "t" and len(details) == 3
    assert len(viewers(at)) == 2  # the tree, then the details: no detail feed, so clicks never reach Python
    assert [b.label for b in at.get("download_button")] == ["Download trace JSON"]
    assert not at.caption and not at.markdown


def test_an_empty_trace_says_so_and_mounts_nothing() -> None:
    at = page({"agentId": "a", "traces": []})
    assert not at.exception and not viewers(at)
    assert [c.value for c in at.caption] == ["This trace has no steps."]
    at = page(None)
    assert not viewers(at) and "No trace yet" in at.caption[0].value


def test_orphans_and_unknown_kinds_are_drawn_and_warned_about_inside_the_viewer() -> None:
    hostile = "[warn](javascript:alert(1)) ![x](http://127.0.0.1:9/leak.png)"
    source = [step("root", 0, 100, type="FLOW_STEP", steps=[step("odd", 10, 20, type=hostile)]),
              step("lost", 30, 60) | {"parentId": "ghost"}]
    at = page(json.dumps(source))
    assert not at.exception
    rows, _ = tree_payload(at)
    by_id = {step_id: index for index, step_id in enumerate(rows["id"])}
    assert rows["flags"][by_id["lost"]] & ORPHAN and rows["run"]["orphans"] == 1
    assert rows["kinds"][rows["kind"][by_id["odd"]]] == "UNKNOWN"
    assert rows["types"][rows["type"][by_id["odd"]]] == hostile
    assert any(hostile[:20] in line for line in rows["run"]["warnings"])  # shown by the viewer, as text
    assert not at.markdown and not at.caption  # nothing of the trace went through Markdown


def test_a_trace_too_big_to_send_along_answers_one_step_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("fruxon_playground.trace.rows.INLINE_DETAILS_BYTES", 10_000)  # 400 steps are ~250 kB
    at = AppTest.from_string(PAGE.replace("source = st.session_state.get(\"source\")",
                                          "source = random_trace(400, seed=3)"), default_timeout=30).run()
    rows, details = tree_payload(at)
    assert details is None and rows["n"] == 400
    (feed,) = [v for v in viewers(at) if v.proto.WhichOneof("data") == "json"]
    asked = json.loads(feed.proto.json)
    assert asked["mode"] == "detail" and asked["view"] == "t" and asked["detail"] is None
    wanted = rows["id"][17]
    at.session_state["t.ask"] = {"want": {"digest": asked["digest"], "id": wanted, "seq": 1}}
    at.run()
    (feed,) = [v for v in viewers(at) if v.proto.WhichOneof("data") == "json"]
    answer = json.loads(feed.proto.json)
    assert answer["id"] == wanted and json.loads(answer["detail"])["raw"]["id"] == wanted
    at.session_state["t.ask"] = {"want": {"digest": "an older version", "id": rows["id"][3], "seq": 2}}
    at.run()
    (feed,) = [v for v in viewers(at) if v.proto.WhichOneof("data") == "json"]
    assert json.loads(feed.proto.json)["detail"] is None  # a request about another version gets no answer


def test_details_bigger_than_a_chunk_arrive_in_several_that_add_up(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("fruxon_playground.trace.rows.DETAIL_CHUNK_BYTES", 30_000)
    at = AppTest.from_string(PAGE.replace("source = st.session_state.get(\"source\")",
                                          "source = random_trace(400, seed=3)"), default_timeout=30).run()
    chunks = [v for v in viewers(at) if v.proto.WhichOneof("data") == "bytes" and v.proto.bytes.startswith(b"FXTD1")]
    assert len(chunks) > 4
    rows, details = tree_payload(at)
    assert [d["raw"]["id"] for d in details] == rows["id"]


def test_a_rerun_of_the_page_sends_the_same_payload_without_packing_again(monkeypatch: pytest.MonkeyPatch) -> None:
    import components.trace_viewer as viewer

    packed = []
    original = viewer.TraceView.of
    monkeypatch.setattr(viewer.TraceView, "of", lambda *a, **k: packed.append(1) or original(*a, **k))
    at = page({"traces": [step("root", 0, 100)]})
    first = [v.proto.bytes for v in viewers(at)]
    at.run()
    assert [v.proto.bytes for v in viewers(at)] == first and len(packed) == 1
    at.session_state["source"] = {"traces": [step("root", 0, 120)]}  # the trace changed: packed again
    at.run()
    assert len(packed) == 2 and tree_payload(at)[0]["total"] == [120]


def test_the_viewer_opens_after_a_sandbox_run() -> None:
    at = start()
    at.sidebar.selectbox[0].set_value("trip_planner").run()
    text_area(at, "City *").input("Oslo").run()
    button(at, "Run").click().run()
    assert not at.exception
    rows, details = tree_payload(at)
    assert rows["n"] == 10 and len(details) == 10
    assert rows["name"][0] == "Agent" and "Research sub-agent" in rows["name"]
    assert rows["run"]["agent"] == "trip_planner"


def test_a_saved_run_draws_the_view_stored_with_it_without_building_its_trace(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    import fruxon_playground.trace.builder as builder
    from fruxon_playground.history import SavedRun, open_store
    from fruxon_playground.trace import build_trace, random_trace
    from fruxon_playground.trace.rows import TraceView

    trace = random_trace(300, seed=8)
    saved = open_store(os.environ["PLAYGROUND_HISTORY_PATH"]).save(
        SavedRun(kind="execute", agent_id="support_agent", request={}, status="completed", owner="someone", trace=trace))
    expected = build_trace(trace)
    built: list[int] = []
    original = builder.build_trace
    monkeypatch.setattr(builder, "build_trace", lambda *a, **k: built.append(1) or original(*a, **k))
    monkeypatch.setattr("components.trace_viewer.build_trace", builder.build_trace)
    at = start()
    at.switch_page(str(ROOT / "pages/history.py"))
    at.query_params["run"] = saved.id
    at.run(timeout=60)
    assert not at.exception, [e.message for e in at.exception]
    rows, details = tree_payload(at)
    assert rows["id"] == list(expected.spans) and len(details) == 300
    assert rows == {**unpack_rows(TraceView.of(expected).rows_payload()), "label": rows["label"]}
    assert built == []  # read as stored, not built again
    assert "Download trace JSON" in [b.label for b in at.get("download_button")]
