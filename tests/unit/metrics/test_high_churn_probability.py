"""`high_churn_probability_rate`: the share of a period's active users whose latest churn prediction made
during the period is ≥ 0.7 — by hand, with predictions written as the scoring task writes them."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from analytics.metrics.calculation import Evaluator
from analytics.metrics.periods import Period
from analytics.models import UserPrediction
from tests.unit.metrics.support import ev, ingest, recompute

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("now")]

DAY = date(2026, 3, 5)  # a Thursday


def _predict(user: str, day: date, risk: float) -> None:
    UserPrediction.objects.create(
        user_id=user, scored_on=day, scored_at=datetime(2026, 3, 1, tzinfo=UTC), churn_risk=risk, churn_model_version=1
    )


def _rate(period_type: str) -> float | None:
    return Evaluator().values("high_churn_probability_rate", Period.containing(period_type, DAY)).get("")


def test_no_prediction_in_the_period_reports_no_data() -> None:
    ingest(ev("page_view", "2026-03-05T10:00", user="u1", path="/"))
    recompute()
    _predict("u1", date(2026, 2, 20), 0.9)  # made before the period: not this period's prediction
    assert _rate("day") is None


def test_each_active_users_latest_prediction_of_the_period_counts_once() -> None:
    ingest(*(ev("page_view", "2026-03-05T10:00", user=u, path="/") for u in ("u1", "u2", "u3", "u4")))
    recompute()
    _predict("u1", date(2026, 3, 4), 0.9)  # superseded by the same user's newer prediction …
    _predict("u1", DAY, 0.2)  # … of the period
    _predict("u2", DAY, 0.75)
    _predict("u3", DAY, 0.4)
    _predict("u4", date(2026, 3, 4), 0.8)  # the day before: in the week, not in the day
    _predict("u9", DAY, 0.95)  # not active: not counted
    assert _rate("day") == pytest.approx(100 * 1 / 3)  # u2 of u1, u2, u3
    assert _rate("week") == pytest.approx(100 * 2 / 4)  # u2 and u4 of u1-u4
