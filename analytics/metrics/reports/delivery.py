"""Sending the digests: each kind's newest complete period once, to ANALYTICS_REPORT_EMAILS, after
ANALYTICS_REPORT_HOUR (business time).

The beat runs this every hour; it sends what is due and not yet sent, so a period missed while the
service or the mail server was down goes out at the next run. A `ReportDelivery` row is written after
the mail server accepted the message: a failure raises (the task retries) and writes nothing; the
unique (kind, period) key means a period is never recorded twice. (A crash between the server's
acceptance and the row's commit would send that digest again at the next run — at least once, never
lost.)
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction

from analytics import clock
from analytics.metrics.periods import business_day, business_zone
from analytics.metrics.reports.digest import PERIODS, digest_build, reported_period
from analytics.metrics.reports.render import digest_html, digest_markdown
from analytics.models import ReportDelivery

logger = logging.getLogger("analytics.reports")


def digest_send(kind: str, *, now: datetime | None = None, force: bool = False) -> bool:
    """Send `kind`'s digest of its newest complete period unless it went out already (or no recipient
    is configured, or it is before the report hour). True when a message was sent."""
    now = now or clock.now()
    recipients = list(settings.ANALYTICS_REPORT_EMAILS)
    if not recipients:
        return False
    if not force and now.astimezone(business_zone()).hour < settings.ANALYTICS_REPORT_HOUR:
        return False
    period = reported_period(kind, business_day(now))
    if ReportDelivery.objects.filter(period_type=kind, period_start=period.start).exists():
        return False
    digest = digest_build(kind, now=now)
    message = EmailMultiAlternatives(
        subject=digest.title, body=digest_markdown(digest), from_email=settings.DEFAULT_FROM_EMAIL, to=recipients
    )
    message.attach_alternative(digest_html(digest), "text/html")
    message.send(fail_silently=False)
    try:
        with transaction.atomic():
            ReportDelivery.objects.create(
                period_type=kind, period_start=period.start, period_end=period.end, recipients=recipients, sent_at=now
            )
    except IntegrityError:  # another worker sent the same period at the same moment
        logger.warning("report.sent_twice kind=%s period=%s", kind, period.start)
    logger.info("report.sent kind=%s period=%s recipients=%d", kind, period.start, len(recipients))
    return True


def digest_send_due(*, now: datetime | None = None) -> dict[str, bool]:
    """Every digest kind that is due: {kind: sent}."""
    return {kind: digest_send(kind, now=now) for kind in PERIODS}
