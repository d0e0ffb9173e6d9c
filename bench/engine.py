"""The analytics engine at scale: replication into ClickHouse (chDB) and every analysis on both engines.

Runs on a benchmark database that `make bench-bi` (loopin_bench_bi, ~5.9 million events) or `make
bench-models` (loopin_bench_models, ~5.3 million) built — `BENCH_ENGINE_DB` names it (default
loopin_bench_bi); `make bench-bi` calls it at its end. In this process, start to end:

1. **Whole history.** A fresh chDB directory (var/bench-engine/chdb); `replication_run()` copies every stored
   event — timed, events per second (target ≤ 2 minutes).
2. **One new day.** Every event of the last business day is marked as newly processed (what processing
   writes) and `replication_run()` sends them — timed (target ≤ 10 s).
3. **Analyses.** Each query runs on the SQL engine (PostgreSQL, rollups off where the analysis has them) and
   on ClickHouse, 3 times each after one warm-up; the median of each is printed beside the target
   (funnels ≤ 1 s, retention ≤ 1 s, trends ≤ 0.5 s) — and the two answers are compared field by field
   (all but `computed_from`): parity at scale, not only on the test tier's small platform.
"""

from __future__ import annotations

import os
import secrets
import shutil
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from support import say, service_env

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DB_NAME = os.environ.get("BENCH_ENGINE_DB", "loopin_bench_bi")
DATA_DIR = ROOT / "var" / "bench-engine"
CHDB_DIR = DATA_DIR / "chdb"
ZONE = ZoneInfo("Asia/Kolkata")
RUNS = 3


def django_setup() -> None:
    env = service_env(
        database_url=f"postgres://postgres@127.0.0.1:5432/{DB_NAME}",
        data_dir=DATA_DIR,
        secret=secrets.token_urlsafe(48),
        jwt_secret=secrets.token_urlsafe(48),
    )
    os.environ.update(env)
    os.environ["ANALYTICS_CLICKHOUSE_URL"] = f"chdb://{CHDB_DIR}"
    os.environ["DJANGO_SETTINGS_MODULE"] = "loopin_backend.settings"
    import django

    django.setup()


def _median_seconds(action: Callable[[], Any]) -> tuple[float, Any]:
    action()  # warm-up (caches, chDB's first read of the parts)
    timings, result = [], None
    for _ in range(RUNS):
        started = time.perf_counter()
        result = action()
        timings.append(time.perf_counter() - started)
    return statistics.median(timings), result


def replication() -> None:
    from django.db.models import Max

    from analytics.metrics.clickhouse.replication import replication_run
    from analytics.metrics.periods import day_start
    from analytics.models import ReplicaPending, UserEvent

    shutil.rmtree(CHDB_DIR, ignore_errors=True)
    total = UserEvent.objects.count()
    started = time.perf_counter()
    run = replication_run()
    took = time.perf_counter() - started
    say(
        f"replication, whole history: {run.backfilled:,} of {total:,} events in {took:.1f} s "
        f"({run.backfilled / took:,.0f} events/s; target ≤ 120 s)"
    )
    last = UserEvent.objects.aggregate(m=Max("timestamp"))["m"].astimezone(ZONE).date()
    ids = list(
        UserEvent.objects.filter(
            timestamp__gte=day_start(last, ZONE), timestamp__lt=day_start(last + timedelta(1), ZONE)
        ).values_list("id", flat=True)
    )
    ReplicaPending.mark(ids)
    started = time.perf_counter()
    run = replication_run()
    took = time.perf_counter() - started
    say(f"replication, one new day ({last}): {run.sent:,} events in {took:.1f} s (target ≤ 10 s)")


def analyses() -> None:
    from django.conf import settings
    from django.db.models import Max, Min

    from analytics.metrics.analyses import DateRange
    from analytics.metrics.analyses.funnels import FunnelQuery, funnel_run
    from analytics.metrics.analyses.lifecycle import LifecycleQuery, lifecycle_run
    from analytics.metrics.analyses.retention import RetentionQuery, retention_run
    from analytics.metrics.analyses.stickiness import StickinessQuery, stickiness_run
    from analytics.metrics.analyses.trends import TrendsQuery, trends_run
    from analytics.metrics.rollups import rollups_rebuild
    from analytics.models import DailyUserActivity, UserEvent

    bounds = UserEvent.objects.aggregate(first=Min("timestamp"), last=Max("timestamp"))
    first, last = (bounds[k].astimezone(ZONE).date() for k in ("first", "last"))
    span = DateRange(first, last)
    if not DailyUserActivity.objects.exists():  # the SQL engine's cohorts read rollups: make them current first
        started = time.perf_counter()
        rollups_rebuild(days=span.days())
        took = time.perf_counter() - started
        say(f"(the SQL engine's rollups of {len(span.days())} days rebuilt first: {took:.0f} s)")
    say(f"analyses over {span.date_from} … {span.date_to} ({(last - first).days + 1} days)")
    cases: list[tuple[str, float, Callable[[], Any]]] = [
        ("funnel, marketplace (default)", 1.0, lambda: funnel_run(query=FunnelQuery(range=span))),
        ("funnel, by platform", 1.0, lambda: funnel_run(query=FunnelQuery(range=span, breakdown="platform"))),
        (
            "funnel, search → view → request (per user, 7 days)",
            1.0,
            lambda: funnel_run(
                query=FunnelQuery(
                    range=span, steps=("search_performed", "event_viewed", "event_requested"), window_days=7
                )
            ),
        ),
        (
            "funnel, repeated steps (page_view → page_view → event_viewed)",
            1.0,
            lambda: funnel_run(query=FunnelQuery(range=span, steps=("page_view", "page_view", "event_viewed"))),
        ),
        ("retention, day cohorts", 1.0, lambda: retention_run(query=RetentionQuery(range=span))),
        (
            "retention, week cohorts",
            1.0,
            lambda: retention_run(query=RetentionQuery(range=span, period="week", intervals=13)),
        ),
        ("lifecycle, by week", 1.0, lambda: lifecycle_run(query=LifecycleQuery(range=span, interval="week"))),
        (
            "stickiness, 30 days",
            1.0,
            lambda: stickiness_run(query=StickinessQuery(range=DateRange(last - timedelta(29), last))),
        ),
    ]
    trends = {
        "unique users by day": {"math": "unique_users"},
        "unique users by week": {"math": "unique_users", "interval": "week"},
        "total by platform": {"breakdown": "platform"},
        "total by os": {"breakdown": "os"},
    }
    for title, extra in trends.items():
        query = TrendsQuery(event="event_viewed", range=span, **extra)  # type: ignore[arg-type]
        cases.append((f"trends, event_viewed {title}", 0.5, lambda q=query: trends_run(query=q, use_rollups=False)))
    target = settings.ANALYTICS_CLICKHOUSE
    say("| analysis | SQL engine (PostgreSQL) | ClickHouse (chDB) | target | met | same answer |")
    say("|---|---|---|---|---|---|")
    for title, limit, action in cases:
        settings.ANALYTICS_CLICKHOUSE = None
        sql_seconds, sql_answer = _median_seconds(action)
        settings.ANALYTICS_CLICKHOUSE = target
        ch_seconds, ch_answer = _median_seconds(action)
        mine, theirs = asdict(ch_answer), asdict(sql_answer)
        mine.pop("computed_from", None)
        theirs.pop("computed_from", None)
        met = "yes" if ch_seconds <= limit else "**no**"
        same = "yes" if mine == theirs else "**NO**"
        say(f"| {title} | {sql_seconds:.2f} s | {ch_seconds:.2f} s | ≤ {limit:g} s | {met} | {same} |")


def main() -> None:
    say(
        f"bench-engine on {DB_NAME}: machine {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}, "
        f"{datetime.now(ZONE):%Y-%m-%d %H:%M} IST"
    )
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    django_setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)  # a database built before the replication tables existed
    replication()
    analyses()


if __name__ == "__main__":
    main()
