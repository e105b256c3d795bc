"""Per-model prices (USD per million tokens) and the sandbox's token estimate."""

from __future__ import annotations

import math

PRICES_PER_MILLION: dict[str, tuple[float, float]] = {
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.00),
    "claude-sonnet": (3.00, 15.00),
    "claude-haiku": (0.80, 4.00),
}
DEFAULT_PRICE = (0.50, 1.50)


def estimate_tokens(text: str) -> int:
    """≈ characters / 4, at least 1 for any non-empty text."""
    return math.ceil(len(text) / 4) if text else 0


def price(model: str | None, input_tokens: int, output_tokens: int) -> tuple[float, float]:
    per_in, per_out = PRICES_PER_MILLION.get((model or "").lower(), DEFAULT_PRICE)
    return input_tokens * per_in / 1_000_000, output_tokens * per_out / 1_000_000
