"""`python -m fruxon_playground.sandbox`: serve the local Fruxon-compatible sandbox."""

from __future__ import annotations

import argparse
import signal
import threading

from fruxon_playground.sandbox.config import SandboxConfig
from fruxon_playground.sandbox.embedded import start_sandbox


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m fruxon_playground.sandbox", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="loopback address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8800, help="port (0 = any free port)")
    parser.add_argument("--db", help="SQLite file (default: in memory; a file survives restarts)")
    parser.add_argument("--api-key", help="the key to accept (default: a new random key per launch)")
    parser.add_argument("--tenant", help="tenant slug (default demo)")
    parser.add_argument("--speed", type=float, help="delay multiplier: 1 realistic, 0 instant")
    parser.add_argument("--seed", type=int, help="seed of the generated history")
    parser.add_argument("--replay-dir", help="serve DIR/<agent>.sse files byte for byte as that agent's stream")
    parser.add_argument("--replay-chunk-size", type=int, help="bytes per write when replaying (default 64)")
    parser.add_argument("--replay-delay-ms", type=float, help="pause between replayed chunks (default 20)")
    args = parser.parse_args(argv)
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        parser.error("the sandbox binds loopback only (127.0.0.1, localhost or ::1)")
    config = SandboxConfig.from_env(
        api_key=args.api_key, tenant=args.tenant, db_path=args.db, speed=args.speed, seed=args.seed,
        replay_dir=args.replay_dir, replay_chunk_size=args.replay_chunk_size, replay_delay_ms=args.replay_delay_ms,
    )
    sandbox = start_sandbox(config, host="127.0.0.1" if args.host == "localhost" else args.host, port=args.port)
    print(f"Fruxon sandbox on {sandbox.base_url}", flush=True)
    print(f"  tenant:  {sandbox.tenant}", flush=True)
    print(f"  API key: {sandbox.api_key}", flush=True)
    print("  (Ctrl-C to stop)", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stop.wait()
    sandbox.stop()


if __name__ == "__main__":
    main()
