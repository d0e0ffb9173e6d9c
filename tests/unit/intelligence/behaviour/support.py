"""A small platform for behaviour tests, built through the real pipeline (tests/unit/metrics/support.py)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from tests.unit.metrics.support import created, ev, ingest

AS_OF = datetime.fromisoformat("2026-03-20T12:00:00+00:00")  # business day 2026-03-20 (Asia/Kolkata)


def later(at: str, minutes: int) -> str:
    """A local wall-clock time ('2026-03-10T20:00') `minutes` later, in the same form."""
    return (datetime.fromisoformat(at) + timedelta(minutes=minutes)).isoformat(timespec="minutes")


def visit(
    user: str, at: str, session: str, *, views: tuple[str, ...] = (), search: bool = False, **kw: Any
) -> list[dict[str, Any]]:
    """One browsing session at local time `at`: a screen, maybe a search, listing views a minute apart."""
    events = [ev("page_view", at, user=user, session=session, path="/home", **kw)]
    if search:
        events.append(ev("search_performed", later(at, 1), user=user, session=session, results_count=3, **kw))
    for n, listing in enumerate(views):
        events.append(ev("event_viewed", later(at, 2 + n), user=user, session=session, listing_id=listing, **kw))
    return events


def listings() -> None:
    ingest(
        created("L1", "2026-01-05T10:00", price=0, category="music", starts="2026-03-01T19:00"),
        created("L2", "2026-01-05T10:00", price=1500, category="tech", city="Mumbai", starts="2026-03-05T19:00"),
        created("L3", "2026-01-05T10:00", price=250, category="music", starts="2026-04-05T19:00"),
    )


def twelve_browsers() -> list[dict[str, Any]]:
    """Twelve users (p0 … p11) with a week of browsing each, half of them requesting L2: enough people with
    enough sessions for behaviour profiles and a persona clustering."""
    events: list[dict[str, Any]] = []
    for u in range(12):
        hour = 11 if u % 3 == 0 else 20
        for d in range(6 + u % 4):
            events += visit(f"p{u}", f"2026-03-{8 + d:02d}T{hour}:00", f"p{u}-{d}", views=("L1", "L2")[: 1 + u % 2])
        if u % 2:
            events.append(ev("event_requested", "2026-03-12T21:00", user=f"p{u}", listing_id="L2", seats=2))
    return events
