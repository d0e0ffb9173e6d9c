"""The model registry: train → store → check → promote (or reject and alert), and load what is active.

Every prediction model goes through `model_train_and_promote`:

1. its `ModelSpec.train(as_of)` fits a candidate on the past and evaluates it on the period after
   (temporal split), returning a `Trained`;
2. the candidate's artefact is stored in its `PredictionModel` row with its SHA-256;
3. the artefact is loaded back from the database (what every worker will do); a failure rejects it;
4. the active version, if any, is evaluated on the same fresh data; a candidate worse than it by more
   than `ANALYTICS_MODEL_PROMOTION_MARGIN` is rejected — the active version keeps serving;
5. otherwise the candidate becomes active (the old one retired) in one transaction.

A rejection opens an alert through the existing alerting (dedup key `model:<name>:<reason>`); the next
successful promotion of that model resolves it. Artefacts are Python pickles written by this service
into its own database and loaded only after their hash matches: never from a path or upload.
"""

from __future__ import annotations

import hashlib
import io
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any, Protocol

import joblib
from django.conf import settings
from django.db import transaction
from django.db.models import Max

from analytics import clock
from analytics.metrics.alerting.raising import alert_clear, alert_raise
from analytics.models.alerts import AlertSeverity
from analytics.models.predictions import ModelStatus, PredictionModel

logger = logging.getLogger("analytics.models")


class NotEnoughData(Exception):
    """Too little data to train (or score) a model; says what the minimum is."""

    def __init__(self, model: str, *, needed: str, found: str) -> None:
        super().__init__(f"not enough data for {model}: needs {needed}, found {found}")
        self.model = model
        self.needed = needed
        self.found = found


@dataclass
class Trained:
    """A fitted candidate and its fresh (temporal) evaluation."""

    estimator: Any
    algorithm: str
    features: tuple[str, ...]
    training_rows: int
    training_start: datetime | None
    training_end: datetime | None
    evaluated_on: datetime | None
    evaluation: dict[str, Any]
    primary_metric: str  # a key of `evaluation`; higher is better
    evaluate_other: Callable[[Any], float | None] = field(repr=False, default=lambda estimator: None)


class ModelSpec(Protocol):
    name: str
    minimum_data: str  # what training needs at least, for people and the API

    def train(self, *, as_of: datetime) -> Trained: ...


def artefact_dump(estimator: Any) -> bytes:
    buffer = io.BytesIO()
    joblib.dump(estimator, buffer, compress=3)
    return buffer.getvalue()


class ArtefactInvalid(Exception):
    pass


def artefact_load(row: PredictionModel) -> Any:
    """The estimator of a registry row, after its bytes match the recorded SHA-256."""
    data = bytes(row.artefact or b"")
    if not data:
        raise ArtefactInvalid(f"{row} has no artefact")
    if hashlib.sha256(data).hexdigest() != row.artefact_sha256:
        raise ArtefactInvalid(f"{row}: the artefact does not match its recorded SHA-256")
    try:
        return joblib.load(io.BytesIO(data))
    except Exception as exc:  # a truncated or foreign artefact: any unpickling error
        raise ArtefactInvalid(f"{row}: the artefact does not load ({type(exc).__name__}: {exc})") from exc


@lru_cache(maxsize=32)
def _cached_estimator(model_id: int, sha256: str) -> Any:
    row = PredictionModel.objects.get(id=model_id)
    return artefact_load(row)


def model_active(name: str) -> PredictionModel | None:
    """The active version of `name` (without its artefact bytes), or None."""
    return PredictionModel.objects.defer("artefact").filter(name=name, status=ModelStatus.ACTIVE).first()


def model_active_estimator(name: str) -> tuple[PredictionModel, Any] | None:
    """(row, estimator) of the active version, loaded once per process per version."""
    row = model_active(name)
    if row is None:
        return None
    return row, _cached_estimator(row.id, row.artefact_sha256)


def model_list(*, name: str | None = None) -> list[PredictionModel]:
    rows = PredictionModel.objects.defer("artefact").order_by("name", "-version")
    return list(rows.filter(name=name) if name else rows)


def _store(name: str, trained: Trained, now: datetime) -> PredictionModel:
    data = artefact_dump(trained.estimator)
    with transaction.atomic():
        latest = PredictionModel.objects.select_for_update().filter(name=name).aggregate(v=Max("version"))["v"]
        return PredictionModel.objects.create(
            name=name,
            version=(latest or 0) + 1,
            status=ModelStatus.CANDIDATE,
            algorithm=trained.algorithm[:200],
            trained_at=now,
            training_start=trained.training_start,
            training_end=trained.training_end,
            evaluated_on=trained.evaluated_on,
            features=list(trained.features),
            training_rows=trained.training_rows,
            evaluation=trained.evaluation,
            primary_metric=trained.primary_metric,
            artefact=data,
            artefact_sha256=hashlib.sha256(data).hexdigest(),
            artefact_bytes=len(data),
        )


def _reject(candidate: PredictionModel, *, reason: str, message: str, now: datetime) -> PredictionModel:
    candidate.status = ModelStatus.REJECTED
    candidate.decision = message
    candidate.save(update_fields=["status", "decision"])
    alert_raise(
        source="model",
        dedup_key=f"model:{candidate.name}:{reason}",
        subject=f"model_{candidate.name}",
        severity=AlertSeverity.WARNING,
        title=f"{candidate.name} model v{candidate.version} not promoted: {reason.replace('_', ' ')}",
        message=message,
        now=now,
    )
    logger.warning("model.rejected name=%s version=%d reason=%s", candidate.name, candidate.version, reason)
    return candidate


def model_promote(candidate: PredictionModel, *, decision: str, now: datetime) -> PredictionModel:
    with transaction.atomic():
        PredictionModel.objects.filter(name=candidate.name, status=ModelStatus.ACTIVE).exclude(id=candidate.id).update(
            status=ModelStatus.RETIRED
        )
        candidate.status = ModelStatus.ACTIVE
        candidate.promoted_at = now
        candidate.decision = decision
        candidate.save(update_fields=["status", "promoted_at", "decision"])
    for reason in ("artefact_invalid", "degraded"):
        alert_clear(dedup_key=f"model:{candidate.name}:{reason}", now=now)
    logger.info("model.promoted name=%s version=%d", candidate.name, candidate.version)
    return candidate


def model_train_and_promote(spec: ModelSpec, *, as_of: datetime | None = None) -> PredictionModel:
    """Train a candidate of `spec`, store it, and promote it unless it fails to load or evaluates worse
    than the active version by more than the margin. Raises `NotEnoughData` (nothing stored)."""
    now = clock.now()
    trained = spec.train(as_of=as_of or now)
    candidate = _store(spec.name, trained, now)
    try:
        artefact_load(PredictionModel.objects.get(id=candidate.id))
    except ArtefactInvalid as exc:
        return _reject(candidate, reason="artefact_invalid", message=str(exc), now=now)
    active = model_active(spec.name)
    metric = trained.primary_metric
    score = trained.evaluation.get(metric)
    if active is None:
        return model_promote(candidate, decision=f"first version ({metric} {score})", now=now)
    try:
        active_estimator = _cached_estimator(active.id, active.artefact_sha256)
    except ArtefactInvalid as exc:
        return model_promote(candidate, decision=f"the active v{active.version} no longer loads: {exc}", now=now)
    active_score = trained.evaluate_other(active_estimator)
    margin = settings.ANALYTICS_MODEL_PROMOTION_MARGIN
    if score is not None and active_score is not None and score < active_score - margin:
        message = (
            f"{metric} {score:.3f} on the fresh evaluation (cutoff {trained.evaluated_on}) against "
            f"{active_score:.3f} for the active v{active.version}: worse by more than the margin {margin}; "
            f"v{active.version} keeps serving"
        )
        return _reject(candidate, reason="degraded", message=message, now=now)
    shown = "—" if active_score is None else f"{active_score:.3f}"
    return model_promote(
        candidate, decision=f"{metric} {score} against {shown} for the active v{active.version}", now=now
    )
