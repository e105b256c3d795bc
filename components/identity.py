"""Who the user is, in the UI: the sign-in screen, the sidebar's account line, the browser's id.

`current_identity()` runs once per script run (app.py, before anything else is drawn). The rules
live in `fruxon_playground/identity.py`; this module only gathers the request facts (`st.user`,
`st.context.headers`/`cookies`, `st.secrets["auth"]`, `server.address`) and draws the result.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NoReturn

import streamlit as st

from components import state
from components.safe import md
from fruxon_playground.identity import (
    BROWSER_COOKIE,
    Gate,
    Identity,
    IdentityConfigError,
    IdentitySettings,
    new_browser_id,
    oidc_providers,
    resolve_identity,
    valid_browser_id,
)

try:  # st.login imports Authlib only when someone signs in: check it up front and say what is missing.
    import authlib  # noqa: F401

    AUTHLIB_MISSING = ""
except ImportError:  # pragma: no cover - Authlib is a dependency of the project
    AUTHLIB_MISSING = "Sign-in is configured ([auth] in secrets.toml) but Authlib is not installed: pip install Authlib."

_COOKIE_MAX_AGE_S = 400 * 86_400  # the longest lifetime browsers accept

# The browser keeps its id in a cookie so History survives reloads, new tabs and server restarts.
# The id is made on the server (the first session uses it at once, nothing waits for the browser);
# this script only stores it. If another tab of the same browser stored one first, it reports that
# one back and the session adopts it. JavaScript writes the cookie, so it cannot be HttpOnly:
# Streamlit gives a script no way to set response headers. It is not a credential.
_PERSIST_JS = """
export default function ({ data, setStateValue }) {
  const { id, name, maxAge } = data;
  const stored = document.cookie.split("; ").find((c) => c.startsWith(name + "="));
  const current = stored ? decodeURIComponent(stored.slice(name.length + 1)) : "";
  if (current && current !== id && /^[A-Za-z0-9_-]{22,64}$/.test(current)) {
    setStateValue("browser_id", current);
    return;
  }
  if (current !== id) {
    const secure = location.protocol === "https:" ? "; Secure" : "";
    document.cookie = `${name}=${id}; Path=/; Max-Age=${maxAge}; SameSite=Lax${secure}`;
  }
}
"""
_persist_browser_id = st.components.v2.component("fruxon_playground.browser_id", js=_PERSIST_JS)


def current_identity() -> Identity:
    """The user of this run. Draws the account line in the sidebar; when the app must not be shown
    (sign-in required, refused account, bad setup) draws that screen instead and stops the script."""
    providers = _providers()
    try:
        settings = IdentitySettings.from_environment()
    except IdentityConfigError as exc:
        _draw_gate(Gate("misconfigured", str(exc)), providers)
    if providers and AUTHLIB_MISSING:
        _draw_gate(Gate("misconfigured", AUTHLIB_MISSING), providers)
    outcome = resolve_identity(
        settings,
        server_address=st.get_option("server.address"),
        oidc_configured=bool(providers),
        user=st.user.to_dict(),
        headers=_request_headers(),
        browser_id=_browser_id(),
    )
    if isinstance(outcome, Gate):
        _draw_gate(outcome, providers)
    if outcome.method == "browser":
        _keep_browser_id(outcome)
    _draw_account(outcome, providers)
    return outcome


def _providers() -> tuple[str | None, ...]:
    try:
        auth = st.secrets.get("auth")
    except Exception:  # no secrets file at all, or a malformed one: sign-in is simply not configured
        return ()
    return oidc_providers(_plain(auth) if isinstance(auth, Mapping) else None)


def _plain(section: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _plain(v) if isinstance(v, Mapping) else v for k, v in section.items()}


def _request_headers() -> dict[str, str]:
    """Headers of the request that opened this session (none under AppTest, which has no request)."""
    try:
        return {str(k): v for k, v in st.context.headers.items() if isinstance(v, str)}
    except (AttributeError, TypeError):
        return {}


def _browser_id() -> str:
    """This browser's id: the session's, else the cookie's (checked: it is client text), else a new one."""
    known = st.session_state.get(state.BROWSER_ID)
    if known is None:
        known = valid_browser_id(st.context.cookies.get(BROWSER_COOKIE)) or new_browser_id()
        st.session_state[state.BROWSER_ID] = known
    return str(known)


def _keep_browser_id(identity: Identity) -> None:
    browser_id = identity.owner.removeprefix("browser:")
    with st.sidebar:
        result = _persist_browser_id(
            key="identity.browser_cookie",
            data={"id": browser_id, "name": BROWSER_COOKIE, "maxAge": _COOKIE_MAX_AGE_S},
            on_browser_id_change=lambda: None,
            height=0,
        )
    adopted = valid_browser_id(result.get("browser_id") if result else None)
    if adopted and adopted != browser_id:
        st.session_state[state.BROWSER_ID] = adopted
        st.rerun()


def _draw_account(identity: Identity, providers: tuple[str | None, ...]) -> None:
    box = st.sidebar.container(key="identity.account")
    if identity.signed_in:
        # st.text: Streamlit's Markdown turns an e-mail address into a live mailto link even escaped.
        box.caption(":material/account_circle: Signed in as")
        box.text(identity.label)
        if identity.method == "oidc" and box.button("Sign out", icon=":material/logout:", key="identity.sign_out"):
            st.logout()
            st.stop()
        elif identity.method == "header":
            box.caption("Signed in through your company's single sign-on.")
        return
    if identity.method == "local":
        box.caption(":material/computer: Local user · History shows every run in this machine's history file.")
        return
    if identity.sign_in_enabled:
        box.caption(":material/person: Not signed in · runs are kept for this browser only.")
        _sign_in_buttons(box, providers, key="identity.sidebar_sign_in")
        return
    box.caption(":material/person: This browser · History keeps the runs made in this browser.")


def _sign_in_buttons(box: Any, providers: tuple[str | None, ...], *, key: str) -> None:
    for provider in providers:
        label = "Sign in" if provider is None else f"Sign in with {md(provider)}"
        if box.button(label, icon=":material/login:", type="primary", key=f"{key}.{provider or 'default'}"):
            st.login(provider)
            st.stop()


def _draw_gate(gate: Gate, providers: tuple[str | None, ...]) -> NoReturn:
    """The whole page when the app must not be shown; nothing else is drawn, no connection is made.

    It runs as the only page of a hidden navigation: without `st.navigation`, Streamlit would list
    the `pages/` folder in the sidebar (its pre-navigation behaviour).
    """

    def gate_page() -> None:
        _, middle, _ = st.columns([1, 2, 1])
        with middle.container(border=True, key="identity.gate"):
            st.title("Fruxon Playground")
            if gate.kind == "sign_in":
                st.markdown(md(gate.message, limit=None))
                _sign_in_buttons(st, providers, key="identity.gate_sign_in")
                if providers:
                    st.caption("Your organisation's sign-in page opens, then brings you back here. Your runs and "
                               "History belong to your account.")
            elif gate.kind == "refused":
                st.error(f"This account cannot use this playground. {md(gate.message, limit=None)}",
                         icon=":material/block:")
                if gate.account:
                    st.caption("Signed in as")
                    st.text(gate.account)
                if (providers and st.user.get("is_logged_in") is True
                        and st.button("Sign out and use another account", icon=":material/logout:",
                                      key="identity.gate_sign_out")):
                    st.logout()
            else:
                st.error(f"Sign-in is not set up correctly. {md(gate.message, limit=None)}", icon=":material/error:")

    st.navigation([st.Page(gate_page, title="Sign in", url_path="signin", default=True)], position="hidden").run()
    st.stop()
