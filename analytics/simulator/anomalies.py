"""Labelled incidents injected with `--anomalies`, at deterministic places in the window.

| type | where (day index of a D-day window) | what changes | magnitude |
|---|---|---|---|
| traffic_drop | days ⌊0.25·D⌋, +1 (2 days) | browsing sessions; 60% of sign-ups wait for the end | x 0.4 |
| payment_failure_spike | days ⌊0.45·D⌋ … +2 (3 days) | probability that a payment attempt fails | x 6 |
| error_burst | day ⌊0.6·D⌋, 14:00-18:00 local | app errors per session and API 5xx share | x 20 |
| conversion_decay | the last 14 days | request propensity, falling linearly to 30% | 1 → 0.3 |

The windows never overlap for D ≥ 42 (config.ANOMALY_MIN_DAYS). Each window is written to the ground
truth with its exact UTC start and end.
"""

from __future__ import annotations

from dataclasses import dataclass

from analytics.simulator.world import Calendar

TRAFFIC_DROP = 0.4
PAYMENT_FAILURE_SPIKE = 6.0
ERROR_BURST = 20.0
CONVERSION_FLOOR = 0.3
DECAY_DAYS = 14


@dataclass(frozen=True)
class AnomalyWindow:
    type: str
    start: float  # epoch seconds (UTC)
    end: float
    affected_metric: str
    magnitude: float
    description: str

    def covers(self, instant: float) -> bool:
        return self.start <= instant < self.end


class AnomalyPlan:
    """Multipliers the behaviour asks for at a given instant (all 1.0 without --anomalies)."""

    def __init__(self, calendar: Calendar, *, enabled: bool) -> None:
        self.windows: tuple[AnomalyWindow, ...] = ()
        self._traffic_days: frozenset[int] = frozenset()
        if not enabled:
            return
        days = calendar.days
        drop_day = int(0.25 * days)
        spike_day = int(0.45 * days)
        burst_day = int(0.6 * days)
        decay_day = days - DECAY_DAYS
        self._traffic_days = frozenset({drop_day, drop_day + 1})
        self.windows = (
            AnomalyWindow(
                "traffic_drop",
                calendar.midnight(drop_day),
                calendar.midnight(drop_day + 2),
                "sessions",
                TRAFFIC_DROP,
                "browsing sessions and sign-ups fall to 40% for two days (sessions a booking triggers — "
                "checkout, check-in, review — still happen)",
            ),
            AnomalyWindow(
                "payment_failure_spike",
                calendar.midnight(spike_day),
                calendar.midnight(spike_day + 3),
                "payment_failure_rate",
                PAYMENT_FAILURE_SPIKE,
                "each payment attempt fails six times as often for three days",
            ),
            AnomalyWindow(
                "error_burst",
                calendar.instant(burst_day, 14 * 3600),
                calendar.instant(burst_day, 18 * 3600),
                "error_rate",
                ERROR_BURST,
                "app errors per session and the API 5xx share are twenty times normal for four hours",
            ),
            AnomalyWindow(
                "conversion_decay",
                calendar.midnight(decay_day),
                calendar.midnight(days),
                "view_to_request_conversion",
                CONVERSION_FLOOR,
                "request propensity decays linearly to 30% over the last two weeks",
            ),
        )
        self._spike = self.windows[1]
        self._burst = self.windows[2]
        self._decay = self.windows[3]

    def traffic(self, day: int) -> float:
        return TRAFFIC_DROP if day in self._traffic_days else 1.0

    def days_until_traffic_returns(self, day: int) -> int:
        """During a traffic drop, the number of days until it ends (sign-ups that cannot happen wait)."""
        if day not in self._traffic_days:
            return 0
        return max(self._traffic_days) + 1 - day

    def payment_failure(self, instant: float) -> float:
        return PAYMENT_FAILURE_SPIKE if self.windows and self._spike.covers(instant) else 1.0

    def errors(self, instant: float) -> float:
        return ERROR_BURST if self.windows and self._burst.covers(instant) else 1.0

    def conversion(self, instant: float) -> float:
        if not self.windows or instant < self._decay.start:
            return 1.0
        progress = min(1.0, (instant - self._decay.start) / (self._decay.end - self._decay.start))
        return 1.0 - (1.0 - CONVERSION_FLOOR) * progress
