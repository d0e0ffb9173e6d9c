"""`make test`: run every test tier whose prerequisites exist; name each skipped tier and why.

Tiers (docs/design.md, "Quality bars"):
- unit — SQLite, tasks in-process; always runs;
- clickhouse — the analytics engine: chDB (embedded ClickHouse) and a local stand-in of a ClickHouse server
  beside SQLite; every analysis on both engines must answer the same;
- postgresql — the unit modules whose code has a PostgreSQL-only path (`SKIP LOCKED` claims of forwarding,
  alert delivery, processing and PostHog deletions under concurrent runs, the funnel engine's SQL and its
  brute-force comparison, the partial unique constraint of active alerts, the session cursors' and the
  opt-out reads' JSON parameters) run again on the real PostgreSQL;
- integration — the real PostgreSQL (127.0.0.1:5432) and Redis, a real Celery worker process;
- eval — the evaluation smoke: every model trained or scored on a small simulated platform (SQLite)
  must beat its baseline (`make eval` runs the full evaluations; tests/eval runs the small ones);
- e2e — the dashboard in Debian's headless Chromium driven by Playwright, against a served demo;
- fuzz — Schemathesis fuzzes every operation of the OpenAPI schema of a served demo, with valid credentials.
With CI=true a skipped tier is a failure. The last line totals the tests of every tier.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_HOST, PG_PORT = "127.0.0.1", 5432
RABBITMQ_HOST, RABBITMQ_PORT = "127.0.0.1", 5672
REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379


def _port_answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


def _redis_answers() -> bool:
    try:
        with socket.create_connection((REDIS_HOST, REDIS_PORT), timeout=2) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _missing_integration() -> str | None:
    if not _port_answers(PG_HOST, PG_PORT):
        return f"PostgreSQL does not answer on {PG_HOST}:{PG_PORT}"
    if not _redis_answers():
        return f"Redis does not answer PING on {REDIS_HOST}:{REDIS_PORT}"
    if shutil.which("redis-server") is None:
        return "the redis-server binary (for private broker instances) is not installed"
    if shutil.which("rabbitmqctl") is None or not _port_answers(RABBITMQ_HOST, RABBITMQ_PORT):
        return f"RabbitMQ (rabbitmqctl, and the broker on {RABBITMQ_HOST}:{RABBITMQ_PORT}) is not available"
    if subprocess.run(["rabbitmqctl", "-q", "status"], capture_output=True, timeout=60).returncode != 0:
        return "rabbitmqctl cannot manage the local RabbitMQ (it needs its Erlang cookie: root or the rabbitmq user)"
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _integration_broker_env() -> dict[str, str]:
    """The integration tier's broker: a private redis-server behind a TCP proxy that the tests close
    and reopen. Django reads CELERY_BROKER_URL when pytest-django loads the settings, before any
    conftest runs, so the proxy's port is chosen here; tests/integration/conftest.py listens on it."""
    port = _free_port()
    return {"CELERY_BROKER_URL": f"redis://127.0.0.1:{port}/0", "LOOPIN_TEST_BROKER_PROXY_PORT": str(port)}


@dataclass
class Tier:
    name: str
    paths: list[str]
    env: dict[str, str]
    missing: Callable[[], str | None] = lambda: None
    extra_args: list[str] = field(default_factory=list)


def _base_env(data_dir: Path) -> dict[str, str]:
    return {
        "DEBUG": "true",
        "SECRET_KEY": "test-only-secret-key-for-the-loopin-analytics-suite",
        "ANALYTICS_DATA_DIR": str(data_dir),
        "DATABASE_URL": "",
        "CELERY_BROKER_URL": "",
        "CELERY_RESULT_BACKEND": "",
        "POSTHOG_API_KEY": "",
        "POSTHOG_PERSONAL_API_KEY": "",
        "POSTHOG_PROJECT_ID": "",
        "OPENAI_API_KEY": "",
        "JWT_SECRET_KEY": "",
        "ANALYTICS_ENABLED": "true",
        # Tests date their events on fixed calendars (March 2026, …), which today's retention horizon would
        # refuse one day; the retention tests set their own horizon.
        "ANALYTICS_RETENTION_DAYS": "36500",
        # Tests drive periodic tasks themselves; no background beat thread in the server under test.
        "ANALYTICS_EMBEDDED_SCHEDULER": "false",
        # A task run in-process that raises fails the test that ran it (never only a log line).
        "ANALYTICS_TASKS_PROPAGATE_ERRORS": "true",
        "LOG_LEVEL": "WARNING",
    }


def _missing_eval() -> str | None:
    try:
        import sklearn  # noqa: F401  (the evaluation's dependency, in the dev extra)
    except ImportError:
        return "scikit-learn is not installed (pip install -e '.[dev]' installs it)"
    return None


CHROMIUM = Path("/usr/bin/chromium")


def _missing_browser() -> str | None:
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is not installed (Debian packages chromium and chromium-driver; .ci/run installs them)"
    try:
        import playwright  # noqa: F401  (the browser tier's driver, in the dev extra)
    except ImportError:
        return "playwright is not installed (pip install -e '.[dev]' installs it)"
    return None


def _missing_fuzzer() -> str | None:
    try:
        import schemathesis  # noqa: F401  (the fuzzing tier's generator, in the dev extra)
    except ImportError:
        return "schemathesis is not installed (pip install -e '.[dev]' installs it)"
    return None


def _missing_clickhouse() -> str | None:
    try:
        import chdb  # noqa: F401  (the embedded analytics engine, a core dependency)
        import clickhouse_connect  # noqa: F401
    except ImportError:
        return "chdb or clickhouse-connect is not installed (pip install -e . installs them)"
    return None


POSTGRESQL_MODULES = [
    "tests/unit/metrics/analyses/test_funnel_engine.py",
    "tests/unit/collection/test_forwarding.py",
    "tests/unit/collection/test_processing.py",
    "tests/unit/metrics/test_alerting.py",
    "tests/unit/metrics/test_alerting_delivery.py",
    "tests/unit/privacy/test_posthog_deletion.py",
    "tests/unit/collection/test_identity_and_sessions.py",
    "tests/unit/privacy/test_consent_api.py",
]


def _missing_postgresql() -> str | None:
    if not _port_answers(PG_HOST, PG_PORT):
        return f"PostgreSQL does not answer on {PG_HOST}:{PG_PORT}"
    return None


def _tiers(work: Path) -> list[Tier]:
    return [
        Tier("unit", ["tests/unit"], _base_env(work / "unit")),
        Tier("clickhouse", ["tests/clickhouse"], _base_env(work / "clickhouse"), missing=_missing_clickhouse),
        Tier(
            "postgresql",
            POSTGRESQL_MODULES,
            {
                **_base_env(work / "postgresql"),
                "DATABASE_URL": f"postgres://postgres@{PG_HOST}:{PG_PORT}/loopin_pgtier",
            },
            missing=_missing_postgresql,
            extra_args=["--create-db"],
        ),
        Tier("eval", ["tests/eval"], _base_env(work / "eval"), missing=_missing_eval),
        Tier("e2e", ["tests/e2e"], _base_env(work / "e2e"), missing=_missing_browser),
        Tier("fuzz", ["tests/fuzz"], _base_env(work / "fuzz"), missing=_missing_fuzzer),
        Tier(
            "integration",
            ["tests/integration"],
            {
                **_base_env(work / "integration"),
                "DATABASE_URL": f"postgres://postgres@{PG_HOST}:{PG_PORT}/loopin_analytics",
                **_integration_broker_env(),
                "LOOPIN_TEST_INTEGRATION": "1",
            },
            missing=_missing_integration,
            extra_args=["--create-db"],
        ),
    ]


def _counts(junit: Path) -> tuple[int, int, int]:
    """(passed, failed, skipped) from a pytest junit report."""
    if not junit.exists():
        return 0, 0, 0
    root = ET.parse(junit).getroot()  # noqa: S314  (our own pytest report)
    suites = [root] if root.tag == "testsuite" else list(root)
    tests = failures = skipped = 0
    for suite in suites:
        tests += int(suite.get("tests", 0))
        failures += int(suite.get("failures", 0)) + int(suite.get("errors", 0))
        skipped += int(suite.get("skipped", 0))
    return tests - failures - skipped, failures, skipped


def main(argv: list[str]) -> int:
    ci = os.environ.get("CI", "").lower() in ("1", "true", "yes")
    selected = set(argv) if argv else None
    work = Path(tempfile.mkdtemp(prefix="loopin-tests-"))
    totals = [0, 0, 0]
    failed_tiers: list[str] = []
    skipped_tiers: list[str] = []
    for tier in _tiers(work):
        if selected and tier.name not in selected:
            continue
        reason = tier.missing()
        if reason:
            line = f"SKIPPED tier '{tier.name}': {reason}"
            print(line, flush=True)
            skipped_tiers.append(line)
            continue
        Path(tier.env["ANALYTICS_DATA_DIR"]).mkdir(parents=True, exist_ok=True)
        junit = work / f"{tier.name}.xml"
        env = {**os.environ, **tier.env}
        print(f"=== tier '{tier.name}' ===", flush=True)
        command = [sys.executable, "-m", "pytest", *tier.paths, f"--junitxml={junit}", "-q", *tier.extra_args]
        started = time.monotonic()
        code = subprocess.call(command, cwd=ROOT, env=env)
        print(f"=== tier '{tier.name}' took {time.monotonic() - started:.0f} s ===", flush=True)
        passed, failed, skipped = _counts(junit)
        totals[0] += passed
        totals[1] += failed
        totals[2] += skipped
        if code != 0:
            failed_tiers.append(f"{tier.name} (pytest exit {code})")
    for line in skipped_tiers:
        print(line)
    if failed_tiers:
        print("FAILED tiers: " + ", ".join(failed_tiers))
    if skipped_tiers and ci:
        print("CI=true: a skipped tier is a failure")
    shutil.rmtree(work, ignore_errors=True)
    print(f"total: {totals[0]} passed, {totals[1]} failed, {totals[2]} skipped")
    return 1 if failed_tiers or (skipped_tiers and ci) or totals[0] == 0 else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
