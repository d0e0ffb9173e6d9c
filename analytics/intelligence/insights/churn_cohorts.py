"""Churn-risk cohorts: who the active churn model says is about to leave, and what sets them apart.

Read from the newest business day of scoring (`UserPrediction`, written by `score_prediction_models`) and
the same features the model saw (`churn_features` now). Two kinds of finding, both `churn_risk_cohort`:

- the **high-risk cohort** (risk ≥ `HIGH_CHURN_RISK`) against everyone else scored, with its size, its
  expected churn against the rest's, and the three features that set it apart most (standardised mean
  difference) as its main drivers;
- **driver cohorts**: people who went through an experience that makes people leave (a failed payment, a
  declined request, a no-show, an app error, a failed OTP, a negative review, a sharp drop in sessions)
  against those who did not.

Each states a **margin**: the lower end of the 95% interval of the difference between the cohort's mean
predicted churn and the rest's — what the evaluation checks against what happened (docs/insights.md).
Both groups need `MIN_OBSERVATIONS` people; a driver cohort is reported only when its margin is at least
`MIN_MARGIN`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from django.db.models import Max

from analytics.intelligence.churn.features import FEATURES, FeatureFrame, churn_features
from analytics.intelligence.churn.scoring import HIGH_CHURN_RISK
from analytics.intelligence.insights.drafts import (
    MIN_OBSERVATIONS,
    Findings,
    InsightDraft,
    NotEnoughData,
    pct,
    proportion_gap,
    z_confidence,
)
from analytics.intelligence.registry import model_active
from analytics.models import UserPrediction

INSIGHT_TYPE = "churn_risk_cohort"
MIN_MARGIN = 0.05  # a driver cohort at least 5 points likelier to churn than the rest
Z95 = 1.96


@dataclass(frozen=True)
class Driver:
    name: str
    says: str  # "had a failed payment in the last 90 days"
    selects: Callable[[FeatureFrame], np.ndarray]  # boolean mask over the frame's rows
    actions: tuple[str, ...]


def _column(frame: FeatureFrame, name: str) -> np.ndarray:
    return frame.matrix[:, FEATURES.index(name)]


def _over(name: str, threshold: float = 0.0) -> Callable[[FeatureFrame], np.ndarray]:
    return lambda frame: np.nan_to_num(_column(frame, name), nan=0.0) > threshold


def _sessions_halved(frame: FeatureFrame) -> np.ndarray:
    recent, previous = _column(frame, "sessions_30"), _column(frame, "sessions_prev_30")
    return (previous >= 2) & (recent * 2 <= previous)


def _negative_review(frame: FeatureFrame) -> np.ndarray:
    sentiment, rating = _column(frame, "sentiment_mean"), _column(frame, "rating_min")
    return (np.nan_to_num(sentiment, nan=0.0) < -0.05) | (np.nan_to_num(rating, nan=5.0) <= 2)


DRIVERS: tuple[Driver, ...] = (
    Driver(
        "payment_failed",
        "had a payment fail in the last 90 days",
        _over("payment_failures_90"),
        (
            "Send people whose payment failed a fresh payment link with another method",
            "Check the failure reasons with the payment provider",
        ),
    ),
    Driver(
        "request_declined",
        "had a join request declined in the last 90 days",
        _over("declined_90"),
        (
            "After a decline, suggest similar listings that still have seats",
            "Show hosts their decline rate next to the platform's",
        ),
    ),
    Driver(
        "no_show",
        "missed a listing they had a seat for in the last 90 days",
        _over("no_shows_90"),
        ("Send reminders a day and two hours before the start", "Make cancelling a seat one tap"),
    ),
    Driver(
        "app_error",
        "hit an app error in the last 30 days",
        _over("app_errors_30"),
        ("Fix the most frequent app errors first", "Follow up with people who hit one"),
    ),
    Driver(
        "otp_failed",
        "failed an OTP sign-in in the last 30 days",
        _over("otp_failures_30"),
        ("Check OTP delivery by operator and region", "Offer another sign-in method after a failure"),
    ),
    Driver(
        "negative_review",
        "left a low rating or a negative review",
        _negative_review,
        ("Reply to low ratings within a day", "Share the complaints with the hosts concerned"),
    ),
    Driver(
        "sessions_halved",
        "came half as often in the last 30 days as in the 30 before",
        _sessions_halved,
        ("Send a personal pick of upcoming listings", "Ask what changed in a one-question survey"),
    ),
)

# Features shown as the high-risk cohort's drivers: (feature, what it is, unit).
DRIVER_FEATURES: tuple[tuple[str, str, str], ...] = (
    ("recency_days", "days since their last visit", "days"),
    ("active_days_7", "active days in the last week", "days"),
    ("sessions_30", "sessions in the last 30 days", "sessions"),
    ("session_trend", "sessions this week against their 30-day pace", "ratio"),
    ("overdue_ratio", "silence against their usual gap between visits", "ratio"),
    ("payment_failures_90", "failed payments in 90 days", "payments"),
    ("declined_90", "declined requests in 90 days", "requests"),
    ("no_shows_90", "no-shows in 90 days", "no-shows"),
    ("app_errors_30", "app errors in 30 days", "errors"),
    ("check_ins_90", "check-ins in 90 days", "check-ins"),
    ("sentiment_mean", "review sentiment", "score"),
)


@dataclass(frozen=True)
class Scored:
    frame: FeatureFrame
    risk: np.ndarray  # the stored churn risk of each row of the frame
    day: str
    version: str


def scored_population(now: datetime) -> Scored | None:
    """The newest day's stored churn risks, aligned with the features of the same people now."""
    day = UserPrediction.objects.filter(churn_risk__isnull=False).aggregate(day=Max("scored_on"))["day"]
    if day is None:
        return None
    rows = UserPrediction.objects.filter(scored_on=day, churn_risk__isnull=False)
    risks = dict(rows.values_list("user_id", "churn_risk"))
    version = rows.aggregate(v=Max("churn_model_version"))["v"]
    frame = churn_features(as_of=now, user_ids=sorted(risks))
    return Scored(frame, np.array([risks[u] for u in frame.user_ids], dtype=float), day.isoformat(), str(version or ""))


def _gap(risk: np.ndarray, mask: np.ndarray) -> dict[str, Any]:
    inside, outside = risk[mask], risk[~mask]
    p1, p2 = float(inside.mean()), float(outside.mean())
    difference, se = proportion_gap(p1, len(inside), p2, len(outside))
    return {
        "cohort_size": len(inside),
        "comparison_size": len(outside),
        "cohort_expected_churn": round(p1, 3),
        "comparison_expected_churn": round(p2, 3),
        "difference": round(difference, 3),
        "stated_margin": round(difference - Z95 * se, 3),
        "z": round(difference / se, 2) if se > 0 else 0.0,
    }


def _drivers(frame: FeatureFrame, mask: np.ndarray) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for name, label, unit in DRIVER_FEATURES:
        column = _column(frame, name)
        inside, outside = column[mask], column[~mask]
        inside, outside = inside[~np.isnan(inside)], outside[~np.isnan(outside)]
        if len(inside) < MIN_OBSERVATIONS or len(outside) < MIN_OBSERVATIONS:
            continue
        spread = math.sqrt((inside.var() + outside.var()) / 2.0)
        if spread == 0:
            continue
        effect = (inside.mean() - outside.mean()) / spread
        found.append(
            {
                "feature": name,
                "label": label,
                "unit": unit,
                "cohort_mean": round(float(inside.mean()), 2),
                "comparison_mean": round(float(outside.mean()), 2),
                "standardised_difference": round(float(effect), 2),
            }
        )
    found.sort(key=lambda d: -abs(float(d["standardised_difference"])))
    return found[:3]


def _priority(share: float, margin: float) -> str:
    if share >= 0.2 and margin >= 0.3:
        return "high"
    return "medium" if share >= 0.05 or margin >= 0.2 else "low"


HIGH_RISK = "high_churn_risk"


@dataclass(frozen=True)
class Cohort:
    key: str  # HIGH_RISK or a driver's name
    mask: np.ndarray  # over the frame's rows
    gap: dict[str, Any]  # `_gap`: sizes, expected churn on each side, the stated margin
    driver: Driver | None = None


def stated_cohorts(frame: FeatureFrame, risk: np.ndarray) -> tuple[list[Cohort], list[NotEnoughData]]:
    """The cohorts an insight states, by the rules above, for a frame and its churn risks (the generator's
    and the evaluation's one definition)."""
    cohorts: list[Cohort] = []
    thin: list[NotEnoughData] = []
    high = risk >= HIGH_CHURN_RISK
    n_high = int(high.sum())
    if n_high < MIN_OBSERVATIONS or frame.rows - n_high < MIN_OBSERVATIONS:
        thin.append(NotEnoughData(INSIGHT_TYPE, "high churn risk cohort", n_high, unit="people at high risk"))
    else:
        cohorts.append(Cohort(HIGH_RISK, high, _gap(risk, high)))
    for driver in DRIVERS:
        mask = driver.selects(frame)
        inside = int(mask.sum())
        if inside < MIN_OBSERVATIONS or frame.rows - inside < MIN_OBSERVATIONS:
            thin.append(NotEnoughData(INSIGHT_TYPE, f"users who {driver.says}", inside, unit="people"))
            continue
        gap = _gap(risk, mask)
        if gap["stated_margin"] >= MIN_MARGIN:
            cohorts.append(Cohort(driver.name, mask, gap, driver))
    return cohorts, thin


def _high_risk_draft(scored: Scored, cohort: Cohort, common: dict[str, Any]) -> InsightDraft:
    frame, gap = scored.frame, cohort.gap
    n_high = gap["cohort_size"]
    drivers = _drivers(frame, cohort.mask)
    share = n_high / frame.rows
    said = "; ".join(f"{d['label']} {d['cohort_mean']:g} against {d['comparison_mean']:g}" for d in drivers)
    return InsightDraft(
        insight_type=INSIGHT_TYPE,
        dedup_key=f"{INSIGHT_TYPE}:high_risk",
        title=f"{n_high:,} active users ({pct(share)}) are at high churn risk",
        description=(
            f"{n_high:,} of the {frame.rows:,} users active in the last 30 days have a churn risk of "
            f"{pct(HIGH_CHURN_RISK)} or more (scored {scored.day}): expected churn "
            f"{pct(gap['cohort_expected_churn'])} against {pct(gap['comparison_expected_churn'])} for the "
            f"other {gap['comparison_size']:,}, at least {pct(gap['stated_margin'])} more."
            + (f" What sets them apart: {said}." if said else "")
        ),
        confidence=z_confidence(gap["z"]),
        priority=_priority(share, gap["stated_margin"]),
        suggested_actions=[
            "Send the high-risk cohort a personal pick of upcoming listings this week",
            "Offer a first-seat discount to those who have not checked in for 30 days",
        ],
        target_type="cohort",
        target_id=HIGH_RISK,
        evidence={
            **gap,
            "threshold": HIGH_CHURN_RISK,
            "population": frame.rows,
            "scored_on": scored.day,
            "comparison_group": f"the other users active in the last 30 days (risk under {HIGH_CHURN_RISK})",
            "drivers": drivers,
        },
        **common,
    )


def _driver_draft(scored: Scored, cohort: Cohort, driver: Driver, common: dict[str, Any]) -> InsightDraft:
    gap = cohort.gap
    return InsightDraft(
        insight_type=INSIGHT_TYPE,
        dedup_key=f"{INSIGHT_TYPE}:{driver.name}",
        title=f"Users who {driver.says} are likelier to leave",
        description=(
            f"{gap['cohort_size']:,} active users {driver.says}: expected churn "
            f"{pct(gap['cohort_expected_churn'])} against {pct(gap['comparison_expected_churn'])} for the "
            f"{gap['comparison_size']:,} who did not, at least {pct(gap['stated_margin'])} more."
        ),
        confidence=z_confidence(gap["z"]),
        priority=_priority(gap["cohort_size"] / scored.frame.rows, gap["stated_margin"]),
        suggested_actions=list(driver.actions),
        target_type="cohort",
        target_id=driver.name,
        evidence={
            **gap,
            "population": scored.frame.rows,
            "scored_on": scored.day,
            "cohort": f"users active in the last 30 days who {driver.says}",
            "comparison_group": "the other users active in the last 30 days",
        },
        **common,
    )


def churn_cohorts(now: datetime) -> Findings:
    findings = Findings()
    model = model_active("churn")
    scored = scored_population(now) if model is not None else None
    if scored is None or scored.frame.rows < 2 * MIN_OBSERVATIONS:
        people = 0 if scored is None else scored.frame.rows
        findings.not_enough_data.append(
            NotEnoughData(INSIGHT_TYPE, "platform", people, 2 * MIN_OBSERVATIONS, "people scored")
        )
        return findings
    common: dict[str, Any] = {"model_name": "churn", "model_version": scored.version}
    cohorts, findings.not_enough_data = stated_cohorts(scored.frame, scored.risk)
    for cohort in cohorts:
        if cohort.driver is None:
            findings.drafts.append(_high_risk_draft(scored, cohort, common))
        else:
            findings.drafts.append(_driver_draft(scored, cohort, cohort.driver, common))
    return findings
