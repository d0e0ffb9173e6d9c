"""The cross-check shared by the unit (SQLite) and integration (PostgreSQL) tiers.

A small simulated platform goes through the real pipeline; metrics are backfilled; the API's numbers
(stored metric histories, `POST /funnels`, `GET /retention`, `GET /overview`) are compared with an
independent pandas recomputation over the API's own export (tests/support/reference_metrics.py).
Every comparison is exact (the service rounds stored values to 6 decimals; so does the reference).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
from django.core.management import call_command
from fastapi.testclient import TestClient

from analytics import clock
from analytics.metrics.calculation import metrics_backfill
from analytics.security.tokens import token_issue
from analytics.simulator import config_build, simulation_run
from analytics.simulator.sinks import InProcessSink
from tests.support import reference_metrics as ref

API = "/api/analytics"
NOW = datetime.fromisoformat("2026-03-05T06:00:00+00:00")  # business day 2026-03-05 (Asia/Kolkata)
END_DATE = date(2026, 3, 3)  # the simulated window ends at the start of this day
DAYS = 60
FIRST_DAY = END_DATE - timedelta(days=DAYS)
TODAY = date(2026, 3, 5)
PERIOD_TYPES = ("day", "week", "month")


@dataclass
class Platform:
    client: TestClient
    headers: dict[str, str]
    events: pd.DataFrame

    def history(self, metric: str, period_type: str, breakdown: str | None = None) -> dict[Any, float | None]:
        """{period_start: value} (or {(period_start, value of the breakdown): value}) as the API serves it."""
        params: dict[str, str] = {
            "period_type": period_type,
            "date_from": (FIRST_DAY - timedelta(days=40)).isoformat(),
            "date_to": TODAY.isoformat(),
        }
        if breakdown:
            params["breakdown"] = breakdown
        response = self.client.get(f"{API}/metrics/{metric}", params=params, headers=self.headers)
        assert response.status_code == 200, response.text
        body = response.json()
        if breakdown is None:
            return {date.fromisoformat(p["period_start"]): p["value"] for p in body["history"]}
        return {
            (date.fromisoformat(p["period_start"]), p["dimensions"][breakdown]): p["value"]
            for p in body["breakdowns"][breakdown]
        }


def simulate_and_backfill(data_dir: Path, *, users: int = 500, seed: int = 5) -> None:
    clock.freeze(NOW)
    config = config_build(
        users=users,
        days=DAYS,
        seed=seed,
        end_date=END_DATE,
        time_zone="Asia/Kolkata",
        today=TODAY,
        batch_size=2000,
    )
    simulation_run(config=config, sink=InProcessSink(), data_dir=data_dir, progress=False)
    metrics_backfill(now=NOW)


def simulated_platform(django_db_blocker: Any, data_dir: Path) -> Iterator[Platform]:
    """A module fixture's body: simulate, backfill and serve; the tables are emptied afterwards. The data
    is committed (API requests read it from their own threads), so the DB stays unblocked throughout."""
    from loopin_backend.asgi import application

    with django_db_blocker.unblock():
        try:
            simulate_and_backfill(data_dir)
            with TestClient(application) as client:
                yield from _platform(client)
        finally:
            call_command("flush", interactive=False, verbosity=0)  # the next module starts empty


def _platform(client: TestClient) -> Iterator[Platform]:
    clock.freeze(None)  # tokens are checked against the real time …
    headers = {"Authorization": f"Bearer {token_issue(role='admin', sub='cross-check')}"}
    clock.freeze(NOW)  # … the data's business today stays 2026-03-05
    export = client.get(
        f"{API}/export/events",
        params={
            "start_date": (FIRST_DAY - timedelta(days=1)).isoformat(),
            "end_date": TODAY.isoformat(),
            "format": "jsonl",
        },
        headers=headers,
    )
    assert export.status_code == 200, export.text
    yield Platform(client=client, headers=headers, events=ref.events_frame(export.content))
    clock.freeze(None)


def every_period(period_type: str) -> list[ref.Period]:
    return ref.periods(period_type, FIRST_DAY, TODAY)
