"""Run a simulation: generate day by day, send in batches, process, write the ground truth."""

from __future__ import annotations

import sys
import time
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tqdm import tqdm

from analytics.simulator.behaviour.engine import Simulation
from analytics.simulator.config import SimulationConfig
from analytics.simulator.realism import RealismTally
from analytics.simulator.sinks import (
    Delivery,
    InProcessSink,
    Sink,
    bulk_load_analyze,
    bulk_load_tuning,
    processing_deferred,
)
from analytics.simulator.truth import truth_build, truth_write

PERIOD_SECONDS = 30 * 86_400
# Processing a bulk load in larger chunks recomputes fewer sessions twice (measured: about 15% less
# processing time than the default 2,000 on 5,000 users x 90 days).
PROCESSING_CHUNK = 10_000
UNINITIATED = frozenset({"api_request", "app_error"})  # not user-initiated (docs/metrics.md "active user")


@dataclass(frozen=True)
class SimulationReport:
    config: SimulationConfig
    delivery: Delivery
    events: int
    users: int
    hosts: int
    listings: int
    registrations: int
    processed: int
    seconds: float
    generate_seconds: float
    truth_path: Path
    events_per_active_user_month: float
    user_events_per_active_user_month: float
    monthly_active_users: float
    realism: dict[str, float]

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


class _Volume:
    """Events per active user per 30 days, over the window's whole 30-day periods (or the whole window
    scaled to 30 days when it is shorter). Active = at least one user-initiated event in the period."""

    def __init__(self, start: float, days: int) -> None:
        self.start = start
        self.periods = max(1, days // 30)
        self.scale = 1.0 if days >= 30 else 30.0 / days
        self.limit = start + (self.periods * PERIOD_SECONDS if days >= 30 else days * 86_400)
        self.events = [0] * self.periods
        self.user_events = [0] * self.periods
        self.active: list[set[str]] = [set() for _ in range(self.periods)]

    def count(self, events: list[dict[str, Any]], instants: list[float]) -> None:
        for event, instant in zip(events, instants, strict=True):
            user_id = event.get("user_id")
            if user_id is None or instant >= self.limit:
                continue
            period = int((instant - self.start) // PERIOD_SECONDS) if self.scale == 1.0 else 0
            self.events[period] += 1
            if event["event_name"] not in UNINITIATED:
                self.user_events[period] += 1
                self.active[period].add(user_id)

    def rates(self) -> tuple[float, float, float]:
        active = sum(len(users) for users in self.active)
        if not active:
            return 0.0, 0.0, 0.0
        return (
            sum(self.events) * self.scale / active,
            sum(self.user_events) * self.scale / active,
            active / self.periods,
        )


def processing_run(*, progress: bool) -> int:
    """Process every stored event still waiting (the same code the tasks run)."""
    from analytics.collection.processing import process_pending_events, processing_backlog

    pending, _ = processing_backlog()
    done = 0
    with tqdm(
        total=pending,
        unit="event",
        desc="processing",
        file=sys.stderr,
        disable=not progress,
        dynamic_ncols=True,
    ) as bar:
        while True:
            count = process_pending_events(chunk_size=PROCESSING_CHUNK)
            if not count:
                break
            done += count
            bar.update(count)
    return done


def simulation_run(
    *,
    config: SimulationConfig,
    sink: Sink,
    data_dir: Path,
    progress: bool = True,
    defer_processing: bool = True,
) -> SimulationReport:
    """Simulate `config`, send every event to `sink` in batches of `config.batch_size`, then process
    (in-process sinks only, unless `defer_processing` is off: then each batch is processed as usual) and
    write the ground truth to `data_dir`."""
    began = time.perf_counter()
    simulation = Simulation(config)
    volume = _Volume(simulation.window_start, config.days)
    realism = RealismTally(start=simulation.window_start)
    generated = 0
    generating = 0.0
    # A bulk load into this process's database: no per-batch processing run (one pass at the end) and
    # SQLite checkpoints its log once. A remote sink leaves both to the server.
    in_process = isinstance(sink, InProcessSink)
    defer_processing = defer_processing and in_process
    deferral: AbstractContextManager[None] = processing_deferred() if defer_processing else nullcontext()
    tuning: AbstractContextManager[None] = bulk_load_tuning() if in_process else nullcontext()
    with tuning, deferral:
        buffer: list[dict[str, Any]] = []
        with tqdm(
            total=config.days,
            unit="day",
            desc="simulating",
            file=sys.stderr,
            disable=not progress,
            dynamic_ncols=True,
        ) as bar:
            days = simulation.days()
            while True:
                tick = time.perf_counter()
                day = next(days, None)
                generating += time.perf_counter() - tick
                if day is None:
                    break
                events, instants = day
                volume.count(events, instants)
                realism.count(events, instants)
                generated += len(events)
                buffer.extend(events)
                while len(buffer) >= config.batch_size:
                    sink.send(buffer[: config.batch_size])
                    del buffer[: config.batch_size]
                bar.update(1)
                bar.set_postfix(events=generated, stored=sink.delivery.stored, refresh=False)
            if buffer:
                sink.send(buffer)
        if defer_processing:
            bulk_load_analyze()
        processed = processing_run(progress=progress) if defer_processing else 0
    truth = truth_build(simulation, events_generated=generated)
    path = truth_write(truth, directory=data_dir)
    per_user, per_user_initiated, mau = volume.rates()
    return SimulationReport(
        config=config,
        delivery=sink.delivery,
        events=generated,
        users=len(simulation.world.users),
        hosts=len(simulation.world.hosts),
        listings=len(simulation.world.listings),
        registrations=len(truth["registrations"]),
        processed=processed,
        seconds=time.perf_counter() - began,
        generate_seconds=generating,
        truth_path=path,
        events_per_active_user_month=per_user,
        user_events_per_active_user_month=per_user_initiated,
        monthly_active_users=mau,
        realism=realism.report(
            simulation, signups={u.user_id: u.signup_day for u in simulation.world.users if u.registered}
        ),
    )
