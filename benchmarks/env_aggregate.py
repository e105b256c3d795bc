"""Per-environment aggregation of execution records: ours (pandas, vectorised) vs a plain Python loop.

    .venv/bin/python benchmarks/env_aggregate.py [--sizes 10000,100000,1000000]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fruxon_playground.analytics import aggregate_records  # noqa: E402


def columns(n: int) -> dict[str, list]:
    rng = np.random.default_rng(7)
    return {
        "environmentSlug": rng.choice(np.array(["acme_corp", "globex", "initech", "umbrella", None], dtype=object), n),
        "status": rng.choice(np.array(["COMPLETED", "COMPLETED", "COMPLETED", "FAILED"], dtype=object), n),
        "totalCost": rng.random(n) / 1000,
        "startTime": rng.integers(1_765_000_000_000, 1_767_000_000_000, n),
        "id": np.arange(n),
    }


def plain_loop(records: list[dict]) -> dict[str, dict]:
    groups: dict[str, dict] = {}
    for r in records:
        slug = r["environmentSlug"]
        if slug is None:
            continue
        g = groups.setdefault(slug, {"count": 0, "cost": 0.0, "last": 0, "failed": 0})
        g["count"] += 1
        g["cost"] += float(r["totalCost"])
        g["last"] = max(g["last"], r["startTime"])
        g["failed"] += r["status"] == "FAILED"
    return groups


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    args = parser.parse_args()
    print(f"{'records':>9} {'ours s':>8} {'loop s':>8} {'loop/ours':>10}   (target: ours ≤ 1 s at 1M)")
    for n in (int(s) for s in args.sizes.split(",")):
        data = columns(n)
        dicts = [dict(zip(data, row, strict=True)) for row in zip(*data.values(), strict=True)]
        started = time.perf_counter()
        ours = aggregate_records(data)
        ours_s = time.perf_counter() - started
        started = time.perf_counter()
        loop = plain_loop(dicts)
        loop_s = time.perf_counter() - started
        assert dict(zip(ours["environment_slug"], ours["execution_count"], strict=True)) == {k: v["count"] for k, v in loop.items()}
        print(f"{n:>9,} {ours_s:>8.3f} {loop_s:>8.3f} {loop_s / ours_s:>9.1f}x")


if __name__ == "__main__":
    main()
