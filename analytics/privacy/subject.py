"""Subject requests on a person's data: export (GDPR art. 15 and 20) and erasure (art. 17).

Everything is read and erased through the registry (analytics/privacy/registry.py), so a table added
there is covered without a change here."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction

from analytics import clock
from analytics.privacy.registry import PERSONAL_DATA, Erasure, Person, PersonalData
from analytics.security.audit import audit_record, person_ref


def person_export(user_id: str, *, actor: str, actor_role: str = "") -> dict[str, Any]:
    """Every row about `user_id` (and the anonymous ids linked to it) in every table that holds personal
    data, as `{"user_id", "generated_at", "anonymous_ids", "tables": {table: [rows]}}`; audit-logged."""
    person = Person.of(user_id)
    tables = {
        entry.table: list(entry.model._default_manager.filter(entry.rows(person)).order_by("pk").values())
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


def person_erase(user_id: str, *, actor: str, actor_role: str = "") -> dict[str, int]:
    """Delete every row about `user_id` (and the anonymous ids linked to it) from every table whose
    registry entry says so, in one transaction; {table: rows deleted}, every erasable table listed (0 when
    it held nothing, so a second call says it erased nothing). Aggregates stay: daily rollups, metrics and
    persona summaries count people without naming them. The audit row names the person by a keyed HMAC."""
    person = Person.of(user_id)
    erased: dict[str, int] = {}
    with transaction.atomic():
        # Rows that point at other erasable rows first (the forwarding outbox at tracked events), so each
        # table's count is its own rows, not a cascade's.
        for entry in sorted(PERSONAL_DATA, key=lambda e: not _points_at_personal_rows(e)):
            if entry.erasure is Erasure.KEEP:
                continue
            counts = entry.model._default_manager.filter(entry.rows(person)).delete()[1]
            erased[entry.table] = counts.get(entry.model._meta.label, 0)
        audit_record(
            actor=actor,
            actor_role=actor_role,
            action="privacy.erase",
            target_type="user",
            target_id=person_ref(user_id),
            details={"rows": {table: count for table, count in erased.items() if count}},
        )
    return erased


def _points_at_personal_rows(entry: PersonalData) -> bool:
    registered = {e.model for e in PERSONAL_DATA}
    return any(field.is_relation and field.related_model in registered for field in entry.model._meta.concrete_fields)
