"""Segmentation runs: cluster the stored behaviour profiles, name the segments, store personas and
memberships — one audited write path (`personas_cluster`), read by `persona_list`."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from analytics import clock
from analytics.intelligence.segments.clustering import Segmentation, segment
from analytics.intelligence.segments.naming import segments_name
from analytics.models import UserBehaviorProfile, UserPersona

logger = logging.getLogger(__name__)

MODEL_VERSION = "kmeans-silhouette-1"
_BATCH = 1000


@dataclass(frozen=True)
class ClusteringResult:
    run_id: str
    n_clusters: int
    chosen_by: str
    users_clustered: int
    users_without_enough_behaviour: int
    silhouette: float | None
    silhouette_by_k: dict[int, float]
    personas: list[dict[str, Any]]


def persona_as_dict(persona: UserPersona) -> dict[str, Any]:
    return {
        "id": persona.id,
        "name": persona.name,
        "description": persona.description,
        "behavior_pattern": persona.behavior_pattern,
        "size": persona.size,
        "confidence": persona.confidence,
        "run_id": persona.run_id,
        "created_at": persona.created_at,
    }


def personas_cluster(*, n_clusters: int | None = None) -> ClusteringResult:
    """Cluster every profile that has persona features; replace the current personas with the new run."""
    rows = list(
        UserBehaviorProfile.objects.filter(persona_features__isnull=False)
        .order_by("user_id")
        .values_list("id", "persona_features")
    )
    without = UserBehaviorProfile.objects.filter(persona_features__isnull=True).count()
    found: Segmentation = segment([dict(features or {}) for _, features in rows], n_clusters=n_clusters)
    names = segments_name(found.centres, found.centres_raw)
    run_id = uuid.uuid4().hex[:12]
    now = clock.now()
    with transaction.atomic():
        UserPersona.objects.filter(is_current=True).update(is_current=False)
        personas = UserPersona.objects.bulk_create(
            [
                UserPersona(
                    run_id=run_id,
                    name=named.name,
                    description=named.description,
                    behavior_pattern={
                        "z_scores": found.centres[c],
                        "values": found.centres_raw[c],
                        "archetype": named.archetype,
                        "archetype_fit": named.fit,
                    },
                    size=found.sizes[c],
                    confidence=round(
                        sum(s for s, label in zip(found.strengths, found.labels, strict=True) if label == c)
                        / max(found.sizes[c], 1),
                        4,
                    ),
                    is_current=True,
                    model_version=MODEL_VERSION,
                    created_at=now,
                )
                for c, named in enumerate(names)
            ]
        )
        ids = [persona.id for persona in personas]
        UserBehaviorProfile.objects.filter(persona_features__isnull=True).update(
            primary_persona=None, persona_strength=None
        )
        updates = [
            UserBehaviorProfile(id=profile_id, primary_persona_id=ids[label], persona_strength=strength)
            for (profile_id, _), label, strength in zip(rows, found.labels, found.strengths, strict=True)
        ]
        UserBehaviorProfile.objects.bulk_update(updates, ["primary_persona", "persona_strength"], batch_size=_BATCH)
    logger.info(
        "segments.clustered run=%s users=%d segments=%d chosen_by=%s silhouette=%s",
        run_id,
        len(rows),
        found.n_clusters,
        found.chosen_by,
        found.silhouette,
    )
    return ClusteringResult(
        run_id=run_id,
        n_clusters=found.n_clusters,
        chosen_by=found.chosen_by,
        users_clustered=len(rows),
        users_without_enough_behaviour=without,
        silhouette=found.silhouette,
        silhouette_by_k=found.silhouette_by_k,
        personas=[persona_as_dict(p) for p in personas],
    )


def persona_list() -> list[dict[str, Any]]:
    """The current personas, largest first."""
    return [persona_as_dict(p) for p in UserPersona.objects.filter(is_current=True).order_by("-size", "name")]


class UserClusteringService:
    """The documented face: `UserClusteringService().cluster_users(n_clusters=None)` → the run as a dict
    (`clusters`, `silhouette_score`, the number of segments and how it was chosen)."""

    def cluster_users(self, n_clusters: int | None = None) -> dict[str, Any]:
        result = personas_cluster(n_clusters=n_clusters)
        return {
            "run_id": result.run_id,
            "n_clusters": result.n_clusters,
            "chosen_by": result.chosen_by,
            "users_clustered": result.users_clustered,
            "silhouette_score": result.silhouette,
            "silhouette_by_k": result.silhouette_by_k,
            "clusters": result.personas,
        }
