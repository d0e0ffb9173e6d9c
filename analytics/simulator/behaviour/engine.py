"""The simulation clock: day ticks (churn, who opens the app when, hosts publishing) and an agenda of
timed actions (sessions, host decisions, payments, check-ins, …) processed in time order.

`Simulation.days()` yields each simulated day's tracked events in time order. All randomness comes
from streams derived from the seed: `world` (people), `behaviour` (what they do), `ids` (session,
listing, order ids) and `uuid` (event uuids), so the same seed gives the same events.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable, Iterator
from typing import Any

from analytics.simulator import parameters as p
from analytics.simulator.anomalies import AnomalyPlan
from analytics.simulator.behaviour import marketplace, sessions
from analytics.simulator.behaviour.activity import LatentState, checkpoint_day, daily_rate, latent_state
from analytics.simulator.behaviour.churn import churn_step, fade_multiplier
from analytics.simulator.behaviour.draws import poisson
from analytics.simulator.config import SimulationConfig
from analytics.simulator.emitter import Emitter
from analytics.simulator.world import (
    CHURNED,
    FADING,
    Calendar,
    IdSource,
    Listing,
    User,
    arrival_days,
    local_seconds_at,
    visitor_build,
    world_build,
)

Action = Callable[["Simulation", float, Any], None]


class Simulation:
    def __init__(self, config: SimulationConfig) -> None:
        self.config = config
        self.calendar = Calendar(config)
        self.world = world_build(config, self.calendar)
        self.rng = random.Random(f"{config.seed}:behaviour")
        self.ids = IdSource(random.Random(f"{config.seed}:ids"))
        self.emit = Emitter(config.seed)
        self.anomalies = AnomalyPlan(
            self.calendar, enabled=config.anomalies, plan=config.anomaly_plan, seed=config.seed
        )
        self.window_start = self.calendar.midnight(0)
        self.window_end = self.calendar.midnight(config.days)
        self.emit.horizon = self.window_end
        self.open_listings: dict[tuple[str, int], list[Listing]] = {}
        self.live: list[User] = []
        self.sessions = 0
        self.visitors = 0
        self.visitor_sessions = 0
        self._agenda: list[tuple[float, int, Action, Any]] = []
        self._sequence = 0
        self._joining: dict[int, list[User]] = {}
        for user in self.world.users:
            self._joining.setdefault(user.signup_day, []).append(user)
        self._anonymous: dict[int, list[tuple[float, User]]] = {}
        self._plan_anonymous_sessions()
        self._visiting: dict[int, list[tuple[float, User]]] = {}
        self._plan_visitors()
        # The activity oracle's checkpoint (analytics/simulator/behaviour/activity.py): latent states of
        # the registered users at the start of that day, before its tick. Reads state, draws nothing.
        self.checkpoint_day = checkpoint_day(config.days)
        self.checkpoint: dict[str, LatentState] = {}

    # --- the agenda --------------------------------------------------------------------------------
    def schedule(self, at: float, action: Action, subject: Any) -> None:
        self._sequence += 1
        heapq.heappush(self._agenda, (at, self._sequence, action, subject))

    def days(self) -> Iterator[tuple[list[dict[str, Any]], list[float]]]:
        """Simulate day by day; yields each day's tracked events (time order) and their instants."""
        for day in range(self.config.days):
            if day == self.checkpoint_day:
                self.checkpoint = {u.user_id: latent_state(u) for u in self.world.users if u.signup_day < day}
            self._tick(day)
            limit = self.calendar.midnight(day + 1)
            agenda = self._agenda
            while agenda and agenda[0][0] < limit:
                at, _, action, subject = heapq.heappop(agenda)
                action(self, at, subject)
            yield self.emit.drain()

    # --- day ticks ---------------------------------------------------------------------------------
    def _plan_anonymous_sessions(self) -> None:
        rng = random.Random(f"{self.config.seed}:anonymous")
        for user in self.world.users:
            for _ in range(user.anonymous_sessions):
                day = user.signup_day - rng.randint(0, p.ANONYMOUS_LEAD_DAYS)
                seconds = local_seconds_at(rng, user.peak_hour, user.hour_spread)
                if day == user.signup_day and seconds >= user.signup_seconds - 900:
                    day -= 1
                if day >= 0:
                    self._anonymous.setdefault(day, []).append((seconds, user))

    def _plan_visitors(self) -> None:
        """People who never sign up: 1 + Poisson sessions each, from their arrival day on (stream `visitors`)."""
        config = self.config
        rng = random.Random(f"{config.seed}:visitors")
        ids = IdSource(random.Random(f"{config.seed}:visitor-ids"))
        count = round(p.VISITORS_PER_USER * config.users)
        self.visitors = count
        for index, day in enumerate(arrival_days(rng, config, self.calendar, count)):
            visitor = visitor_build(rng, ids, index, day)
            days = [day] + [
                day + rng.randint(1, p.VISITOR_SPAN_DAYS) for _ in range(poisson(rng, p.VISITOR_EXTRA_SESSIONS))
            ]
            for visit_day in days:
                if visit_day < config.days:
                    seconds = local_seconds_at(rng, visitor.peak_hour, visitor.hour_spread)
                    self._visiting.setdefault(visit_day, []).append((seconds, visitor))

    def _tick(self, day: int) -> None:
        rng = self.rng
        calendar = self.calendar
        # Churn moves first: a user who leaves today opens no session today.
        staying = []
        for user in self.live:
            churn_step(user, day, rng)
            if user.status == CHURNED:
                if user.host is not None and user.host.dropped_day is None:
                    user.host.dropped_day = day
                continue
            staying.append(user)
        self.live = staying

        traffic = self.anomalies.traffic(day)
        for seconds, user in self._anonymous.pop(day, ()):
            if traffic == 1.0 or rng.random() < traffic:
                self.schedule(calendar.instant(day, seconds), sessions.anonymous_session, user)
        for seconds, visitor in self._visiting.pop(day, ()):
            if traffic == 1.0 or rng.random() < traffic:
                self.visitor_sessions += 1
                self.schedule(calendar.instant(day, seconds), sessions.visitor_session, visitor)

        for user in self.live:
            rate = daily_rate(user, day, calendar, self.anomalies)
            if user.status == FADING and user.fading_since is not None:
                rate *= fade_multiplier(day - user.fading_since)
            for _ in range(poisson(rng, rate)):
                seconds = local_seconds_at(rng, user.peak_hour, user.hour_spread)
                self.schedule(calendar.instant(day, seconds), sessions.browse_session, user)

        for host in self.world.hosts:
            user = host.user
            if host.dropped_day is not None or not user.registered or user.status == CHURNED:
                continue
            recent = host.fill_history[-3:]
            low_fill = len(recent) == 3 and sum(recent) / 3 < 0.2
            if rng.random() < p.HOST_DROPOUT_HAZARD * (2.0 if low_fill else 1.0):
                host.dropped_day = day
                continue
            for _ in range(poisson(rng, host.listings_per_week / 7.0)):
                seconds = local_seconds_at(rng, user.peak_hour, user.hour_spread)
                self.schedule(calendar.instant(day, seconds), marketplace.listing_create, host)

        wait = self.anomalies.days_until_traffic_returns(day)
        for user in self._joining.pop(day, ()):
            if wait and rng.random() >= traffic:  # a traffic drop: most of the day's sign-ups wait
                user.signup_day = day + wait
                self._joining.setdefault(user.signup_day, []).append(user)
                continue
            self.schedule(calendar.instant(day, user.signup_seconds), sessions.signup_session, user)
            if user.trial_only:  # looks around once and never opens the app again (a seat held is still used)
                user.status = CHURNED
                user.churned_day = day
                continue
            self.live.append(user)

        self._prune_listings(calendar.midnight(day))

    def _prune_listings(self, now: float) -> None:
        lead = p.MIN_REQUEST_LEAD_HOURS * 3600.0
        for key, bucket in self.open_listings.items():
            self.open_listings[key] = [
                listing for listing in bucket if listing.cancelled_at is None and now < listing.starts_at - lead
            ]

    # --- listings on offer ---------------------------------------------------------------------------
    def listing_open(self, listing: Listing, at: float) -> bool:
        return listing.cancelled_at is None and at < listing.starts_at - p.MIN_REQUEST_LEAD_HOURS * 3600.0

    def offer(self, listing: Listing) -> None:
        self.open_listings.setdefault((listing.city, listing.category_index), []).append(listing)
