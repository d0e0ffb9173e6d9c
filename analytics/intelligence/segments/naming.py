"""Names and descriptions for segments, read from their centres.

The documented persona names (`power_user`, `event_regular`, `social_explorer`, `passive_observer`) and
two more the marketplace knows (`deal_seeker`, `weekend_warrior`) are archetypes: each is a signature —
which features its members have well above (+) or below (−) the average user, in standard deviations.
Segments are matched to archetypes one-to-one (Hungarian assignment on how well each centre fits each
signature); a segment that fits no archetype well (score under `MIN_FIT`) gets a descriptive name from its
two most distinctive features instead. The signatures describe the archetypes in words a product manager
would use; they are not learned from any labelled data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

ARCHETYPES: dict[str, dict[str, float]] = {
    "power_user": {"sessions_per_week": 1.0, "views_per_session": 0.4, "searches_per_session": 0.3},
    "event_regular": {"request_rate": 1.0, "category_entropy": -0.6, "invites_per_session": -0.3},
    "social_explorer": {"invites_per_session": 1.0, "seats_per_request": 0.6, "category_entropy": 0.4},
    "passive_observer": {"request_rate": -1.0, "sessions_per_week": -0.6, "searches_per_session": -0.2},
    "deal_seeker": {"searches_per_session": 1.0, "viewed_price": -0.6},
    "weekend_warrior": {"weekend_share": 1.0, "hour_cos": -0.5},
}
DESCRIPTIONS = {
    "power_user": "Comes back far more often than most and browses deeply in each visit.",
    "event_regular": "Asks to join a large share of what they view, within a few favourite categories.",
    "social_explorer": "Brings friends: invites others and books for groups, across many categories.",
    "passive_observer": "Looks around now and then but rarely asks to join.",
    "deal_seeker": "Searches a lot and gravitates to cheaper listings.",
    "weekend_warrior": "Active mostly on weekends, in the daytime.",
}
FEATURE_WORDS = {
    "sessions_per_week": ("frequent", "occasional"),
    "views_per_session": ("deep_browsing", "brief"),
    "searches_per_session": ("searching", "non_searching"),
    "request_rate": ("committed", "hesitant"),
    "invites_per_session": ("inviting", "solo"),
    "seats_per_request": ("group", "single_seat"),
    "weekend_share": ("weekend", "weekday"),
    "hour_sin": ("morning", "evening"),
    "hour_cos": ("late_night", "daytime"),
    "category_entropy": ("eclectic", "focused"),
    "viewed_price": ("premium", "budget"),
}
MIN_FIT = 0.5
DISTINCTIVE = 0.3  # a feature describes a segment when its centre is at least this far from the mean (sd)


@dataclass(frozen=True)
class SegmentName:
    name: str
    description: str
    archetype: str | None  # the documented archetype it matched, if any
    fit: float


def _fit(centre: Mapping[str, float], signature: Mapping[str, float]) -> float:
    """Weighted mean of the signed z-scores the signature cares about (1.0 ≈ one sd in the right way)."""
    total = sum(abs(w) for w in signature.values())
    return sum(w * centre.get(feature, 0.0) for feature, w in signature.items()) / total


def _distinctive(centre: Mapping[str, float], n: int) -> list[str]:
    return [f for f in sorted(centre, key=lambda f: -abs(centre[f])) if abs(centre[f]) >= DISTINCTIVE][:n]


def descriptive_name(centre: Mapping[str, float]) -> str:
    top = _distinctive(centre, 2)
    words = [FEATURE_WORDS[f][0 if centre[f] > 0 else 1] for f in top if f in FEATURE_WORDS]
    return "_".join([*words, "users"]) if words else "typical_users"


def describe(centre: Mapping[str, float], archetype: str | None) -> str:
    """One sentence from the archetype (when matched) and the centre's three most distinctive features."""
    top = _distinctive(centre, 3)
    if not top:
        return f"{DESCRIPTIONS.get(archetype or '', 'A behaviour segment.')} Close to the average user."
    traits = ", ".join(
        f"{f.replace('_', ' ')} {'above' if centre[f] > 0 else 'below'} average ({centre[f]:+.1f} sd)" for f in top
    )
    lead = DESCRIPTIONS.get(archetype or "", "A behaviour segment.")
    return f"{lead} Most distinctive: {traits}."


def segments_name(centres: Sequence[Mapping[str, float]]) -> list[SegmentName]:
    """Names for segments given their centres as z-scores against all users (one mapping per segment)."""
    from scipy.optimize import linear_sum_assignment

    archetypes = list(ARCHETYPES)
    scores = [[_fit(c, ARCHETYPES[a]) for a in archetypes] for c in centres]
    rows, cols = linear_sum_assignment([[-s for s in row] for row in scores])
    matched = {int(r): archetypes[int(c)] for r, c in zip(rows, cols, strict=True) if scores[r][c] >= MIN_FIT}
    names: list[SegmentName] = []
    used: set[str] = set()
    for index, centre in enumerate(centres):
        archetype = matched.get(index)
        name = archetype or descriptive_name(centre)
        base, n = name, 2
        while name in used:
            name, n = f"{base}_{n}", n + 1
        used.add(name)
        fit = scores[index][archetypes.index(archetype)] if archetype else max(scores[index])
        names.append(SegmentName(name, describe(centre, archetype), archetype, round(fit, 3)))
    return names
