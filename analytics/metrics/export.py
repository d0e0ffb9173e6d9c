"""Export of tracked events as CSV or JSON Lines, read in keyset-paginated chunks.

The export is a server-side iterator: `export_chunk` reads at most `CHUNK_ROWS` rows after a cursor
(timestamp, id) using the `ue_time` / `ue_name_time` / `ue_user_time` indexes, and the API streams
each chunk as soon as it is encoded, so memory stays bounded however many rows match. Columns carry
no IP address at all (not even the stored prefix). CSV goes through the one spreadsheet-safe writer
(analytics/csv_cells.py): no text cell starts a formula, numbers stay numbers.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import orjson
from django.db.models import Q

from analytics.csv_cells import SafeCSVWriter
from analytics.errors import ValidationFailed
from analytics.metrics.analyses import DateRange, check_day
from analytics.privacy.encryption import SENSITIVE_EVENTS, properties_decrypt

FORMATS = ("csv", "jsonl")
CHUNK_ROWS = 2000
MAX_EXPORT_DAYS = 366
COLUMNS = (
    "uuid",
    "timestamp",
    "event_name",
    "event_type",
    "user_id",
    "anonymous_id",
    "session_id",
    "listing_id",
    "host_id",
    "revenue_impact",
    "currency",
    "device_type",
    "browser",
    "os",
    "city",
    "country",
    "page_path",
    "status_code",
    "response_time_ms",
    "sentiment_score",
    "source",
    "received_at",
    "properties",
)
MEDIA_TYPES = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson"}


@dataclass(frozen=True)
class ExportQuery:
    range: DateRange
    format: str = "csv"
    event_name: str | None = None
    user_id: str | None = None

    def __post_init__(self) -> None:
        if self.format not in FORMATS:
            raise ValidationFailed("format is csv or jsonl", code="invalid_format")
        if (self.range.date_to - self.range.date_from).days + 1 > MAX_EXPORT_DAYS:
            raise ValidationFailed(f"an export spans at most {MAX_EXPORT_DAYS} days", code="range_too_long")


Cursor = tuple[datetime, int] | None


def export_chunk(*, query: ExportQuery, after: Cursor, limit: int = CHUNK_ROWS) -> tuple[list[dict[str, Any]], Cursor]:
    """The next ≤ `limit` rows after `after`, oldest first, and the cursor to continue from (None: done)."""
    from analytics.models import UserEvent

    rows = UserEvent.objects.filter(timestamp__gte=query.range.start, timestamp__lt=query.range.end)
    if query.event_name:
        rows = rows.filter(event_name=query.event_name)
    if query.user_id:
        rows = rows.filter(user_id=query.user_id)
    if after is not None:
        rows = rows.filter(Q(timestamp__gt=after[0]) | Q(timestamp=after[0], id__gt=after[1]))
    page = list(rows.order_by("timestamp", "id").values("id", *COLUMNS)[:limit])
    for row in page:
        if row["event_name"] in SENSITIVE_EVENTS:
            row["properties"] = properties_decrypt(row["properties"])  # an export is read by people: in clear
    cursor = (page[-1]["timestamp"], page[-1]["id"]) if len(page) == limit else None
    return page, cursor


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    return value if value is not None else None


def export_header(fmt: str) -> bytes:
    if fmt != "csv":
        return b""
    buffer = io.StringIO()
    SafeCSVWriter(buffer).writerow(COLUMNS)
    return buffer.getvalue().encode()


def export_encode(rows: list[dict[str, Any]], fmt: str) -> bytes:
    """One chunk in the format: CSV rows (properties as JSON) or one JSON object per line."""
    if fmt == "jsonl":
        return b"".join(
            orjson.dumps({c: _plain(row[c]) if c != "uuid" else str(row[c]) for c in COLUMNS}) + b"\n" for row in rows
        )
    buffer = io.StringIO()
    writer = SafeCSVWriter(buffer)
    for row in rows:
        writer.writerow([orjson.dumps(row[c]).decode() if c == "properties" else _cell(row[c]) for c in COLUMNS])
    return buffer.getvalue().encode()


def _cell(value: Any) -> Any:
    """A CSV cell keeping its kind: numbers stay numbers (never escaped), everything else is text."""
    if value is None:
        return ""
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return value
    return str(_plain(value))


def export_range(*, start_date: date, end_date: date) -> DateRange:
    check_day("start_date", start_date)
    check_day("end_date", end_date)
    if start_date > end_date:
        raise ValidationFailed("start_date is after end_date", code="invalid_date_range")
    return DateRange(start_date, end_date)


__all__ = [
    "CHUNK_ROWS",
    "COLUMNS",
    "FORMATS",
    "MEDIA_TYPES",
    "ExportQuery",
    "export_chunk",
    "export_encode",
    "export_header",
    "export_range",
]
