"""Subject requests on a person's data: export (GDPR art. 15 and 20) and erasure (art. 17).

Everything is read and erased through the registry (analytics/privacy/registry.py), so a table added
there is covered without a change here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from django.db import transaction

from analytics import clock
from analytics.models import ReplicaDeletion, UserEvent
from analytics.privacy.encryption import payload_decrypt, properties_decrypt
from analytics.privacy.posthog_deletion import posthog_deletion_enabled, posthog_deletion_request
from analytics.privacy.registry import PERSONAL_DATA, Erasure, Person, PersonalData
from analytics.security.audit import audit_record, person_ref


def person_export(user_id: str, *, actor: str, actor_role: str = "") -> dict[str, Any]:
    """Every row about `user_id` (and the anonymous ids linked to it) in every table that holds personal
    data, as `{"user_id", "generated_at", "anonymous_ids", "tables": {table: [rows]}}`, encrypted texts in
    clear; audit-logged."""
    person = Person.of(user_id)
    tables = {
        entry.table: [
            _in_clear(row) for row in entry.model._default_manager.filter(entry.rows(person)).order_by("pk").values()
        ]
        for entry in PERSONAL_DATA
    }
    generated_at: datetime = clock.now()
    audit_record(
        actor=actor,
        actor_role=actor_role,
        action="privacy.export",
        target_type="user",
        target_id=person_ref(user_id),
        details={"rows": {table: len(rows) for table, rows in tables.items() if rows}},
    )
    return {
        "user_id": user_id,
        "generated_at": generated_at,
        "anonymous_ids": list(person.anonymous_ids),
        "tables": tables,
    }


PostHogDeletion = Literal["requested", "not_configured", "nothing_erased"]


@dataclass(frozen=True)
class Erased:
    tables: dict[str, int]  # every erasable table → the person's rows deleted from it
    posthog_deletion: PostHogDeletion


def _in_clear(row: dict[str, Any]) -> dict[str, Any]:
    """A row as exported: encrypted texts (a tracked event's properties, a quarantined event's payload) in clear."""
    if "properties" in row:
        row = {**row, "properties": properties_decrypt(row["properties"])}
    if "payload" in row:
        row = {**row, "payload": payload_decrypt(row["payload"])}
    return row


def person_erase(user_id: str, *, actor: str, actor_role: str = "") -> Erased:
    """Delete every row about `user_id` (and the anonymous ids linked to it) from every table whose
    registry entry says so, in one transaction; every erasable table is listed (0 when it held nothing, so a
    second call says it erased nothing). Aggregates stay: daily rollups, metrics and persona summaries count
    people without naming them. When something was erased and PostHog deletion is configured, the deletion
    of the person's PostHog persons and events is owed in the same transaction (sent by a task after the
    commit, retried until PostHog accepts it). The audit row names the person by a keyed HMAC."""
    person = Person.of(user_id)
    erased: dict[str, int] = {}
    with transaction.atomic():
        # Rows that point at other erasable rows first (the forwarding outbox at tracked events), so each
        # table's count is its own rows, not a cascade's.
        for entry in sorted(PERSONAL_DATA, key=lambda e: not _points_at_personal_rows(e)):
            if entry.erasure is not Erasure.DELETE:
                continue
            rows = entry.model._default_manager.filter(entry.rows(person))
            if entry.model is UserEvent:  # the analytics engine's copy goes too (replication applies it)
                ReplicaDeletion.record(event_uuids=list(rows.values_list("uuid", flat=True)))
            counts = rows.delete()[1]
            erased[entry.table] = counts.get(entry.model._meta.label, 0)
        posthog: PostHogDeletion = "nothing_erased"
        if any(erased.values()):
            posthog = "requested" if posthog_deletion_enabled() else "not_configured"
            posthog_deletion_request([person.user_id, *person.anonymous_ids])
        audit_record(
            actor=actor,
            actor_role=actor_role,
            action="privacy.erase",
            target_type="user",
            target_id=person_ref(user_id),
            details={"rows": {table: count for table, count in erased.items() if count}, "posthog": posthog},
        )
    return Erased(tables=erased, posthog_deletion=posthog)


def _points_at_personal_rows(entry: PersonalData) -> bool:
    registered = {e.model for e in PERSONAL_DATA}
    return any(field.is_relation and field.related_model in registered for field in entry.model._meta.concrete_fields)
