"""What an operator needs when something looks wrong: the detailed health of every component, the
versions and settings in force (secrets masked), and a list of findings with their fixes
(`GET /health/detailed`, `GET /debug/info`, `manage.py debug_analytics`; docs/operations.md,
"Troubleshooting")."""

from __future__ import annotations

import platform
import re
import sys
from dataclasses import dataclass
from datetime import timedelta
from importlib.metadata import PackageNotFoundError, version
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.db.models import Count, Q

from analytics import clock
from analytics.intelligence.manager import AIServiceManager
from analytics.models import Alert, FailedEvent, MetricDirtyDay, PredictionModel
from analytics.models.alerts import AlertState
from analytics.operations.health import health_report
from analytics.operations.task_runs import METRICS_RUN, last_finished, task_runs

PACKAGES = ("django", "fastapi", "uvicorn", "celery", "redis", "psycopg", "scikit-learn", "statsmodels", "plotly")
SECRET_NAME = re.compile(r"KEY|SECRET|PASSWORD|TOKEN|DSN", re.IGNORECASE)
MASK = "********"
# Thresholds of the findings (docs/operations.md, "Troubleshooting").
BACKLOG_STALE_SECONDS = 600
METRICS_STALE_HOURS = 2
MODEL_STALE_DAYS = 14


def queue_depths() -> dict[str, int | None] | None:
    """Messages waiting in each Celery queue (None per queue it could not read); None in embedded mode."""
    if settings.CELERY_EMBEDDED:
        return None
    from loopin_backend.celery import QUEUES, app

    depths: dict[str, int | None] = {}
    try:
        with app.connection_for_read() as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=2)
            channel = conn.default_channel
            for queue in QUEUES:
                try:
                    depths[queue] = int(channel.queue_declare(queue=queue, passive=True).message_count)
                except Exception:  # a queue nobody declared yet, or a transport without counts
                    depths[queue] = None
    except Exception:  # broker unreachable: the health report says so
        return {queue: None for queue in QUEUES}
    return depths


def model_freshness() -> list[dict[str, Any]]:
    """The active version of every prediction model and how old it is (the registry is the one source)."""
    now = clock.now()
    return [
        {
            "name": row.name,
            "version": row.version,
            "trained_at": row.trained_at,
            "age_hours": round((now - row.trained_at).total_seconds() / 3600, 1),
        }
        for row in PredictionModel.objects.filter(status="active").defer("artefact").order_by("name")
    ]


def health_detailed() -> dict[str, Any]:
    report = health_report()
    alerts = Alert.objects.filter(state=AlertState.OPEN).aggregate(
        critical=Count("id", filter=Q(severity="critical")), warning=Count("id", filter=Q(severity="warning"))
    )
    return {
        **report.body,
        "healthy": report.healthy,
        "queues": queue_depths(),
        "task_runs": task_runs(),
        "models": model_freshness(),
        "ai_services": AIServiceManager().health(),
        "metrics": {"last_run_finished": last_finished(METRICS_RUN), "dirty_days": MetricDirtyDay.objects.count()},
        "quarantined_events": FailedEvent.objects.count(),
        "open_alerts": alerts,
    }


def mask_url(url: str) -> str:
    """A URL with its password (if any) replaced by the mask."""
    parts = urlsplit(url)
    if not parts.password:
        return url
    netloc = f"{parts.username}:{MASK}@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def _shown(name: str, value: Any) -> Any:
    if SECRET_NAME.search(name):
        return MASK if value else ""
    if isinstance(value, str) and "://" in value:
        return mask_url(value)
    return value


def debug_info() -> dict[str, Any]:
    from loopin_backend.settings import ENV

    packages: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            packages[name] = version(name)
        except PackageNotFoundError:
            packages[name] = None
    values = ENV.model_dump()
    return {
        "version": settings.VERSION,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "packages": packages,
        "database_vendor": settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1],
        "mode": "embedded" if settings.CELERY_EMBEDDED else "production",
        "settings": {name: _shown(name, values[name]) for name in sorted(values)},
    }


@dataclass(frozen=True)
class Finding:
    level: str  # ok / warning / problem
    check: str
    what: str
    fix: str = ""


def check_data() -> list[Finding]:
    report = health_report()
    findings = []
    database = report.body["checks"]["database"]
    if database["status"] != "ok":
        return [Finding("problem", "data", "the database does not answer", "check DATABASE_URL and that it is up")]
    backlog = report.body.get("backlog") or {}
    age = backlog.get("oldest_unprocessed_age_seconds")
    if age is not None and age > BACKLOG_STALE_SECONDS:
        findings.append(
            Finding(
                "problem",
                "data",
                f"{backlog['unprocessed_events']:,} tracked events wait for processing, the oldest for {age:.0f} s",
                "start a worker (make worker / celery -A loopin_backend worker) and check CELERY_BROKER_URL",
            )
        )
    workers = report.body["checks"].get("workers", {})
    if workers.get("status") == "none_alive":
        findings.append(Finding("problem", "data", "no Celery worker is alive", "start one: make worker"))
    quarantined = FailedEvent.objects.count()
    if quarantined:
        findings.append(
            Finding(
                "warning",
                "data",
                f"{quarantined:,} events are quarantined",
                "see them in the admin; after a fix: manage.py replay_failed_events --reason CODE",
            )
        )
    if not findings:
        findings.append(Finding("ok", "data", f"database up, backlog {backlog.get('unprocessed_events', 0):,} events"))
    return findings


def check_metrics() -> list[Finding]:
    finished = last_finished(METRICS_RUN)
    if finished is None:
        return [Finding("problem", "metrics", "metrics have never been computed", "manage.py backfill_metrics")]
    age = clock.now() - finished
    if age > timedelta(hours=METRICS_STALE_HOURS):
        return [
            Finding(
                "problem",
                "metrics",
                f"the last metrics run finished {age.total_seconds() / 3600:.1f} h ago",
                "check that beat runs (make beat) and a worker consumes the default queue",
            )
        ]
    return [Finding("ok", "metrics", f"last metrics run finished {age.total_seconds() / 60:.0f} min ago")]


def check_ai() -> list[Finding]:
    from analytics.intelligence.sentiment.service import sentiment_analyze

    findings = []
    try:
        result = sentiment_analyze(texts=["The host was wonderful and the venue was great."])[0]
    except Exception as exc:  # the local models ship in the packages: any failure is a broken install
        findings.append(Finding("problem", "ai", f"sentiment failed: {type(exc).__name__}", "reinstall: make"))
    else:
        if result.sentiment != "positive":
            findings.append(
                Finding("problem", "ai", f"sentiment misread a positive text as {result.sentiment}", "reinstall: make")
            )
        else:
            findings.append(Finding("ok", "ai", "sentiment answers (local models)"))
    if not (settings.OPENAI_API_KEY and settings.AI_SERVICES_ENABLED):
        findings.append(Finding("ok", "ai", "OpenAI not configured (optional: the local models answer)"))
    stale = clock.now() - timedelta(days=MODEL_STALE_DAYS)
    models = model_freshness()
    if not models:
        findings.append(
            Finding(
                "warning",
                "ai",
                "no prediction model is active",
                "manage.py shell -c 'from analytics.tasks import train_prediction_models as t; t()'",
            )
        )
    for model in models:
        if model["trained_at"] < stale:
            findings.append(
                Finding(
                    "warning",
                    "ai",
                    f"model {model['name']} v{model['version']} is {model['age_hours'] / 24:.0f} days old",
                    "check that beat runs train_prediction_models (weekly)",
                )
            )
    return findings
