"""Selectors over stored metrics: the catalogue with each metric's current status, and one metric's
history with its breakdowns. Reads `BusinessMetric` only (index `bm_period` / the unique key)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db.models import Max, Q

from analytics.errors import ValidationFailed
from analytics.metrics.periods import Period, business_today
from analytics.metrics.registry import MetricDefinition, metric_get, metric_list
from analytics.models import BusinessMetric

# The newest stored period of a metric is never older than this (a month period starts ≤ 31 days ago);
# bounding the scan keeps the catalogue and the overview's cards cheap however long the history.
_RECENT_DAYS = 45
MAX_HISTORY_DAYS = 731


@dataclass(frozen=True)
class SoFar:
    """The value of a period in progress: shown beside a card, never judged (status `partial`)."""

    period_start: date
    period_end: date
    value: float


@dataclass(frozen=True)
class MetricCard:
    """A metric's latest complete whole-platform value (of its primary period type) with its status, and
    the period in progress so far."""

    metric_name: str
    metric_type: str
    category: str
    unit: str
    question: str
    direction: str
    periods: tuple[str, ...]
    breakdowns: tuple[str, ...]
    period_type: str
    period_start: date | None
    period_end: date | None
    value: float | None
    previous_value: float | None
    change_percentage: float | None
    change_direction: str
    target_value: float | None
    warning_threshold: float | None
    critical_threshold: float | None
    status: str
    is_alert_triggered: bool
    so_far: SoFar | None = None


def _card(definition: MetricDefinition, row: BusinessMetric | None, partial: BusinessMetric | None) -> MetricCard:
    return MetricCard(
        metric_name=definition.name,
        metric_type=definition.kind.value,
        category=definition.category,
        unit=definition.unit.value,
        question=definition.question,
        direction=definition.direction.value,
        periods=definition.periods,
        breakdowns=definition.breakdowns,
        period_type=row.period_type if row else definition.periods[0],
        period_start=row.period_start if row else None,
        period_end=row.period_end if row else None,
        value=row.value if row else None,
        previous_value=row.previous_value if row else None,
        change_percentage=row.change_percentage if row else None,
        change_direction=row.change_direction if row else "",
        target_value=definition.target,
        warning_threshold=definition.warning,
        critical_threshold=definition.critical,
        status=row.status if row else "no_data",
        is_alert_triggered=row.is_alert_triggered if row else False,
        so_far=(
            SoFar(partial.period_start, partial.period_end, partial.value)
            if partial is not None and partial is not row and partial.value is not None
            else None
        ),
    )


def settled(today: date) -> Q:
    """Metric rows whose value can no longer change: every row of a metric that settles at once, and of
    a metric with `settles_after_days` (the conversion rate) only the periods that ended at least that
    many business days before `today`."""
    late = {d.name: d.settles_after_days for d in metric_list() if d.settles_after_days}
    rows = ~Q(metric_name__in=late)
    for name, days in late.items():
        rows |= Q(metric_name=name, period_end__lt=today - timedelta(days=days))
    return rows


def metric_cards(*, today: date | None = None) -> list[MetricCard]:
    """Every registered metric's current card: the newest stored whole-platform row of its primary
    period type that is complete and has a value (else the newest row, else no data) — e.g. yesterday's
    daily figure, last month's growth; retention's current day is not mature yet, so its card shows the
    newest mature day — and, for a metric that settles late, the newest settled period (yesterday's
    conversion is low only because its viewers have not had the time to attend yet). The period in
    progress, when it has a value, rides along as `so_far` (docs/metrics.md, "Status")."""
    today = today or business_today()
    definitions = metric_list()
    since = today - timedelta(days=_RECENT_DAYS)
    recent = BusinessMetric.objects.filter(
        settled(today), breakdown_key="", period_start__gte=since, period_start__lte=today
    )
    latest: dict[tuple[str, str], dict[str, date | None]] = {}
    for group in (
        recent.values("metric_name", "period_type")
        .annotate(
            any=Max("period_start"),
            complete=Max("period_start", filter=Q(value__isnull=False, period_end__lt=today)),
            valued=Max("period_start", filter=Q(value__isnull=False)),
        )
        .order_by()
    ):
        latest[group["metric_name"], group["period_type"]] = group
    wanted = Q(pk__in=[])
    chosen: dict[tuple[str, str], tuple[date | None, date | None]] = {}
    for definition in definitions:
        key = (definition.name, definition.periods[0])
        found = latest.get(key)
        if found is None:
            continue
        start = found["complete"] or found["valued"] or found["any"]
        in_progress = found["valued"] if found["valued"] and found["valued"] != start else None
        chosen[key] = (start, in_progress)
        for day in (start, in_progress):
            if day is not None:
                wanted |= Q(metric_name=key[0], period_type=key[1], period_start=day)
    rows = {(r.metric_name, r.period_type, r.period_start): r for r in recent.filter(wanted)}
    cards = []
    for definition in definitions:
        key = (definition.name, definition.periods[0])
        start, in_progress = chosen.get(key, (None, None))
        shown = rows.get((*key, start)) if start else None
        partial = rows.get((*key, in_progress)) if in_progress else None
        cards.append(_card(definition, shown, partial if partial is not None and partial.period_end >= today else None))
    return cards


@dataclass(frozen=True)
class MetricPoint:
    period_type: str
    period_start: date
    period_end: date
    breakdown_key: str
    dimensions: dict[str, Any]
    value: float | None
    previous_value: float | None
    change_percentage: float | None
    change_direction: str
    status: str
    is_alert_triggered: bool


@dataclass(frozen=True)
class MetricHistory:
    card: MetricCard
    definition: str
    period_type: str
    points: list[MetricPoint]  # whole platform, oldest first
    breakdowns: dict[str, list[MetricPoint]]  # dimension → rows (every value, oldest first)


def metric_history(
    *,
    metric_name: str,
    period_type: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    breakdown: str | None = None,
) -> MetricHistory:
    """A metric's stored values over time, whole-platform and per breakdown value. Unknown name → NotFound."""
    definition = metric_get(metric_name)
    period_type = period_type or definition.periods[0]
    if period_type not in definition.periods:
        raise ValidationFailed(
            f"{metric_name} is stored per {', '.join(definition.periods)}, not {period_type!r}",
            code="invalid_period",
            details={"periods": list(definition.periods)},
        )
    if breakdown is not None and breakdown not in definition.breakdowns:
        raise ValidationFailed(
            f"{metric_name} has no {breakdown!r} breakdown",
            code="invalid_breakdown",
            details={"breakdowns": list(definition.breakdowns)},
        )
    today = business_today()
    date_to = date_to or today
    date_from = date_from or (date_to - timedelta(days={"day": 29, "week": 7 * 11, "month": 365}[period_type]))
    if date_from > date_to:
        raise ValidationFailed("date_from is after date_to", code="invalid_date_range")
    if (date_to - date_from).days > MAX_HISTORY_DAYS:
        raise ValidationFailed(f"a history spans at most {MAX_HISTORY_DAYS} days", code="range_too_long")
    first = Period.containing(period_type, date_from).start
    rows = BusinessMetric.objects.filter(
        metric_name=metric_name, period_type=period_type, period_start__gte=first, period_start__lte=date_to
    ).order_by("period_start", "breakdown_key")
    dims = [breakdown] if breakdown else list(definition.breakdowns)
    wanted = Q(breakdown_key="")
    for dim in dims:
        wanted |= Q(breakdown_key__startswith=f"{dim}=")
    points: list[MetricPoint] = []
    by_dim: dict[str, list[MetricPoint]] = {dim: [] for dim in dims}
    for row in rows.filter(wanted):
        point = MetricPoint(
            row.period_type,
            row.period_start,
            row.period_end,
            row.breakdown_key,
            row.dimensions,
            row.value,
            row.previous_value,
            row.change_percentage,
            row.change_direction,
            row.status,
            row.is_alert_triggered,
        )
        if not row.breakdown_key:
            points.append(point)
        else:
            dim = row.breakdown_key.split("=", 1)[0]
            if dim in by_dim:
                by_dim[dim].append(point)
    card = next(c for c in metric_cards(today=today) if c.metric_name == metric_name)
    return MetricHistory(
        card=card, definition=definition.definition, period_type=period_type, points=points, breakdowns=by_dim
    )
