"""GET /export/events: admin only, streamed in keyset chunks, CSV or JSON Lines, audited."""

from __future__ import annotations

import csv
import io
import json
from datetime import date

import pytest
from fastapi.testclient import TestClient

from analytics import clock
from analytics.metrics.analyses import DateRange
from analytics.metrics.export import COLUMNS, ExportQuery, export_chunk
from analytics.models import AuditLog
from tests.unit.api.bi_support import assert_error, bearer
from tests.unit.metrics.support import NOW, ev, ingest

API = "/api/analytics/export/events"


@pytest.fixture
def events(client: TestClient) -> None:
    clock.freeze(NOW)
    try:
        ingest(
            ev("page_view", "2026-03-10T23:30", user="u1", path="/a"),  # Mar 10 in Asia/Kolkata (18:00 UTC)
            ev("page_view", "2026-03-11T00:15", user="u1", path="/b"),  # Mar 11 (still Mar 10 in UTC)
            ev("search_performed", "2026-03-11T09:00", user="u2", results_count=3),
            *[ev("page_view", "2026-03-11T10:00", user=f"s{i}", path="/same") for i in range(5)],  # one instant
            ev("page_view", "2026-03-12T10:00", user="u1", path="/c"),
        )
    finally:
        clock.freeze(None)


def test_csv_export_of_business_days_with_filters(client: TestClient, events: None) -> None:
    response = client.get(API, params={"start_date": "2026-03-11", "end_date": "2026-03-11"}, headers=bearer("admin"))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    assert "content-length" not in response.headers  # streamed, not buffered
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert tuple(rows[0]) == COLUMNS
    assert len(rows) == 7  # the 00:15 view, the search and the five at 10:00 — not Mar 10 or Mar 12
    assert rows[0]["page_path"] == "/b" and json.loads(rows[0]["properties"]) == {"path": "/b"}
    only = client.get(
        API,
        params={
            "start_date": "2026-03-10",
            "end_date": "2026-03-12",
            "user_id": "u1",
            "event_name": "page_view",
        },
        headers=bearer("admin"),
    )
    assert [r["page_path"] for r in csv.DictReader(io.StringIO(only.text))] == ["/a", "/b", "/c"]


def test_jsonl_export_is_one_object_per_line_and_is_audited(client: TestClient, events: None) -> None:
    response = client.get(
        API,
        params={
            "start_date": "2026-03-10",
            "end_date": "2026-03-12",
            "format": "jsonl",
            "event_name": "search_performed",
        },
        headers=bearer("admin"),
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/x-ndjson")
    lines = [json.loads(line) for line in response.text.splitlines()]
    assert [(x["event_name"], x["user_id"], x["properties"]) for x in lines] == [
        ("search_performed", "u2", {"results_count": 3})
    ]
    assert "ip_prefix" not in lines[0]
    audit = AuditLog.objects.get(action="export.events")
    assert audit.actor == "t-admin" and audit.details["format"] == "jsonl"


def test_keyset_chunks_cover_every_row_once_even_with_equal_timestamps(events: None) -> None:
    query = ExportQuery(range=DateRange(date(2026, 3, 10), date(2026, 3, 12)))
    seen: list[str] = []
    cursor = None
    chunks = 0
    while True:
        rows, cursor = export_chunk(query=query, after=cursor, limit=2)
        seen += [str(r["uuid"]) for r in rows]
        chunks += 1
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 9
    assert chunks == 5


def test_export_is_admin_only(client: TestClient) -> None:
    params = {"start_date": "2026-03-10", "end_date": "2026-03-12"}
    assert_error(client.get(API, params=params), 401)
    assert_error(client.get(API, params=params, headers=bearer("analyst")), 403)
    assert_error(client.get(API, params=params, headers=bearer("host", "h1")), 403)


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"start_date": "2026-03-10"},
        {"start_date": "2026-03-10", "end_date": "2026-03-12", "format": "xml"},
        {"start_date": "2026-03-12", "end_date": "2026-03-10"},
        {"start_date": "2026-02-30", "end_date": "2026-03-10"},
        {"start_date": "2024-01-01", "end_date": "2026-03-10"},
        {"start_date": "0001-01-01", "end_date": "9999-12-31"},
    ],
)
def test_bad_export_requests_are_422(client: TestClient, params: dict) -> None:
    assert_error(client.get(API, params=params, headers=bearer("admin")), 422)


FORMULA = '=HYPERLINK("http://evil.test","x")'


def test_csv_export_never_hands_a_spreadsheet_a_formula(client: TestClient, key_headers: dict[str, str]) -> None:
    """Catches: CSV injection — a tracked value (user id, city, path, …) starting with = + - @ tab or CR
    exported verbatim and run by the spreadsheet that opens the export; and genuine numbers (a refund's
    negative revenue) turned into text by the escaping."""
    at = "2026-03-11T10:00:00+05:30"
    hostile = {
        "event_name": "page_view",
        "user_id": FORMULA,
        "anonymous_id": "+1+cmd|' /C calc'!A0",
        "session_id": "@SUM(1+1)*cmd|' /C calc'!A0",
        "timestamp": at,
        "properties": {"path": "-2+3+cmd|' /C calc'!A0", "city": "\t=1+1", "country": "\r=1+1"},
    }
    refund = {
        "event_name": "payment_refunded",
        "user_id": "-42",
        "timestamp": at,
        "properties": {"order_id": "o-1", "listing_id": "l-1", "amount": 3.5, "currency": "INR"},
    }
    for body in (hostile, refund):
        stored = client.post("/api/analytics/events/track", json=body, headers=key_headers)
        assert stored.status_code == 200 and stored.json()["status"] == "stored", stored.text
    response = client.get(API, params={"start_date": "2026-03-11", "end_date": "2026-03-11"}, headers=bearer("admin"))
    assert response.status_code == 200, response.text
    rows = {row["event_name"]: row for row in csv.DictReader(io.StringIO(response.text))}
    view, paid = rows["page_view"], rows["payment_refunded"]
    assert view["user_id"] == "'" + FORMULA
    assert view["anonymous_id"] == "'+1+cmd|' /C calc'!A0"
    assert view["session_id"] == "'@SUM(1+1)*cmd|' /C calc'!A0"
    assert view["page_path"] == "'-2+3+cmd|' /C calc'!A0"
    assert view["city"] == "'\t=1+1"
    assert view["country"] == "'\r=1+1"
    for row in rows.values():
        for column, cell in row.items():
            assert not cell.startswith(("=", "+", "@", "\t", "\r")), (column, cell)
    assert json.loads(view["properties"])["path"] == "-2+3+cmd|' /C calc'!A0"  # JSON cells start with "{"
    assert paid["revenue_impact"] == "-3.50"  # a number stays a number
    assert paid["user_id"] == "'-42"  # an identifier is text, even when it looks like a number
