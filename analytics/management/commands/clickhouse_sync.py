"""`python manage.py clickhouse_sync`: replicate everything pending into the analytics engine, then return.

Events not processed yet are processed first (replication sends processed events), so that on return the
engine holds every stored event. Exit code 2 with one line when no engine is configured, or when the engine
cannot be reached — for an embedded engine (chDB), also when another process holds its directory: chDB is
in-process, one process per directory (stop the server, or run the sync inside it: its scheduler does).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from analytics.collection.processing import process_pending_events
from analytics.errors import Unavailable
from analytics.metrics.clickhouse import engine_target
from analytics.metrics.clickhouse.replication import replication_run


class Command(BaseCommand):
    help = "Replicate every pending tracked event, erasure and purge into the analytics engine (ClickHouse)."

    def handle(self, *args: Any, **options: Any) -> None:
        target = engine_target()
        if target is None:
            raise CommandError(
                "ANALYTICS_CLICKHOUSE_URL is not set: the SQL engine answers, nothing to replicate", returncode=2
            )
        while process_pending_events():
            pass
        try:
            run = replication_run()
        except Unavailable as exc:
            raise CommandError(f"{exc.message}; nothing was lost, run it again", returncode=2) from None
        if run.skipped:
            raise CommandError(
                "another replication run holds the lock; run it again when it has finished", returncode=2
            )
        self.stdout.write(
            f"replicated into {target.label}: {run.backfilled} events copied, {run.sent} sent, "
            f"{run.deletions} deletions applied; {run.pending} pending"
        )
