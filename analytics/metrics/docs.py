"""docs/metrics.md is generated from the registry: `python manage.py metrics_docs` rewrites it,
and tests/unit/metrics/test_faces_and_registry.py fails when the file and the registry disagree."""

from __future__ import annotations

from pathlib import Path

from analytics.metrics.registry import MetricDefinition, metric_list

DOC_PATH = Path(__file__).resolve().parents[2] / "docs" / "metrics.md"

INTRO = """# Metrics

<!-- Generated from the metric registry (analytics/metrics/) by `python manage.py metrics_docs`.
     Do not edit by hand: tests/unit/metrics/test_faces_and_registry.py fails when this file and the
     registry differ. -->

Every KPI (how well the marketplace works), KRI (what could hurt it) and KR (a goal with a target)
of Loopin Analytics, with its exact definition. The API, the dashboard, the alerts and the
calculators (`KPICalculator`, `KRICalculator`, `KRCalculator`) all read these definitions.

## Shared rules

- **Business day**: a calendar date in `ANALYTICS_TIME_ZONE` (default `Asia/Kolkata`). Its bounds are
  local midnights converted to UTC with zoneinfo, so a day around a DST change lasts 23 or 25 hours.
  Stored times are UTC; an event belongs to the business day of its `timestamp`.
- **Periods**: `day`; `week` = Monday to Sunday; `month` = calendar month. A metric is stored per period
  in `BusinessMetric` (`period_start` / `period_end` are the first and last business day).
- **Active user**: an identified user (`user_id` not null) with at least one user-initiated tracked event
  in the period — any event except `api_request` and `app_error`. Anonymous-only activity does not make an
  active user; once an anonymous id is linked to a user, its earlier events count as that user's.
- **No data is not zero**: a rate or an average whose denominator is empty has no value (`value` null,
  status `no_data`), never 0% and never a division error. Counts and sums are 0 when nothing happened.
- **Units**: `percent` is 0–100; `minutes`; `currency` is the platform currency as tracked
  (`revenue_impact`: +amount for `payment_completed`, −amount for `payment_refunded` and `payment_chargeback`);
  `milliseconds`; `score` (a 1–5 rating or a −1…1 sentiment); `count`.
- **Previous value and change**: the same metric and breakdown for the previous period of the same type;
  `change_percentage` = (value − previous) ÷ |previous| × 100 (null when either is missing or previous is 0);
  `change_direction` up / down / flat.
- **Status**: for a metric where higher is better, `red` when value ≤ critical, `amber` when value ≤ warning,
  else `green`; where lower is better, `red` when value ≥ critical, `amber` when value ≥ warning. Amber and red
  set `is_alert_triggered`. No value → `no_data`.
- **Minimum volume**: a rate or an average over a handful of events is noise — one chargeback in five
  payments is 20%, one disputed payment, not a crisis. Each such metric names what it stands on (payment
  outcomes, finished listings, a cohort's people, reviews…) and the least of it worth judging (20 payments or
  OTP outcomes, 10 listings or hosts, 50 people in a retention cohort, 10 reviews: below these one event
  moves the value past a threshold). Below it the value is stored with status `sparse` — shown, with its
  change, but never amber or red and never an alert; the week or month around it, with more behind it, is
  judged as usual.
- **Periods in progress are not judged**: the day, week or month that contains today is stored as it stands
  with status `partial`, no change and no alert — a part of a period is not comparable with a whole one
  (two days of December are not a 90% drop from November; today's first four payments are not a day). We
  chose this over comparing with the same elapsed part of the previous period because several metrics
  compare periods themselves (the growth KRs, churn, host drop-out): only whole periods give them meaning.
  Each metrics run re-judges the period that just ended. Alerts judge the newest complete period of each
  metric; a card (`GET /metrics`, the overview's KPIs) shows the newest complete period with its status and
  change, and the period in progress beside it as `so_far` (its period and value so far).
- **Breakdowns**: `platform` is the event's `device_type`; `city` the event's city (context.location or
  properties); `category` and `host` come from the listing (`listing_id` → `EventListing`) as it is when the
  metric is computed. Events without the dimension are grouped under `unknown`.
- **Freshness**: processing marks the business day of every new tracked event dirty (late events included);
  the hourly `process_daily_metrics_calculation` rebuilds the rollups of dirty days and recomputes every period
  they affect. Days whose rollups did not change but whose metrics did — the start day of a session that a
  new event lengthens (sessions count on the day they start), a listing's scheduled days — are recomputed
  without a rebuild.
- **Settling**: a metric whose periods still change after they end, because journeys take time
  (`overall_conversion_rate`: 14 days after a view), is provisional until it settles; its card
  (`GET /metrics`, the overview's KPIs) and its alerts use the newest settled period, its history shows
  every period. `manage.py backfill_metrics --since YYYY-MM-DD` rebuilds everything and gives the same rows.

## Catalogue

| metric | kind | category | unit | periods | good | warning | critical | target |
|---|---|---|---|---|---|---|---|---|
"""


def _number(value: float | None) -> str:
    return "—" if value is None else f"{value:g}"


def _row(d: MetricDefinition) -> str:
    good = "higher" if d.direction.value == "up" else "lower"
    return (
        f"| [`{d.name}`](#{d.name}) | {d.kind.value.upper()} | {d.category} | {d.unit.value} | "
        f"{', '.join(d.periods)} | {good} | {_number(d.warning)} | {_number(d.critical)} | {_number(d.target)} |"
    )


def _section(d: MetricDefinition) -> str:
    lines = [
        f"### {d.name}",
        "",
        f"*{d.kind.value.upper()} · {d.category} · {d.unit.value} · "
        f"{'higher' if d.direction.value == 'up' else 'lower'} is better*",
        "",
        f"**Question.** {d.question}",
        "",
        f"**Definition.** {d.definition}",
        "",
        f"**Periods:** {', '.join(d.periods)}. **Breakdowns:** {', '.join(d.breakdowns) or 'none'}. "
        f"**Thresholds:** warning {_number(d.warning)}, critical {_number(d.critical)}"
        + (f", target {_number(d.target)}" if d.target is not None else "")
        + "."
        + (
            f" **Settles** {d.settles_after_days} days after a period ends: its card and alerts use the newest"
            " settled period."
            if d.settles_after_days
            else ""
        )
        + (
            f" **Minimum volume:** judged over at least {d.min_volume} {d.volume_label}; below, status `sparse`."
            if d.volume is not None
            else ""
        ),
        "",
    ]
    return "\n".join(lines)


def render_metrics_doc() -> str:
    definitions = metric_list()
    parts = [INTRO + "\n".join(_row(d) for d in definitions), "\n\n## Definitions\n"]
    parts += [_section(d) for d in definitions]
    return "\n".join(parts).rstrip() + "\n"


def metrics_doc_write() -> Path:
    DOC_PATH.write_text(render_metrics_doc(), encoding="utf-8")
    return DOC_PATH
