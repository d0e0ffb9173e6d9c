"""What users do in a session: browse anonymously, sign up, browse, search, view, request, invite.

Every function here is an agenda action `(simulation, at, user)`.
"""

from __future__ import annotations

import bisect
import math
from typing import TYPE_CHECKING

from analytics.simulator import parameters as p
from analytics.simulator import texts
from analytics.simulator.behaviour import marketplace
from analytics.simulator.behaviour.draws import poisson
from analytics.simulator.behaviour.visit import Visit
from analytics.simulator.world import CHURNED, FADING, JoinRequest, Listing, User, weighted_choice

if TYPE_CHECKING:
    from analytics.simulator.behaviour.engine import Simulation

QUERIES: dict[str, tuple[str, ...]] = {
    "music": ("live music", "jazz night", "open mic", "indie gig", "concert this weekend"),
    "tech": ("tech meetup", "ai workshop", "startup events", "python meetup", "hackathon"),
    "food": ("food walk", "baking class", "wine tasting", "brunch", "street food tour"),
    "sports": ("football", "badminton", "running club", "cricket match", "cycling group"),
    "art": ("pottery class", "painting workshop", "art walk", "photography walk", "sketching"),
    "networking": ("networking", "founders meetup", "women in tech", "freelancer meetup", "mixer"),
    "wellness": ("yoga", "meditation", "sound bath", "breathwork", "wellness retreat"),
    "comedy": ("standup comedy", "comedy show", "improv", "open mic comedy", "comedy night"),
}


def _pick_category(sim: Simulation, user: User) -> int:
    cumulative = user.category_cumulative
    return min(bisect.bisect_right(cumulative, sim.rng.random() * cumulative[-1]), len(cumulative) - 1)


def price_acceptance(user: User, listing: Listing) -> float:
    return 1.0 if listing.price == 0 else math.exp(-user.price_sensitivity * listing.price / p.PRICE_SCALE)


def pick_listing(sim: Simulation, user: User, at: float, category: int | None = None) -> Listing | None:
    """A listing the user opens: category by preference, home city mostly, two candidates compared on
    quality and price acceptance (the better one wins four times in five)."""
    rng = sim.rng
    for _ in range(3):
        index = category if category is not None else _pick_category(sim, user)
        category = None
        city = user.city if rng.random() < p.HOME_CITY_SHARE else weighted_choice(rng, p.CITIES)
        bucket = sim.open_listings.get((city, index))
        if not bucket:
            continue
        first = bucket[rng.randrange(len(bucket))]
        second = bucket[rng.randrange(len(bucket))]
        score_first = first.quality * math.sqrt(price_acceptance(user, first))
        score_second = second.quality * math.sqrt(price_acceptance(user, second))
        better, worse = (first, second) if score_first >= score_second else (second, first)
        chosen = better if rng.random() < 0.8 else worse
        if sim.listing_open(chosen, at):
            return chosen
    # Nothing open in the categories drawn: the home feed shows whatever is on offer in the city.
    stocked = [bucket for index in range(len(p.CATEGORIES)) if (bucket := sim.open_listings.get((user.city, index)))]
    if stocked:
        bucket = stocked[rng.randrange(len(stocked))]
        chosen = bucket[rng.randrange(len(bucket))]
        if sim.listing_open(chosen, at):
            return chosen
    return None


def _app_error(sim: Simulation, visit: Visit) -> None:
    rate = p.APP_ERROR * sim.anomalies.errors(visit.t)
    if sim.rng.random() < rate:
        visit.track(
            "app_error",
            {
                "error_type": sim.rng.choice(p.APP_ERRORS),
                "app_version": p.APP_VERSION,
                "fatal": sim.rng.random() < 0.2,
            },
        )
        visit.user.frustration += p.FRUSTRATION["app_error"]


def otp_flow(sim: Simulation, visit: Visit, otp_type: str) -> None:
    """OTP sent → (failed → resent)* → verified; at most three codes."""
    rng = sim.rng
    for attempt in range(1, 4):
        visit.track("otp_generated", {"otp_type": otp_type, "channel": "sms", "attempt": attempt})
        visit.api("otp")
        visit.wait(10.0, 60.0)
        if attempt < 3 and rng.random() < p.OTP_FAILURE:
            visit.track(
                "otp_failed",
                {"otp_type": otp_type, "reason": rng.choice(("invalid_code", "expired")), "attempt": attempt},
            )
            visit.user.frustration += p.FRUSTRATION["otp_failed"]
            continue
        visit.track("otp_verified", {"otp_type": otp_type, "attempt": attempt})
        visit.api("verify")
        return


def _search(sim: Simulation, visit: Visit) -> int:
    user = visit.user
    category = _pick_category(sim, user)
    name = p.CATEGORIES[category]
    results = len(sim.open_listings.get((user.city, category), ()))
    visit.track(
        "search_performed",
        {
            "results_count": results,
            "query": sim.rng.choice(QUERIES[name]),
            "category": name,
            "city": user.city,
        },
    )
    visit.api("search")
    return category


def _view(sim: Simulation, visit: Visit, listing: Listing) -> None:
    properties: dict[str, object] = {
        "listing_id": listing.listing_id,
        "host_id": listing.host.host_id,
        "category": listing.category,
        "price": listing.price,
    }
    if visit.user.on_app:
        properties["screen"] = "event_detail"
    else:
        properties["path"] = f"/events/{listing.listing_id}"
    visit.track("event_viewed", properties)
    visit.api("listing")


def _open_commitments(sim: Simulation, user: User, at: float) -> list[JoinRequest]:
    """The user's requests still ahead of them (pending, accepted or confirmed, not yet started)."""
    user.commitments = [
        r
        for r in user.commitments
        if r.listing.starts_at > at
        and r.status in ("pending", "accepted", "confirmed")
        and not r.attendee_cancelled
        and r.listing.cancelled_at is None
    ]
    return user.commitments


def _wants(sim: Simulation, user: User, listing: Listing, at: float) -> bool:
    if listing.listing_id in user.requested or listing.confirmed_seats + listing.held_seats >= listing.capacity:
        return False
    commitments = _open_commitments(sim, user, at)
    if len(commitments) >= p.MAX_UPCOMING_COMMITMENTS:
        return False
    calendar = sim.calendar
    day = calendar.day_of(listing.starts_at)
    if any(calendar.day_of(r.listing.starts_at) == day for r in commitments):
        return False  # one outing an evening
    affinity = min(2.5, user.affinity(listing.category_index))
    chance = (
        user.request_propensity
        * affinity
        * price_acceptance(user, listing)
        * (0.5 + listing.quality)
        * sim.anomalies.conversion(at)
    )
    if user.status == FADING:
        chance *= 0.6
    chance *= p.COMMITMENT_DAMPING ** len(commitments)
    return sim.rng.random() < min(chance, 0.9)


def browse(sim: Simulation, visit: Visit, *, views: float, may_request: bool = True, engagement: float = 1.0) -> None:
    """The body of a session: home, maybe a search, listing views, requests, other screens."""
    rng = sim.rng
    user = visit.user
    visit.page("home")
    visit.api("home")
    _app_error(sim, visit)
    category = _search(sim, visit) if rng.random() < user.search_propensity * engagement else None
    requests = 0
    for _ in range(poisson(rng, views * engagement)):
        listing = pick_listing(sim, user, visit.t, category)
        category = None
        if listing is None:
            break
        _view(sim, visit, listing)
        if may_request and requests < 2 and _wants(sim, user, listing, visit.t):
            marketplace.request_send(sim, visit, listing)
            requests += 1
        elif rng.random() < user.invite_propensity * 0.1:
            marketplace.invite_send(sim, visit, listing)
    for _ in range(poisson(rng, p.EXTRA_SCREENS_PER_SESSION)):
        screen = rng.choice(p.SCREENS_EXTRA)
        visit.page(screen)
        if screen == "notifications":
            visit.api("notifications")


def anonymous_session(sim: Simulation, at: float, user: User) -> None:
    """A visit before signing up: browsing only, under the device's anonymous id."""
    if user.registered:
        return
    visit = Visit(sim, user, at, anonymous=True)
    browse(sim, visit, views=min(user.views_per_session, 2.5), may_request=False)


def visitor_session(sim: Simulation, at: float, visitor: User) -> None:
    """Someone who never signs up: often opens a shared listing link, looks around, leaves (anonymous)."""
    visit = Visit(sim, visitor, at, anonymous=True)
    if sim.rng.random() < p.VISITOR_LANDS_ON_LISTING:
        listing = pick_listing(sim, visitor, at)
        if listing is not None:
            _view(sim, visit, listing)
    browse(sim, visit, views=visitor.views_per_session, may_request=False)


def signup_session(sim: Simulation, at: float, user: User) -> None:
    """Sign-up: anonymous welcome screen, OTP (phone), `user_registered` with both ids, profile, browse."""
    rng = sim.rng
    visit = Visit(sim, user, at, anonymous=True)
    visit.page("welcome")
    if user.signup_method == "phone_otp":
        otp_flow(sim, visit, "signup")
    visit.identified = True
    visit.track(
        "user_registered",
        {"method": user.signup_method, "city": user.city, "platform": "app" if user.on_app else "web"},
        both_ids=True,
    )
    user.registered = True
    sim.sessions += 1
    # Someone who will not come back engages less from the start: fewer profile fields, fewer views.
    most = p.TRIAL_PROFILE_FIELDS if user.trial_only else len(p.PROFILE_FIELDS)
    fields = rng.sample(p.PROFILE_FIELDS, rng.randint(1 if user.trial_only else 2, most))
    visit.track(
        "profile_updated",
        {
            "fields_completed": len(fields),
            "fields": sorted(fields),
            "is_verified": user.signup_method == "phone_otp" or rng.random() < 0.7,
        },
    )
    visit.api("profile")
    browse(sim, visit, views=user.views_per_session, engagement=p.TRIAL_ENGAGEMENT if user.trial_only else 1.0)


def browse_session(sim: Simulation, at: float, user: User) -> None:
    """A signed-up user's session."""
    if user.status == CHURNED:
        return
    rng = sim.rng
    sim.sessions += 1
    visit = Visit(sim, user, at)
    if rng.random() < p.LOGIN_SHARE:
        if user.signup_method == "phone_otp":
            otp_flow(sim, visit, "login")
        visit.track("user_logged_in", {"method": user.signup_method})
    browse(sim, visit, views=user.views_per_session, engagement=p.FADING_ENGAGEMENT if user.status == FADING else 1.0)
    if rng.random() < 0.02:
        fields = rng.sample(p.PROFILE_FIELDS, rng.randint(1, 3))
        visit.page("profile")
        visit.track(
            "profile_updated",
            {"fields_completed": len(fields), "fields": sorted(fields), "is_verified": True},
        )
        visit.api("profile")
    if rng.random() < p.FEEDBACK_SHARE:
        visit.track(
            "feedback_submitted",
            {"text": texts.feedback_text(rng, frustration=user.frustration), "topic": "app"},
        )
    if rng.random() < p.LOGOUT_SHARE:
        visit.track("user_logged_out", {"method": user.signup_method})
