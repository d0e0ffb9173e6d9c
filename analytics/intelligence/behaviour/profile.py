"""A user's behaviour profile: the documented analysis, built from a snapshot (no queries here).

Every field is defined here once (docs/behaviour.md repeats the definitions):

- `engagement_score` — the engagement model's probability of opening the app in the next 30 days;
- `engagement_trend` — browsing sessions in the last 14 days against the 14 before: `rising` (≥ 1.5×
  and +2), `declining` (≤ 0.5× and −2), else `stable`; `new` when the first tracked event is under 14
  days old; `inactive` when no session in the last 30 days;
- `activity_patterns` — peak hours and days (business time zone), sessions per week, mean session
  length (minutes) and events per session, active days;
- `preferences` — top categories and cities of viewed listings, price band of viewed listings, share of
  sessions on weekends, most frequent actions, platform;
- `risk_factors` — codes (evidence in `risk_evidence`): `declining_activity`, `inactive`,
  `payment_failures` (≥ 2 failed payments, or ≥ 30% of attempts), `no_shows` (≥ 1 seat held on a
  listing that took place without a check-in, and at most half of held seats used), `negative_reviews`
  (a rating ≤ 2 or a review sentiment ≤ −0.3), `declined_requests` (≥ 2 requests declined).
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from statistics import mean
from typing import Any

from analytics.intelligence.behaviour.engagement import engagement_score, model_load
from analytics.intelligence.behaviour.features import NOT_USER_INITIATED, BehaviourSnapshot

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
PRICE_BANDS = ((0.0, "free"), (300.0, "budget"), (800.0, "mid"), (2000.0, "premium"), (math.inf, "luxury"))
TREND_WINDOW_DAYS = 14


@dataclass(frozen=True)
class BehaviourAnalysis:
    user_id: str
    engagement_score: float
    engagement_trend: str
    activity_patterns: dict[str, Any]
    preferences: dict[str, Any]
    risk_factors: list[str]
    risk_evidence: dict[str, dict[str, Any]] = field(default_factory=dict)
    model_version: str = ""


def engagement_trend(snapshot: BehaviourSnapshot) -> str:
    if snapshot.tenure_days() < TREND_WINDOW_DAYS:
        return "new"
    if snapshot.sessions_within(30) == 0:
        return "inactive"
    recent = snapshot.sessions_within(TREND_WINDOW_DAYS)
    before = snapshot.sessions_within(TREND_WINDOW_DAYS, skip=TREND_WINDOW_DAYS)
    if recent >= 1.5 * before and recent - before >= 2:
        return "rising"
    if recent <= 0.5 * before and before - recent >= 2:
        return "declining"
    return "stable"


def _top(counter: Counter[str], n: int = 3) -> list[dict[str, Any]]:
    total = sum(counter.values())
    return [{"value": key, "share": round(count / total, 3)} for key, count in counter.most_common(n)] if total else []


def price_band(price: float) -> str:
    for limit, name in PRICE_BANDS:
        if price <= limit:
            return name
    return PRICE_BANDS[-1][1]


def activity_patterns(snapshot: BehaviourSnapshot) -> dict[str, Any]:
    starts = snapshot.local_starts()
    hours = Counter(t.hour for t in starts)
    days = Counter(WEEKDAYS[t.weekday()] for t in starts)
    weeks = max(min(snapshot.tenure_days(), snapshot.lookback_days) / 7.0, 1.0)
    sessions = snapshot.sessions
    return {
        "peak_hours": [hour for hour, _ in hours.most_common(3)],
        "peak_days": [day for day, _ in days.most_common(3)],
        "sessions": len(sessions),
        "sessions_per_week": round(len(sessions) / weeks, 2),
        "session_length_minutes": round(mean(s.duration_seconds for s in sessions) / 60.0, 2) if sessions else None,
        "events_per_session": round(mean(s.events for s in sessions), 2) if sessions else None,
        "active_days": len({t.date() for t in starts}),
        "days_since_last_session": round(snapshot.days_since_last_session(), 1) if sessions else None,
    }


def preferences(snapshot: BehaviourSnapshot) -> dict[str, Any]:
    starts = snapshot.local_starts()
    weekend = sum(1 for t in starts if t.weekday() >= 5)
    actions = Counter({k: v for k, v in snapshot.events.items() if k not in NOT_USER_INITIATED and k != "page_view"})
    bands = Counter(price_band(p) for p in snapshot.viewed_prices)
    return {
        "categories": _top(snapshot.categories),
        "cities": _top(snapshot.cities),
        "price_band": bands.most_common(1)[0][0] if bands else None,
        "median_viewed_price": round(sorted(snapshot.viewed_prices)[len(snapshot.viewed_prices) // 2], 2)
        if snapshot.viewed_prices
        else None,
        "weekend_share": round(weekend / len(starts), 3) if starts else None,
        "time_preference": None if not starts else ("weekend" if weekend / len(starts) >= 0.5 else "weekday"),
        "actions": _top(actions, 5),
        "platform": snapshot.platforms.most_common(1)[0][0] if snapshot.platforms else None,
    }


def risk_factors(snapshot: BehaviourSnapshot, trend: str) -> tuple[list[str], dict[str, dict[str, Any]]]:
    evidence: dict[str, dict[str, Any]] = {}
    if trend == "declining":
        evidence["declining_activity"] = {
            "sessions_last_14_days": snapshot.sessions_within(TREND_WINDOW_DAYS),
            "sessions_previous_14_days": snapshot.sessions_within(TREND_WINDOW_DAYS, skip=TREND_WINDOW_DAYS),
        }
    if trend == "inactive":
        evidence["inactive"] = {"days_since_last_session": round(snapshot.days_since_last_session(), 1)}
    failed, completed = snapshot.events.get("payment_failed", 0), snapshot.events.get("payment_completed", 0)
    if failed >= 2 or (failed and failed / (failed + completed) >= 0.3):
        evidence["payment_failures"] = {"failed": failed, "completed": completed}
    missed = snapshot.seats_held - snapshot.seats_checked_in
    if missed >= 1 and snapshot.seats_checked_in <= snapshot.seats_held / 2:
        evidence["no_shows"] = {"seats_held": snapshot.seats_held, "checked_in": snapshot.seats_checked_in}
    low = [r for r in snapshot.ratings if r <= 2]
    negative = [s for s in snapshot.review_sentiments if s <= -0.3]
    if low or negative:
        evidence["negative_reviews"] = {"low_ratings": len(low), "negative_texts": len(negative)}
    declined = snapshot.events.get("event_request_declined", 0)
    if declined >= 2:
        evidence["declined_requests"] = {"declined": declined}
    return list(evidence), evidence


def behaviour_analyse(snapshot: BehaviourSnapshot) -> BehaviourAnalysis:
    trend = engagement_trend(snapshot)
    codes, evidence = risk_factors(snapshot, trend)
    return BehaviourAnalysis(
        user_id=snapshot.user_id,
        engagement_score=round(engagement_score(snapshot), 6),
        engagement_trend=trend,
        activity_patterns=activity_patterns(snapshot),
        preferences=preferences(snapshot),
        risk_factors=codes,
        risk_evidence=evidence,
        model_version=model_load().version,
    )
