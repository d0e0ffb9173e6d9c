"""`make eval` for anomaly detection: simulated platforms with many labelled incidents (the simulator's
evaluation plan) and platforms without any, each watched series judged day by day as the service judges it.

The daily series are built from the generated events with the definitions the service reads from its
rollups (analytics/intelligence/anomalies/series.py; tests/unit/intelligence/anomalies holds the two equal
on a stored platform), so that several large platforms can be judged in minutes: generating a platform
takes seconds, storing and rolling it up takes many more.

An incident is **found** when an anomaly in its direction is raised on one of its days; the **detection
delay** is the days from its start to the first such anomaly. Precision counts the anomalies raised on a
series outside its incidents; the false-alarm rate is measured on the platforms without incidents.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

import numpy as np

from analytics.intelligence.anomalies.detector import confirmed, surprises
from analytics.intelligence.anomalies.series import SERIES, DailySeries
from analytics.intelligence.evaluation import EvaluationSection, Target, targets_table
from analytics.metrics.revenue import REVENUE_EVENTS
from analytics.simulator import config_build
from analytics.simulator.behaviour.engine import Simulation


@dataclass(frozen=True)
class Scale:
    incident_seeds: tuple[int, ...]
    clean_seeds: tuple[int, ...]
    users: int
    days: int


FULL = Scale(incident_seeds=(41, 42, 43), clean_seeds=(51, 52), users=20_000, days=150)
SMOKE = Scale(incident_seeds=(41,), clean_seeds=(51,), users=3_000, days=120)
HEADER = (
    "| series | sudden incidents | magnitude | found | recall | precision | F1 | median delay (days) | "
    "false alarms without incidents |\n|---|---|---|---|---|---|---|---|---|"
)
F1_TARGET = 0.8
DELAY_TARGET_DAYS = 1.0
FALSE_ALARMS_PER_WEEK = 1.0
UNINITIATED = frozenset({"api_request", "app_error"})
END = date(2026, 6, 1)


@dataclass
class SeriesScore:
    incidents: int = 0
    found: int = 0
    delays: list[int] = field(default_factory=list)
    alarms_inside: int = 0
    alarms_outside: int = 0
    gradual: list[tuple[str, bool, int | None]] = field(default_factory=list)
    clean_alarms: int = 0
    clean_weeks: float = 0.0

    @property
    def recall(self) -> float:
        return self.found / self.incidents if self.incidents else float("nan")

    @property
    def precision(self) -> float:
        raised = self.alarms_inside + self.alarms_outside
        return self.alarms_inside / raised if raised else float("nan")

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r > 0 else 0.0


def platform_series(simulation: Simulation) -> dict[str, DailySeries]:
    """Generate the platform and build each watched series per business day from its events, with the
    service's identity rule: an anonymous id's events belong to the user it is first seen with."""
    calendar = simulation.calendar
    days = [calendar.date_of(d) for d in range(simulation.config.days)]
    active: list[set[str]] = [set() for _ in days]
    anonymous_active: list[set[str]] = [set() for _ in days]
    revenue = np.zeros(len(days))
    payments = np.zeros((len(days), 2))  # failed, outcomes
    api = np.zeros((len(days), 2))  # 5xx, calls
    viewers: list[set[str]] = [set() for _ in days]
    anonymous_viewers: list[set[str]] = [set() for _ in days]
    requesters: list[set[str]] = [set() for _ in days]
    linked: dict[str, str] = {}
    for events, instants in simulation.days():
        for event, instant in zip(events, instants, strict=True):
            day = calendar.day_of(instant)
            if not 0 <= day < len(days):
                continue
            name = event["event_name"]
            user, anonymous = event.get("user_id"), event.get("anonymous_id")
            if user and anonymous:
                linked.setdefault(anonymous, user)
            if name not in UNINITIATED:
                if user:
                    active[day].add(user)
                elif anonymous:
                    anonymous_active[day].add(anonymous)
            if name in REVENUE_EVENTS:
                amount = float(event["properties"].get("amount") or 0)
                revenue[day] += amount if name == "payment_completed" else -amount
            if name in ("payment_completed", "payment_failed"):
                payments[day, 1] += 1
                payments[day, 0] += name == "payment_failed"
            elif name == "api_request":
                api[day, 1] += 1
                api[day, 0] += int(event["properties"].get("status_code") or 0) >= 500
            elif name == "event_viewed":
                if user:
                    viewers[day].add(user)
                elif anonymous:
                    anonymous_viewers[day].add(anonymous)
            elif name == "event_requested" and user:
                requesters[day].add(user)
    for day in range(len(days)):
        active[day] |= {linked[a] for a in anonymous_active[day] if a in linked}
        viewers[day] |= {linked[a] for a in anonymous_viewers[day] if a in linked}
    asked = np.array([len(v & r) for v, r in zip(viewers, requesters, strict=True)], dtype=float)
    return {
        "daily_active_users": DailySeries("daily_active_users", days, np.array([len(a) for a in active], dtype=float)),
        "net_revenue": DailySeries("net_revenue", days, revenue),
        "payment_failure_rate": DailySeries("payment_failure_rate", days, payments[:, 0], payments[:, 1]),
        "api_error_rate": DailySeries("api_error_rate", days, api[:, 0], api[:, 1]),
        "view_to_request_rate": DailySeries(
            "view_to_request_rate", days, asked, np.array([len(v) for v in viewers], dtype=float)
        ),
    }


def _raised(series: DailySeries, spec_kind: str) -> dict[int, float]:
    judged = surprises(kind=spec_kind, values=series.values, weekdays=series.weekdays, denominators=series.denominators)
    return {s.index: s.z for s in confirmed(judged, kind=spec_kind)}


def _simulate(seed: int, *, users: int, days: int, incidents: bool) -> Simulation:
    config = config_build(
        users=users,
        days=days,
        seed=seed,
        end_date=END,
        time_zone="Asia/Kolkata",
        today=END,
        anomalies=incidents,
    )
    if incidents:
        from dataclasses import replace

        config = replace(config, anomaly_plan="evaluation")
    return Simulation(config)


def evaluate(*, smoke: bool = False) -> EvaluationSection:
    scale = SMOKE if smoke else FULL
    incident_seeds, clean_seeds, users, days = scale.incident_seeds, scale.clean_seeds, scale.users, scale.days
    scores: dict[str, SeriesScore] = {spec.metric: SeriesScore() for spec in SERIES}
    magnitudes: dict[str, list[float]] = defaultdict(list)
    for seed in incident_seeds:
        simulation = _simulate(seed, users=users, days=days, incidents=True)
        series = platform_series(simulation)
        windows = simulation.anomalies.windows
        for spec in SERIES:
            raised = _raised(series[spec.metric], spec.kind)
            mine = [w for w in windows if w.affected_metric == spec.metric]
            score = scores[spec.metric]
            covered: set[int] = set()
            for window in mine:
                span = range(window.first_day, window.last_day + 1)
                covered.update(span)
                harmful = -1.0 if window.magnitude < 1 else 1.0
                hits = sorted(d for d in span if d in raised and raised[d] * harmful > 0)
                if window.gradual:
                    score.gradual.append((window.type, bool(hits), hits[0] - window.first_day if hits else None))
                    continue
                score.incidents += 1
                magnitudes[spec.metric].append(window.magnitude)
                if hits:
                    score.found += 1
                    score.delays.append(hits[0] - window.first_day)
            for day in raised:
                if day in covered:
                    score.alarms_inside += 1
                elif not any(w.first_day <= day <= w.last_day + 2 for w in windows):
                    score.alarms_outside += 1  # not explained by any incident (nor its aftermath)
    for seed in clean_seeds:
        series = platform_series(_simulate(seed, users=users, days=days, incidents=False))
        for spec in SERIES:
            raised = _raised(series[spec.metric], spec.kind)
            judged_days = len(series[spec.metric].days) - 28
            scores[spec.metric].clean_alarms += len(raised)
            scores[spec.metric].clean_weeks += judged_days / 7
    return _section(scores, magnitudes, incident_seeds, clean_seeds, users, days)


def _section(
    scores: dict[str, SeriesScore],
    magnitudes: dict[str, list[float]],
    incident_seeds: tuple[int, ...],
    clean_seeds: tuple[int, ...],
    users: int,
    days: int,
) -> EvaluationSection:
    targets: list[Target] = []
    rows = []
    gradual_rows = []
    for metric, score in scores.items():
        per_week = score.clean_alarms / score.clean_weeks if score.clean_weeks else float("nan")
        median_delay = statistics.median(score.delays) if score.delays else float("nan")
        if score.incidents:
            targets.append(
                Target(f"{metric}: F1 on the injected incidents", score.f1, f"≥ {F1_TARGET}", score.f1 >= F1_TARGET)
            )
            targets.append(
                Target(
                    f"{metric}: median detection delay (days)",
                    median_delay,
                    f"≤ {DELAY_TARGET_DAYS:g}",
                    median_delay <= DELAY_TARGET_DAYS,
                )
            )
        targets.append(
            Target(
                f"{metric}: false alarms per week without incidents",
                per_week,
                f"≤ {FALSE_ALARMS_PER_WEEK:g}",
                per_week <= FALSE_ALARMS_PER_WEEK,
            )
        )
        size = magnitudes.get(metric, [])
        judged = (
            f"×{min(size):.2f}–{max(size):.2f} | {score.found} | {score.recall:.2f} | {score.precision:.2f} | "
            f"{score.f1:.2f} | {median_delay:g}"
            if score.incidents
            else "— | — | — | — | — | —"
        )
        rows.append(
            f"| {metric} | {score.incidents} | {judged} | {score.clean_alarms} in {score.clean_weeks:.0f} weeks |"
        )
        for kind, found, delay in score.gradual:
            gradual_rows.append(
                f"| {kind} | {metric} | {'yes' if found else 'no'} | {'—' if delay is None else delay} |"
            )
    seeds = ", ".join(str(s) for s in incident_seeds)
    markdown = f"""
The detector of the service (analytics/intelligence/anomalies/detector.py) on {len(incident_seeds)} simulated
platforms with the simulator's evaluation plan of incidents (seeds {seeds}; {users:,} users × {days} days
each) and {len(clean_seeds)} without incidents (seeds {", ".join(str(s) for s in clean_seeds)}). Each day
after the first 28 is judged with the history before it, as the 30-minute batch judges each complete day.
Net revenue has no incident of its own (drops of traffic and payment spikes move it, and are not labelled
for it); it is judged on false alarms only.

{targets_table(targets)}

{HEADER}
{chr(10).join(rows)}

Gradual incidents (reported apart from the F1; found = an anomaly in their direction during them; delay in
days from their start):

| incident | series | found | delay |
|---|---|---|---|
{chr(10).join(gradual_rows)}

Precision counts as wrong an anomaly raised on a series on a day that no incident of the plan covers (nor
the two days after one: a traffic drop postpones sign-ups, which then arrive together).
"""
    found_total = sum(score.found for score in scores.values())
    incident_total = sum(score.incidents for score in scores.values())
    return EvaluationSection(
        key="anomalies",
        title="Predictions: anomaly detection",
        markdown=markdown,
        targets=targets,
        beats_baseline={"incidents found (share)": (found_total / incident_total if incident_total else 0.0, 0.0)},
    )
