"""Behaviour snapshots, the documented analysis and its definitions, on small hand-built platforms."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from analytics import clock
from analytics.intelligence.behaviour.engagement import FEATURES, engagement_score, feature_vector, model_load
from analytics.intelligence.behaviour.features import behaviour_snapshots
from analytics.intelligence.behaviour.profile import behaviour_analyse, engagement_trend
from analytics.intelligence.behaviour.service import user_behavior_analyze
from analytics.models import UserBehaviorProfile
from tests.unit.intelligence.behaviour.support import AS_OF, listings, visit
from tests.unit.metrics.support import ev, ingest, payment

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    clock.freeze(AS_OF)
    yield
    clock.freeze(None)


def test_snapshot_counts_visits_with_screens_only_and_reads_listing_interactions() -> None:
    listings()
    ingest(
        *visit("u1", "2026-03-14T20:00", "s1", views=("L1", "L2"), search=True),  # Saturday evening
        *visit("u1", "2026-03-18T21:00", "s2", views=("L1",)),
        ev("event_requested", "2026-03-18T21:10", user="u1", session="s2", listing_id="L2", seats=3),
        # a backend event about u1 (no session, no screen) is not a visit
        ev("event_request_accepted", "2026-03-18T22:00", user="u1", listing_id="L2"),
        *visit("u1", "2026-01-01T10:00", "s0"),  # before the 30-day window but inside 90 days
    )
    snap = behaviour_snapshots(user_ids=["u1", "nobody"], as_of=AS_OF)
    assert set(snap) == {"u1"}  # a user with no tracked event gets no snapshot
    u1 = snap["u1"]
    assert len(u1.sessions) == 3
    assert (u1.sessions_within(7), u1.sessions_within(30), u1.sessions_within(90)) == (2, 2, 3)
    assert u1.events["event_viewed"] == 3 and u1.events_30d["event_viewed"] == 3
    assert u1.categories == {"music": 2, "tech": 1}
    assert sorted(u1.viewed_prices) == [0.0, 0.0, 1500.0]
    assert u1.requested_prices == [1500.0] and u1.seats_requested == [3]
    assert u1.days_since_last_session() == pytest.approx(1 + 20.5 / 24)  # Mar 18 15:30 UTC → Mar 20 12:00 UTC


def test_attendance_counts_seats_on_listings_that_started_and_their_check_ins() -> None:
    listings()  # L1 started Mar 1, L2 started Mar 5, L3 starts in April
    ingest(
        *visit("u2", "2026-02-20T20:00", "s1", views=("L1", "L2", "L3")),
        *[ev("event_request_accepted", "2026-02-21T10:00", user="u2", listing_id=lid) for lid in ("L1", "L2", "L3")],
        ev("event_checked_in", "2026-03-01T19:05", user="u2", listing_id="L1", seats=1),
    )
    u2 = behaviour_snapshots(user_ids=["u2"], as_of=AS_OF)["u2"]
    assert (u2.seats_held, u2.seats_checked_in) == (2, 1)  # L3 has not started: not due yet


@pytest.mark.parametrize(
    ("recent", "before", "expected"),
    [(6, 2, "rising"), (1, 5, "declining"), (3, 3, "stable"), (2, 1, "stable")],
)
def test_engagement_trend_compares_the_last_14_days_with_the_14_before(recent: int, before: int, expected: str) -> None:
    events = [*visit("u3", "2026-01-10T20:00", "s-old")]  # tenure: more than 14 days
    events += [e for n in range(recent) for e in visit("u3", f"2026-03-{10 + n:02d}T20:00", f"r{n}")]
    events += [e for n in range(before) for e in visit("u3", f"2026-02-{24 + n:02d}T20:00", f"b{n}")]
    ingest(*events)
    assert engagement_trend(behaviour_snapshots(user_ids=["u3"], as_of=AS_OF)["u3"]) == expected


def test_new_and_inactive_users_get_their_own_trend() -> None:
    ingest(*visit("new", "2026-03-15T20:00", "n1"), *visit("gone", "2026-01-05T20:00", "g1"))
    snaps = behaviour_snapshots(user_ids=["new", "gone"], as_of=AS_OF)
    assert engagement_trend(snaps["new"]) == "new"
    assert engagement_trend(snaps["gone"]) == "inactive"


def test_risk_factors_follow_their_definitions() -> None:
    listings()
    ingest(
        *visit("u4", "2026-02-01T20:00", "s1", views=("L2",)),
        payment("payment_failed", "2026-02-01T20:10", "u4", 1500, listing="L2", order="o1"),
        payment("payment_failed", "2026-02-01T20:12", "u4", 1500, listing="L2", order="o2"),
        ev("event_request_accepted", "2026-02-02T10:00", user="u4", listing_id="L2"),  # no check-in: a no-show
        ev("review_submitted", "2026-03-06T10:00", user="u4", session="s9", listing_id="L1", rating=1, text="bad"),
        ev("event_request_declined", "2026-02-03T10:00", user="u4", listing_id="L1"),
        ev("event_request_declined", "2026-02-04T10:00", user="u4", listing_id="L3"),
        *visit("ok", "2026-03-19T20:00", "s2"),
    )
    snaps = behaviour_snapshots(user_ids=["u4", "ok"], as_of=AS_OF)
    u4 = behaviour_analyse(snaps["u4"])
    assert set(u4.risk_factors) == {"payment_failures", "no_shows", "negative_reviews", "declined_requests", "inactive"}
    assert u4.risk_evidence["no_shows"] == {"seats_held": 1, "checked_in": 0}
    assert u4.risk_evidence["payment_failures"] == {"failed": 2, "completed": 0}
    assert behaviour_analyse(snaps["ok"]).risk_factors == []


def test_patterns_and_preferences_are_read_in_the_business_time_zone() -> None:
    listings()
    ingest(
        *visit("u5", "2026-03-14T21:30", "s1", views=("L2",)),  # Saturday 21:30 IST = 16:00 UTC
        *visit("u5", "2026-03-15T21:40", "s2", views=("L2", "L3")),  # Sunday
        *visit("u5", "2026-03-17T09:00", "s3"),  # Tuesday morning
    )
    analysis = behaviour_analyse(behaviour_snapshots(user_ids=["u5"], as_of=AS_OF)["u5"])
    assert analysis.activity_patterns["peak_hours"][0] == 21
    assert set(analysis.activity_patterns["peak_days"]) == {"saturday", "sunday", "tuesday"}
    assert analysis.preferences["weekend_share"] == pytest.approx(2 / 3, abs=1e-3)
    assert analysis.preferences["time_preference"] == "weekend"
    assert analysis.preferences["categories"][0] == {"value": "tech", "share": pytest.approx(2 / 3, abs=1e-3)}
    assert analysis.preferences["price_band"] == "premium"  # 1500 twice, 250 once


def test_engagement_score_is_a_probability_that_rises_with_recent_activity() -> None:
    model = model_load()
    assert len(model.weights) == len(FEATURES) and model.version
    ingest(
        *[e for n in range(8) for e in visit("busy", f"2026-03-{10 + n:02d}T20:00", f"b{n}")],
        *visit("faded", "2026-01-20T20:00", "f1"),
    )
    snaps = behaviour_snapshots(user_ids=["busy", "faded"], as_of=AS_OF)
    busy, faded = engagement_score(snaps["busy"]), engagement_score(snaps["faded"])
    assert 0.0 <= faded < busy <= 1.0 and busy > 0.8 and faded < 0.5
    assert len(feature_vector(snaps["busy"])) == len(FEATURES)


def test_analysing_a_user_stores_their_profile_and_a_user_without_events_gets_no_data() -> None:
    listings()
    ingest(*visit("u6", "2026-03-18T20:00", "s1", views=("L1",)), *visit("u6", "2026-03-19T20:00", "s2"))
    result = user_behavior_analyze(user_id="u6", days=30)
    assert result["status"] == "ok" and 0.0 <= result["engagement_score"] <= 1.0
    assert result["activity_patterns"]["sessions"] == 2
    profile = UserBehaviorProfile.objects.get(user_id="u6")
    assert profile.engagement_score == result["engagement_score"]
    assert profile.as_of == AS_OF and profile.lookback_days == 90
    assert profile.persona_features is None  # two sessions: too little behaviour for a persona
    nothing = user_behavior_analyze(user_id="ghost", days=30)
    assert nothing["status"] == "no_data" and "engagement_score" not in nothing
    assert not UserBehaviorProfile.objects.filter(user_id="ghost").exists()


def test_the_window_of_the_analysis_is_the_last_days_days() -> None:
    ingest(*visit("u7", "2026-02-01T20:00", "s1"))  # 47 days before as_of
    assert user_behavior_analyze(user_id="u7", days=30)["status"] == "no_data"
    assert user_behavior_analyze(user_id="u7", days=60)["status"] == "ok"
