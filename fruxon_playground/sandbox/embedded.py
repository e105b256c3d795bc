"""Run the sandbox in-process: uvicorn on a free loopback port, in a daemon thread."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass, field

import uvicorn

from fruxon_playground.sandbox.app import create_app
from fruxon_playground.sandbox.config import SandboxConfig


@dataclass
class RunningSandbox:
    base_url: str
    api_key: str = field(repr=False)
    tenant: str
    config: SandboxConfig = field(repr=False)
    _server: uvicorn.Server = field(repr=False)
    _thread: threading.Thread = field(repr=False)

    def stop(self, timeout: float = 5.0) -> None:
        self._server.should_exit = True
        self._thread.join(timeout)


def start_sandbox(config: SandboxConfig | None = None, *, host: str = "127.0.0.1", port: int = 0) -> RunningSandbox:
    """Starts the sandbox and returns once it answers. Binds loopback only; port 0 picks a free one."""
    config = config or SandboxConfig()
    app = create_app(config)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(512)
    actual_port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off",
                                           timeout_keep_alive=30, backlog=512))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="fruxon-sandbox", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the sandbox did not start")
        time.sleep(0.01)
    return RunningSandbox(f"http://{host}:{actual_port}", config.api_key, config.tenant, config, server, thread)
