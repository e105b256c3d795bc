"""A pytest file that reruns an agent's test cases in CI with the official `fruxon` SDK.

The file carries the playground's own check code (`checks.py`, copied verbatim), so CI and the app
judge a run alike. It streams each case from the agent's deployed revision with `FruxonClient.stream`
(the SDK has no public call for an inline draft or a pinned revision: CI checks what is deployed),
reads the key, tenant and base URL from the environment (never from the file), and retries a 429
after a backoff, as the playground does.
"""

from __future__ import annotations

import ast
import inspect
import pprint
from collections.abc import Sequence

from fruxon_playground.cases import checks
from fruxon_playground.cases.model import TestCase
from fruxon_playground.contract.enums import FAILURE_STATUSES, WAITING_STATUSES

_RUNNER = '''
import os
import time

import pytest
from fruxon import FruxonClient
from fruxon.exceptions import FruxonAPIError

AGENT = {agent!r}
FAILURE_STATUSES = {failure!r}
WAITING_STATUSES = {waiting!r}
RATE_LIMIT_TRIES = 5  # a 429 is sent again after 2, 4, 8, 16 s; no other failed request is repeated

CASES = {cases}


def _status(value):
    return "".join(ch for ch in str(value or "").upper() if ch not in "_- ")


def _tool_name(data):
    trace = data.get("toolTrace") or {{}}
    tool = trace.get("tool") or {{}}
    name = tool.get("name") or tool.get("id") or "tool"
    return f"{{tool['integrationId']}}.{{name}}" if tool.get("integrationId") else name


def _tools_in_trace(trace):
    """Streams that carry no tool events: the tool calls recorded in the trace."""
    found, stack = [], list(reversed(trace.get("traces") or []))
    while stack:
        node = stack.pop()
        if not isinstance(node, dict):
            continue
        stack.extend(reversed(node.get("steps") or []))
        tool_trace = node.get("toolTrace")
        if _status(node.get("type")) == "TOOL" or isinstance(tool_trace, dict):
            tool_trace = tool_trace if isinstance(tool_trace, dict) else {{}}
            found.append(ToolCall(_tool_name({{"toolTrace": tool_trace}}), tool_trace.get("parameters")))
    return found


def observe(client, case):
    """Stream one case and collect what the checks read."""
    for attempt in range(RATE_LIMIT_TRIES):
        started = time.monotonic()
        text, calls, first_text, done, error = [], {{}}, None, None, None
        try:
            for event in client.stream(AGENT, parameters=case.get("parameters") or None,
                                       attachments=case.get("attachments") or None, chat_user=case.get("chatUser")):
                at_ms = (time.monotonic() - started) * 1000
                data = event.data
                if event.event == "text" and isinstance(data.get("chunk"), str):
                    first_text = at_ms if first_text is None else first_text
                    text.append(data["chunk"])
                elif event.event == "tool_call":
                    arguments = data.get("arguments")
                    if arguments is None:
                        arguments = (data.get("toolTrace") or {{}}).get("parameters")
                    calls[data.get("id") or len(calls)] = ToolCall(_tool_name(data), arguments)
                elif event.event == "done":
                    done = data
                    break
                elif event.event == "error":
                    error = data.get("message") or "The run failed (the error event carried no message)."
                    break
        except FruxonAPIError as exc:
            if exc.status == 429 and attempt + 1 < RATE_LIMIT_TRIES:
                time.sleep(2 ** (attempt + 1))
                continue
            return Observed("failed", "", error=str(exc), total_ms=(time.monotonic() - started) * 1000)
        total_ms = (time.monotonic() - started) * 1000
        if error is not None:
            return Observed("failed", "".join(text), tuple(calls.values()), first_text_ms=first_text,
                            total_ms=total_ms, error=error)
        if done is None:
            return Observed("interrupted", "".join(text), tuple(calls.values()), first_text_ms=first_text,
                            total_ms=total_ms, error="The stream ended without a done or error event.")
        status = _status(done.get("status"))
        trace = done.get("trace") if isinstance(done.get("trace"), dict) else {{}}
        answer = "".join(text) or (done.get("response") if isinstance(done.get("response"), str) else "")
        if first_text is None and answer:
            first_text = total_ms  # the answer came all at once, with `done`
        outcome, problem = "completed", None
        if status in WAITING_STATUSES or done.get("humanApprovalRequestId"):
            outcome = "waiting_for_human"
        elif status in FAILURE_STATUSES:
            outcome, problem = "failed", f"The run ended with status {{done.get('status')}}."
        cost = trace.get("totalCost")
        return Observed(outcome, answer, tuple(calls.values()) or tuple(_tools_in_trace(trace)),
                        cost_usd=float(cost) if isinstance(cost, (int, float)) else None,
                        first_text_ms=first_text, total_ms=total_ms, error=problem)
    raise AssertionError("unreachable")


@pytest.fixture(scope="module")
def client():
    missing = [name for name in ("FRUXON_API_KEY", "FRUXON_TENANT") if not os.environ.get(name)]
    if missing:
        pytest.fail("Set " + " and ".join(missing) + " (and FRUXON_BASE_URL for another server) to run these tests.")
    return FruxonClient(token=os.environ["FRUXON_API_KEY"], workspace=os.environ["FRUXON_TENANT"],
                        base_url=os.environ.get("FRUXON_BASE_URL") or FruxonClient.DEFAULT_BASE_URL)


@pytest.mark.parametrize("case", CASES, ids=[case["name"] for case in CASES])
def test_case(client, case):
    run = observe(client, case)
    verdicts = [(describe(check), *run_check(check, run)) for check in case["checks"] or [{{"kind": "no_failure"}}]]
    failed = [f"{{label}}: {{reason}}" for label, passed, reason in verdicts if not passed]
    assert not failed, f"{{case['name']}} ({{len(failed)}} of {{len(verdicts)}} checks failed):\\n" + "\\n".join(failed)
'''


def _checks_source() -> str:
    """checks.py without its docstring and `from __future__` line (the file has its own)."""
    source = inspect.getsource(checks)
    tree = ast.parse(source)
    body = tree.body
    start = body[1].lineno if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) else 1
    lines = source.splitlines()[start - 1:]
    return "\n".join(line for line in lines if line.strip() != "from __future__ import annotations").strip("\n")


def _docstring_safe(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')


def pytest_file(agent: str, cases: Sequence[TestCase], *, source: str = "") -> str:
    """The file's text. `source` says where the cases come from (a batch and its outcome), for the header."""
    if any(case.agent != agent for case in cases):
        raise ValueError("every case must be of the agent the file tests")
    data = [{"name": case.name, "parameters": case.parameters, "attachments": case.attachments,
             "chatUser": case.chat_user, "checks": [check.as_json() for check in case.checks]} for case in cases]
    header = (
        f'"""Test cases of the Fruxon agent {_docstring_safe(repr(agent))}, exported by Fruxon Playground'
        f'{_docstring_safe(source)}.\n\n'
        "Each case streams the agent's deployed revision through the official SDK and must pass the same checks\n"
        "as in the playground. Needs `pip install fruxon pytest`; set FRUXON_API_KEY and FRUXON_TENANT\n"
        '(and FRUXON_BASE_URL for a server other than api.fruxon.com). Run: pytest this_file.py\n"""\n'
        "# ruff: noqa: E402, E501\n"
        "from __future__ import annotations\n\n"
        "# The playground's checks (fruxon_playground/cases/checks.py), copied verbatim.\n"
    )
    runner = _RUNNER.format(agent=agent, failure=sorted(FAILURE_STATUSES), waiting=sorted(WAITING_STATUSES),
                            cases=pprint.pformat(data, width=110, sort_dicts=False))
    return header + _checks_source() + "\n\n" + runner
