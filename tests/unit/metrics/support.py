"""Building metric fixtures through the real pipeline, and reading the stored metric rows."""

from __future__ import annotations

import uuid as uuid_lib
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

import pytest

from analytics import clock
from analytics.collection.pipeline import event_ingest
from analytics.collection.processing import process_pending_events
from analytics.metrics.calculation import metrics_recompute_dirty
from analytics.models import BusinessMetric

NOW = datetime.fromisoformat("2026-03-20T12:00:00+00:00")  # business day 2026-03-20 in Asia/Kolkata


@pytest.fixture
def now() -> Iterator[datetime]:
    clock.freeze(NOW)
    yield NOW
    clock.freeze(None)


def ist(local: str) -> str:
    """An Asia/Kolkata wall-clock time ('2026-03-10T23:30') as ISO 8601."""
    return f"{local}:00+05:30" if len(local) == 16 else f"{local}+05:30"


def ev(
    name: str,
    at: str,
    *,
    user: str | None = None,
    anon: str | None = None,
    session: str | None = None,
    device: str | None = None,
    located: str | None = None,
    **properties: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "event_name": name,
        "uuid": str(uuid_lib.uuid4()),
        "timestamp": ist(at),
        "properties": properties,
    }
    if user is not None:
        body["user_id"] = user
    if anon is not None:
        body["anonymous_id"] = anon
    if session is not None:
        body["session_id"] = session
    context: dict[str, Any] = {}
    if device:
        context["device"] = {"type": device}
    if located:
        context["location"] = {"city": located}
    if context:
        body["context"] = context
    return body


def view(at: str, user: str | None, listing: str, **kw: Any) -> dict[str, Any]:
    return ev("event_viewed", at, user=user, listing_id=listing, **kw)


def payment(
    name: str, at: str, user: str, amount: float, listing: str = "L1", order: str = "o1", **kw: Any
) -> dict[str, Any]:
    extra = {"failure_reason": "card_declined"} if name == "payment_failed" else {}
    return ev(name, at, user=user, order_id=order, listing_id=listing, amount=amount, currency="INR", **extra, **kw)


def outcomes(day: str, *, completed: int, failed: int, tag: str = "u") -> list[dict[str, Any]]:
    """`completed` + `failed` payment outcomes of one business day (10:00 on, a minute apart), each its own
    user and order — at least 20 of them make a payment rate judged (docs/metrics.md, "Minimum volume")."""
    names = ["payment_completed"] * completed + ["payment_failed"] * failed
    return [
        payment(name, f"{day}T{10 + n // 60:02d}:{n % 60:02d}", f"{tag}{n}", 500, order=f"{tag}o{n}")
        for n, name in enumerate(names)
    ]


def created(
    listing: str,
    at: str,
    *,
    host: str = "h1",
    starts: str = "2026-03-10T19:00",
    capacity: int = 10,
    price: float = 499,
    category: str = "music",
    city: str = "Bengaluru",
    **extra: Any,
) -> dict[str, Any]:
    return ev(
        "event_created",
        at,
        user=host,
        listing_id=listing,
        host_id=host,
        category=category,
        city=city,
        price=price,
        currency="INR",
        capacity=capacity,
        starts_at=ist(starts),
        title="t",
        **extra,
    )


def ingest(*raws: dict[str, Any]) -> None:
    """Store through the pipeline; processing runs once the ingest commits (embedded mode)."""
    result = event_ingest(batch=list(raws), source="http")
    assert result.stored == len(raws), result.outcomes
    process_pending_events()  # a no-op when the on-commit processing already ran


def recompute() -> None:
    metrics_recompute_dirty()


def row(name: str, start: str | date, period_type: str = "day", breakdown: str = "") -> BusinessMetric:
    day = date.fromisoformat(start) if isinstance(start, str) else start
    return BusinessMetric.objects.get(
        metric_name=name, period_type=period_type, period_start=day, breakdown_key=breakdown
    )


def value(name: str, start: str | date, period_type: str = "day", breakdown: str = "") -> float | None:
    return row(name, start, period_type, breakdown).value


def snapshot() -> dict[tuple[str, str, str, str], tuple[Any, ...]]:
    fields = (
        "metric_type",
        "value",
        "previous_value",
        "change_percentage",
        "change_direction",
        "status",
        "is_alert_triggered",
        "period_end",
        "dimensions",
        "target_value",
        "warning_threshold",
        "critical_threshold",
    )
    return {
        (r.metric_name, r.period_type, r.period_start.isoformat(), r.breakdown_key): tuple(
            getattr(r, f) for f in fields
        )
        for r in BusinessMetric.objects.all()
    }
