"""What the request middleware (Django and ASGI) records, shared by both stacks.

One host request becomes an `api_request` (route template, method, status, latency, user), plus a
`page_view` when it is a successful GET answered with HTML, plus one `app_error` per exception that
escaped the host's code. The events go to the in-process buffer (`source="middleware"`); the
request only pays the buffer appends.

Once-only rules:
- an exception is reported by whichever middleware sees it first; the exception object is marked,
  so Django's `process_exception`, its `got_request_exception` signal, the 500 response and an ASGI
  middleware around the same request add nothing more;
- when the ASGI middleware and the Django middleware wrap the same request (Django mounted inside
  the host's ASGI app), a `RequestTrack` in the ASGI scope says the Django middleware recorded it
  (Django knows the precise route template), and the ASGI middleware records nothing.

Privacy: the client IP is truncated at once (`client_ip_prefix`), and only the network address
(`203.0.113.0`, which the pipeline reads back as `203.0.113.0/24`) enters the buffer. Query
strings are never recorded; error messages are never recorded, only the exception's class.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit
from uuid import uuid4

from analytics.collection.buffer import EventBuffer, event_buffer
from analytics.models.events import EventSource

logger = logging.getLogger(__name__)

UNMATCHED = "unmatched"
# The analytics service's own API is never tracked, whatever ANALYTICS_SKIP_PATHS says.
SERVICE_PREFIX = "/api/analytics"
SCOPE_KEY = "loopin_analytics"
_REPORTED = "__loopin_analytics_reported__"


@dataclass
class RequestTrack:
    """Per-request state shared by the middlewares that wrap one request (kept in the ASGI scope)."""

    recorded_by: str = ""
    reported_errors: set[int] = field(default_factory=set)


class SkipRules:
    """ANALYTICS_SKIP_PATHS: `/prefix` entries match the start of the path; bare words (`health`)
    match a whole path segment anywhere (`/health`, `/api/v1/health/`)."""

    def __init__(self, entries: Iterable[str]) -> None:
        self.prefixes = tuple(e for e in entries if e.startswith("/"))
        self.segments = frozenset(e.strip("/") for e in entries if not e.startswith("/") and e.strip("/"))

    def skips(self, path: str) -> bool:
        if path == SERVICE_PREFIX or path.startswith(SERVICE_PREFIX + "/"):
            return True
        if path.startswith(self.prefixes):
            return True
        return bool(self.segments) and any(part in self.segments for part in path.split("/"))


def claim_exception(error: BaseException, track: RequestTrack | None = None) -> bool:
    """True the first time `error` is seen by any analytics middleware; it is then marked as reported."""
    if getattr(error, _REPORTED, False) or (track is not None and id(error) in track.reported_errors):
        return False
    try:
        setattr(error, _REPORTED, True)
    except (AttributeError, TypeError):  # an exception type without a __dict__: the scope remembers it
        pass
    if track is not None:
        track.reported_errors.add(id(error))
    return True


@dataclass(frozen=True)
class RequestFacts:
    """What one finished host request was; no raw IP, no query string."""

    integration: str  # "django" or "asgi"
    started_at: datetime
    method: str
    route: str
    path: str
    status_code: int
    response_time_ms: float
    is_html: bool
    user_id: str | None = None
    ip_prefix: str = ""
    user_agent: str = ""
    referrer: str = ""


def _context(facts: RequestFacts) -> dict[str, Any]:
    context: dict[str, Any] = {"library": {"name": "loopin-analytics-middleware", "integration": facts.integration}}
    if facts.ip_prefix:
        # The network address only; the pipeline turns it back into the /24 (/48) prefix.
        context["ip"] = facts.ip_prefix.split("/", 1)[0]
    if facts.user_agent:
        context["user_agent"] = facts.user_agent[:512]
    return context


def _envelope(facts: RequestFacts, name: str, properties: dict[str, Any]) -> dict[str, Any]:
    event: dict[str, Any] = {
        "event_name": name,
        "uuid": str(uuid4()),
        "timestamp": facts.started_at.isoformat(),
        "properties": properties,
        "context": _context(facts),
    }
    if facts.user_id:
        event["user_id"] = facts.user_id[:128]
    return event


def without_query(url: str) -> str:
    """A URL or path without its query string and fragment (they can carry tokens)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    return parts._replace(query="", fragment="").geturl()


def request_events(facts: RequestFacts) -> list[dict[str, Any]]:
    """The `api_request` of a finished request, and its `page_view` when it served an HTML page."""
    events = [
        _envelope(
            facts,
            "api_request",
            {
                "route": facts.route,
                "method": facts.method,
                "status_code": facts.status_code,
                "response_time_ms": round(max(facts.response_time_ms, 0.0), 3),
            },
        )
    ]
    if facts.method == "GET" and facts.is_html and 200 <= facts.status_code < 300:
        page: dict[str, Any] = {"path": facts.path[:1024], "route": facts.route}
        if facts.referrer:
            page["referrer"] = without_query(facts.referrer)[:2048]
        events.append(_envelope(facts, "page_view", page))
    return events


def error_event(facts: RequestFacts, error: BaseException) -> dict[str, Any]:
    """An `app_error` naming the exception's class (never its message)."""
    kind = type(error)
    return _envelope(
        facts,
        "app_error",
        {
            "error_type": kind.__name__,
            "error_module": kind.__module__,
            "route": facts.route,
            "method": facts.method,
        },
    )


def enqueue(events: Sequence[dict[str, Any]], *, buffer: EventBuffer | None = None) -> None:
    """Hand the events to the buffer; never raises into the host."""
    try:
        target = buffer or event_buffer()
        for event in events:
            target.append(event, source=EventSource.MIDDLEWARE)
    except Exception:
        logger.exception("collection.middleware_enqueue_failed")
