"""The churn and conversion features read exactly what their names say: windows of whole 24-hour days
before the cutoff, nothing after it, and a split's cutoffs read together equal to each read alone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest

from analytics.intelligence.churn.features import FEATURES, churn_features, churn_frames
from tests.unit.metrics.support import ev, ingest

pytestmark = pytest.mark.django_db

CUTOFF = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)  # mid-day: the windows are 24-hour days, not calendar days


def at(delta: timedelta, name: str, user: str, **properties: Any) -> dict[str, Any]:
    body = ev(name, "2026-03-01T00:00", user=user, **properties)
    body["timestamp"] = (CUTOFF + delta).isoformat()
    return body


def feature(frame: Any, user: str, name: str) -> float:
    return float(frame.matrix[frame.user_ids.index(user), FEATURES.index(name)])


@pytest.fixture
def people() -> None:
    hour, day = timedelta(hours=1), timedelta(days=1)
    ingest(
        at(-hour, "page_view", "u1", screen="home"),  # 0 whole days before the cutoff
        at(-(6 * day + 23 * hour), "page_view", "u1", screen="home"),  # 6: still in the last 7 days
        at(-(7 * day + hour), "page_view", "u1", screen="home"),  # 7: the week before
        at(-2 * day, "profile_updated", "u1", fields_completed=["name", "photo", "bio"], is_verified=True),
        at(-3 * day, "review_submitted", "u1", listing_id="L1", rating=2, text="Too crowded."),
        at(-4 * day, "review_submitted", "u1", listing_id="L2", rating=5, text="Lovely evening."),
        at(hour, "page_view", "u1", screen="home"),  # after the cutoff: only the label sees it
        at(-2 * day, "app_error", "u2", error_type="crash", message="boom"),  # not user-initiated
        at(-40 * day, "page_view", "u3", screen="home"),  # silent for over 30 days: already gone
    )


@pytest.mark.usefixtures("people")
def test_windows_are_whole_days_before_the_cutoff_and_list_properties_count() -> None:
    frame = churn_features(as_of=CUTOFF, labels=True)
    assert frame.user_ids == ["u1"]  # u2 only errored, u3 left over 30 days ago
    assert feature(frame, "u1", "recency_days") == pytest.approx(1 / 24)
    assert feature(frame, "u1", "active_days_7") == 5  # days 0, 2, 3, 4 (profile, reviews) and 6
    assert feature(frame, "u1", "active_days_7_14") == 1
    assert feature(frame, "u1", "profile_fields") == 3  # a list of completed fields counts its length
    assert feature(frame, "u1", "reviews_90") == 2
    assert feature(frame, "u1", "rating_min") == 2
    assert frame.churned is not None and frame.churned.tolist() == [0]  # the page view an hour later


@pytest.mark.usefixtures("people")
def test_cutoffs_read_together_equal_each_read_alone() -> None:
    cutoffs = [CUTOFF - timedelta(days=7), CUTOFF - timedelta(days=3), CUTOFF]
    together = churn_frames(cutoffs, labels=True)
    for cutoff, frame in zip(cutoffs, together, strict=True):
        alone = churn_features(as_of=cutoff, labels=True)
        assert frame.user_ids == alone.user_ids
        np.testing.assert_array_equal(np.nan_to_num(frame.matrix, nan=-1), np.nan_to_num(alone.matrix, nan=-1))
        assert frame.churned is not None and alone.churned is not None
        assert frame.churned.tolist() == alone.churned.tolist()


def test_cutoffs_read_together_must_be_whole_days_apart() -> None:
    with pytest.raises(ValueError, match="whole days apart"):
        churn_frames([CUTOFF, CUTOFF + timedelta(hours=12)])
