"""What every evaluation returns to `make eval` (manage.py evaluate), and how the report is written.

An evaluation measures one model family against a simple baseline and, where the simulator knows the
truth, the oracle; it returns an `EvaluationSection`: its markdown for docs/evaluation.md and the
targets it checked (met or missed — a miss is reported plainly, never hidden). The smoke version
(`smoke=True`, small data) runs inside `make test` and must show each model beating its baseline.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import orjson
from django.conf import settings


@dataclass(frozen=True)
class Target:
    """One quality target of an issue: what was measured against what was asked."""

    name: str
    measured: float | None
    goal: str  # e.g. "≥ 0.7", "beats VADER alone"
    met: bool
    note: str = ""


@dataclass(frozen=True)
class EvaluationSection:
    key: str  # "sentiment", "behaviour", "personas", …
    title: str
    markdown: str  # the section body (tables, method, misses explained)
    targets: list[Target] = field(default_factory=list)
    # model name → its headline score, and the baseline's, for the smoke check (higher is better)
    beats_baseline: dict[str, tuple[float, float]] = field(default_factory=dict)


def targets_table(targets: list[Target]) -> str:
    rows = ["| target | measured | goal | met |", "|---|---|---|---|"]
    for t in targets:
        measured = "—" if t.measured is None else f"{t.measured:.3f}"
        met = "yes" if t.met else "**no**"
        rows.append(f"| {t.name} | {measured} | {t.goal} | {met}{' — ' + t.note if t.note else ''} |")
    return "\n".join(rows)


@dataclass(frozen=True)
class SimulatedPlatform:
    """A simulated platform loaded into the current database, and its ground truth."""

    users: int
    days: int
    seed: int
    truth: dict[str, object]


_current: SimulatedPlatform | None = None


def platform_simulate(*, users: int, days: int, seed: int, data_dir: Path) -> SimulatedPlatform:
    """Empty the database, simulate a platform into it through the real pipeline (processing included)
    and return the ground truth. For `make eval` and its smoke tests only: it deletes every row of the
    current database. The platform last simulated by this process is reused while the database still
    holds it (evaluations of one run share platforms)."""
    global _current
    from django.core.management import call_command
    from django.test import override_settings

    from analytics.models import UserEvent

    if (
        _current is not None
        and (_current.users, _current.days, _current.seed) == (users, days, seed)
        and UserEvent.objects.count() == _current.truth["summary"]["events_generated"]  # type: ignore[index]
    ):
        return _current

    from analytics.simulator import config_build, simulation_run
    from analytics.simulator.sinks import InProcessSink

    call_command("flush", interactive=False, verbosity=0)
    end = date(2026, 6, 1)
    config = config_build(
        users=users,
        days=days,
        seed=seed,
        end_date=end,
        time_zone=settings.ANALYTICS_TIME_ZONE,
        today=end,
        batch_size=5000,
    )
    # The platform's calendar is its own (it ends on `end`, whatever today is): its history is not late data,
    # so the retention horizon of today's clock, which refuses events older than it, does not apply.
    with override_settings(ANALYTICS_RETENTION_DAYS=36_500):
        report = simulation_run(config=config, sink=InProcessSink(), data_dir=data_dir, progress=False)
    truth = orjson.loads(report.truth_path.read_bytes())
    _current = SimulatedPlatform(users=users, days=days, seed=seed, truth=truth)
    return _current


REPORT_HEADER = [
    "# Model evaluation",
    "",
    "<!-- Written by `make eval` (python manage.py evaluate). Do not edit by hand: run it again. -->",
    "",
    "Every model of Loopin Analytics beside a simple baseline and, where the simulator knows the truth,",
    'the oracle (docs/design.md, "Quality bars"). Figures come from `make eval`; a target that is missed',
    "says so here and in its section, with the reason. The smoke version of each evaluation runs in",
    "`make test` (tier `eval`) and checks that every model still beats its baseline.",
    "",
    "## Targets",
    "",
    "| evaluation | target | measured | goal | met |",
    "|---|---|---|---|---|",
]


def _target_rows(section: EvaluationSection) -> list[str]:
    rows = []
    for t in section.targets:
        measured = "—" if t.measured is None else f"{t.measured:.3f}"
        rows.append(f"| {section.key} | {t.name} | {measured} | {t.goal} | {'yes' if t.met else '**no**'} |")
    return rows


def _report_read(text: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(target rows as (key, line), sections as (title, body)) of a report `report_write` wrote."""
    _, _, rest = text.partition("|---|---|---|---|---|\n")
    table, _, body = rest.partition("\n\n## ")
    rows = [(line.split("|")[1].strip(), line) for line in table.splitlines() if line.startswith("| ")]
    sections = []
    for chunk in body.split("\n## ") if body else []:
        title, _, content = chunk.partition("\n")
        sections.append((title.strip(), content.strip()))
    return rows, sections


def report_write(sections: list[EvaluationSection], *, path: Path, merge: bool = False) -> None:
    """docs/evaluation.md: a summary of every target, then each section. With `merge`, the sections of an
    existing report that were not evaluated this time are kept as they were (`evaluate --only`)."""
    rows: list[tuple[str, str]] = []
    bodies: list[tuple[str, str]] = []
    if merge and path.exists():
        rows, bodies = _report_read(path.read_text(encoding="utf-8"))
    for section in sections:
        fresh = [(section.key, line) for line in _target_rows(section)]
        at = next((i for i, (key, _) in enumerate(rows) if key == section.key), len(rows))
        rows = [r for r in rows if r[0] != section.key]
        rows[at:at] = fresh
        titles = [title for title, _ in bodies]
        entry = (section.title, section.markdown.strip())
        if section.title in titles:
            bodies[titles.index(section.title)] = entry
        else:
            bodies.append(entry)
    lines = [*REPORT_HEADER, *(line for _, line in rows)]
    for title, body in bodies:
        lines += ["", f"## {title}", "", body]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
