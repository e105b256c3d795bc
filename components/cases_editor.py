"""The agent's test cases: the list, the editor (inputs and checks), import/export, and saving the
Execute form's inputs as a case.

Inputs and checks are edited as two small tables whose cells are written exactly like the CSV
import/export cells (`fruxon_playground.cases.io`), so what a person types here, in a spreadsheet
or in a file means the same. Case contents are untrusted text: they reach the page through
dataframes, `st.text` or `md()`.
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
import streamlit as st
from pydantic import ValidationError

from components.cases_data import (
    EDITOR_VERSION,
    NEW_CASE,
    NOTICE,
    case_scope,
    case_store,
    execute_form_request,
)
from components.connection import Connection
from components.safe import md
from fruxon_playground.api.models import ParameterMetadata
from fruxon_playground.cases.checks import KINDS
from fruxon_playground.cases.io import (
    CaseFormatError,
    check_from_text,
    check_to_text,
    decode_value,
    encode_value,
    from_csv,
    from_jsonl,
    to_csv,
    to_jsonl,
)
from fruxon_playground.cases.model import KIND_LABELS, TestCase, case_from_request, explain
from fruxon_playground.cases.store import CaseScope, CaseStore, DuplicateCaseName

LABEL_KINDS = {label: kind for kind, label in KIND_LABELS.items()}
CHECK_HELP = {
    "contains": "text (any letter case)", "not_contains": "text (any letter case)",
    "matches": r"a regular expression, e.g. within \d+ days", "json_path": '$.path = value, e.g. $.status = "ok"',
    "calls_tool": 'tool, tool {"arg": "value"} (a subset) or tool ~ regex', "no_failure": "nothing (or yes)",
    "max_cost": "USD, e.g. 0.01", "max_first_text_ms": "milliseconds", "max_total_ms": "milliseconds",
}


def _version() -> int:
    return int(st.session_state.setdefault(EDITOR_VERSION, 0))


def _fresh_editor() -> None:
    st.session_state[EDITOR_VERSION] = _version() + 1


def notice(kind: str, text: str) -> None:
    """A message shown once on the next run of the page (after the rerun a save causes)."""
    st.session_state[NOTICE] = (kind, text)


def show_notice() -> None:
    found = st.session_state.pop(NOTICE, None)
    if found:
        kind, text = found
        (st.success if kind == "success" else st.warning)(text)


def _cell(value: Any) -> str:
    """A data-editor cell as text ("" for an empty or new cell)."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    return str(value)


def _open_new(case: TestCase) -> None:
    """Button callback (before the script runs: one run per click): open an unsaved case in the editor."""
    st.session_state[NEW_CASE] = case
    _fresh_editor()


def _discard() -> None:
    st.session_state.pop(NEW_CASE, None)


def _delete(store: CaseStore, scope: CaseScope, case: TestCase) -> None:
    store.delete_case(scope, case.id)
    notice("success", f"Deleted “{md(case.name, limit=120)}”.")
    _fresh_editor()


def cases_frame(cases: list[TestCase]) -> pd.DataFrame:
    return pd.DataFrame(
        [{"Name": c.name,
          "Inputs": json.dumps(c.parameters, ensure_ascii=False)[:200],
          "Checks": len(c.checks),
          "What they check": "; ".join(check.label for check in c.checks) or "must not fail (implicit)"}
         for c in cases],
        columns=["Name", "Inputs", "Checks", "What they check"],
    )


def cases_list(cases: list[TestCase], conn: Connection) -> TestCase | None:
    """The cases table and the buttons that open one in the editor; returns the case to edit."""
    picked = st.dataframe(cases_frame(cases), hide_index=True, width="stretch", on_select="rerun",
                          selection_mode="single-row", key=f"cases.table.{_version()}",
                          column_config={"Checks": st.column_config.NumberColumn(width="small")})
    new_col, form_col, _ = st.columns([1, 2, 3])
    new_col.button("New case", icon=":material/add:", key="cases.new", width="stretch", on_click=_open_new,
                   args=(TestCase(name="New case", agent=conn.agent or ""),))
    request = execute_form_request(conn)
    form_col.button("Add from the Execute form", icon=":material/input:", key="cases.from_form", width="stretch",
                    disabled=request is None, on_click=_open_new,
                    args=(case_from_request(conn.agent or "", "Case from the Execute form", request or {},
                                            secrets=(conn.settings.api_key,)),),
                    help="A new case with the inputs the Execute form holds for this agent now"
                    if request is not None else "Open “Execute agent” for this agent first")
    rows = picked.selection.rows if picked is not None else []
    if rows:
        st.session_state.pop(NEW_CASE, None)
        return cases[rows[0]]
    new: TestCase | None = st.session_state.get(NEW_CASE)
    if new is None and cases:
        st.caption("Select a case to edit its inputs and checks.")
    return new


def _parameters_frame(case: TestCase, metadata: list[ParameterMetadata]) -> pd.DataFrame:
    names = [m.name for m in metadata] + [n for n in case.parameters if n not in {m.name for m in metadata}]
    return pd.DataFrame([{"Parameter": n, "Value": encode_value(case.parameters[n]) if n in case.parameters else ""}
                         for n in names], columns=["Parameter", "Value"])


def _checks_frame(case: TestCase) -> pd.DataFrame:
    return pd.DataFrame([{"Check": KIND_LABELS[c.kind], "Value": "" if c.kind == "no_failure" else check_to_text(c.as_json())}
                         for c in case.checks], columns=["Check", "Value"])


def _read_editor(case: TestCase, name: str, parameters: pd.DataFrame, checks: pd.DataFrame,
                 chat_user_text: str) -> tuple[TestCase | None, list[str]]:
    problems: list[str] = []
    values: dict[str, Any] = {}
    for number, row in enumerate(parameters.to_dict("records"), start=1):
        parameter, value = _cell(row.get("Parameter")).strip(), _cell(row.get("Value"))
        if not parameter:
            if value:
                problems.append(f"Input row {number}: the value has no parameter name.")
            continue
        if value != "":
            values[parameter] = decode_value(value)
    found = []
    for number, row in enumerate(checks.to_dict("records"), start=1):
        label, text = _cell(row.get("Check")), _cell(row.get("Value"))
        if not label and not text:
            continue
        kind = LABEL_KINDS.get(label)
        if kind is None:
            problems.append(f"Check row {number}: pick what it checks.")
            continue
        try:
            found.append(check_from_text(kind, text or ("yes" if kind == "no_failure" else "")))
        except ValueError as exc:
            problems.append(f"Check row {number} ({label}): {exc}")
    chat_user = None
    if chat_user_text.strip():
        try:
            chat_user = json.loads(chat_user_text)
        except json.JSONDecodeError as exc:
            problems.append(f"Chat user: not JSON ({exc.msg}).")
    if problems:
        return None, problems
    try:
        return TestCase(id=case.id, name=name, agent=case.agent, parameters=values, attachments=case.attachments,
                        chat_user=chat_user, checks=found), []
    except ValidationError as exc:
        return None, [explain(exc)]


def case_editor(store: CaseStore, scope: CaseScope, case: TestCase, metadata: list[ParameterMetadata], *,
                saved: bool) -> None:
    """Edit one case (a saved one, or a new one not saved yet) and save or delete it."""
    key = f"cases.edit.{case.id}.{_version()}"
    with st.form(key, border=True):
        st.markdown(f"**{'Edit' if saved else 'New'} case**")
        name = st.text_input("Name", value=case.name, key=f"{key}.name", max_chars=200)
        inputs_col, checks_col = st.columns(2, gap="medium")
        with inputs_col:
            parameters = st.data_editor(
                _parameters_frame(case, metadata), key=f"{key}.parameters", num_rows="dynamic", width="stretch",
                hide_index=True, column_config={
                    "Parameter": st.column_config.TextColumn(width="small"),
                    "Value": st.column_config.TextColumn(help="Text as typed; numbers, true/false, lists and objects "
                                                              "as JSON; empty leaves the parameter out.")})
            chat_user = st.text_input("Chat user (JSON, deployed runs only)", key=f"{key}.chat_user",
                                      value=json.dumps(case.chat_user, ensure_ascii=False) if case.chat_user else "",
                                      placeholder='{"id": "user_42"}')
            if case.attachments:
                st.caption(f"{len(case.attachments)} attachment(s) from the Execute form are kept.")
        with checks_col:
            checks = st.data_editor(
                _checks_frame(case), key=f"{key}.checks", num_rows="dynamic", width="stretch", hide_index=True,
                column_config={"Check": st.column_config.SelectboxColumn(options=[KIND_LABELS[k] for k in KINDS],
                                                                         width="medium"),
                               "Value": st.column_config.TextColumn(help="; ".join(
                                   f"{KIND_LABELS[k]}: {h}" for k, h in CHECK_HELP.items()))})
            st.caption("Values: text · regex · `$.path = value` · `tool`, `tool {\"arg\": 1}` or `tool ~ regex` · "
                       "USD · ms. A case without checks must at least not fail.")
        submitted = st.form_submit_button("Save case", type="primary", icon=":material/save:")
    if submitted:
        edited, problems = _read_editor(case, name, parameters, checks, chat_user)
        if problems:
            st.error("Not saved:\n\n" + "\n".join(f"- {md(p)}" for p in problems))
        else:
            try:
                store.save_case(scope, edited)
            except DuplicateCaseName as exc:
                st.error(md(exc))
            else:
                st.session_state.pop(NEW_CASE, None)
                notice("success", f"Saved “{md(edited.name, limit=120)}”.")
                _fresh_editor()
                st.rerun()
    if saved:
        st.button("Delete this case", icon=":material/delete:", key=f"{key}.delete", on_click=_delete,
                  args=(store, scope, case))
    else:
        st.button("Discard", key=f"{key}.discard", on_click=_discard)


def import_export(store: CaseStore, scope: CaseScope, cases: list[TestCase]) -> None:
    upload_col, export_col = st.columns([3, 2], gap="large")
    with upload_col:
        uploaded = st.file_uploader("Import cases (.jsonl or .csv)", type=["jsonl", "csv"],
                                    key=f"cases.import.{_version()}",
                                    help="A case named like an existing one replaces it. CSV: columns name, "
                                         "param:<name>…, check:<kind>… (export one to see).")
        if uploaded is not None and st.button("Import", key="cases.import.go", icon=":material/upload:"):
            try:
                text = uploaded.getvalue().decode("utf-8-sig")
                found = from_csv(text, scope.agent) if uploaded.name.lower().endswith(".csv") \
                    else from_jsonl(text, scope.agent)
            except UnicodeDecodeError:
                st.error(f"“{md(uploaded.name)}” is not UTF-8 text; nothing was imported.")
            except CaseFormatError as exc:
                st.error(f"Nothing was imported from “{md(uploaded.name)}”; fix these first:\n\n"
                         + "\n".join(f"- {md(p)}" for p in exc.problems[:20]))
            else:
                added, replaced = store.import_cases(scope, found)
                notice("success", f"Imported {added} new case(s)" + (f", replaced {replaced}." if replaced else "."))
                _fresh_editor()
                st.rerun()
    with export_col:
        st.caption(f"Export the {len(cases)} case(s)")
        left, right = st.columns(2)
        left.download_button("JSONL", to_jsonl(cases), file_name=f"{scope.agent}-cases.jsonl", mime="application/jsonl",
                             icon=":material/download:", disabled=not cases, key="cases.export.jsonl", width="stretch")
        right.download_button("CSV", to_csv(cases), file_name=f"{scope.agent}-cases.csv", mime="text/csv",
                              icon=":material/download:", disabled=not cases, key="cases.export.csv", width="stretch")


def save_case_from_form(conn: Connection, request: dict[str, Any] | None, *, key: str = "execute.save_case") -> None:
    """A “Save as test case” popover for the Execute page: names the form's current inputs (parameters,
    attachments, chat user) as a test case of the agent. Checks are added on the Test cases page."""
    if not conn.agent:
        return
    with st.popover("Save as test case", icon=":material/playlist_add:", disabled=request is None,
                    help="Fix the form first" if request is None else None):
        store = case_store()
        name = st.text_input("Case name", key=f"{key}.name", placeholder="e.g. Refund question, formal tone")
        if st.button("Save case", key=f"{key}.go", type="primary", disabled=store is None or not name.strip()):
            case = case_from_request(conn.agent, name, request or {}, secrets=(conn.settings.api_key,))
            try:
                store.save_case(case_scope(conn), case)  # type: ignore[union-attr]
            except DuplicateCaseName as exc:
                st.error(md(exc))
            else:
                st.success(f"Saved “{md(case.name, limit=120)}”. Add its checks on the Test cases page.")
