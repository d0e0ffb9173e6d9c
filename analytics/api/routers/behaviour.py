"""Behaviour analysis of one user (admin), segmentation runs (admin) and the current personas."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Body

from analytics.api.boundary import run_db
from analytics.api.deps import AdminOnly, AdminOrAnalyst
from analytics.api.paths import API_PREFIX
from analytics.api.schemas.behaviour import (
    ClusteringIn,
    ClusteringOut,
    PersonaListOut,
    PersonaOut,
    UserBehaviorIn,
    UserBehaviorOut,
)
from analytics.errors import ValidationFailed
from analytics.intelligence.behaviour.service import user_behavior_analyze
from analytics.intelligence.segments.service import persona_list, personas_cluster
from analytics.security.audit import audit_record, person_ref

router = APIRouter(prefix=API_PREFIX, tags=["behaviour and personas"])


def _user_id(value: str | int) -> str:
    user_id = str(value).strip()
    if not user_id or len(user_id) > 128:
        raise ValidationFailed("user_id is 1-128 characters", code="invalid_user_id")
    return user_id


def _analyze(user_id: str, days: int, actor: str, role: str) -> UserBehaviorOut:
    result = user_behavior_analyze(user_id=user_id, days=days)
    audit_record(
        actor=actor,
        actor_role=role,
        action="behaviour.analyze",
        target_type="user",
        target_id=person_ref(user_id),
        details={"days": days},
    )
    return UserBehaviorOut.model_validate(result)


@router.post("/user-behavior", response_model=UserBehaviorOut, summary="Analyse a user's behaviour (admin)")
async def user_behavior(principal: AdminOnly, body: UserBehaviorIn) -> UserBehaviorOut:
    """Engagement score and trend, activity patterns, preferences, risk factors and persona of one user over
    the last `days` days; the analysis is also stored on the user's profile. A user with no tracked event in
    the window gets `status: "no_data"` and empty fields."""
    return await run_db(_analyze, _user_id(body.user_id), body.days, principal.subject, principal.role.value)


def _cluster(n_clusters: int | None, actor: str, role: str) -> ClusteringOut:
    result = personas_cluster(n_clusters=n_clusters)
    audit_record(
        actor=actor,
        actor_role=role,
        action="personas.cluster",
        target_type="personas",
        target_id=result.run_id,
        details={"n_clusters": result.n_clusters, "users": result.users_clustered},
    )
    data = asdict(result)
    personas = data.pop("personas")
    silhouette = data.pop("silhouette")
    return ClusteringOut(**data, silhouette_score=silhouette, clusters=[PersonaOut.model_validate(p) for p in personas])


@router.post("/clustering", response_model=ClusteringOut, summary="Segment users into personas (admin)")
async def clustering(principal: AdminOnly, body: Annotated[ClusteringIn | None, Body()] = None) -> ClusteringOut:
    """Cluster the stored behaviour profiles (k-means on standardised behavioural features); with
    `n_clusters` null the number of segments (3-8) is chosen from the data (best silhouette). The segments
    replace the current personas. 422 `not_enough_users` when too few users have enough behaviour."""
    n_clusters = body.n_clusters if body else None
    return await run_db(_cluster, n_clusters, principal.subject, principal.role.value)


@router.get("/personas", response_model=PersonaListOut, summary="Current personas")
async def personas(principal: AdminOrAnalyst) -> PersonaListOut:
    """The personas of the latest segmentation run, largest first: name, description, behaviour pattern
    (centre), size and confidence."""
    found = await run_db(persona_list)
    return PersonaListOut(count=len(found), personas=[PersonaOut.model_validate(p) for p in found])
