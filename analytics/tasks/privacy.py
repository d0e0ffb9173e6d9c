"""Privacy task: the daily retention purge (analytics/privacy/retention.py)."""

from __future__ import annotations

from analytics.privacy.retention import retention_purge
from analytics.tasks.policy import database_task, fresh_connections


# The purge stops claiming batches after RUN_BUDGET_SECONDS (600); one batch is far below the margin.
@database_task(name="analytics.tasks.privacy.cleanup_old_analytics_data", soft_time_limit=900, time_limit=960)
def cleanup_old_analytics_data() -> dict[str, object]:
    """Remove what every retention setting says is too old, in batches (resumable, idempotent); returns
    `{"frozen_before", "complete", "removed": {table: rows}}`. Its runs are recorded like every task's."""
    with fresh_connections():
        report = retention_purge()
    return {"frozen_before": report.frozen_before.isoformat(), "complete": report.complete, "removed": report.removed}
