"""One very long SSE line fed in small pieces: our decoder vs the same bytes fed whole, and vs httpx-sse.

Two cases from the field: a 1 MiB `data:` line arriving in 1 KiB network chunks, and a 40 KB `done`
line fed one byte at a time. A decoder that re-scans the unfinished line on every chunk is
quadratic here (seconds); a linear one costs about one Python call per piece.

Readers, all on the same pieces in the same process:
  ours, in pieces     `SSEDecoder.feed()` per piece, then `flush()` (what `EventStream` does);
  ours, whole         one `feed()` of the whole payload: the floor for our decoder;
  httpx-sse 0.4.3     its `SSELineDecoder` + `SSEDecoder` on the same pieces (decoded the way httpx
                      decodes them, incrementally as UTF-8).

One warm-up pass, then `--repeat` rounds with the readers interleaved; times are medians.

    .venv/bin/python benchmarks/sse_long_lines.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import codecs
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from httpx_sse._decoders import SSEDecoder as PeerDecoder
from httpx_sse._decoders import SSELineDecoder as PeerLines

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fruxon_playground.api.sse import SSEDecoder  # noqa: E402

CASES = {  # name → (payload, piece size)
    "1 MiB data line, 1 KiB chunks": (b'event: text\ndata: {"chunk":"' + b"x" * (1 << 20) + b'"}\n\n', 1024),
    "40 KB done line, 1-byte feeds": (b'event: done\ndata: {"response":"' + b"y" * 40_000 + b'"}\n\n', 1),
}


def ours_in_pieces(pieces: list[bytes]) -> int:
    decoder = SSEDecoder()
    events = [e for piece in pieces for e in decoder.feed(piece)] + decoder.flush()
    return len(events[0].data)


def ours_whole(pieces: list[bytes]) -> int:
    decoder = SSEDecoder()
    events = decoder.feed(b"".join(pieces)) + decoder.flush()
    return len(events[0].data)


def httpx_sse_in_pieces(pieces: list[bytes]) -> int:
    text = codecs.getincrementaldecoder("utf-8")(errors="replace").decode
    lines, decoder = PeerLines(), PeerDecoder()
    events = []
    for piece in pieces:
        for line in lines.decode(text(piece)):
            event = decoder.decode(line)
            if event is not None:
                events.append(event)
    return len(events[0].data)


READERS: dict[str, Callable[[list[bytes]], int]] = {
    "ours, in pieces": ours_in_pieces,
    "ours, whole": ours_whole,
    "httpx-sse 0.4.3, in pieces": httpx_sse_in_pieces,
}


def measure(pieces: list[bytes], expected: int, repeat: int) -> dict[str, float]:
    times: dict[str, list[float]] = {name: [] for name in READERS}
    for round_ in range(repeat + 1):  # round 0 is the warm-up
        for name, reader in READERS.items():
            started = time.perf_counter()
            size = reader(pieces)
            elapsed = time.perf_counter() - started
            if size != expected:
                raise SystemExit(f"{name} decoded {size} characters of data, expected {expected}")
            if round_:
                times[name].append(elapsed)
    return {name: statistics.median(values) for name, values in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="measured rounds (≥ 5; default 5)")
    args = parser.parse_args()
    if args.repeat < 5:
        parser.error("--repeat must be at least 5 (the figure is a median)")
    for case, (payload, size) in CASES.items():
        pieces = [payload[i:i + size] for i in range(0, len(payload), size)]
        expected = len(payload.split(b"data: ", 1)[1].rstrip(b"\n"))
        times = measure(pieces, expected, args.repeat)
        print(f"{case}: {len(payload):,} bytes in {len(pieces):,} pieces; median of {args.repeat} after a warm-up")
        for name, seconds in times.items():
            print(f"  {name:<28} {seconds * 1000:>9.1f} ms")
        mine = times["ours, in pieces"]
        print(f"  in pieces / whole      = {mine / times['ours, whole']:6.1f}x")
        print(f"  ours / httpx-sse       = {mine / times['httpx-sse 0.4.3, in pieces']:6.2f}x")


if __name__ == "__main__":
    main()
