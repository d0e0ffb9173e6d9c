"""The predictions package's simulated platform: simulated, rolled up (as the hourly metrics run does),
profiled, trained and scored once for every module of the package (committed, wiped at the end)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from analytics import clock
from analytics.intelligence.behaviour.service import behavior_profiles_refresh
from analytics.intelligence.churn.features import churn_features
from analytics.intelligence.predictions import prediction_models_score, prediction_models_train
from analytics.metrics.rollups import rollups_rebuild
from analytics.models import (
    ListingAttendanceForecast,
    PredictionModel,
    UserBehaviorProfile,
    UserPrediction,
)
from tests.unit.simulator.conftest import simulate, truth_of, wipe_analytics_tables


@pytest.fixture(scope="package")
def platform(
    django_db_setup: None, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    """1,200 users × 120 days; the clock is the end of the simulated window while it is trained and scored."""
    with django_db_blocker.unblock():
        report = simulate(
            data_dir=tmp_path_factory.mktemp("predictions"), users=1200, days=120, seed=5, batch_size=5000
        )
        truth = truth_of(report)
        end = datetime.fromisoformat(truth["parameters"]["window_end"])
        first = datetime.fromisoformat(truth["parameters"]["window_start"]).date()
        rollups_rebuild(days=[first + timedelta(days=i) for i in range((end.date() - first).days + 1)])
        clock.freeze(end)
        try:
            behavior_profiles_refresh(user_ids=churn_features(as_of=end).user_ids[::2], as_of=end)
            outcomes = prediction_models_train(as_of=end)
            scoring = prediction_models_score(as_of=end)
        finally:
            clock.freeze(None)
        yield {"truth": truth, "end": end, "outcomes": outcomes, "scoring": scoring}
        for model in (UserPrediction, PredictionModel, UserBehaviorProfile, ListingAttendanceForecast):
            model.objects.all().delete()
        wipe_analytics_tables()
