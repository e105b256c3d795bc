"""The draft editor: a TestRequest built from tables (steps, edges, parameters) and JSON fields.

State model: a *base* request (from a template, an import or applied raw JSON) plus the editors'
own widget state. Each script run composes the current request from what the editors show, so
nothing typed is lost across reruns or page switches; loading a new base bumps a version number
that gives the editors fresh keys.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import streamlit as st

from components.parameter_form import ParameterForm, set_form_values
from fruxon_playground.api.models import ParameterMetadata
from fruxon_playground.contract.validation import RequestInvalid, validate_test_body
from fruxon_playground.drafts import TEMPLATES, draft_from_json, draft_to_json, restore_secrets, strip_secrets

PREFIX = "draft"
BASE = f"{PREFIX}.base"
VERSION = f"{PREFIX}.version"
CURRENT = f"{PREFIX}.current"  # the request as composed on the last run (not a widget: survives page switches)
STEP_TYPES = ["ENTRY_POINT", "AGENT", "TOOL", "CLAUDE_BOX", "EXIT_POINT"]
PARAM_TYPES = ["STRING", "INTEGER", "FLOAT", "BOOLEAN", "OPTION", "STRING_ARRAY", "JSON", "DICTIONARY", "ASSET", "TOOL"]
CORE_STEP_KEYS = ("identifier", "type", "name")


@dataclass
class DraftState:
    request: dict[str, Any]  # the TestRequest as it would be sent (wire JSON)
    problems: list[tuple[str, str]] = field(default_factory=list)  # (field path, message), all at once
    status: int | None = None  # 400 or 422 when invalid


def load_base(request: dict[str, Any]) -> None:
    """Replace the draft being edited (template, import, raw JSON); the editors start over."""
    st.session_state[BASE] = copy.deepcopy(request)
    st.session_state[CURRENT] = copy.deepcopy(request)
    st.session_state[VERSION] = st.session_state.get(VERSION, 0) + 1


def _key(name: str) -> str:
    return f"{PREFIX}.v{st.session_state[VERSION]}.{name}"


def ensure_draft() -> None:
    if BASE not in st.session_state:
        first = next(iter(TEMPLATES.values()))
        load_base(first.request)
    elif _key("steps") not in st.session_state and st.session_state.get(CURRENT) != st.session_state[BASE]:
        # Streamlit drops widget state when the page is left; the draft as last composed survives.
        load_base(st.session_state[CURRENT])


def draft_sources(previous_run_request: dict[str, Any] | None = None) -> None:
    """Templates, file import, and the draft of the last run."""
    ensure_draft()
    if previous_run_request and st.button("Reload the draft of the last run", key=f"{PREFIX}.from_run",
                                          icon=":material/history:"):
        load_base(previous_run_request)
        st.rerun()
    names = list(TEMPLATES)
    template_col, button_col = st.columns([4, 1], vertical_alignment="bottom")
    chosen = template_col.selectbox("Start from a template", names, key=f"{PREFIX}.template",
                                    format_func=lambda n: f"{TEMPLATES[n].name} — {TEMPLATES[n].description}")
    if button_col.button("Load", key=f"{PREFIX}.load_template", width="stretch"):
        load_base(TEMPLATES[chosen].request)
        st.rerun()
    uploaded = st.file_uploader("…or import a draft JSON file (a TestRequest, or a saved run / response with one)",
                                type=["json"], key=f"{PREFIX}.import.{st.session_state[VERSION]}")
    if uploaded is not None:
        try:
            load_base(draft_from_json(uploaded.getvalue()))
            st.rerun()
        except ValueError as exc:
            st.error(f"“{uploaded.name}” could not be imported: {exc}")


def _steps_frame(steps: list[dict[str, Any]]) -> pd.DataFrame:
    return pd.DataFrame(
        [{"identifier": s.get("identifier", ""), "type": s.get("type", "AGENT"), "name": s.get("name", "")} for s in steps],
        columns=list(CORE_STEP_KEYS),
    )


def _rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{k: (None if pd.isna(v) else v) for k, v in row.items()} for row in frame.to_dict("records")]


def _edit_steps(base: dict[str, Any]) -> list[dict[str, Any]]:
    base_steps = (base.get("flow") or {}).get("steps") or []
    st.caption("Steps — add rows for new steps; select one below to edit its configuration.")
    edited = st.data_editor(
        _steps_frame(base_steps),
        key=_key("steps"),
        num_rows="dynamic",
        width="stretch",
        column_config={
            "identifier": st.column_config.TextColumn("Identifier", required=True),
            "type": st.column_config.SelectboxColumn("Type", options=STEP_TYPES, required=True),
            "name": st.column_config.TextColumn("Name"),
        },
    )
    configs = {s.get("identifier"): {k: v for k, v in s.items() if k not in CORE_STEP_KEYS} for s in base_steps}
    steps = []
    for row in _rows(edited):
        identifier = (row.get("identifier") or "").strip()
        step = {"type": row.get("type") or "AGENT", "identifier": identifier, "name": row.get("name") or identifier}
        step.update(_step_config(identifier, configs.get(identifier, {})))
        steps.append(step)
    identifiers = [s["identifier"] for s in steps if s["identifier"]]
    if identifiers:
        selected = st.selectbox("Configure step", identifiers, key=_key("config_step"))
        config_key = _key(f"config.{selected}")
        st.text_area(f"Configuration of “{selected}” (JSON: provider, prompts, tools, parameters, output…)",
                     key=config_key, height=220)
    return steps


def _step_config(identifier: str, base_config: dict[str, Any]) -> dict[str, Any]:
    config_key = _key(f"config.{identifier}")
    if config_key not in st.session_state:
        st.session_state[config_key] = json.dumps(base_config, indent=2, ensure_ascii=False)
    try:
        parsed = json.loads(st.session_state[config_key] or "{}")
    except json.JSONDecodeError:
        return {"__invalid_config__": st.session_state[config_key]}
    return parsed if isinstance(parsed, dict) else {"__invalid_config__": st.session_state[config_key]}


def _edit_edges(base: dict[str, Any], identifiers: list[str]) -> list[dict[str, Any]]:
    edges = (base.get("flow") or {}).get("edges") or []
    st.caption("Edges — each row connects a source step to a target step.")
    edited = st.data_editor(
        pd.DataFrame([{"source": e.get("source"), "target": e.get("target")} for e in edges], columns=["source", "target"]),
        key=_key("edges"),
        num_rows="dynamic",
        width="stretch",
        column_config={
            "source": st.column_config.SelectboxColumn("Source", options=identifiers or [""], required=True),
            "target": st.column_config.SelectboxColumn("Target", options=identifiers or [""], required=True),
        },
    )
    return [{"source": r.get("source") or "", "target": r.get("target") or ""} for r in _rows(edited)]


def _edit_parameters(base: dict[str, Any]) -> list[dict[str, Any]]:
    metadata = base.get("parametersMetadata") or []
    st.caption("Declared parameters (kept identical on the ENTRY_POINT step). Options: comma-separated values.")
    frame = pd.DataFrame(
        [
            {
                "name": m.get("name", ""),
                "type": m.get("type") or m.get("typeName") or "STRING",
                "required": bool(m.get("required")),
                "defaultValue": m.get("defaultValue"),
                "description": m.get("description"),
                "options": ", ".join(str(o.get("value")) for o in (m.get("options") or [])),
            }
            for m in metadata
        ],
        columns=["name", "type", "required", "defaultValue", "description", "options"],
    )
    edited = st.data_editor(
        frame,
        key=_key("parameters"),
        num_rows="dynamic",
        width="stretch",
        column_config={
            "type": st.column_config.SelectboxColumn("type", options=PARAM_TYPES, required=True),
            "required": st.column_config.CheckboxColumn("required"),
        },
    )
    by_name = {m.get("name"): m for m in metadata}
    out = []
    for row in _rows(edited):
        name = (row.get("name") or "").strip()
        if not name:
            continue
        meta = {k: v for k, v in by_name.get(name, {}).items() if k not in {"options", "defaultValue", "description"}}
        meta.update({"name": name, "type": row.get("type") or "STRING", "required": bool(row.get("required"))})
        if row.get("defaultValue") not in (None, ""):
            meta["defaultValue"] = str(row["defaultValue"])
        if row.get("description"):
            meta["description"] = row["description"]
        options = [o.strip() for o in (row.get("options") or "").split(",") if o.strip()]
        if options:
            meta["options"] = [{"value": o, "label": o} for o in options]
        out.append(meta)
    return out


def _json_field(label: str, name: str, base_value: Any, problems: list[tuple[str, str]], *, height: int = 120) -> Any:
    key = _key(name)
    if key not in st.session_state:
        st.session_state[key] = json.dumps(base_value, indent=2, ensure_ascii=False) if base_value else ""
    text = st.text_area(label, key=key, height=height)
    if not text.strip():
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        problems.append((name, f"{label} is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})."))
        return None


def draft_editor(attachments: list[dict[str, Any]]) -> DraftState:
    """Draws the editor tabs and returns the composed, validated request."""
    ensure_draft()
    base = st.session_state[BASE]
    problems: list[tuple[str, str]] = []
    flow_tab, params_tab, files_tab, options_tab, raw_tab = st.tabs(
        ["Flow", "Parameters", "Assets & configs", "Run options", "Raw JSON"]
    )
    with flow_tab:
        steps = _edit_steps(base)
        edges = _edit_edges(base, [s["identifier"] for s in steps if s["identifier"]])
    with params_tab:
        metadata = _edit_parameters(base)
        st.caption("Values for this run")
        form = ParameterForm(f"{PREFIX}.values", [ParameterMetadata.model_validate(m) for m in metadata])
        if base.get("parameters") and not st.session_state.get(_key("values_seeded")):
            set_form_values(f"{PREFIX}.values", base["parameters"])
            st.session_state[_key("values_seeded")] = True
        json_problem = form.draw()
        if json_problem:
            problems.append(("parameters", json_problem))
    with files_tab:
        assets = _json_field("Assets (JSON list of {\"id\": …})", "assets", base.get("assets"), problems, height=80)
        st.caption("Secrets in configs show as •••• and are kept as they were unless you type a new value.")
        masked = strip_secrets({k: base.get(k) for k in ("llmConfigs", "integrationConfigs")})
        llm_configs = restore_secrets(
            _json_field("LLM configs (JSON list)", "llmConfigs", masked.get("llmConfigs"), problems), base.get("llmConfigs"))
        integration_configs = restore_secrets(
            _json_field("Integration configs (JSON list)", "integrationConfigs", masked.get("integrationConfigs"), problems),
            base.get("integrationConfigs"))
        bindings = _json_field("Integration bindings (JSON object)", "integrationBindings", base.get("integrationBindings"), problems, height=80)
        sub_agents = _json_field("Sub-agents (JSON list)", "subAgents", base.get("subAgents"), problems)
    with options_tab:
        base_revision_key = _key("baseRevision")
        st.session_state.setdefault(base_revision_key, int(base.get("baseRevision") or 0))
        base_revision = st.number_input("Base revision (0 = none: a new agent, secrets inline)", min_value=0, step=1, key=base_revision_key)
        mode = st.radio("Mode", ["", "PRODUCTION", "SANDBOX"], key=_key("mode"), horizontal=True,
                        format_func=lambda m: m or "Server default")
        session_id = st.text_input("Session id", key=f"{PREFIX}.session_id", placeholder="empty = new test session")

    entry = next((s for s in steps if s["type"] == "ENTRY_POINT"), None)
    if entry is not None:
        entry["parameters"] = metadata
        entry.pop("parametersMetadata", None)
    request: dict[str, Any] = {
        "flow": {"steps": steps, "edges": edges},
        "parametersMetadata": metadata or None,
        "parameters": form.values or None,
        "attachments": attachments or None,
        "assets": assets,
        "llmConfigs": llm_configs,
        "integrationConfigs": integration_configs,
        "integrationBindings": bindings,
        "subAgents": sub_agents,
        "baseRevision": int(base_revision),
        "mode": mode or None,
        "sessionId": session_id.strip() or None,
    }
    request = {k: v for k, v in request.items() if v is not None}
    st.session_state[CURRENT] = request
    for index, step in enumerate(steps):
        if "__invalid_config__" in step:
            problems.append((f"flow.steps[{index}]", f"The configuration of “{step['identifier']}” is not a valid JSON object."))
            step.pop("__invalid_config__")

    with raw_tab:
        st.caption("The whole request as it will be sent (config secrets masked). Edit and apply to replace the draft.")
        raw = st.text_area("Request JSON", value=json.dumps(strip_secrets(request), indent=2, ensure_ascii=False), height=360)
        if st.button("Apply JSON", key=_key("apply_raw")):
            try:
                load_base(restore_secrets(draft_from_json(raw), request))
                st.rerun()
            except ValueError as exc:
                st.error(f"Not applied: {exc}")
        st.download_button("Download draft JSON", draft_to_json(request), file_name="draft.json",
                           mime="application/json", help="Secrets in configs are masked; they are never exported.")

    status = None
    if not problems:
        try:
            validate_test_body(request)
        except RequestInvalid as invalid:
            status = invalid.status
            problems.extend((p.field, p.message) for p in invalid.problems)
    else:
        status = 400
    return DraftState(request=request, problems=problems, status=status)
