"""ClickHouse expressions shared by the analyses, written to mean exactly what the SQL engine's do.

- a property as text (`property_text`): what PostgreSQL's `properties ->> 'key'` gives — a string without
  its quotes, a number or boolean as written (`2`, `2.5`, `true`), NULL for a missing key or a JSON null;
- a breakdown value (`label`): NULL and "" are one group, "unknown";
- business days and Monday weeks in the business time zone (`day_of`, `week_of`).

Every value comes in as a server-side parameter (`{name:Type}`); the only text put into SQL is column
names from fixed tables and the time zone's name, checked against the zone database.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import available_timezones

from analytics.metrics.periods import business_zone

UNKNOWN = "unknown"


class Params(dict[str, object]):
    """Server-side parameters of one statement; `add` returns the placeholder of a new one."""

    def add(self, value: object, kind: str) -> str:
        name = f"p{len(self)}"
        self[name] = value
        return f"{{{name}:{kind}}}"

    def instant(self, value: datetime) -> str:
        return self.add(value.strftime("%Y-%m-%d %H:%M:%S.%f"), "DateTime64(6, 'UTC')")


def zone_name() -> str:
    name = str(business_zone())
    if name not in available_timezones():  # never text from outside: the setting is a zone name
        raise ValueError(f"unknown time zone {name!r}")
    return name


def day_of(column: str = "timestamp") -> str:
    return f"toDate({column}, '{zone_name()}')"


def week_of(column: str = "timestamp") -> str:
    return f"toMonday({column}, '{zone_name()}')"


def bucket_of(interval: str, column: str = "timestamp") -> str:
    return day_of(column) if interval == "day" else week_of(column)


def property_text(key_placeholder: str) -> str:
    """The property named by the placeholder, as PostgreSQL's `->>` gives it (NULL when missing or null)."""
    kind = f"JSONType(properties, {key_placeholder})"
    return (
        f"multiIf({kind} = 'String', JSONExtractString(properties, {key_placeholder}), "
        f"{kind} IN ('Null'), NULL, "
        f"JSONHas(properties, {key_placeholder}), JSONExtractRaw(properties, {key_placeholder}), NULL)"
    )


def label(expression: str) -> str:
    """A breakdown value: NULL and "" → "unknown"."""
    return f"coalesce(nullIf(toString({expression}), ''), '{UNKNOWN}')"
