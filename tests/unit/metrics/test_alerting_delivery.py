"""Alert channels over the real protocols: the webhook against a local HTTP server, e-mail through a
local SMTP server (aiosmtpd) via Django's SMTP backend — retries with backoff, every attempt recorded,
nothing sent when a channel is unset, and state changes never waiting on delivery."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from analytics import clock
from analytics.metrics.alerting import alert_acknowledge, alert_notifications_deliver, alerts_evaluate
from analytics.metrics.alerting.delivery import BACKOFF_BASE_SECONDS, BACKOFF_MAX_SECONDS
from analytics.models import Alert, AlertDeliveryAttempt, AlertNotification
from analytics.tasks import evaluate_alerts
from analytics.tasks.schedule import beat_schedule
from tests.support.smtp_server import SmtpServer
from tests.support.webhook_server import WebhookServer
from tests.unit.metrics.alert_rows import metric
from tests.unit.metrics.support import NOW

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("now")]

SECRET = "whsec-local-test-secret"
RECIPIENTS = ["ops@example.com", "oncall@example.com"]


@pytest.fixture
def hook(settings: Any) -> Iterator[WebhookServer]:
    with WebhookServer() as server:
        settings.ANALYTICS_ALERT_WEBHOOK_URL = server.url
        settings.ANALYTICS_ALERT_WEBHOOK_SECRET = SECRET
        yield server


@pytest.fixture
def smtp(settings: Any) -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"  # pytest-django swaps in locmem
        settings.EMAIL_HOST = server.host
        settings.EMAIL_PORT = server.port
        settings.EMAIL_TIMEOUT = 5
        settings.DEFAULT_FROM_EMAIL = "alerts@loopin.test"
        settings.ANALYTICS_ALERT_EMAILS = RECIPIENTS
        yield server


def breach() -> Alert:
    metric("payment_failure_rate", "2026-03-18", 25.0)
    alerts_evaluate()
    return Alert.objects.get()


def advance(seconds: float) -> None:
    clock.freeze(clock.now() + timedelta(seconds=seconds))


def test_webhook_receives_the_opened_alert_as_signed_json(hook: WebhookServer) -> None:
    alert = breach()

    result = alert_notifications_deliver()

    assert (result.sent, result.retrying, result.failed) == (1, 0, 0)
    [request] = hook.requests()
    body = request.json
    assert body["type"] == "alert.opened"
    assert body["alert"]["id"] == alert.id
    assert (body["alert"]["metric_name"], body["alert"]["severity"]) == ("payment_failure_rate", "critical")
    assert (body["alert"]["value"], body["alert"]["threshold"]) == (25.0, 20.0)
    assert request.headers["content-type"] == "application/json"
    assert request.headers["x-loopin-event"] == "alert.opened"
    timestamp = request.headers["x-loopin-timestamp"]
    assert timestamp == str(int(NOW.timestamp()))
    expected = hmac.new(SECRET.encode(), f"{timestamp}.".encode() + request.body, hashlib.sha256).hexdigest()
    assert request.headers["x-loopin-signature"] == f"sha256={expected}"
    notification = AlertNotification.objects.get()
    assert (notification.status, notification.attempts, notification.sent_at) == ("sent", 1, NOW)
    attempt = AlertDeliveryAttempt.objects.get()
    assert (attempt.succeeded, attempt.status_code, attempt.error) == (True, 200, "")


def test_without_a_secret_the_webhook_is_not_signed(hook: WebhookServer, settings: Any) -> None:
    settings.ANALYTICS_ALERT_WEBHOOK_SECRET = ""
    breach()
    alert_notifications_deliver()
    [request] = hook.requests()
    assert "x-loopin-signature" not in request.headers and "x-loopin-timestamp" not in request.headers


def test_webhook_failures_are_retried_with_backoff_until_delivered(hook: WebhookServer) -> None:
    breach()
    hook.fail_next(2)

    first = alert_notifications_deliver()
    notification = AlertNotification.objects.get()
    assert (first.retrying, notification.status, notification.attempts) == (1, "pending", 1)
    assert notification.last_error == "http_503"
    wait = (notification.next_attempt_at - clock.now()).total_seconds()
    assert BACKOFF_BASE_SECONDS / 2 <= wait <= BACKOFF_BASE_SECONDS

    assert alert_notifications_deliver().sent == 0  # not due yet: backing off
    assert len(hook.requests()) == 1

    advance(BACKOFF_MAX_SECONDS)
    alert_notifications_deliver()
    advance(BACKOFF_MAX_SECONDS)
    last = alert_notifications_deliver()

    assert last.sent == 1
    assert [r.status for r in hook.requests()] == [503, 503, 200]
    assert len({r.headers["x-loopin-delivery"] for r in hook.requests()}) == 1  # one id for every retry
    assert len({r.body for r in hook.requests()}) == 1
    assert list(AlertDeliveryAttempt.objects.order_by("id").values_list("succeeded", "status_code")) == [
        (False, 503),
        (False, 503),
        (True, 200),
    ]
    notification.refresh_from_db()
    assert (notification.status, notification.attempts, notification.last_error) == ("sent", 3, "")


def test_a_webhook_that_never_recovers_is_given_up_after_the_last_attempt(hook: WebhookServer, settings: Any) -> None:
    settings.ANALYTICS_ALERT_DELIVERY_MAX_ATTEMPTS = 3
    breach()
    hook.fail_next(10, status=500)
    for _ in range(5):
        alert_notifications_deliver()
        advance(BACKOFF_MAX_SECONDS)

    notification = AlertNotification.objects.get()
    assert (notification.status, notification.attempts) == ("failed", 3)
    assert len(hook.requests()) == 3


def test_a_refused_body_is_not_retried(hook: WebhookServer) -> None:
    breach()
    hook.fail_next(1, status=400)

    result = alert_notifications_deliver()
    advance(BACKOFF_MAX_SECONDS)
    alert_notifications_deliver()

    assert result.failed == 1
    assert len(hook.requests()) == 1
    assert AlertNotification.objects.get().status == "failed"


def test_an_unreachable_webhook_never_blocks_the_state_change(settings: Any) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.ANALYTICS_ALERT_WEBHOOK_URL = f"http://127.0.0.1:{port}/closed"

    alert = breach()
    assert alert.state == "open"
    alert_acknowledge(alert_id=alert.id, actor="ops-1")  # the change commits without any send
    assert Alert.objects.get().state == "acknowledged"

    result = alert_notifications_deliver()

    assert result.retrying == 2
    errors = set(AlertDeliveryAttempt.objects.values_list("error", flat=True))
    assert errors == {"ConnectionRefusedError"}


def test_email_reaches_the_smtp_server_through_djangos_backend(smtp: SmtpServer) -> None:
    alert = breach()

    result = alert_notifications_deliver()

    assert result.sent == 1
    [mail] = smtp.messages()
    assert mail.sender == "alerts@loopin.test"
    assert sorted(mail.recipients) == sorted(RECIPIENTS)
    assert mail.subject.startswith("[Loopin Analytics] CRITICAL opened: payment_failure_rate critical: 25%")
    assert f"Alert #{alert.id} is open (critical)." in mail.text
    assert "Metric: payment_failure_rate = 25.0 (threshold 20.0, unit percent)" in mail.text
    assert mail.message["X-Loopin-Event"] == "alert.opened"


def test_a_temporary_smtp_failure_is_retried(smtp: SmtpServer) -> None:
    breach()
    smtp.fail_next(1)

    first = alert_notifications_deliver()
    advance(BACKOFF_MAX_SECONDS)
    second = alert_notifications_deliver()

    assert (first.retrying, second.sent) == (1, 1)
    assert smtp.refused == 1 and len(smtp.messages()) == 1
    assert list(AlertDeliveryAttempt.objects.order_by("id").values_list("succeeded", "error")) == [
        (False, "SMTPDataError"),
        (True, ""),
    ]


def test_every_state_change_notifies_every_channel(hook: WebhookServer, smtp: SmtpServer) -> None:
    alert = breach()
    alert_acknowledge(alert_id=alert.id, actor="ops-1")
    metric("payment_failure_rate", "2026-03-19", 1.0)
    alerts_evaluate()  # recovered: auto-resolved

    result = alert_notifications_deliver()

    assert result.sent == 6
    assert [r.json["type"] for r in hook.requests()] == [
        "alert.opened",
        "alert.acknowledged",
        "alert.resolved",
    ]
    assert hook.requests()[1].json["alert"]["acknowledged_by"] == "ops-1"
    assert hook.requests()[2].json["alert"]["resolved_by"] == "system"
    assert [m.message["X-Loopin-Event"] for m in smtp.messages()] == [
        "alert.opened",
        "alert.acknowledged",
        "alert.resolved",
    ]


def test_nothing_is_sent_when_no_channel_is_set(settings: Any) -> None:
    with WebhookServer() as server, SmtpServer() as mail:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = mail.host, mail.port
        assert not settings.ANALYTICS_ALERT_WEBHOOK_URL and not settings.ANALYTICS_ALERT_EMAILS
        breach()
        result = alert_notifications_deliver()
        assert (result.sent, result.retrying, result.failed) == (0, 0, 0)
        assert server.requests() == [] and mail.messages() == []
    assert not AlertNotification.objects.exists()


def test_the_evaluation_task_delivers_what_it_owes(hook: WebhookServer) -> None:
    metric("payment_failure_rate", "2026-03-18", 25.0)

    outcome = evaluate_alerts.delay().get()

    assert outcome["opened"] == 1 and outcome["notifications"] == 1
    assert [r.json["type"] for r in hook.accepted()] == ["alert.opened"]


def test_beat_delivers_and_retries_alert_notifications() -> None:
    entry = beat_schedule()["deliver-alert-notifications"]
    assert entry["task"] == "analytics.tasks.alerts.deliver_alert_notifications"
    assert entry["schedule"] <= 60


def test_the_payload_holds_no_personal_data(hook: WebhookServer) -> None:
    breach()
    alert_notifications_deliver()
    body = json.loads(hook.requests()[0].body)
    assert set(body["alert"]) >= {"id", "metric_name", "severity", "state", "value", "threshold", "dedup_key"}
    assert "@" not in hook.requests()[0].body.decode()
