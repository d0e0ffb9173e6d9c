"""python manage.py replay_failed_events [--reason CODE] [--id ID ...] — re-ingest refused events."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from analytics.collection.quarantine import failed_event_replay


class Command(BaseCommand):
    help = "Replay quarantined (refused) events through the ingestion pipeline after a fix."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--reason", default=None, help="Only events refused with this code")
        parser.add_argument("--id", dest="ids", type=int, action="append", help="A FailedEvent id (repeatable)")

    def handle(self, *args: Any, **options: Any) -> None:
        if not options["reason"] and not options["ids"]:
            raise CommandError("give --reason or --id to choose what to replay")
        report = failed_event_replay(ids=options["ids"], reason=options["reason"], actor="cli:replay_failed_events")
        self.stdout.write(
            f"replayed={report.replayed} stored={report.stored} duplicates={report.duplicates} "
            f"rejected={report.rejected} dropped={report.dropped}"
        )
