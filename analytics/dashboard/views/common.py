"""Parameters and series shared by the dashboard's pages."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

from django.http import HttpRequest

from analytics.errors import ValidationFailed
from analytics.metrics.analyses import DateRange, date_range
from analytics.metrics.catalogue import MetricPoint


def days_param(request: HttpRequest, *, default: int, choices: Sequence[int]) -> int:
    """`?days=N` from the page's range picker: one of `choices`; anything else is a 400."""
    raw = request.GET.get("days")
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or int(raw) not in choices:
        raise ValidationFailed(f"days is one of {', '.join(str(c) for c in choices)}", code="invalid_days")
    return int(raw)


def _day(request: HttpRequest, name: str) -> date | None:
    raw = request.GET.get(name) or ""
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ValidationFailed(f"{name} is a date (YYYY-MM-DD)", code="invalid_date") from None


def range_param(request: HttpRequest, *, default_days: int = 30) -> DateRange:
    """`?date_from=…&date_to=…` (business days, inclusive), validated like the API's."""
    return date_range(date_from=_day(request, "date_from"), date_to=_day(request, "date_to"), default_days=default_days)


def choice_param(request: HttpRequest, name: str, choices: Iterable[str], default: str) -> str:
    raw = request.GET.get(name) or default
    allowed = tuple(choices)
    if raw not in allowed:
        raise ValidationFailed(f"{name} is one of {', '.join(allowed)}", code=f"invalid_{name}")
    return raw


def points(history: Sequence[MetricPoint]) -> list[tuple[date, float | None]]:
    """A stored metric's (period start, value) series."""
    return [(p.period_start, p.value) for p in history]
