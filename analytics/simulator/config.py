"""What to simulate: the arguments, checked, and the time window they describe."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

MAX_DAYS = 3650
MAX_USERS = 1_000_000
MAX_BATCH = 10_000
ANOMALY_MIN_DAYS = 42
EARLIEST_START = date(2000, 1, 2)


class SimulationArgumentError(ValueError):
    """The arguments describe a simulation that cannot be run; the message says why."""


@dataclass(frozen=True)
class SimulationConfig:
    """A simulation: `users` people over the `days` days before `end_date` (business time zone).

    The observed window is [end_date - days, end_date) in local days: `end_date` itself is the first
    day after the data — the "as of" day of every prediction and the first day of the hidden churn
    horizon. Same seed, users, days, end date and anomaly switch ⇒ the same data, uuids included.
    """

    users: int
    days: int
    seed: int
    end_date: date
    time_zone: str
    anomalies: bool = False
    batch_size: int = 1000
    # "demo": the four incidents of `--anomalies`; "evaluation": many incidents, for the anomaly evaluation
    anomaly_plan: str = "demo"

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    @property
    def start_date(self) -> date:
        return self.end_date - timedelta(days=self.days)

    def local_midnight(self, day: date) -> datetime:
        """The UTC instant of local midnight at the start of `day`."""
        return datetime.combine(day, time(0), tzinfo=self.zone).astimezone(UTC)

    @property
    def start(self) -> datetime:
        return self.local_midnight(self.start_date)

    @property
    def end(self) -> datetime:
        return self.local_midnight(self.end_date)


def config_build(
    *,
    users: int,
    days: int,
    seed: int,
    end_date: str | date | None,
    time_zone: str,
    today: date,
    anomalies: bool = False,
    batch_size: int = 1000,
) -> SimulationConfig:
    """A checked config; raises `SimulationArgumentError` with a message a person can act on."""
    if isinstance(users, bool) or not isinstance(users, int) or users < 1:
        raise SimulationArgumentError(f"--users must be at least 1 (got {users})")
    if users > MAX_USERS:
        raise SimulationArgumentError(f"--users must be at most {MAX_USERS:,} (got {users:,})")
    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        raise SimulationArgumentError(f"--days must be at least 1 (got {days})")
    if days > MAX_DAYS:
        raise SimulationArgumentError(f"--days must be at most {MAX_DAYS} (about ten years; got {days})")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise SimulationArgumentError(f"--seed must be a non-negative integer (got {seed})")
    if not 1 <= batch_size <= MAX_BATCH:
        raise SimulationArgumentError(f"--batch-size must be between 1 and {MAX_BATCH:,} (got {batch_size})")
    if end_date is None:
        end = today
    elif isinstance(end_date, date):
        end = end_date
    else:
        try:
            end = date.fromisoformat(end_date)
        except ValueError:
            raise SimulationArgumentError(f"--end-date must be a date written YYYY-MM-DD (got {end_date!r})") from None
    if end > today:
        raise SimulationArgumentError(
            f"--end-date {end.isoformat()} is in the future (today is {today.isoformat()} in {time_zone}); "
            "the simulated window ends at the start of the end date and must lie in the past"
        )
    if end - timedelta(days=days) < EARLIEST_START:
        raise SimulationArgumentError(
            f"the window ({days} days before {end.isoformat()}) would start before 2000-01-01, "
            "which the tracking plan refuses"
        )
    if anomalies and days < ANOMALY_MIN_DAYS:
        raise SimulationArgumentError(
            f"--anomalies needs at least {ANOMALY_MIN_DAYS} days so the incidents do not overlap (got {days})"
        )
    return SimulationConfig(
        users=users,
        days=days,
        seed=seed,
        end_date=end,
        time_zone=time_zone,
        anomalies=anomalies,
        batch_size=batch_size,
    )
