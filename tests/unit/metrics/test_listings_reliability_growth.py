"""Listing, satisfaction, reliability and growth metrics, by hand."""

from __future__ import annotations

import pytest

from analytics.models import UserEvent
from tests.unit.metrics.support import created, ev, ingest, recompute, value

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("now")]


def req(listing: str, at: str, user: str = "u1") -> dict:
    return ev("event_requested", at, user=user, listing_id=listing, seats=1)


def cancel(listing: str, at: str, host: str = "h1") -> dict:
    return ev("event_cancelled", at, user=host, listing_id=listing)


def checkin(listing: str, seats: int, user: str = "u1") -> dict:
    return ev("event_checked_in", "2026-03-10T19:30", user=user, listing_id=listing, seats=seats)


def listings_fixture() -> None:
    # Six listings scheduled for Mar 10, 19:00 IST.
    ingest(
        *[
            created(
                f"L{n}",
                "2026-03-01T10:00",
                capacity=5 if n == 4 else 10,
                category="food" if n == 4 else "music",
            )
            for n in range(1, 7)
        ]
    )
    ingest(
        req("L1", "2026-03-07T10:00"),
        cancel("L1", "2026-03-08T10:00"),  # cancelled after a request
        cancel("L2", "2026-03-08T10:00"),  # cancelled, never requested
        req("L3", "2026-03-05T10:00"),
        checkin("L3", 5),
        checkin("L3", 3, user="u2"),  # 8 of 10: success
        checkin("L4", 5),  # 5 of 5: success and sold out
        checkin("L5", 3),  # 3 of 10
        cancel("L6", "2026-03-05T10:00"),
        req("L6", "2026-03-06T10:00"),  # request came after the cancellation
    )


def test_listing_cancellation_host_cancellation_success_and_sell_out() -> None:
    listings_fixture()
    recompute()
    assert value("listing_cancellation_rate", "2026-03-10") == 50.0  # L1, L2, L6 of six
    assert value("host_cancellation_rate", "2026-03-10") == pytest.approx(100 / 3)  # L1 of requested L1, L3, L6
    assert value("event_success_rate", "2026-03-10") == pytest.approx(200 / 3)  # L3, L4 of finished L3, L4, L5
    assert value("sell_out_rate", "2026-03-10") == pytest.approx(100 / 3)  # L4
    assert value("event_success_rate", "2026-03-10", breakdown="category=food") == 100.0
    assert value("listing_cancellation_rate", "2026-03-11") is None  # nothing scheduled: no data
    assert value("listings_created", "2026-03-01") == 6


def test_a_late_cancellation_changes_the_listing_metrics_of_the_scheduled_day() -> None:
    listings_fixture()
    recompute()
    ingest(cancel("L5", "2026-03-09T10:00"))  # arrives late, dated before the listing's day
    recompute()
    assert value("listing_cancellation_rate", "2026-03-10") == pytest.approx(400 / 6)
    assert value("event_success_rate", "2026-03-10") == 100.0  # L3, L4 of finished L3, L4


def test_ratings_average_per_review_and_per_listing() -> None:
    listings_fixture()
    ingest(
        ev("review_submitted", "2026-03-11T10:00", user="u1", listing_id="L3", rating=5, text="great"),
        ev("review_submitted", "2026-03-11T10:00", user="u2", listing_id="L3", rating=4, text="good"),
        ev("review_submitted", "2026-03-11T11:00", user="u1", listing_id="L4", rating=3, text="ok"),
    )
    recompute()
    assert value("average_rating", "2026-03-11") == 4.0  # (5 + 4 + 3) / 3
    assert value("average_listing_rating", "2026-03-11") == pytest.approx((4.5 + 3) / 2)
    assert value("average_listing_rating", "2026-03-11", breakdown="category=food") == 3.0
    # processing scored each review's text (analytics/intelligence/sentiment): the mean of those scores
    scores = list(UserEvent.objects.filter(event_name="review_submitted").values_list("sentiment_score", flat=True))
    assert len(scores) == 3 and None not in scores
    assert value("average_review_sentiment", "2026-03-11") == pytest.approx(sum(scores) / 3, abs=1e-6)
    assert value("average_review_sentiment", "2026-03-11") > 0  # "great", "good", "ok"
    assert value("average_rating", "2026-03-12") is None


def test_api_error_rate_p95_latency_and_app_errors_per_session() -> None:
    ingest(
        *[
            ev(
                "api_request",
                "2026-03-10T10:00",
                route="/x",
                method="GET",
                status_code=503 if ms in (7, 19) else 200,
                response_time_ms=ms,
            )
            for ms in range(1, 21)
        ]
    )
    ingest(
        ev("page_view", "2026-03-10T10:00", user="u1", session="s1", path="/"),
        ev("app_error", "2026-03-10T10:01", user="u1", session="s1", error_type="crash"),
        ev("app_error", "2026-03-10T10:02", user="u1", session="s1", error_type="crash"),
        ev("page_view", "2026-03-10T11:00", user="u2", session="s2", path="/"),
        ev("page_view", "2026-03-10T12:00", anon="a1", session="s3", path="/"),
        ev("page_view", "2026-03-10T13:00", anon="a1", session="s4", path="/"),
    )
    recompute()
    assert value("api_error_rate", "2026-03-10") == 10.0  # 2 of 20 answered 5xx
    assert value("api_p95_latency_ms", "2026-03-10") == 19.0  # ⌈0.95 × 20⌉ = 19th smallest of 1…20
    assert value("app_error_rate_per_session", "2026-03-10") == 25.0  # s1 of four sessions
    assert value("api_error_rate", "2026-03-11") is None


def test_month_over_month_growth_and_host_drop_out() -> None:
    ingest(
        created("F1", "2026-02-10T10:00", host="h1", starts="2026-02-20T19:00"),
        created("F2", "2026-02-11T10:00", host="h2", starts="2026-02-20T19:00"),
        ev("page_view", "2026-02-10T10:00", user="u1", path="/"),
        ev("page_view", "2026-02-10T10:00", user="u2", path="/"),
        ev(
            "payment_completed",
            "2026-02-10T10:00",
            user="u1",
            order_id="o1",
            listing_id="F1",
            amount=200,
            currency="INR",
        ),
    )
    ingest(
        *[
            created(f"M{n}", "2026-03-05T10:00", host="h1" if n < 3 else "h3", starts="2026-03-25T19:00")
            for n in range(1, 5)
        ],
        ev(
            "payment_completed",
            "2026-03-05T10:00",
            user="u1",
            order_id="o2",
            listing_id="M1",
            amount=300,
            currency="INR",
        ),
    )
    recompute()
    # Feb: listings F1, F2; users u1, u2, h1, h2 (hosts create listings as users); revenue 200.
    # Mar: listings M1…M4; users h1, h3, u1; revenue 300.
    assert value("monthly_event_creation_growth", "2026-03-01", "month") == 100.0  # 2 → 4
    assert value("mau_growth", "2026-03-01", "month") == -25.0  # 4 → 3
    assert value("revenue_growth", "2026-03-01", "month") == 50.0  # 200 → 300
    assert value("host_dropout_rate", "2026-03-01", "month") == 50.0  # h2 of h1, h2
    assert value("mau_growth", "2026-02-01", "month") is None  # January had no users
