"""Business days and reporting periods (day, ISO week from Monday, calendar month).

A business day is a calendar date in settings.ANALYTICS_TIME_ZONE. Its UTC bounds are computed
with zoneinfo at local midnight, so days around a DST change are 23 or 25 hours long — never a
fixed offset.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings

from analytics import clock

PERIOD_TYPES = ("day", "week", "month")


def business_zone() -> ZoneInfo:
    return ZoneInfo(settings.ANALYTICS_TIME_ZONE)


def business_day(instant: datetime, zone: ZoneInfo | None = None) -> date:
    """The business day an aware instant falls on."""
    return instant.astimezone(zone or business_zone()).date()


def business_today(now: datetime | None = None) -> date:
    return business_day(now or clock.now())


def day_start(day: date, zone: ZoneInfo | None = None) -> datetime:
    """The UTC instant at which business day `day` begins (local midnight)."""
    return datetime.combine(day, time(0), tzinfo=zone or business_zone()).astimezone(UTC)


@dataclass(frozen=True, order=True)
class Period:
    """A reporting period: `start` and `end` are its first and last business days (inclusive)."""

    start: date
    type: str
    end: date

    @classmethod
    def containing(cls, period_type: str, day: date) -> Period:
        if period_type == "day":
            return cls(day, "day", day)
        if period_type == "week":
            start = day - timedelta(days=day.weekday())
            return cls(start, "week", start + timedelta(days=6))
        if period_type == "month":
            start = day.replace(day=1)
            following = (start + timedelta(days=32)).replace(day=1)
            return cls(start, "month", following - timedelta(days=1))
        raise ValueError(f"unknown period type {period_type!r}")

    def previous(self) -> Period:
        return Period.containing(self.type, self.start - timedelta(days=1))

    def next(self) -> Period:
        return Period.containing(self.type, self.end + timedelta(days=1))

    def days(self) -> list[date]:
        return [self.start + timedelta(days=n) for n in range((self.end - self.start).days + 1)]

    def bounds(self, zone: ZoneInfo | None = None) -> tuple[datetime, datetime]:
        """[start, end) in UTC."""
        zone = zone or business_zone()
        return day_start(self.start, zone), day_start(self.end + timedelta(days=1), zone)

    def __str__(self) -> str:
        return f"{self.type} {self.start.isoformat()}"
