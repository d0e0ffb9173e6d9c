"""The server path: clickhouse-connect against a ClickHouse HTTP endpoint, end to end.

No usable ClickHouse server installs from these machines' registries, so the endpoint is the local
stand-in (tests/support/clickhouse_standin.py): ClickHouse's HTTP interface, each query executed in chDB.
Our replication and analyses run unchanged through clickhouse-connect; an outage of the endpoint answers
503 with Retry-After and loses nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from fastapi.testclient import TestClient

from analytics import clock
from analytics.collection.pipeline import event_ingest
from analytics.metrics.analyses import DateRange
from analytics.metrics.analyses.trends import TrendsQuery, trends_run
from analytics.metrics.clickhouse import engine
from analytics.metrics.clickhouse.client import ChdbClient, EngineUnavailable, rows
from analytics.metrics.clickhouse.replication import replication_run
from analytics.models import ReplicaPending
from analytics.security.tokens import token_issue
from loopin_backend.clickhouse_target import clickhouse_target
from tests.support.clickhouse_standin import ClickHouseStandIn
from tests.unit.metrics.support import NOW, ev

pytestmark = pytest.mark.django_db(transaction=True)
RANGE = DateRange(date(2026, 3, 16), date(2026, 3, 20))


@pytest.fixture
def server(settings: Any, tmp_path: Path) -> Iterator[ClickHouseStandIn]:
    ChdbClient(clickhouse_target(f"chdb://{tmp_path}/unused")).close()  # chDB: one data directory per process
    with ClickHouseStandIn(str(tmp_path / "server"), username="loopin", password="s3cret-pw") as standin:
        settings.ANALYTICS_CLICKHOUSE = clickhouse_target(standin.url)
        clock.freeze(NOW)
        yield standin
        clock.freeze(None)
        found = engine()
        if found is not None:
            found[0].close()


def store(*raws: dict[str, Any]) -> None:
    result = event_ingest(batch=list(raws), source="http")
    assert result.stored == len(raws), result.outcomes


def views(n: int, start: int = 0) -> list[dict[str, Any]]:
    return [
        ev(
            "page_view",
            f"2026-03-{17 + i % 3}T1{i % 10}:00",
            user=f"u{i % 4}",
            device=["mobile", "desktop"][i % 2],
            path="/a",
        )
        for i in range(start, start + n)
    ]


def test_replication_and_trends_through_a_server_answer_as_the_sql_engine(
    server: ClickHouseStandIn, settings: Any
) -> None:
    store(*views(12))
    call_command("clickhouse_sync", verbosity=0)
    target = settings.ANALYTICS_CLICKHOUSE
    for kwargs in ({}, {"breakdown": "platform", "math": "unique_users"}, {"interval": "week"}):
        query = TrendsQuery(event="page_view", range=RANGE, **kwargs)  # type: ignore[arg-type]
        ours = asdict(trends_run(query=query))
        settings.ANALYTICS_CLICKHOUSE = None
        sql = asdict(trends_run(query=query, use_rollups=False))
        settings.ANALYTICS_CLICKHOUSE = target
        assert (ours.pop("computed_from"), sql.pop("computed_from")) == ("clickhouse", "events")
        assert ours == sql
        assert sum(s["total"] for s in ours["series"]) > 0


def test_an_outage_answers_503_with_retry_after_and_loses_nothing(
    server: ClickHouseStandIn, settings: Any, client: TestClient
) -> None:
    store(*views(4))
    call_command("clickhouse_sync", verbosity=0)
    server.pause()
    clock.freeze(None)  # the token is issued and checked against the real clock
    headers = {"Authorization": f"Bearer {token_issue(role='admin', sub='test-admin')}"}
    response = client.get(
        "/api/analytics/trends",
        params={"event": "page_view", "date_from": "2026-03-16", "date_to": "2026-03-20"},
        headers=headers,
    )
    clock.freeze(NOW)
    assert response.status_code == 503, response.text
    assert int(response.headers["Retry-After"]) > 0
    assert response.json()["error"]["code"] == "analytics_engine_unavailable"
    store(*views(4, start=4))  # ingestion goes on; replication waits
    with pytest.raises(EngineUnavailable):
        replication_run()
    assert ReplicaPending.objects.count() == 4
    server.resume()
    replication_run()
    found = engine()
    assert found is not None
    client_, layout = found
    ((n, distinct),) = rows(client_, f"SELECT count(), uniqExact(uuid) FROM {layout.events} FINAL")  # noqa: S608
    assert n == distinct == 8
    assert ReplicaPending.objects.count() == 0


def test_wrong_credentials_are_refused_by_the_server(server: ClickHouseStandIn, settings: Any) -> None:
    settings.ANALYTICS_CLICKHOUSE = clickhouse_target(server.url.replace("s3cret-pw", "wrong"))
    with pytest.raises(Exception, match="Authentication failed"):
        replication_run()
