"""Labelled incidents: what changes, when, and which registry metric it lands on.

**The demo plan** (`--anomalies`, and `make run`): four incidents at deterministic places of a D-day window.

| type | where (day index) | what changes | magnitude | registry metric |
|---|---|---|---|---|
| traffic_drop | days ⌊0.25·D⌋, +1 | browsing sessions and visitors; 60% of sign-ups wait | x 0.4 | daily_active_users |
| payment_failure_spike | days ⌊0.45·D⌋ … +2 | probability that a payment attempt fails | x 6 | payment_failure_rate |
| error_burst | day ⌊0.6·D⌋, 14:00-18:00 | app errors per session and API 5xx share | x 20 | api_error_rate |
| conversion_decay | the last 14 days | request propensity, falling linearly to 30% | 1 → 0.3 | view_to_request_rate |

The windows never overlap for D ≥ 42 (config.ANOMALY_MIN_DAYS).

**The evaluation plan** (`make eval`'s anomaly evaluation): from day 42 on, each of the four kinds on its
own seeded schedule — 1 or 2 days long, 7 to 12 days after the previous one of its kind, with seeded
magnitudes (traffic and conversion drops to 20–33%, payment-failure spikes ×3–6, API error bursts ×4–12
for whole days); kinds land on different metrics, so they may coincide — then two gradual ones, reported
separately, over the last 14 days but 3: a traffic decline to 45% and a conversion decay to 30%.

Each window is written to the ground truth with its exact UTC start and end and its registry metric.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from analytics.simulator.world import Calendar

TRAFFIC_DROP = 0.4
PAYMENT_FAILURE_SPIKE = 6.0
ERROR_BURST = 20.0
CONVERSION_FLOOR = 0.3
DECAY_DAYS = 14
TRAFFIC_DECLINE_FLOOR = 0.45
EVALUATION_START_DAY = 42

METRIC_OF = {
    "traffic_drop": "daily_active_users",
    "traffic_decline": "daily_active_users",
    "payment_failure_spike": "payment_failure_rate",
    "error_burst": "api_error_rate",
    "conversion_drop": "view_to_request_rate",
    "conversion_decay": "view_to_request_rate",
}
GRADUAL = frozenset({"conversion_decay", "traffic_decline"})


@dataclass(frozen=True)
class AnomalyWindow:
    type: str
    start: float  # epoch seconds (UTC)
    end: float
    affected_metric: str
    magnitude: float
    description: str
    first_day: int = 0  # day indices covered (inclusive), for the day-level effects
    last_day: int = 0

    def covers(self, instant: float) -> bool:
        return self.start <= instant < self.end

    @property
    def gradual(self) -> bool:
        return self.type in GRADUAL

    def progress(self, instant: float) -> float:
        return min(1.0, max(0.0, (instant - self.start) / (self.end - self.start)))


def _window(calendar: Calendar, kind: str, first: int, days: int, magnitude: float, description: str) -> AnomalyWindow:
    return AnomalyWindow(
        kind,
        calendar.midnight(first),
        calendar.midnight(first + days),
        METRIC_OF[kind],
        magnitude,
        description,
        first,
        first + days - 1,
    )


class AnomalyPlan:
    """Multipliers the behaviour asks for at a given day or instant (all 1.0 without incidents)."""

    def __init__(self, calendar: Calendar, *, enabled: bool, plan: str = "demo", seed: int = 0) -> None:
        self.windows: tuple[AnomalyWindow, ...] = ()
        if enabled:
            self.windows = self._demo(calendar) if plan == "demo" else self._evaluation(calendar, seed)
        self._by_type: dict[str, tuple[AnomalyWindow, ...]] = {}
        for window in self.windows:
            self._by_type[window.type] = (*self._by_type.get(window.type, ()), window)

    # --- plans -----------------------------------------------------------------------------------------
    @staticmethod
    def _demo(calendar: Calendar) -> tuple[AnomalyWindow, ...]:
        days = calendar.days
        drop_day, spike_day, burst_day, decay_day = (
            int(0.25 * days),
            int(0.45 * days),
            int(0.6 * days),
            days - DECAY_DAYS,
        )
        burst = AnomalyWindow(
            "error_burst",
            calendar.instant(burst_day, 14 * 3600),
            calendar.instant(burst_day, 18 * 3600),
            METRIC_OF["error_burst"],
            ERROR_BURST,
            "app errors per session and the API 5xx share are twenty times normal for four hours",
            burst_day,
            burst_day,
        )
        return (
            _window(
                calendar,
                "traffic_drop",
                drop_day,
                2,
                TRAFFIC_DROP,
                "browsing sessions and sign-ups fall to 40% for two days (sessions a booking triggers — "
                "checkout, check-in, review — still happen)",
            ),
            _window(
                calendar,
                "payment_failure_spike",
                spike_day,
                3,
                PAYMENT_FAILURE_SPIKE,
                "each payment attempt fails six times as often for three days",
            ),
            burst,
            _window(
                calendar,
                "conversion_decay",
                decay_day,
                DECAY_DAYS,
                CONVERSION_FLOOR,
                "request propensity decays linearly to 30% over the last two weeks",
            ),
        )

    @staticmethod
    def _evaluation(calendar: Calendar, seed: int) -> tuple[AnomalyWindow, ...]:
        """Each kind on its own seeded schedule (they land on different metrics, so they may coincide):
        from day 42, 1 or 2 days long, 7 to 12 days after the kind's previous one; then both gradual
        incidents over the last 14 days but 3."""
        rng = random.Random(f"{seed}:incidents")
        gradual_start = calendar.days - DECAY_DAYS - 3
        windows: list[AnomalyWindow] = []
        for kind, low, high, text in (
            ("traffic_drop", 0.2, 0.33, "browsing sessions, visitors and sign-ups fall"),
            ("payment_failure_spike", 3.0, 6.0, "each payment attempt fails several times as often"),
            ("error_burst", 4.0, 12.0, "app errors and the API 5xx share rise for whole days"),
            ("conversion_drop", 0.2, 0.33, "request propensity falls suddenly"),
        ):
            day = EVALUATION_START_DAY + rng.randint(0, 4)
            while True:
                length = rng.choice((1, 2))
                if day + length > gradual_start - 2:
                    break
                magnitude = rng.uniform(low, high)
                windows.append(_window(calendar, kind, day, length, magnitude, f"{text} (x {magnitude:.2f})"))
                day += length + rng.randint(7, 12)
        windows.append(
            _window(
                calendar,
                "traffic_decline",
                gradual_start,
                DECAY_DAYS,
                TRAFFIC_DECLINE_FLOOR,
                "browsing sessions decline linearly to 45% over two weeks",
            )
        )
        windows.append(
            _window(
                calendar,
                "conversion_decay",
                gradual_start,
                DECAY_DAYS,
                CONVERSION_FLOOR,
                "request propensity decays linearly to 30% over two weeks",
            )
        )
        return tuple(sorted(windows, key=lambda w: (w.start, w.type)))

    # --- effects -----------------------------------------------------------------------------------------
    def _day_multiplier(self, kind: str, day: int, *, gradual_floor: bool = False) -> float:
        for window in self._by_type.get(kind, ()):
            if window.first_day <= day <= window.last_day:
                if gradual_floor:
                    span = max(1, window.last_day - window.first_day + 1)
                    return 1.0 - (1.0 - window.magnitude) * (day - window.first_day + 1) / span
                return window.magnitude
        return 1.0

    def _instant_multiplier(self, kind: str, instant: float) -> float:
        for window in self._by_type.get(kind, ()):
            if window.covers(instant):
                return window.magnitude
        return 1.0

    def traffic(self, day: int) -> float:
        return self._day_multiplier("traffic_drop", day) * self._day_multiplier(
            "traffic_decline", day, gradual_floor=True
        )

    def days_until_traffic_returns(self, day: int) -> int:
        """During a traffic drop, the number of days until it ends (sign-ups that cannot happen wait)."""
        for window in self._by_type.get("traffic_drop", ()):
            if window.first_day <= day <= window.last_day:
                return window.last_day + 1 - day
        return 0

    def payment_failure(self, instant: float) -> float:
        return self._instant_multiplier("payment_failure_spike", instant)

    def errors(self, instant: float) -> float:
        return self._instant_multiplier("error_burst", instant)

    def conversion(self, instant: float) -> float:
        multiplier = self._instant_multiplier("conversion_drop", instant)
        for window in self._by_type.get("conversion_decay", ()):
            if window.covers(instant):
                multiplier *= 1.0 - (1.0 - window.magnitude) * window.progress(instant)
        return multiplier
