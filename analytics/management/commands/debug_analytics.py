"""python manage.py debug_analytics [--check-data] [--test-ai] [--check-metrics]

Prints what is wrong and how to fix it, one line per finding; the exit code is 1 when any check found a
problem (warnings alone leave it 0). No option runs every check."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from analytics.operations.diagnostics import Finding, check_ai, check_data, check_metrics

MARKS = {"ok": "ok     ", "warning": "WARNING", "problem": "PROBLEM"}


class Command(BaseCommand):
    help = "Check data flow, AI and metrics; print each problem with its fix; exit 1 when one is found."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--check-data", action="store_true", help="Database, processing backlog, workers")
        parser.add_argument("--test-ai", action="store_true", help="Sentiment, OpenAI, prediction models")
        parser.add_argument("--check-metrics", action="store_true", help="Freshness of the metrics run")

    def handle(self, *args: Any, **options: Any) -> None:
        chosen = [name for name in ("check_data", "test_ai", "check_metrics") if options[name]]
        checks = {"check_data": check_data, "test_ai": check_ai, "check_metrics": check_metrics}
        findings: list[Finding] = []
        for name in chosen or list(checks):
            findings += checks[name]()
        for finding in findings:
            line = f"{MARKS[finding.level]} [{finding.check}] {finding.what}"
            self.stdout.write(line + (f" — fix: {finding.fix}" if finding.fix else ""))
        problems = sum(1 for f in findings if f.level == "problem")
        self.stdout.write(f"{problems} problem{'s' if problems != 1 else ''} found")
        if problems:
            sys.exit(1)
