"""Insights task: every insight generator on the data as it is now (every 6 hours by beat)."""

from __future__ import annotations

from typing import Any

from analytics.intelligence.insights.service import insights_generate
from analytics.tasks.policy import database_task, fresh_connections


@database_task(name="analytics.tasks.insights.generate_predictive_insights", soft_time_limit=1700, time_limit=1800)
def generate_predictive_insights(insight_types: list[str] | None = None) -> dict[str, Any]:
    """Generate the insights of `insight_types` (default all) and store them: new findings open as pending,
    findings already open are refreshed, those no longer found leave the default lists. Idempotent."""
    with fresh_connections():
        return insights_generate(insight_types=insight_types).as_dict()
