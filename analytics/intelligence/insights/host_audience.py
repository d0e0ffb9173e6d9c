"""Host optimisation, audience (`aspect` audience_category): a category the host's audience goes for, among
their other outings, more than other people of the host's city do.

The audience is the people who asked to join one of the host's listings in the last 180 days. What is
compared is the *mix* of their other asks — listings by other hosts, outside the host's main category — not
how often they ask: people who come to a host are active people, who ask for everything more often than the
average person, so "more of them asked for food" says they are active, not that they like food. Each person
counts once: their share of those other asks in a category, averaged over the audience and over the
comparison group — the other people who asked to join a listing in the host's main city (same supply), with
other asks of their own. For each category the host holds under 10% of their listings in, the difference of
the two means (Welch, at least 30 people on each side); the category with the largest lift — at least
1.25 × and higher at 95% confidence — is suggested.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from analytics.intelligence.insights.comparison import Z95, value_gap
from analytics.intelligence.insights.drafts import MIN_OBSERVATIONS, InsightDraft, z_confidence
from analytics.intelligence.insights.listings_frame import LOOKBACK_DAYS, PastListing
from analytics.models import EventListing, UserEvent

INSIGHT_TYPE = "host_optimisation"
HELD_SHARE = 0.1  # a category the host holds at least this share of their listings in is theirs already
MIN_LIFT = 1.25


@dataclass(frozen=True)
class Ask:
    category: str
    host: str
    city: str


@dataclass(frozen=True)
class Asks:
    """Who asked to join what over the lookback: per person, one `Ask` per listing."""

    by_person: dict[str, list[Ask]]
    audience: dict[str, set[str]]  # host → the people who asked to join one of their listings
    by_city: dict[str, set[str]]  # city → the people who asked to join a listing there
    categories: dict[str, Counter[str]]  # person → their asks by category


@dataclass(frozen=True)
class AudienceMix:
    """Per person, their other asks by category: the host's audience and the comparison group."""

    main_category: str
    city: str
    audience: dict[str, Counter[str]]
    others: dict[str, Counter[str]]

    @staticmethod
    def shares(mix: dict[str, Counter[str]], category: str) -> list[float]:
        return [asks[category] / sum(asks.values()) for asks in mix.values()]


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
    listings = {
        listing_id: Ask(category or "uncategorised", host or "", city or "unknown")
        for listing_id, category, host, city in EventListing.objects.filter(
            listing_id__in={listing for _, listing in rows}
        ).values_list("listing_id", "category", "host_id", "city")
    }
    by_person: dict[str, list[Ask]] = defaultdict(list)
    audience: dict[str, set[str]] = defaultdict(set)
    by_city: dict[str, set[str]] = defaultdict(set)
    for person, listing in rows:
        ask = listings.get(listing)
        if ask is None:
            continue
        by_person[person].append(ask)
        by_city[ask.city].add(person)
        if ask.host:
            audience[ask.host].add(person)
    categories = {person: Counter(a.category for a in asked) for person, asked in by_person.items()}
    return Asks(dict(by_person), dict(audience), dict(by_city), categories)


def audience_mix(host: str, own: list[PastListing], asks: Asks) -> AudienceMix:
    main = Counter(x.category for x in own).most_common(1)[0][0]
    city = Counter(x.city for x in own).most_common(1)[0][0]
    people = asks.audience.get(host, set())
    audience: dict[str, Counter[str]] = {}
    for person in people:
        elsewhere = Counter(a.category for a in asks.by_person[person] if a.host != host and a.category != main)
        if elsewhere:
            audience[person] = elsewhere
    others: dict[str, Counter[str]] = {}
    for person in asks.by_city.get(city, set()) - people:  # none of their asks is the host's
        elsewhere = Counter({c: n for c, n in asks.categories[person].items() if c != main})
        if elsewhere:
            others[person] = elsewhere
    return AudienceMix(main, city, audience, others)


def audience_suggestion(host: str, own: list[PastListing], asks: Asks) -> InsightDraft | None:
    mix = audience_mix(host, own, asks)
    if len(mix.audience) < MIN_OBSERVATIONS or len(mix.others) < MIN_OBSERVATIONS:
        return None
    held = Counter(x.category for x in own)
    categories = {c for asked in mix.audience.values() for c in asked}
    best = None
    for category in sorted(categories):
        if held[category] >= HELD_SHARE * len(own):
            continue
        gap = value_gap(mix.shares(mix.audience, category), mix.shares(mix.others, category))
        if gap is None or gap.rest_fill <= 0:
            continue
        lift = gap.group_fill / gap.rest_fill
        if gap.z >= Z95 and lift >= MIN_LIFT and (best is None or lift > best[0]):
            best = (lift, category, gap)
    if best is None:
        return None
    lift, category, gap = best
    return InsightDraft(
        insight_type=INSIGHT_TYPE,
        dedup_key=f"{INSIGHT_TYPE}:audience_category:{host}",
        title=(
            f"Your audience's other outings lean to {category}: {100 * gap.group_fill:.0f}% against "
            f"{100 * gap.rest_fill:.0f}%"
        ),
        description=(
            f"Over the last 180 days, of the listings outside {mix.main_category} that the {gap.group_size} people "
            f"who come to you asked to join elsewhere, {100 * gap.group_fill:.0f}% on average were {category} "
            f"listings, against {100 * gap.rest_fill:.0f}% for {gap.rest_size:,} other people who asked to join "
            f"listings in {mix.city}. You hold {held[category]} of your {len(own)} listings in {category}."
        ),
        confidence=z_confidence(gap.z),
        priority="low",
        suggested_actions=[f"Try a {category} listing for the audience you already have"],
        target_type="host",
        target_id=host,
        host_id=host,
        evidence={
            "aspect": "audience_category",
            "category": category,
            "host_main_category": mix.main_category,
            "city": mix.city,
            "audience": gap.group_size,
            "audience_share": round(gap.group_fill, 3),
            "comparison_size": gap.rest_size,
            "comparison_share": round(gap.rest_fill, 3),
            "lift": round(lift, 2),
            "z": round(gap.z, 2),
            "measure": f"a person's share of their other asks (other hosts, outside {mix.main_category})",
            "comparison_group": f"other people who asked to join listings in {mix.city}",
        },
        model_name="host_optimisation",
    )
