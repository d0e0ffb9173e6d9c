"""The marketplace: hosts publish, edit and cancel listings; users request seats, hosts decide, users
pay (and sometimes fail), show up or not, check in and out, review; refunds and chargebacks follow.

Each public function is an agenda action `(simulation, at, subject)` or a step inside a session.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from analytics.simulator import parameters as p
from analytics.simulator import texts
from analytics.simulator.behaviour.draws import log_normal, poisson
from analytics.simulator.behaviour.visit import Visit
from analytics.simulator.emitter import iso
from analytics.simulator.world import CHURNED, FADING, Host, JoinRequest, Listing, weighted_choice

if TYPE_CHECKING:
    from analytics.simulator.behaviour.engine import Simulation

HOUR = 3600.0
DAY = 86_400.0


def _sigmoid(value: float) -> float:
    return 1.0 / (1.0 + math.exp(-value))


def _logit(probability: float) -> float:
    probability = min(max(probability, 1e-6), 1 - 1e-6)
    return math.log(probability / (1 - probability))


def _payment(request: JoinRequest, **extra: Any) -> dict[str, Any]:
    listing = request.listing
    return {
        "order_id": request.order_id,
        "listing_id": listing.listing_id,
        "amount": request.amount,
        "currency": p.CURRENCY,
        "host_id": listing.host.host_id,
        **extra,
    }


# --- hosts ------------------------------------------------------------------------------------------------
def _price(sim: Simulation, host: Host, category: str) -> int:
    raw = p.BASE_PRICE[category] * host.price_premium * math.exp(sim.rng.gauss(0.0, 0.2))
    return max(99, round(raw / 50.0) * 50 - 1)


def listing_create(sim: Simulation, at: float, host: Host) -> None:
    """A host publishes a listing from the app (`event_created` with every property of the plan)."""
    user = host.user
    if host.dropped_day is not None or user.status == CHURNED:
        return
    rng = sim.rng
    calendar = sim.calendar
    category = host.categories[0] if len(host.categories) == 1 or rng.random() < 0.7 else host.categories[1]
    venue_type, low, high = rng.choice(p.VENUES[category])
    start_day = calendar.day_of(at) + rng.randint(*p.LEAD_DAYS)
    weekend = calendar.weekday(start_day) >= 5
    hour = rng.choice(p.START_HOURS_WEEKEND if weekend else p.START_HOURS_WEEKDAY)
    starts_at = calendar.instant(start_day, hour * HOUR + rng.choice((0, 0, 1800)))
    free = rng.random() < host.free_share
    adjectives, nouns = p.TITLE_WORDS[category]
    listing = Listing(
        listing_id=sim.ids.number(100_000, 1_000_000),
        host=host,
        category=category,
        category_index=p.CATEGORIES.index(category),
        city=user.city,
        venue_type=venue_type,
        title=f"{rng.choice(adjectives)} {rng.choice(nouns)}",
        price=0 if free else _price(sim, host, category),
        capacity=rng.randint(low, high),
        created_at=at,
        starts_at=starts_at,
        ends_at=starts_at + rng.choice(p.DURATION_HOURS) * HOUR,
        quality=min(0.98, max(0.05, host.quality + rng.gauss(0.0, p.LISTING_QUALITY_SIGMA))),
        auto_accept=free and rng.random() < p.AUTO_ACCEPT_FREE,
    )
    visit = Visit(sim, user, at)
    visit.page("create_event")
    visit.track(
        "event_created",
        {
            "listing_id": listing.listing_id,
            "host_id": host.host_id,
            "category": category,
            "city": listing.city,
            "price": listing.price,
            "currency": p.CURRENCY,
            "capacity": listing.capacity,
            "starts_at": iso(listing.starts_at),
            "ends_at": iso(listing.ends_at),
            "title": listing.title,
            "venue_type": venue_type,
            "is_free": free,
        },
    )
    listing.created_at = visit.t
    visit.api("create")
    host.listings.append(listing)
    sim.world.listings.append(listing)
    sim.offer(listing)
    visit_end = visit.t
    if rng.random() < host.cancel_propensity:
        sim.schedule(
            rng.uniform(visit_end + HOUR, max(visit_end + HOUR, listing.starts_at - 2 * HOUR)),
            listing_cancel,
            (listing, "host_unavailable"),
        )
    if listing.price > 0 and listing.starts_at - DAY > visit_end:
        sim.schedule(listing.starts_at - DAY, low_fill_check, listing)
    if rng.random() < p.UPDATE_SHARE and listing.starts_at - 12 * HOUR > visit_end + HOUR:
        sim.schedule(rng.uniform(visit_end + HOUR, listing.starts_at - 12 * HOUR), listing_update, listing)
    sim.schedule(listing.starts_at, listing_start, listing)


def listing_update(sim: Simulation, at: float, listing: Listing) -> None:
    if listing.cancelled_at is not None or at >= listing.starts_at:
        return
    rng = sim.rng
    fields = rng.choice((["description"], ["title"], ["capacity"], ["cover_image"], ["description", "cover_image"]))
    properties: dict[str, Any] = {
        "listing_id": listing.listing_id,
        "host_id": listing.host.host_id,
        "fields_changed": fields,
    }
    if "capacity" in fields:
        listing.capacity = int(listing.capacity * rng.uniform(1.1, 1.5)) + 1
        properties["capacity"] = listing.capacity
    visit = Visit(sim, listing.host.user, at)
    visit.page("manage_event")
    visit.track("event_updated", properties)


def low_fill_check(sim: Simulation, at: float, listing: Listing) -> None:
    """A day before a priced listing starts, a nearly empty one is sometimes called off."""
    if listing.cancelled_at is not None:
        return
    if listing.confirmed_seats < p.LOW_FILL_SEATS and sim.rng.random() < p.LOW_FILL_CANCEL:
        listing_cancel(sim, at, (listing, "low_attendance"))


def listing_cancel(sim: Simulation, at: float, subject: tuple[Listing, str]) -> None:
    listing, reason = subject
    if listing.cancelled_at is not None or at >= listing.starts_at:
        return
    visit = Visit(sim, listing.host.user, at)
    visit.page("manage_event")
    visit.track(
        "event_cancelled",
        {
            "listing_id": listing.listing_id,
            "host_id": listing.host.host_id,
            "reason": reason,
            "confirmed_seats": listing.confirmed_seats,
        },
    )
    listing.cancelled_at = visit.t
    for request in listing.requests:
        if request.status in ("pending", "accepted"):
            if request.status == "accepted":
                listing.held_seats -= request.seats
            request.status = "cancelled"
            request.outcome = "cancelled_by_host"
            request.outcome_at = visit.t
        elif request.status == "confirmed" and not request.attendee_cancelled:
            request.outcome = "cancelled_by_host"
            request.outcome_at = visit.t
            request.user.frustration += p.FRUSTRATION["listing_cancelled"]
            if request.amount > 0:
                sim.schedule(visit.t + sim.rng.uniform(HOUR, 48 * HOUR), refund, (request, "event_cancelled"))


def listing_start(sim: Simulation, at: float, listing: Listing) -> None:
    if listing.cancelled_at is None:
        listing.host.fill_history.append(listing.confirmed_seats / listing.capacity)


# --- requests and decisions ------------------------------------------------------------------------------
def invite_send(sim: Simulation, visit: Visit, listing: Listing) -> None:
    rng = sim.rng
    visit.track(
        "event_invite_sent",
        {
            "listing_id": listing.listing_id,
            "host_id": listing.host.host_id,
            "channel": rng.choice(("whatsapp", "whatsapp", "instagram", "sms", "link")),
            "invitees": 1 + poisson(rng, 1.0),
        },
    )


def request_send(sim: Simulation, visit: Visit, listing: Listing) -> None:
    """`event_requested` from the app; the host (or auto-accept) decides later."""
    rng = sim.rng
    user = visit.user
    seats = max(
        1,
        min(
            1 + poisson(rng, user.group_size - 1.0),
            6,
            listing.capacity - listing.confirmed_seats - listing.held_seats,
        ),
    )
    request = JoinRequest(
        request_id=sim.ids.token("req_", 48), user=user, listing=listing, seats=seats, requested_at=0.0
    )
    visit.track(
        "event_requested",
        {
            "listing_id": listing.listing_id,
            "seats": seats,
            "host_id": listing.host.host_id,
            "request_id": request.request_id,
            "price": listing.price,
        },
    )
    request.requested_at = visit.t
    visit.api("request")
    user.requested.add(listing.listing_id)
    user.commitments.append(request)
    listing.requests.append(request)
    sim.world.requests.append(request)
    if rng.random() < user.invite_propensity:
        invite_send(sim, visit, listing)
    if listing.auto_accept:
        decided = visit.t + rng.uniform(1.0, 5.0)
    else:
        delay = min(max(log_normal(rng, p.HOST_DELAY_MEDIAN_HOURS * HOUR, 1.0), 300.0), 36 * HOUR)
        decided = max(visit.t + 60.0, min(visit.t + delay, listing.starts_at - 3 * HOUR))
    sim.schedule(decided, host_decide, request)


def host_decide(sim: Simulation, at: float, request: JoinRequest) -> None:
    """The host's decision, sent by the backend about the requester (no client session)."""
    if request.status != "pending":
        return
    rng = sim.rng
    listing = request.listing
    taken = listing.confirmed_seats + listing.held_seats
    if taken + request.seats > listing.capacity:
        reason = "full"
    elif taken / listing.capacity > p.NEAR_CAPACITY and rng.random() < 0.5:
        reason = "near_capacity"
    elif not listing.auto_accept and rng.random() < listing.host.decline_rate:
        reason = "host_choice"
    else:
        reason = ""
    request.decided_at = at
    base = {
        "listing_id": listing.listing_id,
        "host_id": listing.host.host_id,
        "request_id": request.request_id,
        "seats": request.seats,
    }
    user = request.user
    if reason:
        request.status = "declined"
        user.frustration += p.FRUSTRATION["request_declined"]
        sim.emit.backend("event_request_declined", at, user_id=user.user_id, properties={**base, "reason": reason})
        return
    request.status = "accepted"
    sim.emit.backend(
        "event_request_accepted",
        at,
        user_id=user.user_id,
        properties={**base, "decided_by": "auto" if listing.auto_accept else "host"},
    )
    if listing.price == 0:
        confirm(sim, request, at)
        return
    listing.held_seats += request.seats
    request.amount = listing.price * request.seats
    request.order_id = sim.ids.token("ord_", 48)
    pay_at = min(at + log_normal(rng, p.PAY_DELAY_MEDIAN_HOURS * HOUR, 1.0), listing.starts_at - HOUR)
    sim.schedule(max(at + 60.0, pay_at), payment_session, request)


# --- payments -------------------------------------------------------------------------------------------
def _abandon(request: JoinRequest) -> None:
    request.status = "payment_abandoned"
    request.listing.held_seats -= request.seats


def payment_session(sim: Simulation, at: float, request: JoinRequest) -> None:
    """Checkout: up to three attempts; each fails with the (anomaly-adjusted) failure probability."""
    if request.status != "accepted":
        return
    rng = sim.rng
    user = request.user
    listing = request.listing
    if user.status == CHURNED or rng.random() >= p.PAY_PROPENSITY - 0.15 * user.price_sensitivity:
        _abandon(request)
        return
    visit = Visit(sim, user, at)
    visit.page("checkout")
    method = weighted_choice(rng, p.PAYMENT_METHODS)
    for attempt in range(1, 4):
        request.payment_attempts = attempt
        visit.track("payment_initiated", _payment(request, payment_method=method, attempt=attempt))
        visit.api("checkout")
        failure = min(0.85, p.PAYMENT_FAILURE * sim.anomalies.payment_failure(visit.t))
        visit.wait(5.0, 40.0)
        if rng.random() < failure:
            visit.track(
                "payment_failed",
                _payment(
                    request,
                    payment_method=method,
                    attempt=attempt,
                    failure_reason=rng.choice(p.FAILURE_REASONS[method]),
                ),
            )
            user.frustration += p.FRUSTRATION["payment_failed"]
            if attempt == 3 or rng.random() >= p.PAYMENT_RETRY:
                user.frustration += p.FRUSTRATION["payment_abandoned"]
                _abandon(request)
                return
            visit.wait(15.0, 90.0)
            continue
        visit.track("payment_completed", _payment(request, payment_method=method, attempt=attempt))
        visit.api("confirm")
        listing.held_seats -= request.seats
        confirm(sim, request, visit.t)
        if rng.random() < p.CHARGEBACK:
            sim.schedule(visit.t + rng.uniform(10 * DAY, 40 * DAY), chargeback, request)
        return


def refund(sim: Simulation, at: float, subject: tuple[JoinRequest, str]) -> None:
    request, reason = subject
    sim.emit.backend("payment_refunded", at, user_id=request.user.user_id, properties=_payment(request, reason=reason))


def chargeback(sim: Simulation, at: float, request: JoinRequest) -> None:
    sim.emit.backend(
        "payment_chargeback",
        at,
        user_id=request.user.user_id,
        properties=_payment(request, reason="disputed"),
    )


# --- attendance --------------------------------------------------------------------------------------------
def show_up_probability(sim: Simulation, request: JoinRequest, at: float) -> float:
    """The exact probability that a confirmed seat is used (docs/simulator.md, "Attendance")."""
    user = request.user
    listing = request.listing
    lead_days = max(0.0, (listing.starts_at - at) / DAY)
    weekend = sim.calendar.weekday(sim.calendar.day_of(listing.starts_at)) >= 5
    value = (
        _logit(user.show_up_propensity)
        + p.SHOW_BASE
        + p.SHOW_PAID * (request.amount > 0)
        + p.SHOW_LEAD * lead_days
        + p.SHOW_AFFINITY * (min(user.affinity(listing.category_index), 3.0) - 1.0)
        + p.SHOW_WEEKEND * weekend
        + p.SHOW_FADING * (user.status == FADING)
    )
    low, high = p.SHOW_CLIP
    return min(high, max(low, _sigmoid(value)))


def confirm(sim: Simulation, request: JoinRequest, at: float) -> None:
    """A confirmed seat: its show-up probability is fixed now and the outcome drawn from it."""
    rng = sim.rng
    listing = request.listing
    request.status = "confirmed"
    request.confirmed_at = at
    listing.confirmed_seats += request.seats
    probability = show_up_probability(sim, request, at)
    request.show_up_probability = probability
    request.shows_up = rng.random() < probability
    if not request.shows_up and rng.random() < p.NO_SHOW_CANCELS and listing.starts_at - HOUR > at + 60.0:
        sim.schedule(rng.uniform(at + 60.0, listing.starts_at - HOUR), attendee_cancel, request)
    sim.schedule(listing.starts_at + rng.uniform(-15 * 60.0, 25 * 60.0), attend, request)


def attendee_cancel(sim: Simulation, at: float, request: JoinRequest) -> None:
    listing = request.listing
    if listing.cancelled_at is not None or request.user.status == CHURNED:
        return
    visit = Visit(sim, request.user, at)
    visit.page("my_events")
    visit.track(
        "registration_cancelled",
        {
            "listing_id": listing.listing_id,
            "host_id": listing.host.host_id,
            "request_id": request.request_id,
            "seats": request.seats,
        },
    )
    request.attendee_cancelled = True
    request.outcome = "cancelled_by_attendee"
    request.outcome_at = visit.t
    listing.confirmed_seats -= request.seats
    if request.amount > 0:
        sim.schedule(visit.t + sim.rng.uniform(HOUR, 48 * HOUR), refund, (request, "attendee_cancelled"))


def attend(sim: Simulation, at: float, request: JoinRequest) -> None:
    """At the start: attendees check in at the venue (even ones who have since left the app)."""
    listing = request.listing
    if listing.cancelled_at is not None or request.attendee_cancelled or request.status != "confirmed":
        return
    if not request.shows_up:
        request.outcome = "no_show"
        request.outcome_at = at
        return
    rng = sim.rng
    user = request.user
    request.outcome = "attended"
    visit = Visit(sim, user, at)
    visit.page("ticket")
    visit.api("ticket")
    seat = {
        "listing_id": listing.listing_id,
        "seats": request.seats,
        "host_id": listing.host.host_id,
        "request_id": request.request_id,
    }
    visit.track("event_checked_in", seat)
    request.outcome_at = visit.t
    experience = min(
        1.0,
        max(
            0.0,
            listing.quality
            + rng.gauss(0.0, p.EXPERIENCE_SIGMA)
            + 0.05 * (min(user.affinity(listing.category_index), 3.0) - 1.0),
        ),
    )
    request.experience = experience
    perceived = experience + rng.gauss(0.0, p.RATING_SIGMA)
    request.rating = 1 + sum(perceived >= threshold for threshold in p.RATING_THRESHOLDS)
    if experience < p.POOR_EXPERIENCE:
        user.frustration += p.FRUSTRATION["poor_experience"]
    elif experience < p.MEDIOCRE_EXPERIENCE:
        user.frustration += p.FRUSTRATION["mediocre_experience"]
    elif experience > p.GREAT_EXPERIENCE:
        user.frustration = max(0.0, user.frustration + p.FRUSTRATION["great_experience"])
    if rng.random() < p.CHECKOUT_SHARE:
        sim.schedule(listing.ends_at + rng.uniform(-30 * 60.0, 10 * 60.0), checkout, (request, seat))
    chance = user.review_propensity
    if experience < p.POOR_EXPERIENCE:
        chance *= p.REVIEW_POOR_BOOST
    elif experience > p.GREAT_EXPERIENCE:
        chance *= p.REVIEW_GREAT_BOOST
    if rng.random() < chance:
        delay = min(max(log_normal(rng, 5 * HOUR, 0.8), 10 * 60.0), 72 * HOUR)
        sim.schedule(listing.ends_at + delay, review_session, request)


def checkout(sim: Simulation, at: float, subject: tuple[JoinRequest, dict[str, Any]]) -> None:
    request, seat = subject
    visit = Visit(sim, request.user, at)
    visit.track("event_checked_out", seat)


def review_session(sim: Simulation, at: float, request: JoinRequest) -> None:
    user = request.user
    if user.status == CHURNED or request.rating is None:
        return
    listing = request.listing
    visit = Visit(sim, user, at)
    visit.page("review")
    visit.track(
        "review_submitted",
        {
            "listing_id": listing.listing_id,
            "host_id": listing.host.host_id,
            "rating": request.rating,
            "text": texts.review_text(sim.rng, rating=request.rating, category=listing.category),
        },
    )
    request.reviewed_at = visit.t
    visit.api("review")
