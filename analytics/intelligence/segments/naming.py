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

import math
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


HOUR_FEATURES = ("hour_sin", "hour_cos")
# Local hours (business time zone) → a word for when a segment comes.
TIMES_OF_DAY = ((5, "early"), (11, "morning"), (15, "midday"), (18, "afternoon"), (22, "evening"), (24, "late_night"))


def time_of_day(raw: Mapping[str, float]) -> str:
    """The word for a centre's mean session hour (from the mean sine and cosine of the hour)."""
    hour = (math.degrees(math.atan2(raw.get("hour_sin", 0.0), raw.get("hour_cos", 0.0))) / 15.0) % 24.0
    return next(word for limit, word in TIMES_OF_DAY if hour < limit) if hour >= 5 else "late_night"


def _distinctive(centre: Mapping[str, float], n: int) -> list[str]:
    """The features furthest from the average (≥ DISTINCTIVE sd); the two hour coordinates count as one."""
    scores = {f: abs(v) for f, v in centre.items() if f not in HOUR_FEATURES}
    hour = max((abs(centre.get(f, 0.0)) for f in HOUR_FEATURES), default=0.0)
    if hour:
        scores["time_of_day"] = hour
    return [f for f in sorted(scores, key=lambda f: -scores[f]) if scores[f] >= DISTINCTIVE][:n]


def _word(feature: str, centre: Mapping[str, float], raw: Mapping[str, float] | None) -> str | None:
    if feature == "time_of_day":
        return time_of_day(raw) if raw else None
    words = FEATURE_WORDS.get(feature)
    return None if words is None else words[0 if centre[feature] > 0 else 1]


def descriptive_name(centre: Mapping[str, float], raw: Mapping[str, float] | None = None) -> str:
    words = [w for f in _distinctive(centre, 2) if (w := _word(f, centre, raw))]
    return "_".join([*words, "users"]) if words else "typical_users"


def describe(centre: Mapping[str, float], archetype: str | None, raw: Mapping[str, float] | None = None) -> str:
    """One sentence from the archetype (when matched) and the centre's three most distinctive features."""
    lead = DESCRIPTIONS.get(archetype or "", "A behaviour segment.")
    top = _distinctive(centre, 3)
    if not top:
        return f"{lead} Close to the average user."
    traits = []
    for f in top:
        if f == "time_of_day":
            if raw:
                traits.append(f"comes mostly in the {time_of_day(raw).replace('_', ' ')}")
            continue
        traits.append(f"{f.replace('_', ' ')} {'above' if centre[f] > 0 else 'below'} average ({centre[f]:+.1f} sd)")
    return f"{lead} Most distinctive: {', '.join(traits)}."


def segments_name(
    centres: Sequence[Mapping[str, float]], raw: Sequence[Mapping[str, float]] | None = None
) -> list[SegmentName]:
    """Names for segments given their centres as z-scores against all users (one mapping per segment) and,
    optionally, in their own units (`raw`: the time of day is read from the mean hour)."""
    from scipy.optimize import linear_sum_assignment

    archetypes = list(ARCHETYPES)
    scores = [[_fit(c, ARCHETYPES[a]) for a in archetypes] for c in centres]
    rows, cols = linear_sum_assignment([[-s for s in row] for row in scores])
    matched = {int(r): archetypes[int(c)] for r, c in zip(rows, cols, strict=True) if scores[r][c] >= MIN_FIT}
    names: list[SegmentName] = []
    used: set[str] = set()
    for index, centre in enumerate(centres):
        archetype = matched.get(index)
        own = raw[index] if raw is not None else None
        name = archetype or descriptive_name(centre, own)
        base, n = name, 2
        while name in used:
            name, n = f"{base}_{n}", n + 1
        used.add(name)
        fit = scores[index][archetypes.index(archetype)] if archetype else max(scores[index])
        names.append(SegmentName(name, describe(centre, archetype, own), archetype, round(fit, 3)))
    return names
