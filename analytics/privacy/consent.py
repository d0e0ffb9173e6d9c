"""A person's analytics consent: opt-out and opt-in (docs/operations.md, "Subject requests").

An opted-out person's events are dropped at the door by every collection path (the HTTP API, the Python
tracker, the middleware and the signal bridge: analytics/collection/pipeline.py) — valid or not (nothing
of theirs is quarantined either) — and nothing queued for them is forwarded (analytics/collection/
forwarding.py checks again at send time). Their events are those naming their user id, and those naming no
user but an anonymous id linked to them (their device before login: `IdentityLink`). Opting in again stores
what is sent from then on; nothing dropped comes back. Every change is audit-logged, the person named only
by a keyed HMAC of their id."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import orjson
from django.db import connection, transaction

from analytics import clock
from analytics.models import IdentityLink, UserConsent
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


@dataclass(frozen=True)
class OptedOut:
    """Who, among some events' ids, has opted out: user ids, and anonymous ids linked to such a user."""

    user_ids: frozenset[str]
    anonymous_ids: frozenset[str]

    def covers(self, user_id: str | None, anonymous_id: str | None) -> bool:
        """Whether an event with these ids is an opted-out person's: by its user id when it names one (on a
        shared device the next person's events carry the same anonymous id with their own user id), else by
        the anonymous id's link."""
        if user_id:
            return user_id in self.user_ids
        return bool(anonymous_id) and anonymous_id in self.anonymous_ids


# Table names are the models' own (constants); the ids are one JSON array parameter.
_CONSENT, _LINK = UserConsent._meta.db_table, IdentityLink._meta.db_table
_IDS = "(SELECT jsonb_array_elements_text(%s::jsonb))"
_OPTED_OUT_USERS_SQL = f"SELECT user_id FROM {_CONSENT} WHERE analytics_opt_out AND user_id IN {_IDS}"  # noqa: S608
_OPTED_OUT_DEVICES_SQL = f"SELECT l.anonymous_id FROM {_LINK} l JOIN {_CONSENT} c ON c.user_id = l.user_id WHERE c.analytics_opt_out AND l.anonymous_id IN {_IDS}"  # noqa: S608, E501


def opted_out_among(*, user_ids: set[str], anonymous_ids: set[str]) -> OptedOut:
    """The opted-out people among `user_ids`, and the `anonymous_ids` linked to an opted-out user (pass only
    the anonymous ids of events that name no user). At most two indexed reads, none for an empty set."""
    return OptedOut(
        user_ids=frozenset(_read(_OPTED_OUT_USERS_SQL, user_ids, _opted_out_users)),
        anonymous_ids=frozenset(_read(_OPTED_OUT_DEVICES_SQL, anonymous_ids, _opted_out_devices)),
    )


def _read(sql: str, ids: set[str], portable: Callable[[set[str]], set[str]]) -> set[str]:
    if not ids:
        return set()
    if connection.vendor == "postgresql":
        # One JSON text parameter: an ORM `IN` list of a placeholder per id costs ~4 ms of Python per 1,000-event
        # batch to build and bind, and even one array parameter has each element quoted in Python by the client-side
        # binding (docs/benchmarks.md).
        with connection.cursor() as cursor:
            cursor.execute(sql, [orjson.dumps(list(ids)).decode()])
            return {row[0] for row in cursor.fetchall()}
    return portable(ids)


def _opted_out_users(user_ids: set[str]) -> set[str]:
    return set(
        UserConsent.objects.filter(user_id__in=user_ids, analytics_opt_out=True).values_list("user_id", flat=True)
    )


def _opted_out_devices(anonymous_ids: set[str]) -> set[str]:
    opted_out = UserConsent.objects.filter(analytics_opt_out=True).values("user_id")
    return set(
        IdentityLink.objects.filter(anonymous_id__in=anonymous_ids, user_id__in=opted_out).values_list(
            "anonymous_id", flat=True
        )
    )
