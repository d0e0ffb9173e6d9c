"""A person's analytics consent: opt-out and opt-in (docs/operations.md, "Subject requests").

An opted-out user's events are dropped at the door by every collection path (the HTTP API, the Python
tracker, the middleware and the signal bridge: analytics/collection/pipeline.py) and nothing queued for
them is forwarded (analytics/collection/forwarding.py checks again at send time). Opting in again stores
what is sent from then on; nothing dropped comes back. Every change is audit-logged, the person named only
by a keyed HMAC of their id."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction

from analytics import clock
from analytics.models import UserConsent
from analytics.security.audit import audit_record, person_ref


@dataclass(frozen=True)
class Consent:
    user_id: str
    analytics_opt_out: bool
    changed: bool  # False when the user was already in this state (the call is idempotent)
    updated_at: datetime


def consent_set(user_id: str, *, opted_out: bool, actor: str, actor_role: str = "") -> Consent:
    """Record `user_id`'s choice; audit-logged when it changes anything. Everyone is in by default, so an
    opt-in of someone never opted out changes nothing and stores nothing (not even their id)."""
    now = clock.now()
    with transaction.atomic():
        consent = UserConsent.objects.select_for_update().filter(user_id=user_id).first()
        if consent is None and not opted_out:
            return Consent(user_id, False, False, now)
        created = False
        if consent is None:
            # get_or_create, not create: two opt-outs of one person at once must not meet the unique id as a 500.
            consent, created = UserConsent.objects.get_or_create(
                user_id=user_id, defaults={"analytics_opt_out": True, "updated_at": now}
            )
        if not created:
            if consent.analytics_opt_out == opted_out:
                return Consent(user_id, opted_out, False, consent.updated_at)
            consent.analytics_opt_out = opted_out
            consent.updated_at = now
            consent.save(update_fields=["analytics_opt_out", "updated_at"])
        audit_record(
            actor=actor,
            actor_role=actor_role,
            action="privacy.opt_out" if opted_out else "privacy.opt_in",
            target_type="user",
            target_id=person_ref(user_id),
        )
    return Consent(user_id, opted_out, True, consent.updated_at)
