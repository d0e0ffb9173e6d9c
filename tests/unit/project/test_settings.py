"""Production mode refuses unsafe secrets; development derives the JWT key; the documented
commands work as written."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
STRONG = "a-production-secret-that-is-long-and-random-8f3a9c1d2e7b"


def _load_settings(**env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "SECRET_KEY", "JWT_SECRET_KEY")}
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings; print(settings.JWT_KEY_ID)",
        ],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "loopin_backend.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DEBUG": "false", "SECRET_KEY": ""}, "SECRET_KEY is not set"),
        ({"DEBUG": "false", "SECRET_KEY": "django-insecure-abcdefghijklmnopqrstuvwxyz0123"}, "development or weak"),
        ({"DEBUG": "false", "SECRET_KEY": "short"}, "development or weak"),
        ({"DEBUG": "false", "SECRET_KEY": STRONG, "JWT_SECRET_KEY": ""}, "JWT_SECRET_KEY is not set"),
        ({"DEBUG": "false", "SECRET_KEY": STRONG, "JWT_SECRET_KEY": "changeme"}, "development or weak"),
    ],
    ids=["missing-secret", "django-insecure", "short-secret", "missing-jwt-key", "weak-jwt-key"],
)
def test_production_mode_refuses_to_start_with_a_missing_or_development_secret(
    env: dict[str, str], message: str
) -> None:
    result = _load_settings(**env)
    assert result.returncode != 0
    assert message in result.stderr


def test_production_mode_starts_with_strong_secrets() -> None:
    result = _load_settings(DEBUG="false", SECRET_KEY=STRONG, JWT_SECRET_KEY=STRONG + "-jwt")
    assert result.returncode == 0, result.stderr


def test_development_mode_derives_the_same_jwt_key_from_the_secret_each_time() -> None:
    first = _load_settings(DEBUG="true", SECRET_KEY=STRONG, JWT_SECRET_KEY="")
    second = _load_settings(DEBUG="true", SECRET_KEY=STRONG, JWT_SECRET_KEY="")
    other = _load_settings(DEBUG="true", SECRET_KEY=STRONG + "x", JWT_SECRET_KEY="")
    assert first.returncode == 0, first.stderr
    assert first.stdout == second.stdout != other.stdout


def test_unknown_business_time_zone_is_refused() -> None:
    result = _load_settings(DEBUG="true", ANALYTICS_TIME_ZONE="Mars/Olympus")
    assert result.returncode != 0
    assert "unknown time zone" in result.stderr


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"METRICS_ALLOWED_NETWORKS": "10.0.0.0/8,10.0.0.0/33"}, "'10.0.0.0/33' is not a network in CIDR notation"),
        ({"METRICS_ALLOWED_NETWORKS": "office"}, "'office' is not a network in CIDR notation"),
        ({"METRICS_ALLOWED_NETWORKS": "10.1.2.3/8"}, "'10.1.2.3/8' is not a network in CIDR notation"),
        ({"METRICS_TOKEN": "short"}, "METRICS_TOKEN must be at least 32"),
    ],
    ids=["prefix-too-long", "not-an-address", "host-bits-set", "short-token"],
)
def test_a_bad_metrics_setting_refuses_to_start(env: dict[str, str], message: str) -> None:
    """Catches: a mistyped scrape network or a guessable scrape token silently leaving /metrics shut or open."""
    result = _load_settings(DEBUG="true", **env)
    assert result.returncode != 0
    assert message in result.stderr


def test_metrics_settings_are_parsed() -> None:
    """Catches: valid networks (IPv4, IPv6, a bare address) refused, or read as something else."""
    result = subprocess.run(
        [sys.executable, "-c", "from django.conf import settings; print(settings.METRICS_ALLOWED_NETWORKS)"],
        cwd=ROOT,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "loopin_backend.settings",
            "DEBUG": "true",
            "METRICS_ALLOWED_NETWORKS": " 10.20.0.0/16, 2001:db8::/32,192.0.2.7 ",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        "(IPv4Network('10.20.0.0/16'), IPv6Network('2001:db8::/32'), IPv4Network('192.0.2.7/32'))"
    )


def test_documented_celery_app_declares_every_queue_and_the_sweeper() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "from loopin_backend.celery import app; import django; django.setup(); app.loader.import_default_modules();"
            "print(sorted(q.name for q in app.conf.task_queues)); print(sorted(app.conf.beat_schedule));"
            "print('analytics.tasks.processing.process_new_events' in app.tasks)",
        ],
        cwd=ROOT,
        env={**os.environ},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    queues, schedule, registered = result.stdout.strip().splitlines()
    assert queues == "['default', 'ingest', 'intelligence', 'maintenance', 'metrics']"
    assert "sweep-unprocessed-events" in schedule
    assert registered == "True"
