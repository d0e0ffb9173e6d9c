"""Digest tasks: the daily one (the documented `generate_daily_insights_summary`) and the weekly and
monthly ones, each run hourly by beat and sending only what is due and not yet sent (docs/reports.md).
A mail server that refuses fails the run and records nothing: the next hour sends it."""

from __future__ import annotations

from analytics.metrics.reports.delivery import digest_send
from analytics.tasks.policy import database_task, fresh_connections


@database_task(name="analytics.tasks.reports.generate_daily_insights_summary", soft_time_limit=240, time_limit=300)
def generate_daily_insights_summary() -> dict[str, bool]:
    """Yesterday's digest (what moved, open alerts, hosts, anomalies, outlook) to ANALYTICS_REPORT_EMAILS,
    once, after ANALYTICS_REPORT_HOUR."""
    with fresh_connections():
        return {"daily": digest_send("daily")}


@database_task(name="analytics.tasks.reports.generate_period_reports", soft_time_limit=240, time_limit=300)
def generate_period_reports() -> dict[str, bool]:
    """Last week's and last month's digests, each once."""
    with fresh_connections():
        return {kind: digest_send(kind) for kind in ("weekly", "monthly")}
