"""What /health reports: can we take events, and is processing keeping up."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection

from analytics import clock
from analytics.collection.forwarding import posthog_backlog
from analytics.collection.processing import processing_backlog
from analytics.metrics.clickhouse.replication import replication_lag
from analytics.models import WorkerHeartbeat
from analytics.privacy.posthog_deletion import posthog_deletion_backlog, posthog_deletion_enabled


@dataclass(frozen=True)
class HealthReport:
    healthy: bool  # can take events (the database answers)
    body: dict[str, Any]


def _broker_status() -> dict[str, Any]:
    if settings.CELERY_EMBEDDED:
        return {"status": "ok", "mode": "in_process"}
    from loopin_backend.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=2)
    except Exception as exc:  # any transport error means "unreachable" here
        return {"status": "unreachable", "error": type(exc).__name__}
    return {"status": "ok", "mode": "broker"}


def _workers_status() -> dict[str, Any]:
    if settings.CELERY_EMBEDDED:
        return {"status": "ok", "mode": "in_process", "alive": 1}
    fresh_after = clock.now() - timedelta(seconds=max(45.0, 3 * settings.ANALYTICS_WORKER_HEARTBEAT_SECONDS))
    alive = list(WorkerHeartbeat.objects.filter(last_seen__gte=fresh_after).values_list("hostname", "last_seen"))
    return {
        "status": "ok" if alive else "none_alive",
        "mode": "celery",
        "alive": len(alive),
        "workers": [{"hostname": host, "last_seen": seen.isoformat()} for host, seen in alive],
    }


def _analytics_engine(lag: dict[str, Any]) -> dict[str, Any]:
    """Which engine answers the analyses and, for ClickHouse, what it still lacks (never its password)."""
    if lag["engine"] == "sql":
        return {"engine": "sql"}
    last = lag["last_run_at"]
    return {**lag, "last_run_at": last.isoformat() if last else None}


def health_report() -> HealthReport:
    now = clock.now()
    body: dict[str, Any] = {
        "version": settings.VERSION,
        "time": now.isoformat(),
        "mode": "embedded" if settings.CELERY_EMBEDDED else "production",
        "analytics_enabled": settings.ANALYTICS_ENABLED,
        "integrations": {
            "posthog": {
                "configured": bool(settings.POSTHOG_API_KEY),
                "person_deletion_configured": posthog_deletion_enabled(),
            },
            "openai": {"configured": bool(settings.OPENAI_API_KEY) and settings.AI_SERVICES_ENABLED},
        },
    }
    checks: dict[str, Any] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        checks["database"] = {"status": "ok", "vendor": connection.vendor}
        count, oldest = processing_backlog()
        body["backlog"] = {
            "unprocessed_events": count,
            "oldest_unprocessed_age_seconds": round((now - oldest).total_seconds(), 3) if oldest else None,
        }
        outbox = posthog_backlog()
        if settings.POSTHOG_API_KEY or outbox["outbox_pending"] or outbox["outbox_parked"]:
            body["integrations"]["posthog"].update(outbox)
        deletions = posthog_deletion_backlog()
        if posthog_deletion_enabled() or deletions["person_deletions_pending"]:
            body["integrations"]["posthog"].update(deletions)
        body["analytics_engine"] = _analytics_engine(replication_lag())
        checks["workers"] = _workers_status()
        database_ok = True
    except DatabaseError as exc:
        checks["database"] = {"status": "unreachable", "error": type(exc).__name__}
        body["backlog"] = None
        checks["workers"] = {"status": "unknown"}
        database_ok = False
    checks["broker"] = _broker_status()
    body["checks"] = checks
    degraded = any(check.get("status") != "ok" for check in checks.values())
    body["status"] = "unavailable" if not database_ok else ("degraded" if degraded else "ok")
    return HealthReport(healthy=database_ok, body=body)
