"""Prometheus metrics of the service itself (served at /metrics)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client import REGISTRY, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

REQUESTS = Counter(
    "loopin_api_requests_total", "API requests by route template, method and status", ["route", "method", "status"]
)
LATENCY = Histogram(
    "loopin_api_request_seconds",
    "API request latency by route template",
    ["route", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
INGESTED = Counter("loopin_ingest_events_total", "Ingested tracked events by source and outcome", ["source", "status"])
BUFFER_DROPPED = Counter(
    "loopin_collection_buffer_dropped_total",
    "Tracked events the in-process collection buffer (middleware, signal bridge) dropped, by reason",
    ["reason"],
)


class OperationalCollector:
    """What the database knows, as of the last scrape: the processing backlog and its age, each scheduled
    task's runs by outcome and its retries, and each active model's age. The scrape gate refreshes the
    snapshot in a worker thread before the exposition (`operational_snapshot_refresh`), so collecting never
    touches the database from the event loop."""

    def __init__(self) -> None:
        self.snapshot: dict[str, Any] = {}

    def collect(self) -> Iterator[Any]:
        snap = self.snapshot
        if not snap:
            return
        yield GaugeMetricFamily(
            "loopin_processing_backlog_events", "Tracked events waiting for processing", value=snap["backlog"]
        )
        yield GaugeMetricFamily(
            "loopin_processing_backlog_oldest_seconds",
            "Age of the oldest tracked event waiting for processing (0 when none waits)",
            value=snap["backlog_age"],
        )
        runs = CounterMetricFamily(
            "loopin_task_runs", "Finished runs of each scheduled task by outcome", labels=["task", "outcome"]
        )
        retries = CounterMetricFamily("loopin_task_retries", "Retries of each scheduled task", labels=["task"])
        finished = GaugeMetricFamily(
            "loopin_task_last_finished_timestamp_seconds", "When each task's last run finished", labels=["task"]
        )
        for run in snap["task_runs"]:
            runs.add_metric([run["name"], "success"], run["finished_runs"] - run["failed_runs"])
            runs.add_metric([run["name"], "failure"], run["failed_runs"])
            retries.add_metric([run["name"]], run["retries"])
            if run["finished_at"] is not None:
                finished.add_metric([run["name"]], run["finished_at"].timestamp())
        yield runs
        yield retries
        yield finished
        engine = snap.get("analytics_engine")
        if engine is not None:  # only with ANALYTICS_CLICKHOUSE_URL: what the engine still lacks
            yield GaugeMetricFamily(
                "loopin_analytics_engine_pending_events",
                "Tracked events the analytics engine (ClickHouse) has not received yet, the initial copy included",
                value=engine["pending_events"] + engine["initial_copy_remaining"],
            )
            yield GaugeMetricFamily(
                "loopin_analytics_engine_pending_deletions",
                "Erasures and retention purges the analytics engine has not applied yet",
                value=engine["pending_deletions"],
            )
            yield GaugeMetricFamily(
                "loopin_analytics_engine_lag_seconds",
                "Age of the oldest processed event the analytics engine has not received (0 when none waits)",
                value=engine["oldest_pending_seconds"],
            )
        ages = GaugeMetricFamily("loopin_model_age_hours", "Age of each active prediction model", labels=["model"])
        for model in snap["models"]:
            ages.add_metric([model["name"]], model["age_hours"])
        yield ages


OPERATIONAL = OperationalCollector()
REGISTRY.register(OPERATIONAL)  # type: ignore[arg-type]


def operational_snapshot_refresh() -> None:
    """Read the database's side of the exposition (called in a worker thread before each scrape)."""
    from analytics import clock
    from analytics.collection.processing import processing_backlog
    from analytics.metrics.clickhouse.replication import replication_lag
    from analytics.operations.diagnostics import model_freshness
    from analytics.operations.task_runs import task_runs

    count, oldest = processing_backlog()
    lag = replication_lag()
    OPERATIONAL.snapshot = {
        "analytics_engine": None if lag["engine"] == "sql" else lag,
        "backlog": count,
        "backlog_age": (clock.now() - oldest).total_seconds() if oldest else 0.0,
        "task_runs": task_runs(),
        "models": model_freshness(),
    }
