"""python manage.py evaluate [--only sentiment,behaviour,personas] [--smoke] [--refit] [--output docs/evaluation.md]

Runs every model evaluation (`make eval`) and writes docs/evaluation.md: each model beside a simple
baseline and, where the simulator knows the truth, the oracle; every target met or missed, plainly. With
`--only`, the sections it names are replaced in the existing report and the others kept as they were.
Evaluations that need a simulated platform simulate it into the CURRENT database, deleting its rows
first — `make eval` points DATABASE_URL at a scratch SQLite file (var/eval/) for that reason, and the
command refuses to run against a database that holds tracked events unless told `--scratch-ok`.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from analytics.intelligence.evaluation import EvaluationSection, report_write
from analytics.intelligence.evaluation_suite import EVALUATIONS


class Command(BaseCommand):
    help = "Evaluate every model against its baseline and the simulator's truth; write docs/evaluation.md."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--only", default="", help="Comma-separated evaluations (default: all)")
        parser.add_argument("--smoke", action="store_true", help="Small data: a quick check, not the report")
        parser.add_argument("--output", default="docs/evaluation.md", help="Where the report goes")
        parser.add_argument(
            "--refit",
            action="store_true",
            help="Refit the models that learn from simulated data (engagement) and write their committed parameters",
        )
        parser.add_argument(
            "--scratch-ok",
            action="store_true",
            help="Allow emptying the current database to simulate platforms into it",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from analytics.models import UserEvent

        wanted = [name.strip() for name in options["only"].split(",") if name.strip()] or list(EVALUATIONS)
        unknown = sorted(set(wanted) - set(EVALUATIONS))
        if unknown:
            raise CommandError(f"unknown evaluations {unknown}; known: {', '.join(EVALUATIONS)}")
        if UserEvent.objects.exists() and not options["scratch_ok"]:
            raise CommandError(
                "the current database holds tracked events and evaluations replace them with simulated ones; "
                "run `make eval` (a scratch database under var/eval/) or pass --scratch-ok"
            )
        sections: list[EvaluationSection] = []
        for name in wanted:
            started = time.perf_counter()
            self.stdout.write(f"evaluating {name} …")
            section = EVALUATIONS[name](smoke=options["smoke"], refit=options["refit"])
            took = time.perf_counter() - started
            missed = [t.name for t in section.targets if not t.met]
            self.stdout.write(
                f"  {name}: {len(section.targets)} targets, {len(missed)} missed"
                + (f" ({'; '.join(missed)})" if missed else "")
                + f" — {took:.0f} s"
            )
            sections.append(section)
        if options["smoke"]:
            return
        path = Path(options["output"])
        report_write(sections, path=path, merge=bool(options["only"]))
        self.stdout.write(f"wrote {path}")
