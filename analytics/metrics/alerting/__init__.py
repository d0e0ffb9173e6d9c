"""Alerting: metrics past their thresholds open alerts; alerts notify people through channels.

- `evaluation.alerts_evaluate()` — after each metrics run: open, refresh and auto-resolve alerts;
- `lifecycle` — the one write path for an alert's state (open → acknowledged → resolved) and the
  notifications each change owes; `alert_list` / `alert_get` read them;
- `delivery.alert_notifications_deliver()` — run by a task: sends what is owed (webhook, e-mail)
  with retries and backoff, recording every attempt;
- `channels` — the webhook (HTTP POST, JSON, optional HMAC signature) and e-mail senders.
"""

from analytics.metrics.alerting.delivery import DeliveryResult, alert_notifications_deliver
from analytics.metrics.alerting.evaluation import EvaluationResult, alerts_evaluate
from analytics.metrics.alerting.lifecycle import (
    AlertPage,
    alert_acknowledge,
    alert_get,
    alert_list,
    alert_resolve,
)

__all__ = [
    "AlertPage",
    "DeliveryResult",
    "EvaluationResult",
    "alert_acknowledge",
    "alert_get",
    "alert_list",
    "alert_notifications_deliver",
    "alert_resolve",
    "alerts_evaluate",
]
