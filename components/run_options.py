"""The run options above Run: environment, mode, chat user, and which conversation the run continues.

They sit in one compact row, belong to one agent (the caller's prefix names the agent and the
connection), and keep their values while another agent is shown (`persist_state="session"`).
Continuing a conversation is explicit: a chip says which session the next run continues, and
"New conversation" ends it; a new agent starts with none.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import streamlit as st

from components.safe import md
from fruxon_playground.contract import environment_slug_problem

MODES = ("", "PRODUCTION", "SANDBOX")
MODE_LABELS = {"": "Server default", "PRODUCTION": "Production", "SANDBOX": "Sandbox"}


@dataclass
class RunOptions:
    session_id: str | None = None
    environment_slug: str | None = None
    mode: str | None = None
    chat_user: dict[str, Any] | None = None
    errors: dict[str, str] = field(default_factory=dict)  # field -> message, shown next to it


def session_key(prefix: str) -> str:
    """The session the next run continues (not a widget: it survives any redraw)."""
    return f"{prefix}.session_id"


def continue_session(prefix: str, session_id: str) -> None:
    st.session_state[session_key(prefix)] = session_id


def new_conversation(prefix: str) -> None:
    st.session_state[session_key(prefix)] = ""
    st.session_state.pop(f"{prefix}.session_input", None)


def _take_typed_session(prefix: str) -> None:
    st.session_state[session_key(prefix)] = (st.session_state.get(f"{prefix}.session_input") or "").strip()


def run_options(
    prefix: str,
    *,
    environments: list[str] | None,
    with_environment: bool = True,
    with_chat_user: bool = True,
    server_errors: dict[str, list[str]] | None = None,
) -> RunOptions:
    server_errors = server_errors or {}
    options = RunOptions()
    st.session_state.setdefault(session_key(prefix), "")
    environment_col, mode_col = st.columns(2, vertical_alignment="bottom")
    if with_environment:
        with environment_col:
            options.environment_slug = _environment(prefix, environments, options, server_errors)
    with mode_col:
        mode = st.selectbox("Mode", MODES, key=f"{prefix}.mode", format_func=MODE_LABELS.get, persist_state="session",
                            help="Which integration-config variant the run uses.")
        options.mode = mode or None
    with st.container(horizontal=True, vertical_alignment="center"):
        _session_chip(prefix, options)
        if with_chat_user:
            _chat_user(prefix, options)
    for name in ("environmentSlug", "chatUser"):
        if name in options.errors:
            st.error(md(options.errors[name]))
    return options


def _environment(prefix: str, environments: list[str] | None, options: RunOptions,
                 server_errors: dict[str, list[str]]) -> str | None:
    key = f"{prefix}.environment"
    current = st.session_state.get(key)
    choices = sorted(set(environments or []) | ({current} - {None}))
    slug = st.selectbox(
        "Environment", choices, key=key, index=None, accept_new_options=True, persist_state="session",
        placeholder="none — pick or type a slug", help="End-customer tag; a new slug is created on first use.",
    )
    slug = (slug or "").strip()
    problem = environment_slug_problem(slug)
    if problem:
        options.errors["environmentSlug"] = problem
    for message in server_errors.get("environmentSlug", []):
        options.errors.setdefault("environmentSlug", message)
    return slug or None


def _chat_user(prefix: str, options: RunOptions) -> None:
    chat_user, problem = chat_user_field(prefix)
    options.chat_user = chat_user
    if problem:
        options.errors["chatUser"] = problem


def chat_user_field(prefix: str) -> tuple[dict[str, Any] | None, str | None]:
    """The chat user popover (JSON typed by the user, kept for the session): (the object, or None when
    empty or invalid; what to fix, or None)."""
    key = f"{prefix}.chat_user"
    text = (st.session_state.get(key) or "").strip()
    chat_user: dict[str, Any] | None = None
    problem = None
    if text:
        try:
            parsed = json.loads(text)
        except json.JSONDecodeError as exc:
            problem = f"Chat user is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})."
        else:
            if not isinstance(parsed, dict):
                problem = 'Chat user must be a JSON object such as {"id": "user_42"}.'
            elif "id" in parsed and (not isinstance(parsed["id"], str) or not parsed["id"].strip()):
                problem = "Chat user id must be a non-empty string."
            else:
                chat_user = parsed
    who = str(chat_user.get("id") or "set") if chat_user else ("invalid" if text else "none")
    with st.popover(md(who if chat_user else "Chat user", limit=16), icon=":material/person:", width="content",
                    help=f"Chat user: {md(who, limit=40)}"):
        st.text_area("Chat user (JSON)", key=key, height=90, persist_state="session",
                     placeholder='{"id": "user_42", "displayName": "Ada"}',
                     help="The end user on whose behalf the run happens (optional).")
    return chat_user, problem


def _session_chip(prefix: str, options: RunOptions) -> None:
    session_id = st.session_state[session_key(prefix)]
    if session_id:
        options.session_id = session_id
        st.markdown(f":blue-badge[:material/forum: continuing session {md(session_id[:8], limit=8)}…]",
                    width="content", help=f"The next run sends session id {md(session_id, limit=80)}")
        st.button("New conversation", key=f"{prefix}.new_conversation", icon=":material/add_comment:",
                  on_click=new_conversation, args=(prefix,), type="tertiary")
        return
    st.markdown(":gray-badge[:material/chat_bubble: new conversation]", width="content")
    with st.popover("Continue a session", icon=":material/forum:", width="content",
                            help="Continue an earlier conversation by its session id"):
        st.text_input("Session id", key=f"{prefix}.session_input", placeholder="paste a session id",
                      on_change=_take_typed_session, args=(prefix,),
                      help="The next run continues that conversation.")
