"""python manage.py simulate --users N --days D --seed S [--end-date YYYY-MM-DD] [--anomalies]
[--url URL --key KEY]

Generates a synthetic Loopin platform and sends every event through the ingestion pipeline —
in-process by default, over HTTP to a running service with --url/--key — then writes the ground
truth to $ANALYTICS_DATA_DIR/ground_truth.json. docs/simulator.md describes the model.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from analytics import clock
from analytics.simulator import SimulationArgumentError, SimulationReport, config_build, simulation_run
from analytics.simulator.quiet import quiet_batch_logs
from analytics.simulator.realism import realism_lines
from analytics.simulator.sinks import DeliveryFailed, HttpSink, InProcessSink, Sink


class Command(BaseCommand):
    help = (
        "Simulate a Loopin platform (users, hosts, listings, sessions, payments, attendance) and send every "
        "event through the ingestion pipeline; write the ground truth for model evaluation."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--users", type=int, default=3000, help="Number of users who sign up (default 3000)")
        parser.add_argument("--days", type=int, default=120, help="Length of the window in days (default 120)")
        parser.add_argument("--seed", type=int, default=7, help="Random seed: same seed, same data (default 7)")
        parser.add_argument(
            "--end-date",
            default=None,
            help="YYYY-MM-DD: the window ends at the start of this day (business time zone); default today",
        )
        parser.add_argument("--anomalies", action="store_true", help="Inject labelled incidents")
        parser.add_argument("--url", default=None, help="Send over HTTP to this service (e.g. http://127.0.0.1:8000)")
        parser.add_argument("--key", default=None, help="Write key for --url")
        parser.add_argument(
            "--batch-size",
            type=int,
            default=5000,
            help="Events per batch sent to the pipeline (default 5000; at most 10,000)",
        )
        parser.add_argument("--no-progress", action="store_true", help="No progress bars")

    def handle(self, *args: Any, **options: Any) -> None:
        quiet_batch_logs(options["verbosity"])
        url, key = options["url"], options["key"]
        if url and not key:
            raise CommandError("--url needs --key (a write key: manage.py create_api_key --name simulator)")
        if key and not url:
            raise CommandError("--key is only used with --url")
        if url:
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise CommandError(f"--url must be an http(s) URL such as http://127.0.0.1:8000 (got {url!r})")
        today = clock.now().astimezone(ZoneInfo(settings.ANALYTICS_TIME_ZONE)).date()
        try:
            config = config_build(
                users=options["users"],
                days=options["days"],
                seed=options["seed"],
                end_date=options["end_date"],
                time_zone=settings.ANALYTICS_TIME_ZONE,
                today=today,
                anomalies=options["anomalies"],
                batch_size=options["batch_size"],
            )
        except SimulationArgumentError as exc:
            raise CommandError(str(exc)) from None
        if not settings.ANALYTICS_ENABLED and not url:
            raise CommandError("analytics collection is disabled (ANALYTICS_ENABLED=false): nothing would be stored")
        progress = not options["no_progress"]
        try:
            if url:
                import httpx

                with httpx.Client(base_url=url.rstrip("/"), timeout=120.0) as client:
                    report = simulation_run(
                        config=config,
                        sink=HttpSink(client, key=key),
                        data_dir=settings.DATA_DIR,
                        progress=progress,
                        defer_processing=False,
                    )
            else:
                sink: Sink = InProcessSink()
                report = simulation_run(config=config, sink=sink, data_dir=settings.DATA_DIR, progress=progress)
        except DeliveryFailed as exc:
            raise CommandError(str(exc)) from None
        self._summary(report)
        delivery = report.delivery
        if delivery.rejected or delivery.dropped:
            raise CommandError(
                f"{delivery.rejected} events were rejected and {delivery.dropped} dropped "
                f"({', '.join(f'{k}={v}' for k, v in sorted(delivery.reasons.items()))}); e.g. "
                + "; ".join(delivery.examples)
            )

    def _summary(self, report: SimulationReport) -> None:
        config = report.config
        delivery = report.delivery
        self.stdout.write(
            f"Simulated {report.users:,} users ({report.hosts} hosts, {report.listings:,} listings, "
            f"{report.registrations:,} confirmed seats) over {config.days} days "
            f"[{config.start_date} .. {config.end_date}) {config.time_zone}, seed {config.seed}"
            f"{', with anomalies' if config.anomalies else ''}."
        )
        self.stdout.write(
            f"Events: {report.events:,} sent — stored {delivery.stored:,}, "
            f"duplicates {delivery.duplicates:,}, "
            f"rejected {delivery.rejected:,}, dropped {delivery.dropped:,}; processed {report.processed:,}."
        )
        self.stdout.write(
            f"Volume: {report.events_per_active_user_month:.1f} events per active user per 30 days "
            f"({report.user_events_per_active_user_month:.1f} user-initiated), "
            f"{report.monthly_active_users:,.0f} active users per 30 days."
        )
        self.stdout.write(
            f"Time: {report.seconds:.1f} s ({report.events_per_second:,.0f} events/s; generation "
            f"{report.generate_seconds:.1f} s)."
        )
        self.stdout.write('Realism (docs/simulator.md, "Realism"):')
        for line in realism_lines(report.realism):
            self.stdout.write(line)
        self.stdout.write(f"Ground truth: {report.truth_path}")
