"""Host optimisation, price (`aspect` price_band): the price band whose priced listings of the host's main
category brought the most in tickets asked for per seat offered (price × fill) over the last 180 days,
against the other bands at 95% confidence with at least 30 listings on each side — suggested only when most
of the host's own priced listings are in other bands.

Seats that fill are not the measure: cheaper listings fill better almost by definition, and a host who
follows "lower your price" can fill every seat and earn less. The ticket value per seat offered weighs the
two together — the revenue side of the choice, with the demand it met. Free listings are a different
offer (no price to tune) and are left out on both sides.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from analytics.intelligence.insights.comparison import best_group
from analytics.intelligence.insights.drafts import InsightDraft, z_confidence
from analytics.intelligence.insights.listings_frame import PastListing
from analytics.intelligence.recommendations.candidates import price_band
from analytics.metrics.display import CURRENCY

INSIGHT_TYPE = "host_optimisation"
MIN_PRICED_LISTINGS = 2


def _band(listing: PastListing) -> str:
    return price_band(listing.price)


def _at(band: str) -> str:
    """ "under ₹500" reads on its own; "₹500–1,500" needs an "at"."""
    return band if band.startswith(("under", "over")) else f"at {band}"


def price_suggestion(
    host: str, own: list[PastListing], by_category: dict[str, list[PastListing]]
) -> InsightDraft | None:
    priced = [x for x in own if x.price > 0]
    if len(priced) < MIN_PRICED_LISTINGS:
        return None
    category = Counter(x.category for x in priced).most_common(1)[0][0]
    peers = [x for x in by_category.get(category, []) if x.price > 0]
    band, gap = best_group(peers, _band, lambda x: x.seat_yield)
    if band is None or gap is None:
        return None
    share = sum(1 for x in priced if _band(x) == band) / len(priced)
    if share >= 0.5:
        return None
    own_yield = sum(x.seat_yield for x in priced) / len(priced)
    evidence: dict[str, Any] = {
        "aspect": "price_band",
        "category": category,
        "price_band": band,
        "host_priced_listings": len(priced),
        "host_share_in_band": round(share, 3),
        "host_seat_yield": round(own_yield, 2),
        "host_median_price": sorted(x.price for x in priced)[len(priced) // 2],
        "measure": "ticket value asked for per seat offered (price × fill)",
        **gap.as_dict(),
        "comparison_group": f"priced {category} listings in the other price bands",
    }
    return InsightDraft(
        insight_type=INSIGHT_TYPE,
        dedup_key=f"{INSIGHT_TYPE}:price_band:{host}",
        title=f"Try pricing your next {category} listing {_at(band)}",
        description=(
            f"Over the last 180 days, priced {category} listings {_at(band)} were asked for "
            f"{CURRENCY}{gap.group_fill:,.0f} of tickets per seat offered ({gap.group_size} listings) against "
            f"{CURRENCY}{gap.rest_fill:,.0f} in the other price bands ({gap.rest_size}); "
            f"{100 * share:.0f}% of your {len(priced)} priced listings were {_at(band)}, with "
            f"{CURRENCY}{own_yield:,.0f} per seat offered."
        ),
        confidence=z_confidence(gap.z),
        priority="medium",
        suggested_actions=[f"Price your next {category} listing {_at(band)} and compare what its seats bring"],
        target_type="host",
        target_id=host,
        host_id=host,
        evidence=evidence,
        model_name="host_optimisation",
    )
