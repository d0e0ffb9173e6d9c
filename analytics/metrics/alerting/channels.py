"""The alert channels that leave the process: a webhook (HTTP POST, JSON) and e-mail (Django's backend).

Each sender makes exactly one try and says how it went; retries and backoff belong to delivery.py.

Webhook: `POST $ANALYTICS_ALERT_WEBHOOK_URL` with the notification as JSON (`{"type": "alert.opened",
"alert": {...}}`) and the headers `X-Loopin-Event` (the type) and `X-Loopin-Delivery` (the same on
every retry of one notification, for the receiver's de-duplication). With
ANALYTICS_ALERT_WEBHOOK_SECRET set, also `X-Loopin-Timestamp: <unix seconds>` and
`X-Loopin-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>" under the secret>`.
A 2xx is delivered; redirects are not followed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import smtplib
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage, get_connection

from analytics import clock

USER_AGENT = f"loopin-analytics/{settings.VERSION} (alerts)"
# The receiver refuses this body: the same body will never be accepted. Anything else (network
# errors, timeouts, 5xx, 408, 429, 401/403/404 while a receiver is being fixed) is retried.
REFUSED_STATUSES = frozenset({400, 410, 413, 415, 422})


@dataclass(frozen=True)
class Sent:
    ok: bool
    permanent: bool = False  # no retry can succeed
    status_code: int | None = None
    error: str = ""


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # the 3xx surfaces as an HTTPError: a failed delivery


_opener = urllib.request.build_opener(_NoRedirect)


def webhook_body(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode()


def webhook_signature(*, secret: str, timestamp: str, body: bytes) -> str:
    """`sha256=<hex>`: HMAC-SHA256 of `<timestamp>.<body>` — what a receiver recomputes to verify."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def webhook_send(*, payload: dict[str, Any], delivery_id: str) -> Sent:
    url = settings.ANALYTICS_ALERT_WEBHOOK_URL
    if not url:
        return Sent(ok=False, permanent=True, error="channel_disabled")
    body = webhook_body(payload)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Loopin-Event": str(payload.get("type", "")),
        "X-Loopin-Delivery": delivery_id,
    }
    secret = settings.ANALYTICS_ALERT_WEBHOOK_SECRET
    if secret:
        timestamp = str(int(clock.now().timestamp()))
        headers["X-Loopin-Timestamp"] = timestamp
        headers["X-Loopin-Signature"] = webhook_signature(secret=secret, timestamp=timestamp, body=body)
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310 (http/https only: settings)
    try:
        with _opener.open(request, timeout=settings.ANALYTICS_ALERT_WEBHOOK_TIMEOUT_SECONDS) as response:
            response.read(65536)
            return Sent(ok=True, status_code=response.status)
    except urllib.error.HTTPError as exc:
        return Sent(ok=False, permanent=exc.code in REFUSED_STATUSES, status_code=exc.code, error=f"http_{exc.code}")
    except (urllib.error.URLError, OSError, ValueError) as exc:  # refused, reset, DNS, timeout, bad URL
        reason = getattr(exc, "reason", None)
        name = type(reason).__name__ if isinstance(reason, BaseException) else type(exc).__name__
        return Sent(ok=False, error=name)


def _subject(payload: dict[str, Any]) -> str:
    alert = payload["alert"]
    what = str(payload.get("type", "alert")).removeprefix("alert.")
    return f"[Loopin Analytics] {alert['severity'].upper()} {what}: {alert['title']}"[:250]


def _text(payload: dict[str, Any]) -> str:
    alert = payload["alert"]
    lines = [
        alert["message"],
        "",
        f"Alert #{alert['id']} is {alert['state']} ({alert['severity']}).",
        f"Metric: {alert['metric_name']} = {alert['value']} (threshold {alert['threshold']}, unit {alert['unit']})",
        f"Period: {alert['period_type']} {alert['period_start']} to {alert['period_end']}",
    ]
    if alert["dimensions"]:
        lines.append("Breakdown: " + ", ".join(f"{k}={v}" for k, v in sorted(alert["dimensions"].items())))
    if alert["acknowledged_by"]:
        lines.append(f"Acknowledged by {alert['acknowledged_by']} at {alert['acknowledged_at']}")
    if alert["resolved_at"]:
        lines.append(f"Resolved by {alert['resolved_by']} at {alert['resolved_at']}")
    lines += [
        "",
        "Acknowledge or resolve: POST /api/analytics/alerts/{id}/acknowledge | /resolve".format(**alert),
    ]
    return "\n".join(lines) + "\n"


def email_send(*, payload: dict[str, Any], delivery_id: str) -> Sent:
    """One message to every address of ANALYTICS_ALERT_EMAILS through Django's e-mail backend."""
    recipients = list(settings.ANALYTICS_ALERT_EMAILS)
    if not recipients:
        return Sent(ok=False, permanent=True, error="channel_disabled")
    message = EmailMessage(
        subject=_subject(payload),
        body=_text(payload),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=recipients,
        headers={"X-Loopin-Event": str(payload.get("type", "")), "X-Loopin-Delivery": delivery_id},
        connection=get_connection(fail_silently=False),
    )
    try:
        message.send(fail_silently=False)
    except smtplib.SMTPRecipientsRefused:
        return Sent(ok=False, permanent=True, error="SMTPRecipientsRefused")
    except (smtplib.SMTPException, OSError) as exc:  # refused connection, timeout, 4xx/5xx replies
        code = getattr(exc, "smtp_code", None)
        return Sent(ok=False, status_code=code if isinstance(code, int) else None, error=type(exc).__name__)
    return Sent(ok=True)


SENDERS = {"webhook": webhook_send, "email": email_send}
