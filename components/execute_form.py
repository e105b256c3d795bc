"""The Execute page's request form: parameters, attachments, run options, and the run buttons."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import streamlit as st

from components import state
from components.attachments import attachments_editor
from components.connection import Connection
from components.parameter_form import ParameterForm, set_form_values
from components.run_options import MODES, run_options, session_key
from components.safe import md
from fruxon_playground.api.models import ExecuteRequest, ParameterMetadata
from fruxon_playground.contract.validation import validate_parameters
from fruxon_playground.runs.handle import RunKind
from fruxon_playground.snippets import ParsedCurl

PREFIX = "execute"


@dataclass
class ExecuteForm:
    request: dict[str, Any] | None  # wire JSON, None while something must be fixed first
    run: RunKind | None  # which button was pressed this time
    problems: list[str] = field(default_factory=list)


def parameter_field_errors(field_errors: dict[str, list[str]] | None) -> dict[str, list[str]]:
    """`parameters.question` → `question`, so messages land next to their inputs."""
    out: dict[str, list[str]] = {}
    for path, messages in (field_errors or {}).items():
        if path.startswith("parameters."):
            out.setdefault(path.split(".", 1)[1], []).extend(messages)
    return out


def preflight_parameters(values: dict[str, Any], metadata: list[ParameterMetadata]) -> dict[str, list[str]]:
    """The server's own parameter checks, run before anything is sent."""
    if not metadata:
        return {}
    wire = [m.model_dump(by_alias=True, exclude_none=True) for m in metadata]
    _, problems = validate_parameters(values, wire)
    errors: dict[str, list[str]] = {}
    for problem in problems:
        errors.setdefault(problem.field, []).append(problem.message)
    return parameter_field_errors(errors)


def form_prefix(conn: Connection) -> str:
    """The Execute form's session keys for this agent on this connection: each agent keeps its own
    inputs, options and attachments, so switching echo → support → echo brings echo's back."""
    where = f"{conn.settings.base_url}|{conn.settings.tenant}|{conn.agent}"
    return f"{PREFIX}.{hashlib.sha256(where.encode()).hexdigest()[:12]}"


def execute_form(
    conn: Connection,
    metadata: list[ParameterMetadata],
    environments: list[str],
    *,
    busy: bool,
    server_errors: dict[str, list[str]],
) -> ExecuteForm:
    prefix = form_prefix(conn)
    errors_key, attachments_key, blocked_key = f"{prefix}.field_errors", f"{prefix}.attachments", f"{prefix}.blocked"
    st.session_state.setdefault(attachments_key, [])
    # The last preflight's findings, else what the server said about the last run.
    field_errors = st.session_state.get(errors_key) or server_errors
    form = ParameterForm(f"{prefix}.params", metadata)
    st.subheader("Parameters")
    if not metadata:
        st.caption("This agent declares no parameters; you can still send any JSON object.")
    json_problem = form.draw(field_errors=parameter_field_errors(field_errors))
    with st.expander(f"Attachments ({len(st.session_state[attachments_key])})", key=f"{prefix}.attachments_open",
                     expanded=bool(st.session_state[attachments_key])):
        attachments = attachments_editor(attachments_key, conn)
    options = run_options(prefix, environments=environments, server_errors=field_errors)

    run_col, stream_col = st.columns(2)
    sync_clicked = run_col.button("Run", icon=":material/play_arrow:", type="secondary", width="stretch", disabled=busy,
                                  help="POST :execute and wait for the answer", key=f"{PREFIX}.run_sync")
    stream_clicked = stream_col.button("Stream", icon=":material/bolt:", type="primary", width="stretch", disabled=busy,
                                       help="POST :stream and watch the run live (Ctrl/Cmd + Enter)",
                                       shortcut="Mod+Enter", key=f"{PREFIX}.run_stream")
    clicked = RunKind.EXECUTE if sync_clicked else RunKind.STREAM if stream_clicked else None

    problems: list[str] = [json_problem] if json_problem else []
    if clicked is not None:
        local_errors = preflight_parameters(form.values, metadata) if not json_problem else {}
        found = problems + [f"{name}: {m}" for name, messages in local_errors.items() for m in messages]
        found += list(options.errors.values())
        st.session_state[errors_key] = {f"parameters.{k}": v for k, v in local_errors.items()}
        st.session_state[blocked_key] = found
        if found:
            st.rerun()  # redraw with each message next to its field
    if st.session_state.get(blocked_key):
        st.error("Nothing was sent. Fix these first:\n\n" + "\n".join(f"- {md(p)}" for p in st.session_state[blocked_key]))
    if problems or clicked is None:
        return ExecuteForm(request=None if problems else _request(form, attachments, options), run=None, problems=problems)
    return ExecuteForm(request=_request(form, attachments, options), run=clicked)


def _request(form: ParameterForm, attachments, options) -> dict[str, Any]:
    return ExecuteRequest(
        parameters=form.values or None,
        attachments=[a.file_link for a in attachments] or None,
        chat_user=options.chat_user,
        session_id=options.session_id,
        environment_slug=options.environment_slug,
        mode=options.mode,
    ).to_wire()


def fill_form(prefix: str, body: dict[str, Any]) -> None:
    """Put a request body into the form under `prefix` (a callback: runs before the widgets draw)."""
    set_form_values(f"{prefix}.params", body.get("parameters") or {})
    st.session_state[session_key(prefix)] = body.get("sessionId") or ""
    st.session_state[f"{prefix}.environment"] = body.get("environmentSlug")
    st.session_state[f"{prefix}.mode"] = body.get("mode") if body.get("mode") in MODES else ""
    chat_user = body.get("chatUser")
    st.session_state[f"{prefix}.chat_user"] = json.dumps(chat_user, ensure_ascii=False) if chat_user else ""


def curl_applier(conn: Connection, agents: list[str] | None) -> Callable[[ParsedCurl], str | None]:
    """What "Fill the form" does with a pasted curl: the form of the command's agent takes its body.

    An agent this connection does not have changes nothing and says so (returns the error).
    """

    def apply(parsed: ParsedCurl) -> str | None:
        agent = parsed.agent or conn.agent
        if agents is not None and agent not in agents:
            return (f"The command runs agent “{agent}”, which this connection does not have. "
                    "Nothing was changed: pick the right connection, or fix the agent in the command.")
        target = Connection(conn.settings, agent)
        fill_form(form_prefix(target), parsed.body or {})
        if agent != conn.agent:
            st.session_state[state.AGENT] = agent
            st.session_state[state.AGENT_FREE_TEXT] = agent
        return None

    return apply
