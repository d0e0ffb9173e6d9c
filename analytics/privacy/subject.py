"""Subject requests on a person's data: export (GDPR art. 15 and 20). Erasure is the next step.

Everything is read through the registry (analytics/privacy/registry.py), so a table added there is
exported without a change here."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from analytics import clock
from analytics.privacy.registry import PERSONAL_DATA, Person
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
