"""How numbers and periods are written for people who run an events business (dashboard, digests)."""

from __future__ import annotations

from datetime import date

CURRENCY = "₹"


def number(value: float | None, unit: str) -> str:
    """A value in its unit: counts with separators, percents with one decimal, rupees, minutes, ms."""
    if value is None:
        return "—"
    if unit == "count":
        return f"{value:,.0f}" if float(value).is_integer() or abs(value) >= 100 else f"{value:,.2f}"
    if unit == "percent":
        return f"{value:.1f}%"
    if unit == "currency":
        return f"{CURRENCY}{value:,.0f}"
    if unit == "minutes":
        return f"{value:.1f} min"
    if unit == "milliseconds":
        return f"{value:,.0f} ms"
    return f"{value:.2f}"


def period_label(period_type: str, start: date | None, end: date | None) -> str:
    if start is None:
        return "no period yet"
    if period_type == "day":
        return start.strftime("%a %d %b %Y")
    if period_type == "week":
        return f"week of {start.strftime('%d %b %Y')}"
    if period_type == "month":
        return start.strftime("%B %Y")
    return f"{start.isoformat()} – {end.isoformat() if end else ''}"
