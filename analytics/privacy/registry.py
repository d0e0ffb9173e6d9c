"""Every table that holds a person's data, how to find their rows, and what erasure does to them.

A person is a platform user id together with the anonymous ids linked to it (`IdentityLink`: identify, or
an event that carried both). `PERSONAL_DATA` is the one list the subject requests read
(analytics/privacy/subject.py): export returns every row it finds; erasure acts on each table as its
`erasure` says. Aggregates that count people without naming them (daily rollups per event name, metrics,
persona summaries, forecasts) are not personal data and stay when a person is erased.
`tests/unit/privacy/test_registry.py` fails when a model with a field that names a person is neither
listed here nor in `NOT_PERSONAL` with its reason.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from django.db import models
from django.db.models import Q

from analytics.models import (
    AIInsight,
    AuditLog,
    DailyFunnelReach,
    DailyUserActivity,
    DailyUserEvent,
    DashboardUser,
    FailedEvent,
    ForwardingOutbox,
    IdentityLink,
    PostHogPersonDeletion,
    Session,
    SessionCursor,
    UserBehaviorProfile,
    UserConsent,
    UserEvent,
    UserFirstActivity,
    UserPrediction,
)
from analytics.security.audit import person_ref


@dataclass(frozen=True)
class Person:
    user_id: str
    anonymous_ids: tuple[str, ...]

    @classmethod
    def of(cls, user_id: str) -> Person:
        """The user and every anonymous id known to be theirs: linked by identify, or carried by one of their
        own events or sessions (processing may not have linked it yet)."""
        linked: set[str] = set(IdentityLink.objects.filter(user_id=user_id).values_list("anonymous_id", flat=True))
        for model in (UserEvent, Session):
            carried = model._default_manager.filter(user_id=user_id, anonymous_id__isnull=False)
            linked |= {
                anonymous_id
                for anonymous_id in carried.values_list("anonymous_id", flat=True).distinct()
                if anonymous_id
            }
        return cls(user_id=user_id, anonymous_ids=tuple(sorted(linked)))


class Erasure(StrEnum):
    DELETE = "delete"  # the rows are the person's (per-person rollups included): deleted
    KEEP = "keep"  # names the person only by a keyed HMAC (the audit log): kept, as the record of the request
    # The person's ids an erasure owes a third party (PostHog person deletion): written by the erasure, kept
    # until the third party confirms, then deleted by the sender (analytics/privacy/posthog_deletion.py).
    UNTIL_CONFIRMED = "until_confirmed"


def _by_ids(person: Person) -> Q:
    # An anonymous id reaches only rows that name no user: on a shared device the next person's rows carry
    # the same anonymous id with their own user id, and they are that person's.
    return Q(user_id=person.user_id) | Q(anonymous_id__in=person.anonymous_ids, user_id__isnull=True)


def _by_user(person: Person) -> Q:
    return Q(user_id=person.user_id)


def _outbox(person: Person) -> Q:
    return Q(event__user_id=person.user_id) | Q(
        event__anonymous_id__in=person.anonymous_ids, event__user_id__isnull=True
    )


def _numeric_id(user_id: str) -> int | None:
    """The id as the JSON number a client may have sent it as (`"user_id": 4711`), if it is one exactly."""
    if user_id.isascii() and user_id.isdecimal() and str(int(user_id)) == user_id and int(user_id) < 2**64:
        return int(user_id)
    return None


def _failed_events(person: Person) -> Q:
    # The quarantine keeps the event as sent: the ids are inside its payload, as a string or a number.
    query = Q(payload__user_id=person.user_id) | (
        Q(payload__anonymous_id__in=person.anonymous_ids) & ~Q(payload__has_key="user_id")
    )
    number = _numeric_id(person.user_id)
    if number is not None:
        query |= Q(payload__user_id=number)
    return query


@dataclass(frozen=True)
class PersonalData:
    model: type[models.Model]
    rows: Callable[[Person], Q]
    erasure: Erasure
    holds: str  # what about the person the table holds

    @property
    def table(self) -> str:
        return str(self.model._meta.db_table)


PERSONAL_DATA: tuple[PersonalData, ...] = (
    PersonalData(UserEvent, _by_ids, Erasure.DELETE, "every tracked event, anonymous history included"),
    PersonalData(Session, _by_ids, Erasure.DELETE, "sessions: start, end, device, entry and exit"),
    PersonalData(IdentityLink, _by_user, Erasure.DELETE, "which anonymous ids are the person"),
    PersonalData(
        SessionCursor,
        lambda p: Q(actor_key__in=[f"u:{p.user_id}", *(f"a:{a}" for a in p.anonymous_ids)]),
        Erasure.DELETE,
        "the session being assigned (one row per id)",
    ),
    PersonalData(
        ForwardingOutbox,
        _outbox,
        Erasure.DELETE,
        "events waiting to be forwarded to PostHog",
    ),
    PersonalData(FailedEvent, _failed_events, Erasure.DELETE, "quarantined events, as sent (scrubbed)"),
    PersonalData(UserConsent, _by_user, Erasure.DELETE, "the person's opt-out"),
    PersonalData(DailyUserActivity, _by_user, Erasure.DELETE, "days active, by platform and city"),
    PersonalData(DailyUserEvent, _by_user, Erasure.DELETE, "events per day and name"),
    PersonalData(UserFirstActivity, _by_user, Erasure.DELETE, "the first day active"),
    PersonalData(DailyFunnelReach, _by_user, Erasure.DELETE, "how far the marketplace funnel went"),
    PersonalData(UserBehaviorProfile, _by_user, Erasure.DELETE, "behaviour profile, persona membership, risks"),
    PersonalData(UserPrediction, _by_user, Erasure.DELETE, "churn risk and conversion predictions"),
    PersonalData(
        AIInsight,
        lambda p: Q(target_type="user", target_id=p.user_id),
        Erasure.DELETE,
        "insights about the person alone (target_type user)",
    ),
    PersonalData(
        PostHogPersonDeletion,
        lambda p: Q(distinct_id__in=[p.user_id, *p.anonymous_ids]),
        Erasure.UNTIL_CONFIRMED,
        "the ids whose PostHog persons and events an erasure asked PostHog to delete, until it accepts",
    ),
    PersonalData(
        AuditLog,
        lambda p: Q(target_id=person_ref(p.user_id)),
        Erasure.KEEP,
        "who read or changed the person's data, and when (the person named by a keyed HMAC)",
    ),
)

# Models with a field that looks personal but is not a platform person's data, and why.
NOT_PERSONAL: dict[type[models.Model], str] = {
    DashboardUser: "an operator's dashboard account (staff), not a platform user",
}
