"""Markets whose demand outgrows their supply: categories in a city where people asked for more seats than
the listings offered over the last 30 days, well beyond the platform's usual pressure.

A market is a (category, city) pair; its listings are those that started in the last 30 days (not
cancelled). Demand is the seats requested for them, supply their seats. A market is reported when its
requests cover at least its seats (ratio ≥ 1), its ratio is at least `OUTGROWS` × the platform's, and its
listings fill better than the other markets' at 95% confidence. Markets with fewer than `MIN_OBSERVATIONS`
requests are not judged.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from analytics.intelligence.insights.comparison import fill_gap
from analytics.intelligence.insights.drafts import MIN_OBSERVATIONS, Findings, InsightDraft, NotEnoughData, z_confidence
from analytics.intelligence.insights.listings_frame import PastListing, past_listings

INSIGHT_TYPE = "demand_supply"
DAYS = 30
OUTGROWS = 1.25
MIN_LISTINGS = 3


def demand_supply(now: datetime) -> Findings:
    findings = Findings()
    listings = past_listings(now, days=DAYS)
    seats = sum(x.capacity for x in listings)
    asked = sum(x.seats_requested for x in listings)
    requests = sum(x.requests for x in listings)
    if requests < MIN_OBSERVATIONS or seats == 0:
        findings.not_enough_data.append(NotEnoughData(INSIGHT_TYPE, "platform", requests, unit="requests"))
        return findings
    platform_ratio = asked / seats
    markets: dict[tuple[str, str], list[PastListing]] = defaultdict(list)
    for listing in listings:
        markets[(listing.category, listing.city)].append(listing)
    for (category, city), group in sorted(markets.items()):
        market_requests = sum(x.requests for x in group)
        if market_requests < MIN_OBSERVATIONS:
            findings.not_enough_data.append(
                NotEnoughData(INSIGHT_TYPE, f"{category} in {city}", market_requests, unit="requests")
            )
            continue
        market_seats = sum(x.capacity for x in group)
        market_asked = sum(x.seats_requested for x in group)
        ratio = market_asked / market_seats
        rest = [x for x in listings if (x.category, x.city) != (category, city)]
        gap = fill_gap(group, rest)
        if gap is None or len(group) < MIN_LISTINGS or ratio < max(1.0, OUTGROWS * platform_ratio) or gap.z < 1.96:
            continue
        sold_out = sum(1 for x in group if x.sold_out)
        hosts = len({x.host_id for x in group})
        findings.drafts.append(
            InsightDraft(
                insight_type=INSIGHT_TYPE,
                dedup_key=f"{INSIGHT_TYPE}:{category}:{city}",
                title=f"{category.capitalize()} in {city}: {ratio:.1f} seats asked for every seat offered",
                description=(
                    f"In the last {DAYS} days, {len(group)} {category} listings in {city} from {hosts} hosts offered "
                    f"{market_seats:,} seats and were asked for {market_asked:,} ({market_requests:,} requests); "
                    f"{sold_out} sold out. Across the platform, requests covered {platform_ratio:.2f} of the seats "
                    f"offered; these listings filled {100 * gap.group_fill:.0f}% against {100 * gap.rest_fill:.0f}% "
                    "for the other markets."
                ),
                confidence=z_confidence(gap.z),
                priority="high" if ratio >= 2 * max(platform_ratio, 0.5) else "medium",
                suggested_actions=[
                    f"Invite more {category} hosts in {city}",
                    f"Ask the {hosts} hosts already there to add seats or dates",
                ],
                target_type="platform",
                target_id=f"{category}/{city}",
                evidence={
                    "category": category,
                    "city": city,
                    "days": DAYS,
                    "listings": len(group),
                    "hosts": hosts,
                    "requests": market_requests,
                    "seats_offered": market_seats,
                    "seats_requested": market_asked,
                    "demand_to_supply": round(ratio, 3),
                    "sold_out": sold_out,
                    "platform_demand_to_supply": round(platform_ratio, 3),
                    **gap.as_dict(),
                    "comparison_group": f"the other category-city markets' listings of the last {DAYS} days",
                },
                model_name="demand_supply",
            )
        )
    return findings
