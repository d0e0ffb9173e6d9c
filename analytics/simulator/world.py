"""The simulated world: users with latent traits, hosts, listings and join requests.

Everything here is drawn from the seeded world stream (`random.Random(f"{seed}:world")`), so the
same seed gives the same people whatever the behaviour code later does with them.
"""

from __future__ import annotations

import bisect
import math
import random
import uuid as uuid_lib
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from itertools import accumulate
from zoneinfo import ZoneInfo

from analytics.simulator import parameters as p
from analytics.simulator.config import SimulationConfig

ACTIVE, FADING, CHURNED = "active", "fading", "churned"


class Calendar:
    """Local days of the window as indices (0 = first day; negative and past-the-end allowed) and
    local wall-clock times as UTC epoch seconds — DST-safe for any business time zone."""

    def __init__(self, config: SimulationConfig) -> None:
        self.zone: ZoneInfo = config.zone
        self.start_date: date = config.start_date
        self.days = config.days
        self._midnights: dict[int, float] = {}
        self._uniform: dict[int, bool] = {}

    def date_of(self, day: int) -> date:
        return self.start_date + timedelta(days=day)

    def weekday(self, day: int) -> int:
        return self.date_of(day).weekday()

    def midnight(self, day: int) -> float:
        cached = self._midnights.get(day)
        if cached is None:
            cached = datetime.combine(self.date_of(day), time(0), tzinfo=self.zone).timestamp()
            self._midnights[day] = cached
        return cached

    def instant(self, day: int, seconds: float) -> float:
        """The epoch instant of local `day` at `seconds` after local midnight (0 ≤ seconds < 86,400)."""
        uniform = self._uniform.get(day)
        if uniform is None:
            uniform = self.midnight(day + 1) - self.midnight(day) == 86_400.0
            self._uniform[day] = uniform
        if uniform:
            return self.midnight(day) + seconds
        whole = int(seconds)
        local = datetime.combine(
            self.date_of(day), time(whole // 3600, (whole % 3600) // 60, whole % 60), tzinfo=self.zone
        )
        return local.timestamp() + (seconds - whole)

    def day_of(self, instant: float) -> int:
        """The local day index containing `instant`."""
        guess = int((instant - self.midnight(0)) // 86_400)
        while self.midnight(guess) > instant:
            guess -= 1
        while self.midnight(guess + 1) <= instant:
            guess += 1
        return guess

    def local_hour(self, instant: float) -> float:
        return (instant - self.midnight(self.day_of(instant))) / 3600.0


@dataclass(slots=True, eq=False)
class Host:
    user: User
    quality: float
    listings_per_week: float
    decline_rate: float
    cancel_propensity: float
    free_share: float
    price_premium: float
    categories: tuple[str, ...]
    dropped_day: int | None = None
    listings: list[Listing] = field(default_factory=list)
    fill_history: list[float] = field(default_factory=list)

    @property
    def host_id(self) -> str:
        return self.user.user_id


@dataclass(slots=True, eq=False)
class User:
    index: int
    user_id: str
    anonymous_id: str
    persona: str
    city: str
    user_agent: str
    on_app: bool  # the phone app (screens) or the web site (paths)
    signup_day: int
    signup_seconds: float  # local seconds after midnight of the sign-up day
    signup_method: str
    preferences: tuple[float, ...]
    price_sensitivity: float
    weekend_preference: float
    peak_hour: float
    hour_spread: float
    sessions_per_week: float
    views_per_session: float
    search_propensity: float
    request_propensity: float
    show_up_propensity: float
    review_propensity: float
    invite_propensity: float
    churn_hazard: float
    group_size: float
    anonymous_sessions: int
    host: Host | None = None
    # Latent state, changed by the behaviour.
    status: str = ACTIVE
    registered: bool = False
    frustration: float = 0.0
    fading_since: int | None = None
    churned_day: int | None = None
    requested: set[str] = field(default_factory=set)
    commitments: list[JoinRequest] = field(default_factory=list)  # requests that may still take an evening
    trial_only: bool = False  # signs up, looks around once, never opens the app again
    category_cumulative: tuple[float, ...] = ()  # cumulative view weights over CATEGORIES

    def affinity(self, category_index: int) -> float:
        """Preference relative to an indifferent user (1 = average)."""
        return self.preferences[category_index] * len(self.preferences)


@dataclass(slots=True, eq=False)
class Listing:
    listing_id: str
    host: Host
    category: str
    category_index: int
    city: str
    venue_type: str
    title: str
    price: int  # INR; 0 = free
    capacity: int
    created_at: float
    starts_at: float
    ends_at: float
    quality: float
    auto_accept: bool
    cancelled_at: float | None = None
    confirmed_seats: int = 0
    held_seats: int = 0  # accepted, awaiting payment
    requests: list[JoinRequest] = field(default_factory=list)

    @property
    def fill(self) -> float:
        return (self.confirmed_seats + self.held_seats) / self.capacity


@dataclass(slots=True, eq=False)
class JoinRequest:
    """A join request and, once accepted (and paid for a priced listing), a registration."""

    request_id: str
    user: User
    listing: Listing
    seats: int
    requested_at: float
    status: str = "pending"  # pending → declined | accepted → confirmed | payment_abandoned
    decided_at: float | None = None
    order_id: str | None = None
    amount: int = 0
    payment_attempts: int = 0
    confirmed_at: float | None = None
    show_up_probability: float | None = None
    shows_up: bool | None = None
    attendee_cancelled: bool = False
    outcome: str | None = None  # attended | no_show | cancelled_by_host | cancelled_by_attendee
    outcome_at: float | None = None  # when the outcome became visible (check-in, start, cancellation)
    experience: float | None = None
    rating: int | None = None
    reviewed_at: float | None = None


@dataclass(slots=True)
class World:
    users: list[User]
    hosts: list[Host]
    listings: list[Listing] = field(default_factory=list)
    requests: list[JoinRequest] = field(default_factory=list)


class IdSource:
    """Unique, seeded identifiers: numeric user and listing ids, hex order and session ids."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._used: set[str] = set()

    def number(self, low: int, high: int) -> str:
        while True:
            value = str(self._rng.randrange(low, high))
            if value not in self._used:
                self._used.add(value)
                return value

    def token(self, prefix: str, bits: int = 64) -> str:
        return f"{prefix}{self._rng.getrandbits(bits):0{bits // 4}x}"

    def uuid(self) -> str:
        return str(uuid_lib.UUID(int=self._rng.getrandbits(128), version=4))


def weighted_choice(rng: random.Random, items: tuple[tuple[str, float], ...]) -> str:
    threshold = rng.random() * sum(weight for _, weight in items)
    for item, weight in items:
        threshold -= weight
        if threshold < 0:
            return item
    return items[-1][0]


def beta_around(rng: random.Random, mean: float, concentration: float) -> float:
    mean = min(max(mean, 0.01), 0.99)
    return rng.betavariate(mean * concentration, (1 - mean) * concentration)


def dirichlet(rng: random.Random, alphas: tuple[float, ...]) -> tuple[float, ...]:
    draws = [max(rng.gammavariate(alpha, 1.0), 1e-12) for alpha in alphas]
    total = sum(draws)
    return tuple(draw / total for draw in draws)


def local_seconds_at(rng: random.Random, peak_hour: float, spread: float) -> float:
    """Seconds after local midnight, around the habitual hour (wrapped into the day)."""
    hour = rng.gauss(peak_hour, spread) % 24.0
    return min(hour * 3600.0, 86_399.0)


def arrival_days(rng: random.Random, config: SimulationConfig, calendar: Calendar, count: int) -> list[int]:
    """`count` day indices spread over the window with growth and weekly seasonality (sign-ups, visitors)."""
    days = config.days
    weights = []
    for day in range(days):
        growth = 1.0 + p.SIGNUP_GROWTH * (day / max(days - 1, 1))
        weights.append(growth * p.WEEKDAY_FACTOR[calendar.weekday(day)])
    cumulative = []
    total = 0.0
    for weight in weights:
        total += weight
        cumulative.append(total)
    return [min(bisect.bisect_right(cumulative, rng.random() * total), days - 1) for _ in range(count)]


def _user(rng: random.Random, ids: IdSource, index: int, signup_day: int) -> User:
    persona = rng.choices(p.PERSONAS, weights=[spec.share for spec in p.PERSONAS])[0]
    alphas = tuple(persona.preference_concentration * len(p.CATEGORIES) * bias for bias in persona.category_bias)
    preferences = dirichlet(rng, alphas)
    on_app = rng.random() < persona.mobile_share
    if on_app:
        agent = rng.choices(p.MOBILE_AGENTS, weights=p.MOBILE_AGENT_WEIGHTS)[0]
    else:
        agent = rng.choices(p.DESKTOP_AGENTS, weights=p.DESKTOP_AGENT_WEIGHTS)[0]
    peak = (persona.peak_hour + rng.gauss(0.0, p.PEAK_HOUR_SIGMA)) % 24.0
    spread = persona.hour_spread * math.exp(rng.gauss(0.0, p.HOUR_SPREAD_SIGMA))
    method = weighted_choice(rng, p.SIGNUP_METHODS)
    if method == "apple" and "iPhone" not in agent and "Macintosh" not in agent:
        method = "google"
    user = User(
        index=index,
        user_id=ids.number(1_000_000, 10_000_000),
        anonymous_id=ids.uuid(),
        persona=persona.name,
        city=weighted_choice(rng, p.CITIES),
        user_agent=agent,
        on_app=on_app,
        signup_day=signup_day,
        signup_seconds=local_seconds_at(rng, peak, spread),
        signup_method=method,
        preferences=preferences,
        price_sensitivity=beta_around(rng, persona.price_sensitivity, p.PRICE_SENSITIVITY_CONCENTRATION),
        weekend_preference=beta_around(rng, persona.weekend_preference, p.WEEKEND_CONCENTRATION),
        peak_hour=peak,
        hour_spread=spread,
        sessions_per_week=persona.sessions_per_week * math.exp(rng.gauss(0.0, p.ACTIVITY_SIGMA)),
        views_per_session=persona.views_per_session * math.exp(rng.gauss(0.0, p.VIEWS_SIGMA)),
        search_propensity=beta_around(rng, persona.search_propensity, p.PROPENSITY_CONCENTRATION),
        request_propensity=beta_around(rng, persona.request_propensity, p.PROPENSITY_CONCENTRATION),
        show_up_propensity=beta_around(rng, persona.show_up_propensity, p.PROPENSITY_CONCENTRATION),
        review_propensity=beta_around(rng, persona.review_propensity, p.PROPENSITY_CONCENTRATION),
        invite_propensity=beta_around(rng, persona.invite_propensity, p.PROPENSITY_CONCENTRATION),
        churn_hazard=persona.churn_hazard * math.exp(rng.gauss(0.0, p.CHURN_HAZARD_SIGMA)),
        group_size=persona.group_size,
        anonymous_sessions=(1 + (rng.random() < 0.4)) if rng.random() < p.ANONYMOUS_BROWSE_SHARE else 0,
        trial_only=rng.random() < persona.trial_only_share,
    )
    # Views pick a favourite category most of the time and browse the rest.
    explore = p.EXPLORATION / len(p.CATEGORIES)
    user.category_cumulative = tuple(accumulate((1 - p.EXPLORATION) * share + explore for share in preferences))
    return user


VISITOR_PERSONA = "visitor"


def visitor_build(rng: random.Random, ids: IdSource, index: int, arrival_day: int) -> User:
    """Someone who looks around without ever signing up: anonymous, on a browser, no strong tastes."""
    mobile = rng.random() < p.VISITOR_MOBILE_WEB
    if mobile:
        agent = rng.choices(p.MOBILE_AGENTS, weights=p.MOBILE_AGENT_WEIGHTS)[0]
    else:
        agent = rng.choices(p.DESKTOP_AGENTS, weights=p.DESKTOP_AGENT_WEIGHTS)[0]
    preferences = dirichlet(rng, (2.0,) * len(p.CATEGORIES))
    peak = rng.gauss(20.0, 3.0) % 24.0
    visitor = User(
        index=index,
        user_id="",
        anonymous_id=ids.uuid(),
        persona=VISITOR_PERSONA,
        city=weighted_choice(rng, p.CITIES),
        user_agent=agent,
        on_app=False,
        signup_day=arrival_day,
        signup_seconds=local_seconds_at(rng, peak, 2.5),
        signup_method="",
        preferences=preferences,
        price_sensitivity=beta_around(rng, 0.5, p.PRICE_SENSITIVITY_CONCENTRATION),
        weekend_preference=2 / 7,
        peak_hour=peak,
        hour_spread=2.5,
        sessions_per_week=0.0,
        views_per_session=p.VISITOR_VIEWS_PER_SESSION,
        search_propensity=0.25,
        request_propensity=0.0,
        show_up_propensity=0.0,
        review_propensity=0.0,
        invite_propensity=0.05,
        churn_hazard=0.0,
        group_size=1.0,
        anonymous_sessions=0,
    )
    explore = p.EXPLORATION / len(p.CATEGORIES)
    visitor.category_cumulative = tuple(accumulate((1 - p.EXPLORATION) * s + explore for s in preferences))
    return visitor


def _host(rng: random.Random, user: User) -> Host:
    ranked = sorted(range(len(p.CATEGORIES)), key=lambda i: -user.preferences[i] * rng.uniform(0.5, 1.5))
    categories = (p.CATEGORIES[ranked[0]],) + ((p.CATEGORIES[ranked[1]],) if rng.random() < 0.5 else ())
    return Host(
        user=user,
        quality=rng.betavariate(*p.HOST_QUALITY_BETA),
        listings_per_week=p.LISTINGS_PER_WEEK * math.exp(rng.gauss(0.0, p.LISTINGS_SIGMA)),
        decline_rate=rng.betavariate(*p.HOST_DECLINE_BETA),
        cancel_propensity=rng.betavariate(*p.HOST_CANCEL_BETA),
        free_share=beta_around(rng, p.FREE_SHARE, 6.0),
        price_premium=math.exp(rng.gauss(0.0, 0.35)),
        categories=categories,
    )


def world_build(config: SimulationConfig, calendar: Calendar) -> World:
    """Draw every user (persona, traits, sign-up time) and every host from the seed."""
    rng = random.Random(f"{config.seed}:world")
    ids = IdSource(random.Random(f"{config.seed}:world-ids"))
    signup_days = arrival_days(rng, config, calendar, config.users)
    users = [_user(rng, ids, index, day) for index, day in enumerate(signup_days)]

    host_count = min(config.users, max(p.MIN_HOSTS, round(p.HOST_SHARE * config.users)))
    chosen = rng.sample(range(config.users), host_count)
    launch = math.ceil(p.LAUNCH_HOST_SHARE * host_count)
    hosts = []
    for rank, index in enumerate(chosen):
        user = users[index]
        if rank < launch:
            user.signup_day = rng.randrange(0, min(p.LAUNCH_DAYS, config.days))
        user.host = _host(rng, user)
        user.churn_hazard *= p.HOST_CHURN_FACTOR
        user.trial_only = False
        hosts.append(user.host)
    for user in users:
        if user.signup_day == config.days - 1:
            # A sign-up takes a few minutes; on the last day it must finish inside the window.
            user.signup_seconds = min(user.signup_seconds, 86_400.0 - 1_800.0)
    users.sort(key=lambda u: (u.signup_day, u.signup_seconds, u.index))
    for index, user in enumerate(users):
        user.index = index
    hosts.sort(key=lambda h: h.user.index)
    return World(users=users, hosts=hosts)
