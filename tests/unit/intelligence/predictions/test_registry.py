"""The model lifecycle (analytics/intelligence/registry.py): a candidate is stored with its artefact,
loaded back from the database, compared with the active version on fresh data, and promoted — or
rejected with an alert while the previous version keeps serving."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from analytics.intelligence.registry import (
    ArtefactInvalid,
    NotEnoughData,
    Trained,
    artefact_load,
    model_active,
    model_active_estimator,
    model_train_and_promote,
)
from analytics.models import Alert, PredictionModel
from analytics.models.alerts import AlertState
from analytics.models.predictions import ModelStatus

pytestmark = pytest.mark.django_db

RNG = np.random.default_rng(3)
X = RNG.normal(size=(400, 3))
Y = (X[:, 0] + 0.5 * RNG.normal(size=400) > 0).astype(int)


def _fail_to_load() -> None:
    raise RuntimeError("this estimator's class no longer exists")


class Unloadable:
    """Pickles fine, fails when loaded (as an artefact of a class renamed since would)."""

    def __reduce__(self) -> tuple[object, tuple[()]]:
        return (_fail_to_load, ())


@dataclass
class FakeSpec:
    """A spec whose fresh-evaluation score is set by the test (a real fitted estimator is stored)."""

    score: float
    name: str = "toy"
    minimum_data: str = "400 rows"
    estimator: object = None
    enough: bool = True

    def train(self, *, as_of: datetime) -> Trained:
        if not self.enough:
            raise NotEnoughData(self.name, needed="400 rows", found="12 rows")
        estimator = self.estimator or LogisticRegression().fit(X, Y)
        return Trained(
            estimator=estimator,
            algorithm="LogisticRegression",
            features=("a", "b", "c"),
            training_rows=len(Y),
            training_start=None,
            training_end=as_of,
            evaluated_on=as_of,
            evaluation={"auc": self.score},
            primary_metric="auc",
            evaluate_other=lambda other: 0.90,  # the active version's score on the same fresh data
        )


def test_the_first_version_is_promoted_and_loads_from_the_database() -> None:
    row = model_train_and_promote(FakeSpec(score=0.8))
    assert (row.version, row.status) == (1, ModelStatus.ACTIVE)
    assert row.artefact_bytes > 0 and len(row.artefact_sha256) == 64
    active = model_active_estimator("toy")
    assert active is not None and active[0].id == row.id
    assert active[1].predict_proba(X[:2]).shape == (2, 2)


def test_a_worse_candidate_is_rejected_with_an_alert_and_the_active_version_keeps_serving() -> None:
    model_train_and_promote(FakeSpec(score=0.91))
    worse = model_train_and_promote(FakeSpec(score=0.85))  # 0.85 < 0.90 − margin 0.02
    assert (worse.version, worse.status) == (2, ModelStatus.REJECTED)
    assert "keeps serving" in worse.decision
    assert model_active("toy").version == 1  # type: ignore[union-attr]
    alert = Alert.objects.get(dedup_key="model:toy:degraded")
    assert (alert.source, alert.state) == ("model", AlertState.OPEN)
    assert "v2 not promoted" in alert.title
    model_train_and_promote(FakeSpec(score=0.85))  # still worse: the same alert, refreshed
    assert Alert.objects.filter(dedup_key="model:toy:degraded").count() == 1

    better = model_train_and_promote(FakeSpec(score=0.89))  # within the margin: promoted
    assert better.status == ModelStatus.ACTIVE and model_active("toy").version == better.version  # type: ignore[union-attr]
    assert PredictionModel.objects.get(name="toy", version=1).status == ModelStatus.RETIRED
    assert Alert.objects.get(dedup_key="model:toy:degraded").state == AlertState.RESOLVED


def test_a_candidate_whose_artefact_does_not_load_is_rejected_with_an_alert() -> None:
    model_train_and_promote(FakeSpec(score=0.9))
    broken = model_train_and_promote(FakeSpec(score=0.99, estimator=Unloadable()))
    assert broken.status == ModelStatus.REJECTED
    assert "does not load" in broken.decision
    assert model_active("toy").version == 1  # type: ignore[union-attr]
    assert Alert.objects.get(dedup_key="model:toy:artefact_invalid").state == AlertState.OPEN


def test_an_artefact_changed_in_the_database_is_refused_before_unpickling() -> None:
    row = model_train_and_promote(FakeSpec(score=0.9))
    stored = PredictionModel.objects.get(id=row.id)
    data = bytearray(bytes(stored.artefact))
    data[-1] ^= 0xFF
    PredictionModel.objects.filter(id=row.id).update(artefact=bytes(data))
    with pytest.raises(ArtefactInvalid, match="does not match its recorded SHA-256"):
        artefact_load(PredictionModel.objects.get(id=row.id))


def test_too_little_data_stores_nothing() -> None:
    with pytest.raises(NotEnoughData) as raised:
        model_train_and_promote(FakeSpec(score=0.9, enough=False))
    assert raised.value.needed == "400 rows"
    assert not PredictionModel.objects.filter(name="toy").exists()


def test_at_most_one_version_per_model_is_active_in_the_database() -> None:
    from django.db import IntegrityError, transaction

    first = model_train_and_promote(FakeSpec(score=0.9))
    second = model_train_and_promote(FakeSpec(score=0.95))
    assert PredictionModel.objects.filter(name="toy", status=ModelStatus.ACTIVE).count() == 1
    with pytest.raises(IntegrityError), transaction.atomic():
        PredictionModel.objects.filter(id=first.id).update(status=ModelStatus.ACTIVE)
    assert second.status == ModelStatus.ACTIVE
