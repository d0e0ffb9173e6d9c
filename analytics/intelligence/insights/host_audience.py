"""Host optimisation, audience (`aspect` audience_category): a category the host's audience asks for
elsewhere more than the rest of the platform does. The audience is the people who asked to join one of the
host's listings in the last 180 days (at least 30); for each category the host holds under 10% of their
listings in, the share of the audience who asked to join a listing of that category by another host is
compared with the share among everyone else who asked to join anything (two-proportion z). The category
with the largest lift — at least 1.25 × and higher at 95% confidence, with 30 people on each side of the
share — is suggested: people who already come to this host go out for it.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from analytics.intelligence.insights.comparison import Z95
from analytics.intelligence.insights.drafts import MIN_OBSERVATIONS, InsightDraft, proportion_gap, z_confidence
from analytics.intelligence.insights.listings_frame import LOOKBACK_DAYS, PastListing
from analytics.models import EventListing, UserEvent

INSIGHT_TYPE = "host_optimisation"
HELD_SHARE = 0.1  # a category the host holds at least this share of their listings in is theirs already
MIN_LIFT = 1.25


@dataclass(frozen=True)
class Asks:
    """Who asked to join what over the lookback: per person, the (category, host) pairs."""

    by_person: dict[str, set[tuple[str, str]]]
    audience: dict[str, set[str]]  # host → the people who asked to join one of their listings
    askers_by_category: Counter[str]  # category → people who asked for one of its listings

    @property
    def people(self) -> int:
        return len(self.by_person)


def asks_read(now: datetime) -> Asks:
    pairs = (
        UserEvent.objects.filter(
            event_name="event_requested",
            user_id__isnull=False,
            listing_id__isnull=False,
            timestamp__gte=now - timedelta(days=LOOKBACK_DAYS),
            timestamp__lt=now,
        )
        .values_list("user_id", "listing_id")
        .distinct()
    )
    rows = [(str(person), str(listing)) for person, listing in pairs]
    ids = {listing for _, listing in rows}
    listings = {
        listing_id: (category or "uncategorised", host or "")
        for listing_id, category, host in EventListing.objects.filter(listing_id__in=ids).values_list(
            "listing_id", "category", "host_id"
        )
    }
    by_person: dict[str, set[tuple[str, str]]] = defaultdict(set)
    audience: dict[str, set[str]] = defaultdict(set)
    for person, listing in rows:
        known = listings.get(listing)
        if known is None:
            continue
        by_person[person].add(known)
        if known[1]:
            audience[known[1]].add(person)
    askers = Counter(category for asked in by_person.values() for category in {c for c, _ in asked})
    return Asks(dict(by_person), dict(audience), askers)


def audience_suggestion(host: str, own: list[PastListing], asks: Asks) -> InsightDraft | None:
    people = asks.audience.get(host, set())
    others = asks.people - len(people)
    if len(people) < MIN_OBSERVATIONS or others < MIN_OBSERVATIONS:
        return None
    held = Counter(x.category for x in own)
    best: tuple[float, str, int, int, float] | None = None  # (lift, category, audience hits, other hits, z)
    elsewhere = Counter(c for p in people for c in {c for c, h in asks.by_person[p] if h != host})
    anywhere = Counter(c for p in people for c in {c for c, _ in asks.by_person[p]})
    for category, askers in asks.askers_by_category.items():
        if held[category] >= HELD_SHARE * len(own):
            continue
        mine, theirs = elsewhere[category], askers - anywhere[category]
        p1, p2 = mine / len(people), theirs / others
        difference, se = proportion_gap(p1, len(people), p2, others)
        if p2 <= 0:
            continue
        z, lift = difference / se, p1 / p2
        if z >= Z95 and lift >= MIN_LIFT and (best is None or lift > best[0]):
            best = (lift, category, mine, theirs, z)
    if best is None:
        return None
    lift, category, mine, theirs, z = best
    main = held.most_common(1)[0][0]
    share, rest_share = mine / len(people), theirs / others
    return InsightDraft(
        insight_type=INSIGHT_TYPE,
        dedup_key=f"{INSIGHT_TYPE}:audience_category:{host}",
        title=f"Your audience goes to {category} listings: {100 * share:.0f}% against {100 * rest_share:.0f}%",
        description=(
            f"Over the last 180 days, {mine} of the {len(people)} people who asked to join your listings also asked "
            f"to join a {category} listing by another host ({100 * share:.0f}%), against {100 * rest_share:.0f}% "
            f"of the {others:,} other people who asked to join a listing. You hold most of your listings in "
            f"{main} and {held[category]} of {len(own)} in {category}."
        ),
        confidence=z_confidence(z),
        priority="low",
        suggested_actions=[f"Try a {category} listing for the audience you already have"],
        target_type="host",
        target_id=host,
        host_id=host,
        evidence={
            "aspect": "audience_category",
            "category": category,
            "host_main_category": main,
            "audience": len(people),
            "audience_asked": mine,
            "audience_share": round(share, 3),
            "comparison_size": others,
            "comparison_asked": theirs,
            "comparison_share": round(rest_share, 3),
            "lift": round(lift, 2),
            "z": round(z, 2),
            "comparison_group": "everyone else who asked to join a listing",
        },
        model_name="host_optimisation",
    )
