"""python manage.py metrics_docs — regenerate docs/metrics.md from the metric registry."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from analytics.metrics.docs import metrics_doc_write


class Command(BaseCommand):
    help = "Regenerate docs/metrics.md from the metric registry (a unit test fails when they differ)."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"Wrote {metrics_doc_write()}")
