"""The intelligence layer on the real stack: PostgreSQL, the Redis broker and a real Celery worker.

Events go in over HTTP; the worker scores review texts while processing, builds behaviour profiles
(whose listing and seat reads are PostgreSQL JSON SQL of their own) and segments users into personas —
each step through the task the beat schedule runs.
"""

from __future__ import annotations

import uuid as uuid_lib
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from analytics.models import BusinessMetric, UserBehaviorProfile, UserEvent, UserPersona
from analytics.tasks import generate_user_behavior_insights, perform_user_clustering, process_daily_metrics_calculation
from tests.integration.support import ServiceProcess, wait_until

BATCH = "/api/analytics/events/batch"
NOW = datetime.now(UTC).replace(microsecond=0)


def _event(name: str, user: str, at: datetime, session: str | None = None, **properties: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "uuid": str(uuid_lib.uuid4()),
        "event_name": name,
        "user_id": user,
        "timestamp": at.isoformat(),
        "properties": properties,
    }
    if session:
        body["session_id"] = session
    return body


def _platform() -> list[dict[str, Any]]:
    """Twenty users with a few browsing sessions each over the last two weeks; a host and two listings."""
    starts = (NOW + timedelta(days=10)).isoformat()
    events = [
        _event(
            "event_created",
            "h-1",
            NOW - timedelta(days=20),
            listing_id="L-1",
            host_id="h-1",
            category="music",
            city="Pune",
            price=0,
            currency="INR",
            capacity=50,
            starts_at=starts,
        ),
        _event(
            "event_created",
            "h-1",
            NOW - timedelta(days=20),
            listing_id="L-2",
            host_id="h-1",
            category="tech",
            city="Pune",
            price=1500,
            currency="INR",
            capacity=50,
            starts_at=starts,
        ),
    ]
    for u in range(20):
        user = f"iu-{u}"
        for d in range(3 + u % 5):
            at = NOW - timedelta(days=2 * d + 1, hours=u % 7)
            session = f"{user}-s{d}"
            events.append(_event("page_view", user, at, session, path="/home"))
            events.append(_event("event_viewed", user, at + timedelta(minutes=1), session, listing_id=f"L-{1 + u % 2}"))
            if u % 3 == 0:
                events.append(_event("search_performed", user, at + timedelta(minutes=2), session, results_count=4))
        if u % 2:
            events.append(
                _event("event_requested", user, NOW - timedelta(hours=5), f"{user}-s0", listing_id="L-2", seats=3)
            )
    events.append(
        _event(
            "review_submitted",
            "iu-0",
            NOW - timedelta(hours=3),
            "iu-0-s0",
            listing_id="L-1",
            rating=5,
            text="Absolutely loved it, the band was amazing and the crowd was so friendly!",
        )
    )
    return events


def test_worker_scores_reviews_profiles_users_and_finds_personas_on_postgresql(
    client: TestClient, key_headers: dict[str, str], celery_worker: ServiceProcess, enqueue_after_commit: None
) -> None:
    events = _platform()
    for start in range(0, len(events), 200):
        response = client.post(BATCH, json={"events": events[start : start + 200]}, headers=key_headers)
        assert response.status_code == 200, response.text
    wait_until(
        lambda: not UserEvent.objects.filter(processed_at__isnull=True).exists(),
        timeout=60,
        what="the worker to process every tracked event",
        alive=[celery_worker],
    )
    review = UserEvent.objects.get(event_name="review_submitted")
    assert review.sentiment_score is not None and review.sentiment_score > 0.3  # scored by the worker

    generate_user_behavior_insights.delay(user_id="iu-1")
    profile = wait_until(
        lambda: UserBehaviorProfile.objects.filter(user_id="iu-1").first(),
        timeout=60,
        what="the worker to build iu-1's profile",
        alive=[celery_worker],
    )
    assert 0.0 <= profile.engagement_score <= 1.0
    assert profile.preferences["categories"][0]["value"] == "tech"  # L-2, read through the listing join
    assert profile.persona_features is not None and profile.persona_features["seats_per_request"] == 3.0

    process_daily_metrics_calculation.delay()  # the activity rollup the stale scan reads
    wait_until(  # metrics are written after every rollup of the run
        lambda: BusinessMetric.objects.filter(metric_name="daily_active_users").exists(),
        timeout=180,
        what="the metrics run to build the rollups and the metrics",
        alive=[celery_worker],
    )
    generate_user_behavior_insights.delay()
    wait_until(
        lambda: UserBehaviorProfile.objects.count() >= 21,  # 20 users and the host
        timeout=120,
        what="the worker to profile every active user",
        alive=[celery_worker],
    )
    perform_user_clustering.delay(n_clusters=2)
    wait_until(
        lambda: UserPersona.objects.filter(is_current=True).count() == 2,
        timeout=120,
        what="the worker to store two personas",
        alive=[celery_worker],
    )
    members = UserBehaviorProfile.objects.filter(primary_persona__is_current=True)
    assert members.count() == 20  # every user with at least three browsing sessions; not the host
