"""Host optimisation: for each host, what the listings like theirs say about when to hold an event and how
many seats to offer.

- **Best time** (`aspect` best_time): among the platform's listings of the host's main category over the
  last 180 days (or, where that category has too few to tell, among every listing), the weekday and the time
  of day whose listings filled best, against the other days (or times) at 95% confidence with at least
  `MIN_OBSERVATIONS` listings on each side — suggested only when the host holds most of their listings at
  other times.
- **Capacity** (`aspect` capacity): the host's own listings of the last 180 days (at least
  `MIN_OBSERVATIONS` requests): most sold out → add seats; filled under half as well as their category →
  fewer seats or more promotion.

- **Price band** (`host_pricing.py`) and **a category for the host's audience** (`host_audience.py`).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from analytics.intelligence.insights.comparison import FillGap, best_group, fill_gap
from analytics.intelligence.insights.drafts import MIN_OBSERVATIONS, Findings, InsightDraft, NotEnoughData, z_confidence
from analytics.intelligence.insights.host_audience import asks_read, audience_suggestion
from analytics.intelligence.insights.host_pricing import price_suggestion
from analytics.intelligence.insights.listings_frame import WEEKDAYS, PastListing, past_listings

INSIGHT_TYPE = "host_optimisation"
MIN_HOST_LISTINGS = 2
SOLD_OUT_SHARE = 0.5
MIN_SOLD_OUT_LISTINGS = 3
UNDERFILLED = 0.5


def _best_among(
    pools: Sequence[tuple[str, Sequence[PastListing]]], key: Callable[[PastListing], Any]
) -> tuple[Any, FillGap | None, str]:
    """The best value in the first pool that has one: the host's category, else every listing."""
    for label, pool in pools:
        value, gap = best_group(pool, key)
        if gap is not None:
            return value, gap, label
    return None, None, ""


def _best_time(
    host: str, own: list[PastListing], by_category: dict[str, list[PastListing]], everyone: list[PastListing]
) -> InsightDraft | None:
    category = Counter(x.category for x in own).most_common(1)[0][0]
    pools = ((f"{category} listings", by_category.get(category, [])), ("listings of every category", everyone))
    day, day_gap, day_pool = _best_among(pools, lambda x: x.weekday)
    band, band_gap, band_pool = _best_among(pools, lambda x: x.band)
    own_day_share = sum(1 for x in own if x.weekday == day) / len(own) if day is not None else 1.0
    own_band_share = sum(1 for x in own if x.band == band) / len(own) if band is not None else 1.0
    day_name = WEEKDAYS[day] if day is not None else ""
    suggest_day = day_gap is not None and own_day_share < 0.5
    suggest_band = band_gap is not None and own_band_share < 0.5
    if not (suggest_day or suggest_band):
        return None
    parts, evidence, zs = [], {"category": category, "host_listings": len(own)}, []
    if suggest_day and day_gap is not None:
        parts.append(
            f"{day_pool} on {day_name}s filled {100 * day_gap.group_fill:.0f}% of their seats "
            f"({day_gap.group_size} listings) against {100 * day_gap.rest_fill:.0f}% on other days "
            f"({day_gap.rest_size}); {100 * own_day_share:.0f}% of yours were on {day_name}s"
        )
        evidence["best_weekday"] = {
            "weekday": day_name,
            "host_share": round(own_day_share, 3),
            "peers": day_pool,
            **day_gap.as_dict(),
        }
        zs.append(day_gap.z)
    if suggest_band and band_gap is not None:
        parts.append(
            f"{band_pool} in the {band} filled {100 * band_gap.group_fill:.0f}% ({band_gap.group_size}) against "
            f"{100 * band_gap.rest_fill:.0f}% at other times ({band_gap.rest_size}); "
            f"{100 * own_band_share:.0f}% of yours were in the {band}"
        )
        evidence["best_time_of_day"] = {
            "band": band,
            "host_share": round(own_band_share, 3),
            "peers": band_pool,
            **band_gap.as_dict(),
        }
        zs.append(band_gap.z)
    when = " ".join(
        p
        for p in (
            f"on {day_name}s" if suggest_day else "",
            f"in the {band}" if suggest_band else "",
        )
        if p
    )
    return InsightDraft(
        insight_type=INSIGHT_TYPE,
        dedup_key=f"{INSIGHT_TYPE}:best_time:{host}",
        title=f"Hold your next {category} listing {when}",
        description="Over the last 180 days, " + "; ".join(parts) + ".",
        confidence=z_confidence(min(zs)),
        priority="medium",
        suggested_actions=[f"Schedule your next {category} listing {when}"],
        target_type="host",
        target_id=host,
        host_id=host,
        evidence={
            "aspect": "best_time",
            **evidence,
            "comparison_group": "the same listings at other times",
        },
        model_name="host_optimisation",
    )


def _capacity(host: str, own: list[PastListing], by_category: dict[str, list[PastListing]]) -> InsightDraft | None:
    sold_out = sum(1 for x in own if x.sold_out)
    category = Counter(x.category for x in own).most_common(1)[0][0]
    peers = [x for x in by_category.get(category, []) if x.host_id != host]
    figures: dict[str, Any] = {
        "aspect": "capacity",
        "category": category,
        "host_listings": len(own),
        "host_requests": sum(x.requests for x in own),
        "sold_out": sold_out,
        "host_fill": round(sum(x.fill for x in own) / len(own), 3),
        "seats_offered": sum(x.capacity for x in own),
        "seats_requested": sum(x.seats_requested for x in own),
    }
    common: dict[str, Any] = {
        "insight_type": INSIGHT_TYPE,
        "target_type": "host",
        "target_id": host,
        "host_id": host,
        "model_name": "host_optimisation",
    }
    if sold_out >= MIN_SOLD_OUT_LISTINGS and sold_out / len(own) >= SOLD_OUT_SHARE:
        full = [x for x in own if x.sold_out]
        full_asked, full_offered = sum(x.seats_requested for x in full), sum(x.capacity for x in full)
        return InsightDraft(
            dedup_key=f"{INSIGHT_TYPE}:capacity:{host}",
            title=f"{sold_out} of your {len(own)} listings sold out: add seats",
            description=(
                f"Over the last 180 days, {sold_out} of your {len(own)} listings had requests for every seat: "
                f"people asked for {full_asked:,} seats against the {full_offered:,} they offered."
            ),
            confidence=round(min(0.99, sold_out / len(own)), 3),
            priority="medium",
            suggested_actions=["Offer more seats or a second date", "Open a waitlist for sold-out listings"],
            evidence={
                **figures,
                "sold_out_seats_requested": full_asked,
                "sold_out_seats_offered": full_offered,
                "unmet_seats": full_asked - full_offered,
                "comparison_group": "the seats you offered",
            },
            **common,
        )
    if len(peers) >= MIN_OBSERVATIONS:
        gap = fill_gap(own, peers)
        if gap is not None and gap.group_fill <= UNDERFILLED * gap.rest_fill and gap.z <= -1.96:
            return InsightDraft(
                dedup_key=f"{INSIGHT_TYPE}:capacity:{host}",
                title=f"Your listings filled {100 * gap.group_fill:.0f}% of their seats; {category} listings fill "
                f"{100 * gap.rest_fill:.0f}%",
                description=(
                    f"Over the last 180 days your {len(own)} listings were asked for {figures['seats_requested']:,} "
                    f"of {figures['seats_offered']:,} seats ({100 * gap.group_fill:.0f}% on average), against "
                    f"{100 * gap.rest_fill:.0f}% for the other hosts' {gap.rest_size} {category} listings."
                ),
                confidence=z_confidence(gap.z),
                priority="low",
                suggested_actions=[
                    "Offer fewer seats or a smaller venue",
                    "Share your listings earlier and more widely",
                ],
                evidence={**figures, **gap.as_dict(), "comparison_group": f"other hosts' {category} listings"},
                **common,
            )
    return None


def _too_little(host: str, own: list[PastListing]) -> NotEnoughData | None:
    requests = sum(x.requests for x in own)
    if len(own) < MIN_HOST_LISTINGS or requests < MIN_OBSERVATIONS:
        return NotEnoughData(INSIGHT_TYPE, f"host {host}", requests, unit=f"requests over {len(own)} past listings")
    return None


def host_data_check(now: datetime, *, host_id: str) -> NotEnoughData | None:
    """Whether the host has the data a suggestion needs (only their own listings are read)."""
    return _too_little(host_id, past_listings(now, host_id=host_id))


def host_findings(now: datetime, *, host_id: str | None = None) -> Findings:
    """Suggestions for every host with listings in the last 180 days, or for one."""
    findings = Findings()
    listings = past_listings(now)
    by_category: dict[str, list[PastListing]] = defaultdict(list)
    by_host: dict[str, list[PastListing]] = defaultdict(list)
    for listing in listings:
        by_category[listing.category].append(listing)
        if listing.host_id:
            by_host[listing.host_id].append(listing)
    hosts = [host_id] if host_id is not None else sorted(by_host)
    asks = asks_read(now)
    for host in hosts:
        own = by_host.get(host, [])
        thin = _too_little(host, own)
        if thin is not None:
            findings.not_enough_data.append(thin)
            continue
        for draft in (
            _best_time(host, own, by_category, listings),
            _capacity(host, own, by_category),
            price_suggestion(host, own, by_category),
            audience_suggestion(host, own, asks),
        ):
            if draft is not None:
                findings.drafts.append(draft)
    return findings
