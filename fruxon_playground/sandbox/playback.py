"""Planned runs and recordings played out in time: a stream writes each event at its offset
(× speed, keep-alive comments in long silences), a synchronous run waits for the whole plan."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, StreamingResponse

from fruxon_playground.sandbox import replay, sse
from fruxon_playground.sandbox.engine import SEND_TIME_MARKER
from fruxon_playground.sandbox.lifecycle import (
    PreparedRun,
    before_run,
    cancel_record,
    finish_record,
    request_faults,
)
from fruxon_playground.sandbox.plan import PlannedEvent
from fruxon_playground.sandbox.problems import Problem
from fruxon_playground.sandbox.state import Sandbox, now_ms, sandbox_of


class SimulatedDrop(Exception):
    """Raised inside a stream to make the server cut the connection without a terminal event."""


class _QuietDrops(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], SimulatedDrop))


logging.getLogger("uvicorn.error").addFilter(_QuietDrops())


async def respond(sandbox: Sandbox, run: PreparedRun, *, streamed: bool) -> StreamingResponse | JSONResponse:
    return stream_response(sandbox, run) if streamed else await sync_response(sandbox, run)


def stream_response(sandbox: Sandbox, run: PreparedRun) -> StreamingResponse:
    events = run.plan.events
    drop_after = run.plan.drop_after_index
    speed = sandbox.config.speed
    keepalive = sandbox.config.keepalive_s * speed

    async def body() -> AsyncIterator[bytes]:
        finished = False
        loop = asyncio.get_running_loop()
        start = last_write = loop.time()
        try:
            for index, event in enumerate(events):
                target = start + event.offset_ms / 1000 * speed
                while (now := loop.time()) < target:
                    if keepalive > 0 and now - last_write >= keepalive:
                        yield sse.KEEPALIVE
                        last_write = now
                        continue
                    wait = target - now if keepalive <= 0 else min(target - now, keepalive - (now - last_write))
                    await asyncio.sleep(max(wait, 0.0))
                if event.event in ("done", "error"):
                    finish_record(sandbox, run)  # stored before the terminal event goes out
                    finished = True
                yield sse.frame(event.event, _stamped(event), final=event.event == "done" and index == len(events) - 1)
                last_write = loop.time()
                if drop_after is not None and index + 1 >= drop_after:
                    finish_record(sandbox, run)
                    finished = True
                    raise SimulatedDrop()
            if not finished:
                finish_record(sandbox, run)
                finished = True
        finally:
            if not finished:
                cancel_record(sandbox, run)

    headers = {**sse.HEADERS, "X-Execution-Record-Id": run.record_id}
    return StreamingResponse(body(), media_type=sse.MEDIA_TYPE, headers=headers)


def _stamped(event: PlannedEvent) -> dict[str, Any]:
    """BENCH chunks carry the epoch ms at which they are written, for latency measurements."""
    chunk = event.data.get("chunk") if event.event == "text" else None
    if isinstance(chunk, str) and SEND_TIME_MARKER in chunk:
        return {"chunk": chunk.replace(SEND_TIME_MARKER, str(now_ms()))}
    return event.data


async def sync_response(sandbox: Sandbox, run: PreparedRun) -> JSONResponse:
    outcome = run.plan.outcome
    await sandbox.pause(outcome.end_offset_ms / 1000)
    finish_record(sandbox, run)
    if outcome.status == "FAILED":
        raise Problem(500, outcome.error or "The run failed.", executionRecordId=run.record_id, code=outcome.error_code)
    waiting = outcome.status == "WAITING_FOR_ASYNC"
    return JSONResponse({
        "response": outcome.response_text, "trace": outcome.trace, "sessionId": run.spec.session_id,
        "links": [{k: v for k, v in a.items() if k in ("fileId", "fileType", "promptLink")} for a in run.spec.attachments],
        "executionRecordId": run.record_id, "status": "WAITING_FOR_HUMAN" if waiting else "COMPLETED",
        "humanApprovalRequestId": outcome.pending_approval.request_id if waiting and outcome.pending_approval else None,
    })


async def replay_response(request: Request, agent_id: str, recording: Path, body: Any, *,
                          streamed: bool) -> StreamingResponse:
    """A REPLAY agent's recording, byte for byte, in chunks with a pause between them (× speed).

    The caller has read the whole request body first: answering before it arrived made the
    server close a connection with unread bytes, which resets it (and cut big replays short)."""
    if not streamed:
        raise Problem(400, f"Agent {agent_id!r} is a recorded stream: call :stream or :streamTest.",
                      errors={"agent": ["a recorded stream can only be streamed"]})
    sandbox = sandbox_of(request)
    await before_run(sandbox, request_faults(request, agent_id, body.get("parameters") if isinstance(body, dict) else None))
    parts = replay.chunks(recording.read_bytes(), sandbox.config.replay_chunk_size)

    async def chunks() -> AsyncIterator[bytes]:
        for part in parts:
            yield part
            await sandbox.pause(sandbox.config.replay_delay_ms / 1000)

    return StreamingResponse(chunks(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})
