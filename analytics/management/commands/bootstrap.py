"""python manage.py bootstrap — what `make run` does between migrate and serve.

On an empty database it simulates a default Loopin platform through the ingestion pipeline,
processes it and computes the metrics, so the service starts populated. Running it again changes
nothing: a database that already holds tracked events is left alone, the demo write key and (in
development) the admin login are created once and kept in $ANALYTICS_DATA_DIR.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import orjson
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from analytics import clock
from analytics.dashboard.accounts import busiest_host_id, dashboard_user_create
from analytics.errors import Conflict, ValidationFailed
from analytics.intelligence.anomalies.service import anomalies_detect
from analytics.intelligence.behaviour.service import behavior_profiles_refresh_stale
from analytics.intelligence.insights.service import insights_generate
from analytics.intelligence.predictions import prediction_models_score, prediction_models_train
from analytics.intelligence.segments.service import personas_cluster
from analytics.metrics.calculation import metrics_backfill
from analytics.models import UserEvent
from analytics.security.api_keys import api_key_create
from analytics.security.two_factor import totp_device, totp_enrol
from analytics.simulator import SimulationArgumentError, config_build, simulation_run
from analytics.simulator.quiet import quiet_batch_logs
from analytics.simulator.realism import realism_lines
from analytics.simulator.sinks import InProcessSink
from analytics.simulator.truth import FILE_NAME as TRUTH_FILE

DEMO_KEY_FILE = "demo_write_key.txt"
ADMIN_PASSWORD_FILE = "admin_password.txt"  # noqa: S105  (a file name, not a password)
ADMIN_USERNAME = "admin"
DASHBOARD_PASSWORDS_FILE = "dashboard_passwords.txt"
DEMO_ADMIN_USERNAME = "demo-admin"
DEMO_DASHBOARD_USERS = ((DEMO_ADMIN_USERNAME, "admin"), ("demo-analyst", "analyst"), ("demo-host", "host"))
ANOMALY_DAYS = 90  # the demo's anomaly list covers its whole window (the batch then keeps the last week current)


def _incidents_sentence(truth_path: Path) -> str:
    """One sentence saying that the demo's data holds injected incidents on purpose, and where they are."""
    try:
        anomalies = orjson.loads(truth_path.read_bytes()).get("anomalies") or []
    except (OSError, orjson.JSONDecodeError):
        return ""
    if not anomalies:
        return ""
    kinds = ", ".join(sorted({str(a["type"]).replace("_", " ") for a in anomalies}))
    return (
        f"The demo data contains {len(anomalies)} injected incidents on purpose ({kinds}); their dates are "
        f'listed under "anomalies" in {truth_path} (docs/simulator.md, "Anomalies").'
    )


def _write_private(path: Path, text: str) -> None:
    path.write_text(text + "\n")
    os.chmod(path, 0o600)


class Command(BaseCommand):
    help = "Populate an empty service with a simulated Loopin platform (once) and print how to use it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--users", type=int, default=3000, help="Simulated users (default 3000)")
        parser.add_argument("--days", type=int, default=120, help="Simulated days up to today (default 120)")
        parser.add_argument("--seed", type=int, default=7, help="Simulation seed (default 7)")
        parser.add_argument("--no-anomalies", action="store_true", help="No labelled incidents in the data")
        parser.add_argument("--no-progress", action="store_true", help="No progress bars")
        parser.add_argument(
            "--base-url", default="http://127.0.0.1:8000", help="Where the server will listen (for the printed links)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        quiet_batch_logs(options["verbosity"])
        data_dir: Path = settings.DATA_DIR
        if UserEvent.objects.exists():
            self.stdout.write(f"database already holds {UserEvent.objects.count():,} tracked events: not simulating")
        else:
            self._simulate(options)
        key_path = data_dir / DEMO_KEY_FILE
        if not key_path.exists():
            _write_private(key_path, api_key_create(name="demo (make run)", actor="cli:bootstrap").key)
        admin_line = self._admin(data_dir)
        dashboard_line = self._dashboard_users(data_dir)
        two_factor_line = self._two_factor()
        incidents = _incidents_sentence(data_dir / TRUTH_FILE)
        if incidents:
            self.stdout.write(incidents)
        base = options["base_url"].rstrip("/")
        self.stdout.write(
            "\nLoopin Analytics is ready:\n"
            f"  dashboard {base}/dashboard/  {dashboard_line}\n"
            f"  API docs  {base}/api/docs\n"
            f"  health    {base}/api/analytics/health\n"
            f"  admin     {base}/admin/  {admin_line}\n"
            f"  write key {key_path} (send as X-API-Key)\n"
            "  a token   .venv/bin/python manage.py issue_token --role admin\n"
            f"{two_factor_line}"
        )

    def _simulate(self, options: dict[str, Any]) -> None:
        today = clock.now().astimezone(ZoneInfo(settings.ANALYTICS_TIME_ZONE)).date()
        try:
            config = config_build(
                users=options["users"],
                days=options["days"],
                seed=options["seed"],
                end_date=None,
                time_zone=settings.ANALYTICS_TIME_ZONE,
                today=today,
                anomalies=not options["no_anomalies"],
                batch_size=5000,  # in-process: larger batches load faster (docs/benchmarks.md)
            )
        except SimulationArgumentError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            f"empty database: simulating {config.users:,} users over {config.days} days (seed {config.seed})"
        )
        report = simulation_run(
            config=config, sink=InProcessSink(), data_dir=settings.DATA_DIR, progress=not options["no_progress"]
        )
        self.stdout.write(
            f"stored {report.delivery.stored:,} tracked events in {report.seconds:.0f} s; "
            f"ground truth: {report.truth_path}"
        )
        self.stdout.write('how the demo compares with a real events platform (docs/simulator.md, "Realism"):')
        for line in realism_lines(report.realism):
            self.stdout.write(line)
        result = metrics_backfill(since=config.start_date)
        self.stdout.write(f"metrics computed: {result.rows:,} rows over {result.periods:,} periods")
        profiles = behavior_profiles_refresh_stale()
        try:
            personas = personas_cluster()
        except ValidationFailed as exc:  # a tiny platform: too few users with enough behaviour
            self.stdout.write(f"behaviour profiles: {profiles:,}; personas: not yet ({exc.message})")
        else:
            names = ", ".join(p["name"] for p in personas.personas)
            self.stdout.write(f"behaviour profiles: {profiles:,}; personas ({personas.n_clusters}): {names}")
        trained = prediction_models_train()
        self.stdout.write(
            "prediction models: "
            + "; ".join(
                f"{name} v{outcome['version']} {outcome['status']}"
                if "version" in outcome
                else f"{name}: {outcome['status']} ({outcome['found']})"
                for name, outcome in trained.items()
            )
        )
        scored = prediction_models_score()
        anomalies = anomalies_detect(days=ANOMALY_DAYS)
        self.stdout.write(
            f"predictions: {scored['people']:,} users scored ({scored['high_churn_risk']:,} at high churn risk), "
            f"{scored['listings']:,} upcoming listings forecast; anomalies: {anomalies.anomalies:,} in the last "
            f"{ANOMALY_DAYS} days"
        )
        insights = insights_generate()
        self.stdout.write(
            f"insights: {insights.created:,} ("
            + ", ".join(f"{n} {kind.replace('_', ' ')}" for kind, n in insights.by_type.items() if n)
            + "); GET /api/analytics/insights lists them"
        )

    def _dashboard_users(self, data_dir: Path) -> str:
        """In development, one dashboard login per role, created once; the host login is the host with
        the most upcoming listings. Passwords are kept in DATA_DIR (readable by this user only)."""
        if not settings.DEBUG:
            return "(create logins with `manage.py create_dashboard_user`)"
        path = data_dir / DASHBOARD_PASSWORDS_FILE
        if path.exists():
            return f"users and passwords in {path}"
        host_id = busiest_host_id()
        lines = []
        for username, role in DEMO_DASHBOARD_USERS:
            if role == "host" and host_id is None:
                continue  # no listings yet: no host to be
            try:
                password = dashboard_user_create(
                    username=username, role=role, host_id=host_id if role == "host" else None
                )
            except Conflict:
                continue  # made by hand earlier: keep it
            lines.append(f"{username} {role}{' ' + host_id if role == 'host' and host_id else ''} {password}")
        _write_private(path, "\n".join(["# username role [host id] password", *lines]))
        return f"users and passwords in {path}"

    def _two_factor(self) -> str:
        """In development, the accounts that must give a code (the admin, the dashboard's admin) are enrolled
        once, as `manage.py totp_enrol` does; `manage.py totp_code` prints their current code."""
        if not settings.DEBUG:
            return ""
        enrolled = []
        for user in get_user_model().objects.filter(username__in=(ADMIN_USERNAME, DEMO_ADMIN_USERNAME)):
            if totp_device(user) is None:
                totp_enrol(user.get_username(), actor="cli:bootstrap")
            enrolled.append(user.get_username())
        if not enrolled:
            return ""
        names = " and ".join(f"'{name}'" for name in sorted(enrolled))
        return (
            f"  two-factor: {names} log in with a code as well:\n"
            "            .venv/bin/python manage.py totp_code --username <user>\n"
        )

    def _admin(self, data_dir: Path) -> str:
        """In development, an `admin` login created once with a random password kept in DATA_DIR."""
        if not settings.DEBUG:
            return "(log in with an account from `manage.py createsuperuser`)"
        password_path = data_dir / ADMIN_PASSWORD_FILE
        user_model = get_user_model()
        if not user_model.objects.filter(username=ADMIN_USERNAME).exists():
            password = secrets.token_urlsafe(12)
            user_model.objects.create_superuser(username=ADMIN_USERNAME, email="", password=password)
            _write_private(password_path, password)
        if password_path.exists():
            return f"user '{ADMIN_USERNAME}', password in {password_path}"
        return f"user '{ADMIN_USERNAME}' (password set earlier)"
