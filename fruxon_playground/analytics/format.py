"""How figures read on screen: US dollars, rates, statuses and revisions in words (no UI here)."""

from __future__ import annotations

import math

from fruxon_playground.contract import normalize_enum

STATUS_LABELS = {
    "COMPLETED": "Completed",
    "FAILED": "Failed",
    "INPROGRESS": "In progress",
    "WAITINGFORASYNC": "Waiting for approval",
    "CANCELLED": "Cancelled",
    "REJECTED": "Rejected",
}
# The label of every record status the contract names, in the order a legend lists them.
STATUS_ORDER = tuple(STATUS_LABELS.values())
DRAFT = "draft"


def usd(value: float | None) -> str:
    """`$1,234.56`, `$12.35`, `$0.0042`: cents for sums a person reads as money, four significant
    digits below a dollar, where single runs cost fractions of a cent."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    amount = float(value)
    if amount == 0:
        return "$0.00"
    sign = "-" if amount < 0 else ""
    amount = abs(amount)
    if amount >= 1:
        return f"{sign}${amount:,.2f}"
    decimals = min(8, 3 - math.floor(math.log10(amount)))  # four significant digits
    whole, fraction = f"{amount:.{decimals}f}".split(".")
    return f"{sign}${whole}.{fraction.rstrip('0').ljust(2, '0')}"


def usd_axis_format(largest: float) -> str:
    """A d3 tick format for a dollar axis whose largest value is `largest` (NaN: no values)."""
    if largest >= 10:
        return "$,.0f"
    if largest >= 1 or not largest > 0:
        return "$,.2f"
    decimals = min(8, max(2, 2 - math.floor(math.log10(largest))))
    return f"$,.{decimals}~f"


def cost_decimals(typical: float) -> int:
    """Decimals that show a typical amount with three significant digits, and at least cents."""
    if not typical > 0 or typical >= 1:
        return 2
    return min(8, max(2, 2 - math.floor(math.log10(typical))))


def percent(rate: float | None) -> str:
    if rate is None or math.isnan(rate):
        return "—"
    return f"{rate * 100:.1f} %" if rate < 0.1 else f"{rate * 100:.0f} %"


def status_label(status: object) -> str:
    """`WAITING_FOR_ASYNC` → "Waiting for approval"; an unknown status is shown as it came."""
    if status is None or status == "":
        return "—"
    return STATUS_LABELS.get(normalize_enum(status), str(status))


def revision_label(revision: object) -> str:
    """Published revisions as their number, ≤ 0 as "draft" (the contract's −1), missing as "—"."""
    if revision is None or isinstance(revision, bool):
        return "—"
    try:
        number = int(revision)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return str(revision)
    return DRAFT if number <= 0 else str(number)


def days_ago(days: float | None) -> str:
    if days is None or math.isnan(days):
        return "never"
    if days < 1 / 24:
        return "just now"
    if days < 1:
        hours = round(days * 24)
        return f"{hours} hour{'s' if hours != 1 else ''} ago"
    whole = math.floor(days)
    return f"{whole} day{'s' if whole != 1 else ''} ago"
