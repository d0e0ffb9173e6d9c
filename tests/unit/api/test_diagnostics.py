"""The troubleshooting faces (docs/operations.md, "Troubleshooting"): GET /health/detailed and
GET /debug/info for admins only, secrets never shown; `manage.py debug_analytics` names each problem with
its fix and exits 1 when there is one."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from fastapi.testclient import TestClient

from analytics import clock
from analytics.metrics.calculation import metrics_backfill
from analytics.models import TaskRun, UserEvent
from analytics.operations.diagnostics import mask_url
from analytics.tasks import deliver_alert_notifications
from tests.unit.api.bi_support import bearer
from tests.unit.metrics.support import ev, ingest, now  # noqa: F401  (the `now` fixture: frozen at 2026-03-20)

API = "/api/analytics"


@pytest.mark.parametrize("path", ["/health/detailed", "/debug/info"])
def test_only_admins_read_the_troubleshooting_routes(client: TestClient, path: str) -> None:
    assert client.get(API + path).status_code == 401
    assert client.get(API + path, headers=bearer("analyst")).status_code == 403
    assert client.get(API + path, headers=bearer("host", host_id="h1")).status_code == 403
    assert client.get(API + path, headers=bearer("admin")).status_code == 200


@pytest.mark.usefixtures("now")  # the backfill runs to "today": frozen ten days after the event, not the real date
def test_detailed_health_lists_task_runs_the_metrics_run_and_what_waits(client: TestClient) -> None:
    ingest(ev("page_view", "2026-03-10T10:00", user="u1", path="/"))
    metrics_backfill()
    deliver_alert_notifications.apply()  # a scheduled task: its run is recorded
    body = client.get(f"{API}/health/detailed", headers=bearer("admin")).json()
    runs = {run["name"]: run for run in body["task_runs"]}
    delivered = runs["analytics.tasks.alerts.deliver_alert_notifications"]
    assert (delivered["succeeded"], delivered["finished_runs"]) == (True, 1)
    assert runs["metrics"]["succeeded"] is True and body["metrics"]["last_run_finished"] is not None
    assert body["queues"] is None  # embedded: no broker queues
    assert body["quarantined_events"] == 0 and body["open_alerts"] == {"critical": 0, "warning": 0}
    services = {s["name"]: s for s in body["ai_services"]["services"]}  # the AI service manager's report
    assert services["sentiment"]["status"] == "ok" and services["churn"]["status"] == "not_trained"
    assert body["ai_services"]["status"] == "degraded"  # nothing trained yet
    assert body["models"] == [] and body["healthy"] is True


def test_debug_info_shows_settings_with_every_secret_masked(client: TestClient, monkeypatch: Any) -> None:
    import loopin_backend.settings as project

    secret = "jwt-secret-that-must-never-be-shown-0123456789"
    env = project.ENV.model_copy(
        update={
            "JWT_SECRET_KEY": secret,
            "DATABASE_URL": "postgres://loopin:db-password-never-shown@db.internal:5432/analytics",
        }
    )
    monkeypatch.setattr(project, "ENV", env)
    response = client.get(f"{API}/debug/info", headers=bearer("admin"))
    assert response.status_code == 200
    assert secret not in response.text and "db-password-never-shown" not in response.text
    shown = response.json()["settings"]
    assert shown["JWT_SECRET_KEY"] == "********"
    assert shown["DATABASE_URL"] == "postgres://loopin:********@db.internal:5432/analytics"
    assert shown["ANALYTICS_TIME_ZONE"] == env.ANALYTICS_TIME_ZONE  # the rest as it is
    assert response.json()["packages"]["django"].startswith("5.2")


def test_mask_url_keeps_what_is_not_a_password() -> None:
    assert mask_url("redis://127.0.0.1:6379/0") == "redis://127.0.0.1:6379/0"
    assert mask_url("rediss://:pw@cache:6380/1") == "rediss://:********@cache:6380/1"


def _debug(*flags: str) -> tuple[int, str]:
    out = StringIO()
    try:
        call_command("debug_analytics", *flags, stdout=out)
    except SystemExit as exited:
        return int(exited.code or 0), out.getvalue()
    return 0, out.getvalue()


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("now")  # the backfill runs to "today": frozen ten days after the event, not the real date
def test_debug_analytics_names_each_problem_with_its_fix_and_exits_1() -> None:
    code, out = _debug("--check-metrics")
    assert code == 1
    assert "PROBLEM [metrics] metrics have never been computed — fix: manage.py backfill_metrics" in out

    ingest(ev("page_view", "2026-03-10T10:00", user="u1", path="/"))
    metrics_backfill()
    assert _debug("--check-metrics")[0] == 0
    TaskRun.objects.filter(name="metrics").update(finished_at=clock.now() - timedelta(hours=3))
    code, out = _debug("--check-metrics")
    assert code == 1 and "the last metrics run finished 3.0 h ago" in out

    UserEvent.objects.update(processed_at=None, received_at=clock.now() - timedelta(minutes=30))
    code, out = _debug("--check-data")
    assert code == 1 and "tracked events wait for processing" in out and "start a worker" in out


@pytest.mark.django_db(transaction=True)
def test_debug_analytics_ai_check_runs_the_local_models() -> None:
    code, out = _debug("--test-ai")
    assert "ok      [ai] sentiment answers (local models)" in out
    assert "WARNING [ai] no prediction model is active" in out
    assert code == 0  # warnings alone are not problems
