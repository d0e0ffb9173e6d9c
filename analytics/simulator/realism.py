"""How believable a simulated platform is: the figures docs/simulator.md ("Realism") holds to ranges.

`RealismTally` reads the generated events day by day (as the runner sends them) and the world at the
end, and measures what someone who runs an events business would check first: how much traffic is
anonymous, how long sessions are, how often payments are refunded, how people rate and review, how
many no-shows free and paid listings get, how many sign-ups come back, and how often the keenest
person goes out. `REALISM_RANGES` are the plausible ranges, each with its reasoning in the docs.
"""

from __future__ import annotations

import bisect
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from statistics import fmean, median
from typing import Any

from analytics.simulator.behaviour.engine import Simulation

UNINITIATED = frozenset({"api_request", "app_error"})
DAY = 86_400.0


@dataclass(frozen=True)
class RealismRange:
    low: float
    high: float
    unit: str
    what: str


# The plausible range of each figure (docs/simulator.md, "Realism", gives the reasoning and sources).
REALISM_RANGES: dict[str, RealismRange] = {
    "web_sessions_never_identified": RealismRange(0.20, 0.50, "share", "web sessions that never log in"),
    "app_session_minutes_mean": RealismRange(2.5, 8.0, "minutes", "mean app session length"),
    "refund_share_of_payments": RealismRange(0.01, 0.06, "share", "refunds per completed payment"),
    "chargeback_share_of_payments": RealismRange(0.0, 0.01, "share", "chargebacks per completed payment"),
    "rating_mean": RealismRange(4.0, 4.5, "stars", "mean review rating"),
    "five_star_share": RealismRange(0.45, 0.85, "share", "reviews with 5 stars"),
    "review_share_of_check_ins": RealismRange(0.05, 0.30, "share", "check-ins followed by a review"),
    "no_show_free": RealismRange(0.30, 0.55, "share", "no-shows among confirmed free seats"),
    "no_show_paid": RealismRange(0.05, 0.20, "share", "no-shows among confirmed paid seats"),
    "week1_retention": RealismRange(0.20, 0.50, "share", "new users active again 7-13 days after sign-up"),
    "day1_retention": RealismRange(0.10, 0.40, "share", "new users active on the day after sign-up"),
    "max_check_ins_30d": RealismRange(3, 14, "check-ins", "most check-ins of one person in 30 days"),
    "listing_fill_mean": RealismRange(0.25, 0.75, "share", "seats confirmed per seat offered (listings held)"),
}


@dataclass
class RealismTally:
    """Accumulates the figures while the events stream past; `report()` after the last day."""

    sessions: dict[str, list[float]] = field(default_factory=dict)  # session → [first, last, web, identified]
    session_anonymous: dict[str, str] = field(default_factory=dict)
    linked_anonymous: set[str] = field(default_factory=set)
    active_days: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    counts: Counter[str] = field(default_factory=Counter)
    ratings: Counter[int] = field(default_factory=Counter)
    check_ins: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    start: float = 0.0

    def count(self, events: list[dict[str, Any]], instants: list[float]) -> None:
        for event, instant in zip(events, instants, strict=True):
            name = event["event_name"]
            self.counts[name] += 1
            user_id = event.get("user_id")
            anonymous_id = event.get("anonymous_id")
            if user_id and anonymous_id:
                self.linked_anonymous.add(anonymous_id)
            if user_id and name not in UNINITIATED:
                self.active_days[user_id].add(int((instant - self.start) // DAY))
            if name == "review_submitted":
                self.ratings[int(event["properties"]["rating"])] += 1
            elif name == "event_checked_in" and user_id:
                self.check_ins[user_id].append(instant)
            session_id = event.get("session_id")
            if not session_id:
                continue
            row = self.sessions.get(session_id)
            if row is None:
                web = "path" in event["properties"] or "Mobile" not in event["context"]["user_agent"]
                row = self.sessions[session_id] = [instant, instant, float(web), 0.0]
            row[1] = instant
            if user_id:
                row[3] = 1.0
            elif anonymous_id:
                self.session_anonymous[session_id] = anonymous_id

    def report(self, simulation: Simulation, *, signups: dict[str, int]) -> dict[str, float]:
        """The figures of REALISM_RANGES (and a few companions), from the events and the world."""
        web = [(sid, row) for sid, row in self.sessions.items() if row[2]]
        never = sum(
            1 for sid, row in web if not row[3] and self.session_anonymous.get(sid) not in self.linked_anonymous
        )
        app_minutes = [(row[1] - row[0]) / 60.0 for row in self.sessions.values() if not row[2]]
        completed = self.counts["payment_completed"]
        reviews = sum(self.ratings.values())
        confirmed = [
            r for r in simulation.world.requests if r.outcome in ("attended", "no_show", "cancelled_by_attendee")
        ]
        free = [r for r in confirmed if r.amount == 0]
        paid = [r for r in confirmed if r.amount > 0]
        days = simulation.config.days
        day1 = [u for u, d in signups.items() if d + 1 < days]
        week1 = [u for u, d in signups.items() if d + 14 <= days]
        return {
            "web_sessions": float(len(web)),
            "web_sessions_never_identified": never / len(web) if web else 0.0,
            "app_session_minutes_mean": fmean(app_minutes) if app_minutes else 0.0,
            "app_session_minutes_median": median(app_minutes) if app_minutes else 0.0,
            "refund_share_of_payments": self.counts["payment_refunded"] / completed if completed else 0.0,
            "chargeback_share_of_payments": self.counts["payment_chargeback"] / completed if completed else 0.0,
            "rating_mean": sum(k * v for k, v in self.ratings.items()) / reviews if reviews else 0.0,
            "five_star_share": self.ratings[5] / reviews if reviews else 0.0,
            "review_share_of_check_ins": reviews / self.counts["event_checked_in"]
            if self.counts["event_checked_in"]
            else 0.0,
            "no_show_free": _no_show(free),
            "no_show_paid": _no_show(paid),
            "day1_retention": _share(day1, lambda u: signups[u] + 1 in self.active_days.get(u, ())),
            "week1_retention": _share(
                week1, lambda u: any(signups[u] + k in self.active_days.get(u, ()) for k in range(7, 14))
            ),
            "max_check_ins_30d": float(max((_most_in_30_days(t) for t in self.check_ins.values()), default=0)),
            "listing_fill_mean": fmean(held) if (held := _fills(simulation)) else 0.0,
            "sold_out_share": sum(1 for fill in held if fill >= 0.999) / len(held) if held else 0.0,
        }


def _fills(simulation: Simulation) -> list[float]:
    """Confirmed seats per seat offered, for every listing that took place inside the window."""
    end = simulation.window_end
    return [
        min(1.0, listing.confirmed_seats / listing.capacity)
        for listing in simulation.world.listings
        if listing.cancelled_at is None and listing.starts_at < end
    ]


def _no_show(requests: list[Any]) -> float:
    return sum(1 for r in requests if r.outcome != "attended") / len(requests) if requests else 0.0


def _share(users: list[str], test: Any) -> float:
    return sum(1 for u in users if test(u)) / len(users) if users else 0.0


def _most_in_30_days(instants: list[float]) -> int:
    ordered = sorted(instants)
    return max(bisect.bisect_left(ordered, t + 30 * DAY) - i for i, t in enumerate(ordered))


def realism_lines(figures: dict[str, float]) -> list[str]:
    """One line per figure with its plausible range, for the `simulate` command's report."""
    lines = []
    for name, bounds in REALISM_RANGES.items():
        value = figures[name]
        verdict = "in range" if bounds.low <= value <= bounds.high else "OUT OF RANGE"
        shown = f"{value:.1%}" if bounds.unit == "share" else f"{value:.2f} {bounds.unit}"
        low, high = (
            (f"{bounds.low:.0%}", f"{bounds.high:.0%}")
            if bounds.unit == "share"
            else (f"{bounds.low:g}", f"{bounds.high:g}")
        )
        lines.append(f"  {bounds.what}: {shown} ({low}-{high}: {verdict})")
    return lines


def realism_measure(simulation: Simulation) -> dict[str, float]:
    """Generate `simulation` (no storage) and measure it."""
    tally = RealismTally(start=simulation.window_start)
    for events, instants in simulation.days():
        tally.count(events, instants)
    signups = {u.user_id: u.signup_day for u in simulation.world.users if u.registered}
    return tally.report(simulation, signups=signups)
