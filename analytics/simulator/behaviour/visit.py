"""One client session: a session id, a clock that moves forward, and helpers that emit its events."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from analytics.simulator import parameters as p
from analytics.simulator.world import User

if TYPE_CHECKING:
    from analytics.simulator.behaviour.engine import Simulation

WEB_PATHS = {
    "home": "/",
    "welcome": "/signup",
    "search": "/search",
    "checkout": "/checkout",
    "ticket": "/tickets",
    "review": "/reviews/new",
    "create_event": "/host/events/new",
    "manage_event": "/host/events",
    "profile": "/me",
    "my_events": "/me/events",
    "notifications": "/notifications",
    "settings": "/settings",
    "explore": "/explore",
}


class Visit:
    """A session of `user` starting at `at`; anonymous until the user signs up or is known."""

    __slots__ = ("identified", "session_id", "sim", "t", "user")

    def __init__(self, sim: Simulation, user: User, at: float, *, anonymous: bool = False) -> None:
        self.sim = sim
        self.user = user
        self.t = at
        self.identified = not anonymous
        self.session_id = sim.ids.token("s_", 64)

    def wait(self, low: float | None = None, high: float | None = None) -> None:
        """Move the clock: uniformly between `low` and `high` seconds, or by a screen's dwell time
        (log-normal, parameters.DWELL_*) when no bounds are given."""
        rng = self.sim.rng
        if low is not None and high is not None:
            self.t += rng.uniform(low, high)
        else:
            dwell = p.DWELL_MEDIAN_SECONDS * math.exp(rng.gauss(0.0, p.DWELL_SIGMA))
            self.t += min(p.DWELL_MAX_SECONDS, max(2.0, dwell))

    def track(self, name: str, properties: dict[str, Any], *, both_ids: bool = False) -> None:
        self.wait()
        user = self.user
        self.sim.emit.client(
            name,
            self.t,
            session_id=self.session_id,
            user_agent=user.user_agent,
            city=user.city,
            properties=properties,
            user_id=user.user_id if self.identified else None,
            anonymous_id=user.anonymous_id if (both_ids or not self.identified) else None,
        )

    def page(self, screen: str) -> None:
        if self.user.on_app:
            self.track("page_view", {"screen": screen})
        else:
            self.track("page_view", {"path": WEB_PATHS.get(screen, "/" + screen)})

    def api(self, action: str) -> None:
        """The API call behind an action, tracked for a sample of calls (parameters.API_SAMPLE)."""
        rng = self.sim.rng
        if rng.random() >= p.API_SAMPLE:
            return
        method, route, median = p.API_ROUTES[action]
        draw = rng.random()
        server_errors = p.API_5XX * self.sim.anomalies.errors(self.t)
        if draw < server_errors:
            status = rng.choice((500, 502, 503, 504))
            latency = median * 3.0 * math.exp(rng.gauss(0.0, 0.6))
        else:
            if draw < server_errors + p.API_4XX:
                status = rng.choice((400, 401, 404, 409, 429))
            else:
                status = 201 if method == "POST" else 200
            latency = median * math.exp(rng.gauss(0.0, 0.45))
        self.t += 0.2
        user = self.user
        self.sim.emit.client(
            "api_request",
            self.t,
            session_id=self.session_id,
            user_agent=user.user_agent,
            city=user.city,
            properties={
                "route": route,
                "method": method,
                "status_code": status,
                "response_time_ms": round(latency, 1),
            },
            user_id=user.user_id if self.identified else None,
            anonymous_id=None if self.identified else user.anonymous_id,
        )
