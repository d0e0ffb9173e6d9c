"""The hybrid ranking: how well a listing fits what the person has shown they like (category, city, price band,
time of week, a host they went to), how much interest it drew lately (popularity), what people with a similar
taste went for (host factors, collaborative.py), and how many open listings of the same category in the same
city compete for the person's attention (a person picks what kind of outing and where, then one listing among
those: each of n rivals gets about 1/n of that attention). Each taste factor is a smoothed share of the
person's weighted history, so someone with no history falls back to the priors: their home city and what is
popular (cold start), and a listing nobody has seen yet is carried by its content (new listings).

score = log p(category) + log p(city) + BAND·log p(price band) + SLOT·log p(time of week)
        + log(1 + HOST·share of the host) + POPULARITY·log(1 + 3·requests + views in 14 days)
        + w·host affinity − COMPETITION·log(open listings of the same category and city)

(w: the host factors' own weight, `HostFactors.weight`, 0 when their training found they did not help).

Each item carries a short reason built from facts of the person's history or the listing's interest.
"""

from __future__ import annotations

import heapq
import math
from collections import Counter
from dataclasses import dataclass

from analytics.intelligence.recommendations.candidates import PRICE_BANDS, Candidate
from analytics.intelligence.recommendations.collaborative import HostFactors
from analytics.intelligence.recommendations.tastes import SEARCH, Taste

ALPHA = 3.0  # the prior's weight, in history units (a view is 1)
HOME_SHARE = 0.7  # the prior's share of the person's home city
BAND = 0.5
SLOT = 0.3
HOST = 2.0
POPULARITY = 0.1
COMPETITION = 1.0
SLOTS = 4


@dataclass(frozen=True)
class Ranked:
    candidate: Candidate
    score: float
    reason: str


def _share(counts: Counter[str], key: str, total: float, prior: float) -> float:
    return (counts.get(key, 0.0) + ALPHA * prior) / (total + ALPHA)


def _city_prior(taste: Taste, city: str, cities: int) -> float:
    if taste.home_city is None:
        return 1.0 / max(cities, 1)
    return HOME_SHARE if city == taste.home_city else (1.0 - HOME_SHARE) / max(cities - 1, 1)


def popularity(candidate: Candidate) -> float:
    return candidate.popularity


def _scores(taste: Taste, candidates: list[Candidate], affinity: dict[str, float]) -> list[float]:
    """The module's formula for each candidate. The terms that depend only on a listing's category, city,
    price band, time of week, host or market are worked out once per value, not once per listing: a pool
    holds hundreds of listings that share a few dozen values."""
    total = taste.weight
    categories = {c.category for c in candidates}
    cities = {c.city for c in candidates}
    category = {v: math.log(_share(taste.category, v, total, 1.0 / len(categories))) for v in categories}
    city = {v: math.log(_share(taste.city, v, total, _city_prior(taste, v, len(cities)))) for v in cities}
    band = {
        v: BAND * math.log(_share(taste.band, v, total, 1.0 / len(PRICE_BANDS))) for v in {c.band for c in candidates}
    }
    slot = {v: SLOT * math.log(_share(taste.slot, v, total, 1.0 / SLOTS)) for v in {c.slot for c in candidates}}
    host = {
        h: math.log1p(HOST * taste.host.get(h, 0.0) / (total + ALPHA)) + affinity.get(h, 0.0)
        for h in {c.host_id for c in candidates}
    }
    rivals = Counter((c.category, c.city) for c in candidates)
    competition = {market: COMPETITION * math.log(n) for market, n in rivals.items()}
    return [
        category[c.category]
        + city[c.city]
        + band[c.band]
        + slot[c.slot]
        + host[c.host_id]
        + POPULARITY * c.popularity
        - competition[c.category, c.city]
        for c in candidates
    ]


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def reason(taste: Taste, candidate: Candidate) -> str:
    """The strongest fact behind the item, in words."""
    visits = taste.host_visits.get(candidate.host_id, 0)
    if visits:
        return f"you went to {_plural(visits, 'listing')} by this host"
    for name, verb in (
        ("event_checked_in", "attended"),
        ("event_requested", "asked to join"),
        ("event_viewed", "looked at"),
    ):
        in_city = taste.counts.get((name, candidate.category, candidate.city), 0)
        anywhere = taste.counts.get((name, candidate.category), 0)
        if in_city and (name != "event_viewed" or in_city >= 2):
            return f"because you {verb} {_plural(in_city, candidate.category + ' listing')} in {candidate.city}"
        if anywhere and (name != "event_viewed" or anywhere >= 2):
            return f"because you {verb} {_plural(anywhere, candidate.category + ' listing')}"
    searches = taste.counts.get((SEARCH, candidate.category), 0)
    if searches:
        return f"because you searched for {candidate.category} {_plural(searches, 'time')}"
    if candidate.requests:
        where = f" in {candidate.city}" if candidate.city == taste.home_city else ""
        return f"popular{where}: {_plural(candidate.requests, 'request')} in the last 14 days"
    if taste.home_city and candidate.city == taste.home_city:
        return f"new in {candidate.city}, where you use Loopin"
    return f"new {candidate.category} listing"


def rank(taste: Taste, candidates: list[Candidate], *, limit: int, factors: HostFactors | None = None) -> list[Ranked]:
    """The best `limit` candidates the person has not asked to join, best first."""
    affinity: dict[str, float] = {}
    if factors is not None and factors.weight:
        person = factors.person(taste.host)
        affinity = {h: factors.weight * factors.affinity(person, h) for h in {c.host_id for c in candidates}}
    scored = [
        (value, c)
        for value, c in zip(_scores(taste, candidates, affinity), candidates, strict=True)
        if c.listing_id not in taste.requested
    ]
    best = heapq.nsmallest(limit, scored, key=lambda pair: (-pair[0], pair[1].starts_at, pair[1].listing_id))
    return [Ranked(c, s, reason(taste, c)) for s, c in best]
