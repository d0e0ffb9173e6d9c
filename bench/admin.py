"""`make bench-admin`: the admin's tracked-event list at a million rows on PostgreSQL (docs/benchmarks.md).

1. **Dataset.** Its own database `loopin_bench_admin` (kept and reused; `BENCH_ADMIN_DROP=1` drops it at
   the end): migrated, then 1,000,000 tracked-event rows written by one `INSERT … SELECT generate_series`
   (20 event names, 50,000 users, 90 days), then `VACUUM ANALYZE`.
2. **Pages.** The admin's change list of tracked events through Django's test client, logged in as a
   superuser: the first page, page 100, a search by user id, a `when` filter (last 24 hours) and a source
   filter — 2 warm-up and 5 timed requests each (median and max).
"""

from __future__ import annotations

import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.support import PG_DSN, ROOT, database_exists, say, service_env

NAME = "loopin_bench_admin"
ROWS = 1_000_000
PAGES = [
    "/admin/analytics/userevent/",
    "/admin/analytics/userevent/?p=100",
    "/admin/analytics/userevent/?q=user-4242",
    "/admin/analytics/userevent/?when=24h",
    "/admin/analytics/userevent/?source__exact=http",
]
EVENTS = [
    "page_view", "event_viewed", "search_performed", "event_requested", "payment_initiated", "payment_completed",
    "payment_failed", "event_checked_in", "review_submitted", "otp_generated", "otp_verified", "app_opened",
    "user_login", "profile_updated", "event_created", "event_shared", "notification_opened", "api_request",
    "session_started", "filter_applied",
]  # fmt: skip


def _fill(conn: psycopg.Connection) -> None:
    """1M rows in one statement: every NOT NULL column without a default gets a value of its type."""
    columns = conn.execute(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'analytics_user_event' "
        "AND is_nullable = 'NO' AND column_default IS NULL AND column_name <> 'id'"
    ).fetchall()
    special = {
        "uuid": "gen_random_uuid()",
        "payload_hash": "md5(g::text)",
        "event_type": "'user_action'",
        "event_name": f"(ARRAY{EVENTS!r})[1 + g % {len(EVENTS)}]",
        "timestamp": "now() - (g * interval '7.776 seconds')",
        "received_at": "now() - (g * interval '7.776 seconds')",
        "source": "(ARRAY['http','tracker','middleware','signal'])[1 + g % 4]",
    }
    by_type = {"jsonb": "'{}'::jsonb", "character varying": "''", "timestamp with time zone": "now()"}
    names = [name for name, _ in columns] + ["user_id", "session_id", "processed_at"]
    values = [special.get(name) or by_type.get(kind, "0") for name, kind in columns]
    values += ["'user-' || (g % 50000)", "'s-' || (g / 20)", "now()"]
    conn.execute(
        f"INSERT INTO analytics_user_event ({', '.join(names)}) "  # noqa: S608  (our own column names)
        f"SELECT {', '.join(values)} FROM generate_series(1, {ROWS}) AS g"
    )


def build(env: dict[str, str]) -> None:
    if database_exists(NAME):
        with psycopg.connect(PG_DSN, dbname=NAME) as conn:
            if conn.execute("SELECT count(*) FROM analytics_user_event").fetchone()[0] == ROWS:  # type: ignore[index]
                say(f"reusing {NAME} ({ROWS:,} rows)")
                return
    with psycopg.connect(PG_DSN, dbname="postgres", autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {NAME}")
        admin.execute(f"CREATE DATABASE {NAME}")
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
    started = time.perf_counter()
    with psycopg.connect(PG_DSN, dbname=NAME) as conn:
        _fill(conn)
    with psycopg.connect(PG_DSN, dbname=NAME, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE analytics_user_event")
    say(f"built {NAME}: {ROWS:,} rows in {time.perf_counter() - started:.0f} s")


def measure() -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "loopin_backend.settings")
    django.setup()
    from django.contrib.auth import get_user_model
    from django.test import Client

    user, _ = get_user_model().objects.get_or_create(
        username="bench-admin", defaults={"is_superuser": True, "is_staff": True}
    )
    client = Client()
    client.force_login(user)
    say(f"{'page':52} {'median':>8} {'max':>8}")
    for page in PAGES:
        for _ in range(2):
            assert client.get(page).status_code == 200, page
        times = []
        for _ in range(5):
            started = time.perf_counter()
            response = client.get(page)
            times.append(time.perf_counter() - started)
            assert response.status_code == 200
        say(f"{page:52} {statistics.median(times) * 1000:5.0f} ms {max(times) * 1000:5.0f} ms")


def main() -> int:
    if "--measure" in sys.argv:
        measure()
        return 0
    data_dir = Path(tempfile.mkdtemp(prefix="bench-admin-"))
    env = {
        **os.environ,
        **service_env(
            database_url=f"postgres://postgres@127.0.0.1:5432/{NAME}",
            data_dir=data_dir,
            secret=secrets.token_urlsafe(48),
            jwt_secret=secrets.token_urlsafe(48),
        ),
    }
    build(env)
    subprocess.run([sys.executable, __file__, "--measure"], cwd=ROOT, env=env, check=True)
    if os.environ.get("BENCH_ADMIN_DROP") == "1":
        with psycopg.connect(PG_DSN, dbname="postgres", autocommit=True) as admin:
            admin.execute(f"DROP DATABASE {NAME}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
