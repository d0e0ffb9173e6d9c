"""Behaviour tasks: refresh behaviour profiles (one user, or every stale one) and segment users into
personas. Thin: each parses its arguments and calls one service."""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.db import InterfaceError, OperationalError, close_old_connections

from analytics.errors import ValidationFailed
from analytics.intelligence.behaviour.service import behavior_profiles_refresh, behavior_profiles_refresh_stale
from analytics.intelligence.segments.service import personas_cluster


@shared_task(
    name="analytics.tasks.behaviour.generate_user_behavior_insights",
    acks_late=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=2,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=5,
    soft_time_limit=1700,
    time_limit=1800,
)
def generate_user_behavior_insights(user_id: str | int | None = None) -> dict[str, Any]:
    """With `user_id`: refresh that user's behaviour profile. Without: every stale profile (users active
    since their last analysis, or analysed more than a day ago). Idempotent."""
    close_old_connections()
    try:
        if user_id is not None:
            written = behavior_profiles_refresh(user_ids=[str(user_id)])
            return {"user_id": str(user_id), "profiles": written}
        return {"profiles": behavior_profiles_refresh_stale()}
    finally:
        close_old_connections()


@shared_task(
    name="analytics.tasks.behaviour.perform_user_clustering",
    acks_late=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=2,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=5,
    soft_time_limit=1700,
    time_limit=1800,
)
def perform_user_clustering(n_clusters: int | None = None) -> dict[str, Any]:
    """Segment the stored profiles into personas (the number chosen from the data when None). A platform
    with too few profiled users is reported, not retried."""
    close_old_connections()
    try:
        result = personas_cluster(n_clusters=n_clusters)
    except ValidationFailed as exc:
        return {"skipped": exc.code, "message": exc.message}
    finally:
        close_old_connections()
    return {
        "run_id": result.run_id,
        "n_clusters": result.n_clusters,
        "users_clustered": result.users_clustered,
        "silhouette": result.silhouette,
    }
