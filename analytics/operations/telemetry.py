"""Prometheus metrics of the service itself (served at /metrics)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

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
