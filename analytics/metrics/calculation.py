"""Calculating and storing metrics: which periods a change affects, and the idempotent upsert.

`metrics_recompute_dirty()` is the incremental path (rollups of dirty days, then the metrics of
every period those days affect); `metrics_backfill()` rebuilds everything from a day on. Both end
in `metrics_store()`, so they write identical rows for the same data and the same instant.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import transaction
from django.db.models import Min

from analytics import clock
from analytics.metrics.analysis_session import planner_statistics_refresh
from analytics.metrics.evaluation import Evaluator
from analytics.metrics.periods import PERIOD_TYPES, Period, business_day
from analytics.metrics.registry import MetricDefinition, metric_list
from analytics.metrics.retention import RETENTION_DAYS
from analytics.metrics.rollups import ROLLUP_TABLES, first_activity_rebuild, rollups_rebuild
from analytics.metrics.selectors import OVERALL
from analytics.models import BusinessMetric, DirtyScope, MetricDirtyDay, UserEvent
from analytics.models.metrics import MetricStatus
from analytics.operations.task_runs import METRICS_RUN, task_run
from analytics.privacy import retention as data_retention

logger = logging.getLogger(__name__)

Targets = dict[Period, set[str]]


@dataclass(frozen=True)
class CalculationResult:
    days_rebuilt: int
    periods: int
    rows: int
    rollup_seconds: float = 0.0  # rebuilding the rollups of dirty days (funnel reach and cohorts included)
    metrics_seconds: float = 0.0  # computing and storing the metrics of every affected period


def _add(targets: Targets, period: Period, names: Iterable[str], today: date) -> None:
    if period.start > today:
        return
    targets[period].update(names)
    following = period.next()  # its previous_value / change (and growth, churn) read this period
    if following.start <= today:
        targets[following].update(names)


def affected_targets(*, days: Iterable[date], cohort_days: Iterable[date] = (), now: datetime) -> Targets:
    """Every (period, metric) whose value can change when the events of `days` change.

    Beyond the periods containing each day: the periods each metric declares it affects (retention
    cohorts n days back, conversion views 14 days back), the next period (previous value, growth,
    churn), the cohorts whose first active day moved, and the time-dependent ones — the current
    periods and the retention cohorts maturing today.
    """
    definitions = metric_list()
    today = business_day(now)
    targets: Targets = defaultdict(set)
    for day in set(days):
        for definition in definitions:
            for affected in definition.affects(day):
                for period_type in definition.periods:
                    _add(targets, Period.containing(period_type, affected), [definition.name], today)
    retention = [d for d in definitions if d.name.startswith("retention_rate_")]
    for day in set(cohort_days):
        for definition in retention:
            for period_type in definition.periods:
                _add(targets, Period.containing(period_type, day), [definition.name], today)
    for period_type in PERIOD_TYPES:
        current = Period.containing(period_type, today)
        names = {d.name for d in definitions if period_type in d.periods}
        targets[current].update(names)
        # The period that just ended is judged now: its rows were stored as partial while it was in progress.
        targets[current.previous()].update(names)
    for n in RETENTION_DAYS:
        maturing = today - timedelta(days=n + 1)
        for period_type in PERIOD_TYPES:
            targets[Period.containing(period_type, maturing)].add(f"retention_rate_{n}d")
    return targets


def _change(value: float | None, previous: float | None) -> tuple[float | None, str]:
    if value is None or previous is None:
        return None, ""
    direction = "up" if value > previous else "down" if value < previous else "flat"
    change = None if previous == 0 else round(100.0 * (value - previous) / abs(previous), 6)
    return change, direction


def _rows(definition: MetricDefinition, period: Period, evaluator: Evaluator) -> list[BusinessMetric]:
    rows = []
    for breakdown in (None, *definition.breakdowns):
        current = evaluator.values(definition.name, period, breakdown)
        previous = evaluator.values(definition.name, period.previous(), breakdown)
        volumes = evaluator.volumes(definition.name, period, breakdown)
        for key in sorted(current):
            value = current[key]
            if period.end >= evaluator.today and value is not None:
                # In progress: a part of a period is not comparable with a whole one (half a month of
                # revenue is not a 50% drop); shown as partial, judged once the period is complete.
                status, (change, direction) = MetricStatus.PARTIAL.value, (None, "")
            else:
                status = definition.judged_status(value, volumes.get(key))
                change, direction = _change(value, previous.get(key))
            rows.append(
                BusinessMetric(
                    metric_type=definition.kind.value,
                    metric_name=definition.name,
                    category=definition.category,
                    unit=definition.unit.value,
                    value=value,
                    previous_value=previous.get(key),
                    change_percentage=change,
                    change_direction=direction,
                    target_value=definition.target,
                    warning_threshold=definition.warning,
                    critical_threshold=definition.critical,
                    status=status,
                    is_alert_triggered=status in ("amber", "red"),
                    period_type=period.type,
                    period_start=period.start,
                    period_end=period.end,
                    breakdown_key="" if breakdown is None else f"{breakdown}={key}",
                    dimensions={} if breakdown is None else {breakdown: key},
                    computed_at=evaluator.now,
                )
            )
        if breakdown is None and OVERALL not in current:
            raise AssertionError(f"{definition.name} returned no overall value")
    return rows


_UPDATE_FIELDS = [
    "metric_type",
    "category",
    "unit",
    "value",
    "previous_value",
    "change_percentage",
    "change_direction",
    "target_value",
    "warning_threshold",
    "critical_threshold",
    "status",
    "is_alert_triggered",
    "period_end",
    "dimensions",
    "computed_at",
]


def metrics_store(*, targets: Targets, now: datetime | None = None) -> int:
    """Compute and upsert every (period, metric) of `targets`; returns how many rows were written."""
    evaluator = Evaluator(now=now)
    by_name = {d.name: d for d in metric_list()}
    written = 0
    first_kept = data_retention.frozen_before()
    for period in sorted(targets):
        if first_kept is not None and period.previous().start < first_kept:
            # A period that reaches into purged days — or whose previous period does (churn and growth read it)
            # — keeps the values computed while their events existed.
            continue
        names = [name for name in by_name if name in targets[period] and period.type in by_name[name].periods]
        for name in names:
            rows = _rows(by_name[name], period, evaluator)
            with transaction.atomic():
                BusinessMetric.objects.filter(
                    metric_name=name, period_type=period.type, period_start=period.start
                ).exclude(breakdown_key__in=[row.breakdown_key for row in rows]).delete()
                BusinessMetric.objects.bulk_create(
                    rows,
                    update_conflicts=True,
                    update_fields=_UPDATE_FIELDS,
                    unique_fields=["metric_name", "period_type", "period_start", "breakdown_key"],
                )
            written += len(rows)
    return written


def metrics_recompute_dirty(*, now: datetime | None = None) -> CalculationResult:
    """The incremental path: rebuild the rollups of dirty days, then recompute what they affect (a recorded
    run: readers' caches follow its generation)."""
    with task_run(METRICS_RUN):
        return _recompute_dirty(now=now)


def _recompute_dirty(*, now: datetime | None) -> CalculationResult:
    now = now or clock.now()
    claimed = list(MetricDirtyDay.objects.values_list("day", "scope", "token"))
    rebuild = sorted({day for day, scope, _ in claimed if scope == DirtyScope.ROLLUPS})
    started = time.perf_counter()
    cohort_days = rollups_rebuild(days=rebuild)
    rolled = time.perf_counter()
    targets = affected_targets(days={day for day, _, _ in claimed}, cohort_days=cohort_days, now=now)
    rows = metrics_store(targets=targets, now=now)
    done = time.perf_counter()
    for day, scope, token in claimed:  # a day marked again meanwhile keeps its new token: stays dirty
        MetricDirtyDay.objects.filter(day=day, scope=scope, token=token).delete()
    logger.info(
        "metrics.recomputed dirty_days=%d periods=%d rows=%d rollup_s=%.1f metrics_s=%.1f",
        len(rebuild),
        len(targets),
        rows,
        rolled - started,
        done - rolled,
    )
    return CalculationResult(
        days_rebuilt=len(rebuild),
        periods=len(targets),
        rows=rows,
        rollup_seconds=round(rolled - started, 3),
        metrics_seconds=round(done - rolled, 3),
    )


def metrics_calculate_day(*, day: date, now: datetime | None = None) -> CalculationResult:
    """Rebuild one business day's rollups and recompute everything it affects (and what is dirty)."""
    from analytics.metrics.dirty import days_mark_dirty

    days_mark_dirty(days=[day])
    return metrics_recompute_dirty(now=now)


def earliest_event_day() -> date | None:
    first = UserEvent.objects.aggregate(first=Min("timestamp"))["first"]
    return None if first is None else business_day(first)


def metrics_backfill(*, since: date | None = None, now: datetime | None = None) -> CalculationResult:
    """Rebuild every rollup from `since` (default: the first tracked event's day) to today, then every
    metric of every period that overlaps those days (a recorded run, like the incremental path)."""
    with task_run(METRICS_RUN):
        return _backfill(since=since, now=now)


def _backfill(*, since: date | None, now: datetime | None) -> CalculationResult:
    now = now or clock.now()
    today = business_day(now)
    since = since or earliest_event_day() or today
    first_kept = data_retention.frozen_before()
    if first_kept is not None:
        since = max(since, first_kept)  # purged days are frozen: their rollups and metrics stay as they are
    days = [since + timedelta(days=n) for n in range((today - since).days + 1)]
    marks = list(MetricDirtyDay.objects.filter(day__gte=since, day__lte=today).values_list("day", "scope", "token"))
    rollups_rebuild(days=days)
    first_activity_rebuild()
    planner_statistics_refresh(*ROLLUP_TABLES)
    definitions = metric_list()
    targets: Targets = defaultdict(set)
    for day in days:
        for definition in definitions:
            for period_type in definition.periods:
                targets[Period.containing(period_type, day)].add(definition.name)
    BusinessMetric.objects.filter(period_start__gte=since).delete()
    rows = metrics_store(targets=targets, now=now)
    for day, scope, token in marks:
        MetricDirtyDay.objects.filter(day=day, scope=scope, token=token).delete()
    planner_statistics_refresh(BusinessMetric._meta.db_table)
    logger.info("metrics.backfilled since=%s days=%d rows=%d", since, len(days), rows)
    return CalculationResult(days_rebuilt=len(days), periods=len(targets), rows=rows)
