"""The personal-data registry is complete: a model that names a person (a user or anonymous id, a session
cursor's actor, or a reference to a registered table) and is missing from it fails here — so export and
erasure cannot silently skip a table added later."""

from __future__ import annotations

from django.apps import apps
from django.db import models

from analytics.privacy.registry import NOT_PERSONAL, PERSONAL_DATA

PERSON_FIELDS = ("user_id", "anonymous_id", "actor_key", "distinct_id", "user")


def _names_a_person(model: type[models.Model], registered: set[type[models.Model]]) -> bool:
    for field in model._meta.get_fields():
        if not getattr(field, "concrete", False):
            continue
        if any(field.name == name or field.name.endswith(f"_{name}") for name in PERSON_FIELDS):
            return True
        if field.is_relation and field.related_model in registered:
            return True
    return False


def test_every_model_that_names_a_person_is_registered_or_exempted_with_a_reason() -> None:
    registered = {entry.model for entry in PERSONAL_DATA}
    missing = [
        model.__name__
        for model in apps.get_app_config("analytics").get_models()
        if model not in registered and model not in NOT_PERSONAL and _names_a_person(model, registered)
    ]
    assert missing == [], f"add these to analytics/privacy/registry.py (PERSONAL_DATA or NOT_PERSONAL): {missing}"


def test_the_check_sees_the_tables_it_guards() -> None:
    """The rule above would pass on an empty model list: it must flag each registered table on its own."""
    flagged = [entry.model for entry in PERSONAL_DATA if _names_a_person(entry.model, set())]
    assert {m.__name__ for m in flagged} >= {
        "UserEvent",
        "Session",
        "IdentityLink",
        "SessionCursor",
        "UserConsent",
        "DailyUserActivity",
        "UserBehaviorProfile",
        "UserPrediction",
    }
    assert all(reason for reason in NOT_PERSONAL.values())
