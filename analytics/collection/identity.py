"""Identity: an anonymous id's history is merged into the user it turns out to be.

A link is learned from any stored event that carries both ids (`identify()` writes
`user_identified`; `user_registered` and `user_logged_in` usually carry both). The first link of
an anonymous id wins: a device later used by another user does not move history between users.
Merging is set-based: one UPDATE gives every anonymous-only event and session of the linked
anonymous ids their user id.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction
from django.db.models import OuterRef, Subquery

from analytics import clock
from analytics.collection.pending import PendingEvent
from analytics.models import IdentityLink, ReplicaPending, Session, UserEvent
from analytics.models.replication import replication_on

_IN_CHUNK = 500


def link_identities(events: Sequence[PendingEvent]) -> None:
    """Learn links from the chunk, then merge anonymous history of every anonymous id in it."""
    learned: dict[str, str] = {}
    for event in sorted(events, key=lambda e: (e.timestamp, e.id)):
        if event.anonymous_id and event.user_id and event.anonymous_id not in learned:
            learned[event.anonymous_id] = event.user_id
    if learned:
        now = clock.now()
        IdentityLink.objects.bulk_create(
            [IdentityLink(anonymous_id=anon, user_id=user, linked_at=now) for anon, user in learned.items()],
            ignore_conflicts=True,
        )
    anonymous_ids = sorted({e.anonymous_id for e in events if e.anonymous_id})
    for start in range(0, len(anonymous_ids), _IN_CHUNK):
        identity_merge(anonymous_ids=anonymous_ids[start : start + _IN_CHUNK])


def identity_merge(*, anonymous_ids: Sequence[str]) -> int:
    """Give anonymous-only events and sessions of the linked `anonymous_ids` their user id."""
    linked = IdentityLink.objects.filter(anonymous_id__in=list(anonymous_ids))
    linked_ids = list(linked.values_list("anonymous_id", flat=True))
    if not linked_ids:
        return 0
    user_of = Subquery(IdentityLink.objects.filter(anonymous_id=OuterRef("anonymous_id")).values("user_id")[:1])
    anonymous = UserEvent.objects.filter(anonymous_id__in=linked_ids, user_id__isnull=True)
    with transaction.atomic():
        if replication_on():  # the analytics engine receives them again, with their user id
            ReplicaPending.mark(list(anonymous.values_list("id", flat=True)))
        merged = anonymous.update(user_id=user_of)
        Session.objects.filter(anonymous_id__in=linked_ids, user_id__isnull=True).update(user_id=user_of)
    return merged


def identity_user_for(anonymous_id: str) -> str | None:
    """The user an anonymous id is linked to, if any."""
    return IdentityLink.objects.filter(anonymous_id=anonymous_id).values_list("user_id", flat=True).first()
