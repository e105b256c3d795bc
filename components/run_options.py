"""The run options around the parameters: session, environment, mode, chat user.

Every value lives in session state under the page's prefix, so nothing typed is lost when a run
fails, the page reruns or the user visits another page and comes back.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import streamlit as st

from fruxon_playground.contract import environment_slug_problem

MODES = ("", "PRODUCTION", "SANDBOX")
MODE_LABELS = {"": "Server default", "PRODUCTION": "PRODUCTION", "SANDBOX": "SANDBOX"}


@dataclass
class RunOptions:
    session_id: str | None = None
    environment_slug: str | None = None
    mode: str | None = None
    chat_user: dict[str, Any] | None = None
    errors: dict[str, str] = field(default_factory=dict)  # field -> message, shown next to it


def session_key(prefix: str) -> str:
    return f"{prefix}.session_id"


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
    st.text_input("Session id", key=session_key(prefix), placeholder="empty = new session",
                  help="Send a previous run's session id to continue that conversation.")
    options.session_id = st.session_state[session_key(prefix)].strip() or None
    if with_environment:
        env_key = f"{prefix}.environment"
        st.session_state.setdefault(env_key, None)
        choices = sorted(set(environments or []) | ({st.session_state[env_key]} - {None}))
        slug = st.selectbox(
            "Environment", choices, key=env_key, index=None, accept_new_options=True,
            placeholder="none — or pick / type a new slug",
            help="End-customer tag; a new slug is created on first use.",
        )
        slug = (slug or "").strip()
        problem = environment_slug_problem(slug)
        if problem:
            options.errors["environmentSlug"] = problem
            st.error(problem)
        for message in server_errors.get("environmentSlug", []):
            st.error(message)
        options.environment_slug = slug or None
    mode = st.radio("Mode", MODES, key=f"{prefix}.mode", horizontal=True, format_func=MODE_LABELS.get,
                    help="Which integration-config variant the run uses.")
    options.mode = mode or None
    if with_chat_user:
        text = st.text_area("Chat user (JSON, optional)", key=f"{prefix}.chat_user", height=68,
                            placeholder='{"id": "user_42", "displayName": "Ada"}')
        if text.strip():
            try:
                parsed = json.loads(text)
            except json.JSONDecodeError as exc:
                options.errors["chatUser"] = f"Chat user is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})."
            else:
                if not isinstance(parsed, dict):
                    options.errors["chatUser"] = 'Chat user must be a JSON object such as {"id": "user_42"}.'
                elif "id" in parsed and (not isinstance(parsed["id"], str) or not parsed["id"].strip()):
                    options.errors["chatUser"] = "Chat user id must be a non-empty string."
                else:
                    options.chat_user = parsed
            if "chatUser" in options.errors:
                st.error(options.errors["chatUser"])
    return options
