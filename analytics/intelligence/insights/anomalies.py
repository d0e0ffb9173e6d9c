"""Anomaly insights: each stored anomaly of the last week (analytics/intelligence/anomalies), with the
breakdown that moved most and what to check first. The detector already needs a history before it judges
a day, so there is no separate "not enough data" here: no anomaly, no insight."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from analytics.intelligence.insights.drafts import Findings, InsightDraft, z_confidence
from analytics.metrics.periods import business_day
from analytics.models import DetectedAnomaly

INSIGHT_TYPE = "anomaly"
LOOKBACK_DAYS = 7

WHAT: dict[str, str] = {
    "daily_active_users": "Daily active users",
    "net_revenue": "Net revenue",
    "payment_failure_rate": "The payment failure rate",
    "api_error_rate": "The API error rate",
    "view_to_request_rate": "The view-to-request rate",
}
CHECKS: dict[str, tuple[str, ...]] = {
    "daily_active_users": ("Check sign-in and app availability", "Check whether a campaign or a push stopped"),
    "net_revenue": ("Check payments and cancellations", "Check whether big listings were cancelled or moved"),
    "payment_failure_rate": ("Check the payment provider's status and failure reasons", "Retry failed payments"),
    "api_error_rate": ("Check the latest deploy and the error logs", "Roll back if a release caused it"),
    "view_to_request_rate": ("Check the request button and listing pages", "Check prices and seats shown"),
}


def _where(breakdown: dict[str, Any]) -> str:
    if not breakdown:
        return ""
    return (
        f" The {breakdown['dimension']} that moved most: {breakdown['value']} ({breakdown.get('actual')} against "
        f"{breakdown.get('expected')} expected; {100 * float(breakdown['share_of_change']):.0f}% of the change for "
        f"{100 * float(breakdown['usual_share']):.0f}% of the usual total)."
    )


def anomaly_insights(now: datetime) -> Findings:
    findings = Findings()
    since = business_day(now) - timedelta(days=LOOKBACK_DAYS)
    for anomaly in DetectedAnomaly.objects.filter(day__gte=since).order_by("day", "metric_name"):
        what = WHAT.get(anomaly.metric_name, anomaly.metric_name)
        moved = "rose" if anomaly.direction == "up" else "fell"
        breakdown = anomaly.breakdown or {}
        if anomaly.harmful:
            priority = "high" if anomaly.severity == "critical" else "medium"
            actions = list(CHECKS.get(anomaly.metric_name, ("Find what changed that day",)))
            if breakdown:
                actions.insert(0, f"Start with {breakdown['dimension']} {breakdown['value']}: it moved most")
        else:
            priority = "low"
            actions = ["Find what drove the improvement and whether it can be repeated"]
        findings.drafts.append(
            InsightDraft(
                insight_type=INSIGHT_TYPE,
                dedup_key=f"{INSIGHT_TYPE}:{anomaly.metric_name}:{anomaly.day.isoformat()}",
                title=(
                    f"{what} {moved} to {anomaly.actual_value:g} on {anomaly.day:%d %b} "
                    f"(expected {anomaly.expected_value:g})"
                ),
                description=(
                    f"{what} was {anomaly.actual_value:g} on {anomaly.day.isoformat()}, {abs(anomaly.z_score):.1f} "
                    f"standard deviations {'above' if anomaly.direction == 'up' else 'below'} the "
                    f"{anomaly.expected_value:g} expected from its weekday pattern and trend." + _where(breakdown)
                ),
                confidence=z_confidence(anomaly.z_score),
                priority=priority,
                suggested_actions=actions,
                target_type="platform",
                evidence={
                    "metric_name": anomaly.metric_name,
                    "day": anomaly.day.isoformat(),
                    "expected_value": anomaly.expected_value,
                    "actual_value": anomaly.actual_value,
                    "z_score": anomaly.z_score,
                    "severity": anomaly.severity,
                    "harmful": anomaly.harmful,
                    "breakdown": breakdown,
                    "comparison_group": "the same weekday of the previous weeks, with the trend",
                },
                model_name="anomalies",
                is_actionable=anomaly.harmful,
            )
        )
    return findings
