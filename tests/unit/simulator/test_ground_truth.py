"""The ground truth file: its schema, and references that agree with the stored events."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

import pytest

from analytics.models import UserEvent
from analytics.simulator import config_build, parameters
from analytics.simulator.behaviour.churn import churn_outcome, churn_probability
from analytics.simulator.world import ACTIVE, FADING, Calendar, world_build
from tests.unit.simulator.conftest import Run, truth_of

pytestmark = pytest.mark.django_db

TOP_LEVEL = {
    "schema_version",
    "model_version",
    "parameters",
    "summary",
    "personas",
    "anomalies",
    "activity_checkpoint",
    "users",
    "hosts",
    "listings",
    "registrations",
}
USER_KEYS = {
    "user_id",
    "anonymous_id",
    "persona",
    "signup_at",
    "signup_method",
    "city",
    "platform",
    "is_host",
    "preferences",
    "traits",
    "state_at_end",
    "churn",
    "activity_checkpoint",
}
REGISTRATION_KEYS = {
    "request_id",
    "user_id",
    "listing_id",
    "seats",
    "requested_at",
    "confirmed_at",
    "starts_at",
    "order_id",
    "amount",
    "payment_attempts",
    "show_up_probability",
    "showed_up",
    "outcome",
    "resolved",
    "experience",
    "rating",
    "reviewed",
}


def test_the_truth_file_has_the_documented_schema(run: Run) -> None:
    report = run(users=100, days=28)
    truth = truth_of(report)
    assert set(truth) == TOP_LEVEL
    assert truth["schema_version"] == 2
    assert truth["activity_checkpoint"] is None  # 28 days: too short for a checkpoint 30 days before the end
    assert truth["parameters"]["seed"] == 11 and truth["parameters"]["users"] == 100
    assert len(truth["users"]) == 100
    personas = {spec.name for spec in parameters.PERSONAS}
    for user in truth["users"]:
        assert set(user) == USER_KEYS
        assert user["persona"] in personas
        assert abs(sum(user["preferences"].values()) - 1) < 1e-3
        assert set(user["preferences"]) == set(parameters.CATEGORIES)
        assert 0.0 <= user["churn"]["probability_30d"] <= 1.0
        assert isinstance(user["churn"]["outcome_30d"], bool)
        if user["churn"]["churned_before_end"]:
            assert user["churn"]["probability_30d"] == 1.0 and user["churn"]["outcome_30d"]
            assert user["state_at_end"]["status"] == "churned"
    assert truth["registrations"]
    for registration in truth["registrations"]:
        assert set(registration) == REGISTRATION_KEYS
        assert 0.0 < registration["show_up_probability"] < 1.0
        assert registration["outcome"] in (
            "attended",
            "no_show",
            "cancelled_by_host",
            "cancelled_by_attendee",
        )
    assert sum(truth["summary"]["personas"].values()) == 100
    assert 0.0 < truth["summary"]["persona_separability"] <= 1.0
    assert truth["anomalies"] == []


def test_every_reference_in_the_truth_exists_in_the_stored_events(run: Run) -> None:
    truth = truth_of(run(users=100, days=28))
    registered = set(UserEvent.objects.filter(event_name="user_registered").values_list("user_id", flat=True))
    created = dict(UserEvent.objects.filter(event_name="event_created").values_list("listing_id", "host_id"))
    requested = set(
        UserEvent.objects.filter(event_name="event_requested").values_list("user_id", "properties__request_id")
    )
    assert {user["user_id"] for user in truth["users"]} == registered
    assert {listing["listing_id"]: listing["host_id"] for listing in truth["listings"]} == created
    assert {host["host_id"] for host in truth["hosts"]} <= registered
    for registration in truth["registrations"]:
        assert registration["user_id"] in registered
        assert registration["listing_id"] in created
        assert (registration["user_id"], registration["request_id"]) in requested


def test_resolved_attendance_outcomes_match_the_check_ins(run: Run) -> None:
    truth = truth_of(run(users=400, days=42))
    checked_in = set(
        UserEvent.objects.filter(event_name="event_checked_in").values_list("user_id", "properties__request_id")
    )
    resolved = [r for r in truth["registrations"] if r["resolved"]]
    assert len(resolved) >= 10
    for registration in resolved:
        key = (registration["user_id"], registration["request_id"])
        assert (key in checked_in) == (registration["outcome"] == "attended"), registration
        assert registration["showed_up"] == (registration["outcome"] == "attended") or registration["outcome"] in (
            "cancelled_by_host",
            "cancelled_by_attendee",
        )


def test_paid_registrations_have_a_completed_payment(run: Run) -> None:
    truth = truth_of(run(users=150, days=42))
    completed = set(
        UserEvent.objects.filter(event_name="payment_completed").values_list("properties__order_id", flat=True)
    )
    paid = [r for r in truth["registrations"] if r["amount"] > 0]
    assert paid
    assert all(r["order_id"] in completed for r in paid)


def test_the_churn_probability_is_the_probability_of_the_sampled_outcome() -> None:
    """The oracle is exact: averaging many draws of the hidden horizon gives `probability_30d`."""
    config = config_build(users=40, days=30, seed=2, end_date="2026-02-01", time_zone="UTC", today=date(2026, 6, 1))
    users = world_build(config, Calendar(config)).users[:6]
    for index, user in enumerate(users):
        user.signup_day = 0
        user.frustration = 0.4 * index
        user.status = FADING if index % 3 == 2 else ACTIVE
        expected = churn_probability(user, first_day=30)
        rng = random.Random(index)
        draws = 4000
        share = sum(churn_outcome(user, first_day=30, rng=rng) is not None for _ in range(draws)) / draws
        assert abs(share - expected) < 0.03, (index, share, expected)


def test_truth_times_are_utc_and_inside_the_window(run: Run) -> None:
    truth = truth_of(run())
    start = datetime.fromisoformat(truth["parameters"]["window_start"])
    end = datetime.fromisoformat(truth["parameters"]["window_end"])
    for user in truth["users"]:
        signup = datetime.fromisoformat(user["signup_at"])
        assert signup.utcoffset() == timedelta(0)
        assert start <= signup < end
    assert truth["registrations"]
    for registration in truth["registrations"]:
        requested = datetime.fromisoformat(registration["requested_at"])
        confirmed = datetime.fromisoformat(registration["confirmed_at"])
        assert start <= requested <= confirmed < end
        assert confirmed < datetime.fromisoformat(registration["starts_at"])


def test_the_activity_oracle_is_calibrated_against_the_sessions_that_followed_the_checkpoint(run: Run) -> None:
    """`p_any_session` at the checkpoint is the exact probability of opening the app in the next 30 days:
    over a few hundred users its mean must match the observed share, and it must rank users well."""
    truth = truth_of(run(users=600, days=60))
    checkpoint = truth["activity_checkpoint"]
    assert checkpoint["horizon_days"] == 30 and checkpoint["day"] == "2026-01-02"  # 30 days before 2026-02-01
    start = datetime.fromisoformat(checkpoint["start"])
    opened = set(
        UserEvent.objects.filter(event_name="page_view", timestamp__gte=start, user_id__isnull=False).values_list(
            "user_id", flat=True
        )
    )
    scored = [(u["activity_checkpoint"], u["user_id"] in opened) for u in truth["users"] if u["activity_checkpoint"]]
    assert len(scored) >= 150, len(scored)
    expected = sum(c["p_any_session"] for c, _ in scored) / len(scored)
    observed = sum(1 for _, active in scored if active) / len(scored)
    assert abs(expected - observed) < 0.06, (expected, observed)
    likely = [active for c, active in scored if c["p_any_session"] > 0.9]
    unlikely = [active for c, active in scored if c["p_any_session"] < 0.5]
    assert likely and unlikely and sum(likely) / len(likely) > 0.85 > sum(unlikely) / len(unlikely)
    for c, _ in scored:
        assert (c["status"] == "churned") == (c["expected_sessions"] == 0.0)
