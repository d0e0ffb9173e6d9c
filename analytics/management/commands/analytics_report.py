"""python manage.py analytics_report --period daily|weekly|monthly — a digest in the terminal.

The same digest the e-mail carries (docs/reports.md), as readable tables; `--markdown` prints the
Markdown text instead (for pasting), `--send` e-mails it now to ANALYTICS_REPORT_EMAILS."""

from __future__ import annotations

import io
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from rich.console import Console
from rich.table import Table

from analytics.metrics.reports.delivery import digest_send
from analytics.metrics.reports.digest import PERIODS, digest_build
from analytics.metrics.reports.render import digest_markdown, outlook_line, sections


class Command(BaseCommand):
    help = "Print the daily, weekly or monthly digest of the newest complete period."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--period", required=True, choices=list(PERIODS))
        parser.add_argument("--markdown", action="store_true", help="Print Markdown instead of tables")
        parser.add_argument("--send", action="store_true", help="E-mail it now (once per period)")

    def handle(self, *args: Any, **options: Any) -> None:
        kind = options["period"]
        if options["send"]:
            if not digest_send(kind, force=True):
                raise CommandError("not sent: no ANALYTICS_REPORT_EMAILS, or this period's digest went out already")
            self.stdout.write(f"sent the {kind} digest")
            return
        digest = digest_build(kind)
        if options["markdown"]:
            self.stdout.write(digest_markdown(digest), ending="")
            return
        buffer = io.StringIO()
        console = Console(file=buffer, width=120, color_system=None)
        console.print(f"[bold]{digest.title}[/bold]")
        console.print(f"Period: {digest.period.start} – {digest.period.end} (business days)")
        for heading, columns, rows, empty in sections(digest):
            if not rows:
                console.print(f"\n[bold]{heading}[/bold]\n{empty}")
                continue
            table = Table(title=heading, title_justify="left", title_style="bold")
            for column in columns:
                table.add_column(column)
            for row in rows:
                table.add_row(*row)
            console.print()
            console.print(table)
        console.print()
        console.print(outlook_line(digest))
        self.stdout.write(buffer.getvalue(), ending="")
