"""Long simulator runs show a progress bar; per-batch ingest and task logs would drown it."""

from __future__ import annotations

import logging

_CHATTY = ("analytics.collection", "analytics.metrics", "celery.app.trace")


def quiet_batch_logs(verbosity: int) -> None:
    """Below verbosity 2, per-batch INFO lines of ingestion, processing and tasks are not shown."""
    if verbosity < 2:
        for name in _CHATTY:
            logging.getLogger(name).setLevel(logging.WARNING)
