"""Replication into the analytics engine (chDB): exactly once, late commits, identity merges, erasure,
retention, a wiped engine, an unreachable engine, and nothing but the analysis columns."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from analytics import clock
from analytics.collection.pipeline import event_ingest
from analytics.metrics.analyses import DateRange
from analytics.metrics.analyses.lifecycle import LifecycleQuery, lifecycle_run
from analytics.metrics.analyses.retention import RetentionQuery, retention_run
from analytics.metrics.clickhouse import engine
from analytics.metrics.clickhouse.client import ClickHouse, EngineUnavailable, rows
from analytics.metrics.clickhouse.replication import replication_lag, replication_run
from analytics.metrics.clickhouse.schema import Layout
from analytics.models import ReplicaDeletion, ReplicaPending, UserEvent
from analytics.privacy.retention import retention_purge
from analytics.privacy.subject import person_erase
from tests.clickhouse.conftest import engine_on
from tests.unit.metrics.support import NOW, ev

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def ch(settings: Any, tmp_path: Path) -> Iterator[tuple[ClickHouse, Layout]]:
    clock.freeze(NOW)
    engine_on(settings, tmp_path / "chdb")
    found = engine()
    assert found is not None
    yield found
    clock.freeze(None)


def stored(found: tuple[ClickHouse, Layout], columns: str = "uuid, user_id") -> dict[str, tuple[Any, ...]]:
    client, layout = found
    return {str(r[0]): r[1:] for r in rows(client, f"SELECT {columns} FROM {layout.events} FINAL")}  # noqa: S608


def raw_count(found: tuple[ClickHouse, Layout]) -> int:
    """Rows before any merge (what FINAL folds): a re-sent event is a second row here."""
    client, layout = found
    return int(rows(client, f"SELECT count() FROM {layout.events}")[0][0])  # noqa: S608


def store(*raws: dict[str, Any]) -> None:
    """Store through the pipeline (processing, and with it replication, follow the commit in-process)."""
    result = event_ingest(batch=list(raws), source="http")
    assert result.stored == len(raws), result.outcomes


def test_processing_marks_and_a_run_sends_every_event_once(ch: tuple[ClickHouse, Layout]) -> None:
    store(*(ev("page_view", f"2026-03-19T10:{m:02d}", user=f"u{m}", path="/a") for m in range(5)))
    call_command("clickhouse_sync", verbosity=0)
    assert ReplicaPending.objects.count() == 0
    assert set(stored(ch)) == {str(u) for u in UserEvent.objects.values_list("uuid", flat=True)}
    assert len(stored(ch)) == 5
    # A second run, and a crash after the engine accepted a batch but before the markers went: sent again,
    # folded into one row each.
    replication_run()
    before = raw_count(ch)
    ReplicaPending.mark(list(UserEvent.objects.values_list("id", flat=True)))
    replication_run()
    assert raw_count(ch) == before + 5  # the re-sent rows are there before a merge …
    assert len(stored(ch)) == 5  # … and every read (FINAL) counts each event once


def test_an_event_committed_late_with_a_lower_id_is_not_skipped(ch: tuple[ClickHouse, Layout]) -> None:
    store(ev("page_view", "2026-03-19T10:00", user="early", path="/a"))
    store(ev("page_view", "2026-03-19T10:01", user="later", path="/a"))
    early, later = UserEvent.objects.order_by("id")
    replication_run()  # the initial copy: both rows exist → both copied; now only markers count
    assert len(stored(ch)) == 2
    # A third event gets a lower id than one already replicated through a marker (its transaction
    # committed late): a high-water mark on ids would pass it by; the per-row marker does not.
    store(ev("page_view", "2026-03-19T10:02", user="third", path="/a"))
    third = UserEvent.objects.get(user_id="third")
    UserEvent.objects.filter(id=third.id).update(id=early.id - 1)
    ReplicaPending.mark([later.id])
    replication_run()
    ReplicaPending.mark([early.id - 1])  # its processing commits now
    replication_run()
    assert "third" in {r[0] for r in stored(ch).values()}
    assert len(stored(ch)) == 3


def test_identity_merge_reaches_the_engine(ch: tuple[ClickHouse, Layout]) -> None:
    store(ev("page_view", "2026-03-19T10:00", anon="a1", path="/a"))
    call_command("clickhouse_sync", verbosity=0)
    assert [r[0] for r in stored(ch).values()] == [None]
    store(ev("user_logged_in", "2026-03-19T10:05", anon="a1", user="u1", method="password"))
    call_command("clickhouse_sync", verbosity=0)  # processing links a1 → u1 and merges the first view
    users = sorted(str(r[0]) for r in stored(ch).values())
    assert users == ["u1", "u1"]
    assert UserEvent.objects.filter(user_id="u1").count() == 2


def test_erasure_and_retention_purge_reach_the_engine(ch: tuple[ClickHouse, Layout], settings: Any) -> None:
    store(
        ev("page_view", "2026-03-19T10:00", user="gone", path="/a"),
        ev("page_view", "2026-03-19T10:01", user="kept", path="/a"),
        ev("page_view", "2025-01-10T10:01", user="old", path="/a"),
    )
    call_command("clickhouse_sync", verbosity=0)
    assert {r[0] for r in stored(ch).values()} == {"gone", "kept", "old"}
    person_erase("gone", actor="test")
    assert ReplicaDeletion.objects.count() == 1
    cohorts = RetentionQuery(range=DateRange(date(2026, 3, 1), date(2026, 3, 19)))
    assert retention_run(query=cohorts).computed_from == "clickhouse"
    settings.ANALYTICS_RETENTION_DAYS = 120
    retention_purge(now=NOW)
    call_command("clickhouse_sync", verbosity=0)
    assert {r[0] for r in stored(ch).values()} == {"kept"}
    assert ReplicaDeletion.objects.count() == 0
    # Events were purged: only the rollups still know first active days from before the horizon.
    assert retention_run(query=cohorts).computed_from == "rollup"
    assert lifecycle_run(query=LifecycleQuery(range=cohorts.range)).computed_from == "rollup"


def test_a_wiped_engine_is_noticed_and_refilled(ch: tuple[ClickHouse, Layout]) -> None:
    store(*(ev("page_view", f"2026-03-19T10:{m:02d}", user=f"u{m}", path="/a") for m in range(3)))
    call_command("clickhouse_sync", verbosity=0)
    client, layout = ch
    client.command(f"DROP TABLE {layout.events}")
    client.command(f"DROP TABLE {layout.replica}")
    call_command("clickhouse_sync", verbosity=0)
    assert len(stored(ch)) == 3


def test_only_the_analysis_columns_travel_never_the_review_text(ch: tuple[ClickHouse, Layout]) -> None:
    store(ev("review_submitted", "2026-03-19T10:00", user="u1", listing_id="L1", rating=5, text="Lovely evening"))
    call_command("clickhouse_sync", verbosity=0)
    ((properties,),) = stored(ch, "uuid, properties").values()
    assert '"rating": 5' in properties and "text" not in properties and "Lovely" not in properties
    client, layout = ch
    columns = "SELECT name FROM system.columns WHERE table = 'events' AND database = {db:String}"
    names = {r[0] for r in rows(client, columns, {"db": layout.database})}
    assert not names & {"anonymous_id", "ip_prefix", "page_url", "referrer", "session_id", "context"}


def test_an_unreachable_engine_loses_nothing(ch: tuple[ClickHouse, Layout], settings: Any, tmp_path: Path) -> None:
    store(ev("page_view", "2026-03-19T10:00", user="u1", path="/a"))
    call_command("clickhouse_sync", verbosity=0)
    # The engine goes away (an unwritable directory stands in for a held or lost one).
    blocked = tmp_path / "blocked"
    blocked.write_text("not a directory")
    engine_on(settings, blocked / "chdb")
    store(ev("page_view", "2026-03-19T10:01", user="u2", path="/a"))
    with pytest.raises(CommandError, match=r"could not open"):
        call_command("clickhouse_sync", verbosity=0)
    with pytest.raises(EngineUnavailable):
        replication_run()
    assert ReplicaPending.objects.count() == 1  # waiting, not lost
    engine_on(settings, tmp_path / "chdb")  # back
    replication_run()
    assert {r[0] for r in stored(ch).values()} == {"u1", "u2"}
    assert replication_lag()["pending_events"] == 0


def test_lag_says_what_is_waiting(ch: tuple[ClickHouse, Layout]) -> None:
    store(ev("page_view", "2026-03-19T10:00", user="u1", path="/a"))
    replication_run()
    ReplicaPending.mark(list(UserEvent.objects.values_list("id", flat=True)))
    ReplicaDeletion.record(before=NOW - timedelta(days=400))
    lag = replication_lag()
    assert (lag["pending_events"], lag["pending_deletions"], lag["initial_copy_remaining"]) == (1, 1, 0)
    replication_run()
    after = replication_lag()
    assert (after["pending_events"], after["pending_deletions"], after["initial_copy_remaining"]) == (0, 0, 0)


def test_the_initial_copy_is_merged_into_one_part_per_month(settings: Any, tmp_path: Path) -> None:
    """The first copy arrives in many inserts; it is compacted once at its end, so the first reads do not
    merge dozens of parts under `FINAL` (docs/benchmarks.md, "Analytics engine")."""
    clock.freeze(NOW)
    try:
        settings.ANALYTICS_CLICKHOUSE = None  # stored before the engine exists: the first run copies them all
        days = [f"2026-02-{d:02d}T10:00" for d in range(20, 29)] + [f"2026-03-{d:02d}T10:00" for d in range(1, 13)]
        store(*[ev("page_view", day, user=f"u{i % 7}", path=f"/{i}") for i, day in enumerate(days * 10)])
        settings.ANALYTICS_CLICKHOUSE_BATCH_SIZE = 20  # eleven inserts
        engine_on(settings, tmp_path / "chdb")
        found = engine()
        assert found is not None
        assert replication_run().backfilled == len(days) * 10
        client, layout = found
        parts = rows(
            client,
            "SELECT partition, count() FROM system.parts WHERE database = {db:String} AND table = 'events' "
            "AND active GROUP BY partition ORDER BY partition",
            {"db": layout.database},
        )
        assert [(str(p), int(n)) for p, n in parts] == [("202602", 1), ("202603", 1)]
        assert raw_count(found) == len(days) * 10
    finally:
        clock.freeze(None)
