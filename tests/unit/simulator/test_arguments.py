"""`manage.py simulate` refuses impossible arguments with a message that says what to fix."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.management import CommandError, call_command

from analytics.simulator.config import SimulationArgumentError, config_build


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"users": 0}, "--users must be at least 1"),
        ({"users": -5}, "--users must be at least 1"),
        ({"days": 0}, "--days must be at least 1"),
        ({"days": 3651}, "--days must be at most 3650"),
        ({"seed": -1}, "--seed must be a non-negative integer"),
        ({"end_date": "2026-13-01"}, "--end-date must be a date written YYYY-MM-DD"),
        ({"end_date": "yesterday"}, "--end-date must be a date written YYYY-MM-DD"),
        ({"end_date": "2999-01-01"}, "is in the future"),
        ({"end_date": "2000-01-05", "days": 30}, "would start before 2000-01-01"),
        ({"anomalies": True, "days": 14}, "--anomalies needs at least 42 days"),
        ({"batch_size": 0}, "--batch-size must be between 1 and 10,000"),
        ({"batch_size": 10_001}, "--batch-size must be between 1 and 10,000"),
        ({"url": "http://127.0.0.1:9"}, "--url needs --key"),
        ({"key": "lpk_something"}, "--key is only used with --url"),
        ({"url": "ftp://example.org", "key": "k"}, r"--url must be an http\(s\) URL"),
        ({"url": "localhost:8000", "key": "k"}, r"--url must be an http\(s\) URL"),
    ],
)
def test_impossible_arguments_are_refused_with_a_clear_message(options: dict[str, object], message: str) -> None:
    arguments = {"users": 10, "days": 7, "seed": 1, "end_date": "2026-02-01", "no_progress": True, **options}
    with pytest.raises(CommandError, match=message):
        call_command("simulate", **arguments)


def test_the_window_ends_at_the_start_of_the_end_date_in_the_business_time_zone() -> None:
    config = config_build(
        users=1, days=3, seed=0, end_date="2026-02-01", time_zone="Asia/Kolkata", today=date(2026, 2, 1)
    )
    assert config.start_date == date(2026, 1, 29)
    assert config.start.isoformat() == "2026-01-28T18:30:00+00:00"  # local midnight in Kolkata, as UTC
    assert config.end.isoformat() == "2026-01-31T18:30:00+00:00"


def test_the_end_date_defaults_to_today() -> None:
    config = config_build(users=1, days=3, seed=0, end_date=None, time_zone="Asia/Kolkata", today=date(2026, 5, 4))
    assert config.end_date == date(2026, 5, 4)


def test_a_non_integer_user_count_is_refused() -> None:
    with pytest.raises(SimulationArgumentError, match="--users"):
        config_build(users=True, days=3, seed=0, end_date=None, time_zone="UTC", today=date(2026, 5, 4))
