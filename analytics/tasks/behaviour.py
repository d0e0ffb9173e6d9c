"""Behaviour tasks: refresh behaviour profiles (one user, or every stale one) and segment users into
personas. Thin: each parses its arguments and calls one service."""

from __future__ import annotations

from typing import Any

from analytics.errors import ValidationFailed
from analytics.intelligence.behaviour.service import behavior_profiles_refresh, behavior_profiles_refresh_stale
from analytics.intelligence.segments.service import personas_cluster
from analytics.tasks.policy import database_task, fresh_connections


@database_task(name="analytics.tasks.behaviour.generate_user_behavior_insights", soft_time_limit=1700, time_limit=1800)
def generate_user_behavior_insights(user_id: str | int | None = None) -> dict[str, Any]:
    """With `user_id`: refresh that user's behaviour profile. Without: every stale profile (users active
    since their last analysis, or analysed more than a day ago). Idempotent."""
    with fresh_connections():
        if user_id is not None:
            written = behavior_profiles_refresh(user_ids=[str(user_id)])
            return {"user_id": str(user_id), "profiles": written}
        return {"profiles": behavior_profiles_refresh_stale()}


@database_task(name="analytics.tasks.behaviour.perform_user_clustering", soft_time_limit=1700, time_limit=1800)
def perform_user_clustering(n_clusters: int | None = None) -> dict[str, Any]:
    """Segment the stored profiles into personas (the number chosen from the data when None). A platform
    with too few profiled users is reported, not retried."""
    with fresh_connections():
        try:
            result = personas_cluster(n_clusters=n_clusters)
        except ValidationFailed as exc:
            return {"skipped": exc.code, "message": exc.message}
    return {
        "run_id": result.run_id,
        "n_clusters": result.n_clusters,
        "users_clustered": result.users_clustered,
        "silhouette": result.silhouette,
    }
