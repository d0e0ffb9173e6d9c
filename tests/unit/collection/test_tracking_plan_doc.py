"""docs/tracking-plan.md and the tracking plan in code never drift apart."""

from __future__ import annotations

import re
from pathlib import Path

from analytics.collection.tracking_plan import TRACKING_PLAN

DOC = Path(__file__).resolve().parents[3] / "docs" / "tracking-plan.md"


def _documented_events() -> dict[str, tuple[str, list[str]]]:
    text = DOC.read_text()
    section = text.split("## Canonical events", 1)[1].split("\n## ", 1)[0]
    rows: dict[str, tuple[str, list[str]]] = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 4 or not cells[0].startswith("`"):
            continue
        required_cell = cells[2].split("; optional", 1)[0]
        rows[cells[0].strip("`")] = (cells[1], re.findall(r"`([a-z_]+)`", required_cell))
    return rows


def test_every_canonical_event_is_documented_with_its_type_and_required_properties() -> None:
    documented = _documented_events()
    in_code = {name: (spec.event_type.value, [*spec.required, *spec.one_of]) for name, spec in TRACKING_PLAN.items()}
    assert documented == in_code
