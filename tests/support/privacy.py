"""A person seeded through the real API and processing, and a raw scan of every table for their traces —
for the subject-request tests on SQLite (tests/unit/privacy) and PostgreSQL (tests/integration)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.db import connection
from fastapi.testclient import TestClient

from analytics import clock
from analytics.collection.processing import process_pending_events
from analytics.intelligence.insights.drafts import InsightDraft
from analytics.intelligence.insights.store import insights_store
from analytics.metrics.rollups import rollups_rebuild
from analytics.models import UserPrediction
from tests.factories import event

PRIVACY = "/api/analytics/privacy/users"
BATCH = "/api/analytics/events/batch"
PERSON, ANON, WORDS = "user-4711", "anon-4711", "the person's own words"
OTHER, OTHER_ANON, OTHER_WORDS = "user-0815", "anon-0815", "someone else's words"


def seed(client: TestClient, key_headers: dict[str, str], user_id: str, anonymous_id: str, note: str) -> None:
    """Browsing before login (anonymous), the login that links the ids, a listing view, two refused events
    (quarantined as sent, one before login), a prediction and an insight about the person alone; then
    processing and the day's rollups."""
    events = [
        event(event_name="page_view", user_id=None, anonymous_id=anonymous_id, properties={"path": "/", "note": note}),
        event(event_name="page_view", user_id=user_id, anonymous_id=anonymous_id, properties={"path": "/login"}),
        event(event_name="event_viewed", user_id=user_id, properties={"listing_id": "L1"}),
        {"event_name": "", "user_id": user_id, "properties": {"note": note}},
        {"event_name": "", "anonymous_id": anonymous_id},
    ]
    response = client.post(BATCH, json={"events": events}, headers=key_headers)
    assert response.status_code == 200, response.text[:300]
    assert (response.json()["stored"], response.json()["rejected"]) == (3, 2)
    process_pending_events()
    today = clock.now().date()
    rollups_rebuild(days=[today - timedelta(days=1), today, today + timedelta(days=1)])  # whichever is IST's
    UserPrediction.objects.create(user_id=user_id, scored_on=today, scored_at=clock.now(), churn_risk=0.2)
    insight = InsightDraft(
        "churn_risk_cohort", f"person:{user_id}", "At risk", note, 0.9, "high", [], "user", {}, target_id=user_id
    )
    insights_store(generated_types=[], drafts=[insight], narratives={}, now=clock.now())


def _text_columns(table: str) -> list[str]:
    with connection.cursor() as cursor:
        description = connection.introspection.get_table_description(cursor, table)
    types = {"CharField", "TextField", "JSONField", "SlugField", "EmailField", "GenericIPAddressField"}
    return [
        column.name
        for column in description
        if connection.introspection.get_field_type(column.type_code, column) in types
    ]


def tables_mentioning(*needles: str) -> dict[str, set[str]]:
    """needle → the `table.column`s where it appears, read with raw SQL from every table of the database
    (the service's and Django's own), every text and JSON column."""
    found: dict[str, set[str]] = {needle: set() for needle in needles}
    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)
    for table in tables:
        for column in _text_columns(table):
            quoted_table, quoted_column = connection.ops.quote_name(table), connection.ops.quote_name(column)
            for needle in needles:
                with connection.cursor() as cursor:
                    cursor.execute(
                        f"SELECT 1 FROM {quoted_table} WHERE CAST({quoted_column} AS TEXT) LIKE %s LIMIT 1",  # noqa: S608
                        [f"%{needle}%"],
                    )
                    if cursor.fetchone() is not None:
                        found[needle].add(f"{table}.{column}")
    return found


# The retention tests' platform (tests/unit/privacy/test_retention.py, and on PostgreSQL in the integration
# tier): two people active on an old business day and a recent one, seeded with the clock frozen on SEEDED_AT;
# with a 120-day retention (the least allowed), a purge at PURGED_AT keeps 2026-02-24 onwards.
OLD_DAY, NEW_DAY = date(2026, 2, 20), date(2026, 3, 9)
SEEDED_AT = datetime.fromisoformat("2026-03-10T12:00:00+00:00")
PURGED_AT = datetime.fromisoformat("2026-06-24T12:00:00+00:00")


def at_day(day: date, hour: int = 6) -> str:
    """An instant on `day`, as UTC; 00:00–18:29 UTC is the same business day in IST."""
    return f"{day.isoformat()}T{hour:02d}:00:00+00:00"


def retention_platform_seed(client: TestClient, key_headers: dict[str, str]) -> None:
    """Freeze the clock on SEEDED_AT (the caller unfreezes), store 8 page views (2 people × 2 days × 2), process
    them and backfill the metrics."""
    from analytics.metrics.calculation import metrics_backfill

    clock.freeze(SEEDED_AT)
    events = [
        event(event_name="page_view", user_id=user, timestamp=at_day(day, hour), properties={"path": "/"})
        for user in ("user-1", "user-2")
        for day in (OLD_DAY, NEW_DAY)
        for hour in (5, 6)
    ]
    response = client.post(BATCH, json={"events": events}, headers=key_headers)
    assert response.json()["stored"] == 8, response.text[:300]
    process_pending_events()
    metrics_backfill()
