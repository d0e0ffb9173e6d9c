"""Alert tasks: evaluate alerts after each metrics run, and deliver the notifications they owe."""

from __future__ import annotations

import logging

from analytics.metrics.alerting import alert_notifications_deliver, alerts_evaluate
from analytics.tasks.policy import database_task, fresh_connections

logger = logging.getLogger(__name__)


@database_task(name="analytics.tasks.alerts.evaluate_alerts", soft_time_limit=240, time_limit=300)
def evaluate_alerts() -> dict[str, int]:
    """Open / refresh / auto-resolve alerts from the newest metric rows, then send what they owe.
    Idempotent."""
    with fresh_connections():
        result = alerts_evaluate()
    if result.notifications:
        enqueue_delivery()
    return result.__dict__.copy()


# Below the delivery lease (ANALYTICS_DELIVERY_LEASE_SECONDS, 300 s): a lease never runs out while its sender lives.
@database_task(name="analytics.tasks.alerts.deliver_alert_notifications", soft_time_limit=120, time_limit=150)
def deliver_alert_notifications() -> dict[str, int]:
    """Try every due alert notification once (webhook, e-mail); failures back off. Idempotent."""
    with fresh_connections():
        return alert_notifications_deliver().__dict__.copy()


def enqueue_delivery() -> None:
    try:
        deliver_alert_notifications.apply_async(retry=False, expires=300)
    except Exception as exc:  # broker down: beat's next delivery run sends them
        logger.warning("alerts.enqueue_delivery_failed error=%s", type(exc).__name__)


def enqueue_evaluation() -> None:
    try:
        evaluate_alerts.apply_async(retry=False, expires=3000)
    except Exception as exc:  # broker down: the next metrics run evaluates again
        logger.warning("alerts.enqueue_evaluation_failed error=%s", type(exc).__name__)
