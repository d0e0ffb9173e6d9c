"""Segmentation: the number of segments, names from centres, stored personas and memberships."""

from __future__ import annotations

import random

import pytest

from analytics import clock
from analytics.errors import ValidationFailed
from analytics.intelligence.segments.clustering import segment
from analytics.intelligence.segments.features import FEATURES
from analytics.intelligence.segments.naming import descriptive_name, segments_name
from analytics.intelligence.segments.service import persona_list, personas_cluster
from analytics.models import UserBehaviorProfile, UserPersona

# Three well separated kinds of user: frequent visitors, weekend daytime users, rare non-requesters.
KINDS = {
    "frequent": {"sessions_per_week": 2.0, "views_per_session": 1.2, "searches_per_session": 0.6},
    "weekend": {"weekend_share": 0.85, "hour_cos": -0.9, "hour_sin": 0.3},
    "rare": {"sessions_per_week": -1.0, "request_rate": 0.005},
}
BASE = {
    "sessions_per_week": 0.5,
    "views_per_session": 0.8,
    "searches_per_session": 0.3,
    "request_rate": 0.08,
    "invites_per_session": 0.05,
    "seats_per_request": 1.3,
    "weekend_share": 0.3,
    "hour_sin": -0.8,
    "hour_cos": 0.4,
    "category_entropy": 1.2,
    "viewed_price": 6.0,
}


def users(per_kind: int = 40, seed: int = 3) -> tuple[list[dict[str, float]], list[str]]:
    rng = random.Random(seed)
    vectors, kinds = [], []
    for kind, shifts in KINDS.items():
        for _ in range(per_kind):
            vector = {f: BASE[f] + rng.gauss(0, 0.05 * (abs(BASE[f]) + 0.1)) for f in FEATURES}
            vector.update({f: v + rng.gauss(0, 0.05) for f, v in shifts.items()})
            vectors.append(vector)
            kinds.append(kind)
    return vectors, kinds


def test_the_number_of_segments_is_chosen_from_the_data_and_recovers_clear_groups() -> None:
    vectors, kinds = users()
    found = segment(vectors)
    assert found.chosen_by == "silhouette" and 3 <= found.n_clusters <= 8
    assert set(found.silhouette_by_k) == set(range(3, 9))
    assert found.n_clusters == 3  # three clear groups: the best silhouette
    by_segment: dict[int, set[str]] = {}
    for label, kind in zip(found.labels, kinds, strict=True):
        by_segment.setdefault(label, set()).add(kind)
    assert all(len(group) == 1 for group in by_segment.values())  # every segment holds one kind
    assert sorted(found.sizes, reverse=True) == found.sizes and sum(found.sizes) == len(vectors)
    assert found.silhouette is not None and found.silhouette > 0.3
    assert all(0.0 < s <= 1.0 for s in found.strengths)


def test_an_explicit_number_of_segments_is_honoured_and_impossible_ones_are_refused() -> None:
    vectors, _ = users()
    found = segment(vectors, n_clusters=5)
    assert (found.n_clusters, found.chosen_by, len(found.sizes)) == (5, "requested", 5)
    for bad in (1, 21):
        with pytest.raises(ValidationFailed) as caught:
            segment(vectors, n_clusters=bad)
        assert caught.value.code == "invalid_n_clusters"
    with pytest.raises(ValidationFailed) as caught:
        segment(vectors[:8])
    assert caught.value.code == "not_enough_users"


def test_segments_are_named_after_the_archetype_their_centre_fits_or_described() -> None:
    zero = dict.fromkeys(FEATURES, 0.0)
    centres = [
        {**zero, "sessions_per_week": 2.0, "views_per_session": 1.0},
        {**zero, "weekend_share": 2.2, "hour_cos": -1.0},
        {**zero, "request_rate": -1.5, "sessions_per_week": -1.0},
        {**zero, "viewed_price": 0.8},
    ]
    names = segments_name(centres)
    assert [n.name for n in names[:3]] == ["power_user", "weekend_warrior", "passive_observer"]
    assert names[3].archetype is None and names[3].name == descriptive_name(centres[3]) == "premium_users"
    assert "Most distinctive" in names[0].description and len({n.name for n in names}) == 4


@pytest.mark.django_db
def test_a_clustering_run_writes_personas_and_each_profile_membership() -> None:
    now = clock.now()
    vectors, _ = users(per_kind=30)
    UserBehaviorProfile.objects.bulk_create(
        [
            UserBehaviorProfile(
                user_id=f"u{i}",
                engagement_score=0.5,
                engagement_trend="stable",
                persona_features=vector,
                as_of=now,
                lookback_days=90,
                model_version="t",
                last_analysis_at=now,
            )
            for i, vector in enumerate(vectors)
        ]
        + [
            UserBehaviorProfile(
                user_id="thin",
                engagement_score=0.1,
                engagement_trend="new",
                persona_features=None,
                as_of=now,
                lookback_days=90,
                model_version="t",
                last_analysis_at=now,
            )
        ]
    )
    first = personas_cluster()
    assert first.users_clustered == 90 and first.users_without_enough_behaviour == 1
    assert sum(p["size"] for p in first.personas) == 90
    current = UserPersona.objects.filter(is_current=True)
    assert current.count() == first.n_clusters
    assert UserBehaviorProfile.objects.filter(primary_persona__isnull=False).count() == 90
    assert UserBehaviorProfile.objects.get(user_id="thin").primary_persona is None
    strengths = UserBehaviorProfile.objects.exclude(persona_strength=None).values_list("persona_strength", flat=True)
    assert all(0 < s <= 1 for s in strengths)
    second = personas_cluster(n_clusters=4)
    assert second.run_id != first.run_id
    assert [p["run_id"] for p in persona_list()] == [second.run_id] * 4
    assert UserPersona.objects.filter(run_id=first.run_id, is_current=False).count() == first.n_clusters
    assert set(
        UserBehaviorProfile.objects.exclude(primary_persona=None).values_list("primary_persona__run_id", flat=True)
    ) == {second.run_id}


def test_a_segment_distinct_by_its_hour_is_named_after_the_time_of_day_it_comes() -> None:
    import math

    zero = dict.fromkeys(FEATURES, 0.0)
    centre = {**zero, "hour_cos": 1.4, "invites_per_session": -0.6}
    at_22h = {"hour_sin": math.sin(2 * math.pi * 22 / 24), "hour_cos": math.cos(2 * math.pi * 22 / 24)}
    at_10h = {"hour_sin": math.sin(2 * math.pi * 10 / 24), "hour_cos": math.cos(2 * math.pi * 10 / 24)}
    assert descriptive_name(centre, at_22h) == "late_night_solo_users"
    assert descriptive_name(centre, at_10h) == "morning_solo_users"
    (named,) = segments_name([centre], [at_22h])
    assert "comes mostly in the late night" in named.description
