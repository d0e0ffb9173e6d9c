"""python manage.py backfill_metrics [--since YYYY-MM-DD] — rebuild every rollup and metric from a day on."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from analytics.errors import ValidationFailed
from analytics.metrics.calculation import metrics_backfill
from analytics.metrics.processor import parse_day


class Command(BaseCommand):
    help = (
        "Rebuild the daily rollups and every business metric from --since (default: the first tracked "
        "event's business day) to today. Gives the same rows as the incremental path."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--since", help="First business day to rebuild (YYYY-MM-DD)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            since = parse_day(options.get("since"))
        except ValidationFailed as exc:
            raise CommandError(exc.message) from exc
        result = metrics_backfill(since=since)
        self.stdout.write(f"Rebuilt {result.days_rebuilt} days; {result.periods} periods; {result.rows} metric rows.")
